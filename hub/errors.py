"""Turning every failure into a GraphQL error with a code from DESIGN.md §8.

What reaches a client: a message written for it, ``extensions.code``, and for source failures
the source's name. Unexpected exceptions are logged with the request id and answered with a
bare INTERNAL error: no stack trace, SQL or internal address leaves the hub.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from adapters import SourceError
from hub.execution import PhaseError
from resolvers.errors import HubError
from resolvers.scalars import InvalidPersonalId

__all__ = ["format_error", "request_error"]

log = logging.getLogger(__name__)

_PHASE_CODES = {"parse": "BAD_USER_INPUT", "validate": "VALIDATION_FAILED",
                "variables": "BAD_USER_INPUT"}


def _located(error: GraphQLError, body: dict[str, Any]) -> dict[str, Any]:
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        body["path"] = list(error.path)
    return body


def _root_cause(error: GraphQLError) -> Exception | None:
    """The exception behind an error, through graphql-core's own wrapping (variable coercion
    wraps a scalar's exception in a GraphQLError, which is wrapped again)."""
    original = error.original_error
    while isinstance(original, GraphQLError) and not isinstance(original, HubError):
        if original.original_error is None:
            return None
        original = original.original_error
    return original


def format_error(item: PhaseError, request_id: str) -> dict[str, Any]:
    error, original = item.error, _root_cause(item.error)
    if isinstance(original, SourceError):
        message = f"source {original.source} failed: {original.message}"
        extensions: dict[str, Any] = {"code": original.code, "source": original.source}
    elif isinstance(original, HubError) or (original is None and isinstance(error, HubError)):
        hub_error = original if isinstance(original, HubError) else error
        message, extensions = hub_error.message, dict(hub_error.extensions or {})
    elif isinstance(original, InvalidPersonalId):
        message, extensions = f"{error.message}", {"code": "BAD_USER_INPUT"}
    elif original is None and item.phase in _PHASE_CODES:
        message, extensions = error.message, {"code": _PHASE_CODES[item.phase]}
    else:
        # A bug or a broken invariant (graphql-core's own execution errors included).
        log.error("internal error in request %s at %s: %s", request_id, error.path,
                  error.message, exc_info=original)
        message = "internal error"
        extensions = {"code": "INTERNAL", "requestId": request_id}
    return _located(error, {"message": message, "extensions": extensions})


def request_error(message: str, code: str = "BAD_USER_INPUT") -> dict[str, Any]:
    """An error about the HTTP request itself, before any GraphQL work."""
    return {"message": message, "extensions": {"code": code}}
