"""Exporting audit records as JSON Lines: one record per line, in time order, each with its
chain position and hashes so that whoever receives the file can re-check it.

Filters arrive from an operator's command line and are checked before anything reaches the
database: a time range (``to`` exclusive), a client id, a personal ID. The query uses the
indexes built for them (BRIN on time, B-tree on client and time, GIN on the subjects) and a
server-side cursor, so an export of any size runs in constant memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import IO, Any

import asyncpg
import orjson

from hub.audit.retention import monthly_partitions

__all__ = ["ExportFilter", "FilterError", "count_records", "export_records", "parse_moment"]

BATCH = 2_000
# The same rules the hub applies to client ids (hub.auth.clients), plus "-", the client of
# requests that presented no valid token.
_CLIENT = re.compile(r"-|[A-Za-z0-9][A-Za-z0-9._-]{2,63}")
_PERSONAL_ID = re.compile(r"[0-9]{12}")  # ASCII digits only, unlike \d
_MAX_MOMENT_CHARS = 40


class FilterError(ValueError):
    """A filter the export cannot run with; the message says which and why."""


def _preview(value: str) -> str:
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "…"


def parse_moment(text: str, name: str) -> datetime:
    """An ISO date (midnight UTC) or datetime (UTC when no offset is given)."""
    if len(text) > _MAX_MOMENT_CHARS or not text.isascii():
        raise FilterError(f"{name} must be an ISO date or datetime, not {_preview(text)}")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{name} must be an ISO date (2025-01-31) or datetime "
                          f"(2025-01-31T08:00:00+07:00), not {_preview(text)}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True, slots=True)
class ExportFilter:
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    client: str | None = None
    subject: str | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise FilterError(f"--from ({self.start.isoformat()}) must be before --to "
                              f"({self.end.isoformat()})")
        if self.client is not None and not _CLIENT.fullmatch(self.client):
            raise FilterError(f"--client must be a client id (letters, digits, '.', '_', '-';"
                              f" 3 to 64 characters), not {_preview(self.client)}")
        if self.subject is not None and not _PERSONAL_ID.fullmatch(self.subject):
            raise FilterError(f"--subject must be a personal ID of 12 digits, not "
                              f"{_preview(self.subject)}")

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause (possibly empty) and its parameters; values never enter the SQL
        text."""
        clauses, args = [], []
        for clause, value in (("recorded_at >= ${}", self.start),
                              ("recorded_at < ${}", self.end),
                              ("client_id = ${}", self.client),
                              # The GIN index answers containment, not ANY(...).
                              ("subject_ids @> ARRAY[${}]::text[]", self.subject)):
            if value is not None:
                args.append(value)
                clauses.append(clause.format(len(args)))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


async def count_records(conn: asyncpg.Connection, selection: ExportFilter) -> int:
    where, args = selection.where()
    count: int = await conn.fetchval(f"SELECT count(*) FROM audit_record{where}", *args)
    return count


def _line(chain: Any, seq: int, recorded_at: datetime, prev_hash: bytes, digest: bytes,
          entry: str) -> bytes:
    return orjson.dumps({
        "chain": str(chain), "seq": seq,
        "recordedAt": recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prevHash": prev_hash.hex(), "hash": digest.hex(),
        # Re-serialised from the parsed entry: orjson writes it compactly, keys as stored.
        "entry": orjson.loads(entry),
    }) + b"\n"


async def export_records(conn: asyncpg.Connection, selection: ExportFilter, out: IO[bytes], *,
                         progress: Callable[[int], None] | None = None) -> int:
    """Write every selected record to ``out`` as one JSON line; returns how many."""
    written = 0
    # A cursor lives in a transaction. A caller that counted first passes its own
    # (REPEATABLE READ), so that the count and the lines agree while the hub keeps writing.
    transaction = (conn.transaction() if conn.is_in_transaction()
                   else conn.transaction(isolation="repeatable_read", readonly=True))
    async with transaction:
        # Month by month: each query then sorts one partition at most, and the first lines
        # leave before the last month is read (one ORDER BY over the whole table would sort
        # every record first).
        for partition in await monthly_partitions(conn):
            start = max(partition.start, selection.start or partition.start)
            end = min(partition.end, selection.end or partition.end)
            if start >= end:
                continue
            where, args = replace(selection, start=start, end=end).where()
            cursor = await conn.cursor(
                "SELECT chain_id, seq, recorded_at, prev_hash, hash, entry::text"
                f" FROM audit_record{where} ORDER BY recorded_at, chain_id, seq", *args)
            while rows := await cursor.fetch(BATCH):
                out.write(b"".join(_line(*row) for row in rows))
                written += len(rows)
                if progress is not None:
                    progress(len(rows))
    return written
