"""Relay-style connections over keyset pages: opaque cursors, capped page sizes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from resolvers.context import QueryLimits
from resolvers.errors import BadUserInput

__all__ = ["Page", "check_page_size", "decode_cursor", "encode_cursor", "make_page"]

Row = dict[str, Any]
Page = dict[str, Any]
_PREFIX = "cs:"


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode((_PREFIX + key).encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (UnicodeError, ValueError, binascii.Error):
        text = ""
    if not text.startswith(_PREFIX) or len(text) > 64 or not text.isprintable():
        raise BadUserInput("`after` is not a cursor this API issued", argument="after")
    return text[len(_PREFIX):]


def check_page_size(first: int | None, limits: QueryLimits) -> int:
    size = limits.default_page_size if first is None else first
    if not 0 <= size <= limits.max_page_size:
        raise BadUserInput(f"`first` must be between 0 and {limits.max_page_size}",
                           argument="first", maximum=limits.max_page_size)
    return size


def make_page(rows: list[Row], size: int, key: str,
              count: Callable[[], Any] | None = None) -> Page:
    """A connection from ``size + 1`` fetched rows (the extra row tells there is a next page).

    ``count`` computes totalCount only if the query asks for it."""
    nodes = rows[:size]
    edges = [{"cursor": encode_cursor(row[key]), "node": row} for row in nodes]
    return {
        "edges": edges,
        "nodes": nodes,
        "page_info": {
            "has_next_page": len(rows) > size,
            "end_cursor": edges[-1]["cursor"] if edges else None,
        },
        "count": count,
    }
