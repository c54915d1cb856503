"""Opaque keyset cursors for the change feeds.

A cursor is the sort key of the last row a client has seen, ``(timestamp, id)``, as URL-safe
base64 of a small JSON array. Clients must treat it as opaque; the services decode it to
continue strictly after that row, which stays correct however many rows share a timestamp.
Timestamps keep their microseconds, PostgreSQL's precision, so the round trip is exact.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import TypeVar

import orjson

from sandbox.http import InvalidInput

__all__ = ["decode_cursor", "encode_cursor"]

Key = TypeVar("Key", str, int)

_MAX_CURSOR_CHARS = 512


def encode_cursor(timestamp: datetime, key: str | int) -> str:
    raw = orjson.dumps([timestamp.isoformat(), key])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, key_type: type[Key], where: str) -> tuple[datetime, Key]:
    """The ``(timestamp, key)`` in ``cursor``; :class:`InvalidInput` if it is not ours."""
    invalid = InvalidInput(f"{where} is not a cursor issued by this service")
    if not cursor or len(cursor) > _MAX_CURSOR_CHARS or not cursor.isascii():
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        timestamp_text, key = orjson.loads(raw)
        timestamp = datetime.fromisoformat(timestamp_text)
    except (binascii.Error, ValueError, TypeError):
        raise invalid from None
    # type() rather than isinstance(): bool is an int but never a valid key.
    if type(key) is not key_type or timestamp.tzinfo is None:
        raise invalid
    return timestamp, key
