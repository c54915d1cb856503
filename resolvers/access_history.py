"""Access history: the arguments a history page is asked with, its cursors, and its shape.

A page is fetched per person by the audit-log adapter, newest first; this module checks what
the client asked for (a time range, a page size, a cursor) and turns the rows into the
``AccessHistory`` objects GraphQL reads. Cursors carry the last event's place in the order
(time, chain, position), so a page boundary is exact even when records share a time.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from adapters import EventKey, HistoryWindow
from resolvers.context import QueryLimits
from resolvers.errors import BadUserInput
from resolvers.pagination import check_page_size

__all__ = ["decode_event_cursor", "encode_event_cursor", "history_page", "history_window"]

Row = dict[str, Any]
_PREFIX = "ah:"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CURSOR = 120


def encode_event_cursor(row: Row) -> str:
    at: datetime = row["at"]
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    text = f"{_PREFIX}{micros}:{row['chain_id']}:{row['seq']}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_event_cursor(cursor: str | None) -> EventKey | None:
    if cursor is None:
        return None
    problem = BadUserInput("`after` is not an access-history cursor this API issued",
                           argument="after")
    if len(cursor) > _MAX_CURSOR:
        raise problem
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        prefix, micros, chain, seq = text.split(":")
        key = EventKey(_EPOCH + timedelta(microseconds=int(micros)), UUID(chain), int(seq))
    except (UnicodeError, ValueError, OverflowError, binascii.Error):
        raise problem from None
    if prefix + ":" != _PREFIX or key.seq < 1 or not micros.lstrip("-").isdigit():
        raise problem
    return key


def _aware(value: datetime | None, argument: str) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise BadUserInput(f"`{argument}` needs a UTC offset, e.g. 2026-01-01T00:00:00+07:00",
                           argument=argument)
    return value


def history_window(limits: QueryLimits, since: datetime | None, until: datetime | None,
                   first: int | None, after: str | None) -> tuple[HistoryWindow, int]:
    """The window to fetch (one event more than the page, to tell whether another follows)
    and the page size, from a client's arguments; BAD_USER_INPUT says what is wrong."""
    size = check_page_size(first, limits)
    since, until = _aware(since, "from"), _aware(until, "to")
    if since is not None and until is not None and not since < until:
        raise BadUserInput("`from` must be earlier than `to`", argument="to")
    return HistoryWindow(since, until, decode_event_cursor(after), size + 1), size


def history_page(rows: list[Row], size: int) -> Row:
    """An AccessHistory from up to ``size + 1`` events (the extra one: a next page exists)."""
    events = rows[:size]
    return {
        "events": events,
        "page_info": {
            "has_next_page": len(rows) > size,
            "end_cursor": encode_event_cursor(events[-1]) if events else None,
        },
    }
