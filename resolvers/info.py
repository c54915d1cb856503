"""The resolver ``info`` type and the row type every object is backed by."""

from __future__ import annotations

from typing import Any, TypeAlias

import strawberry

from resolvers.context import RequestContext

__all__ = ["Info", "Row"]

Info: TypeAlias = strawberry.Info[RequestContext, None]
Row: TypeAlias = dict[str, Any]
