"""The audit log read back, per person: who accessed their data, when, why, and which fields.

Records live in the national database (``audit_record``, migration 0008), one per GraphQL
operation, naming in ``subject_ids`` every person it disclosed something of. A person's
history is the records naming them (the GIN index answers ``subject_ids @> ARRAY[id]``),
newest first, a keyset page at a time. Of each record only what concerns that person leaves
the database: the fields disclosed *of them* (the ``entry.disclosed`` groups that list
them), never the entry itself, whose groups name other people too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.filters import RowFilter
from adapters.postgres import NationalDatabase, Row

__all__ = ["EVENT_COLUMNS", "AuditLog", "EventKey", "HistoryWindow"]

# What one access event row holds (plus ``subject`` in a batched answer).
EVENT_COLUMNS = ("at", "chain_id", "seq", "system", "agency_code", "end_user", "purpose",
                 "operation_name", "outcome", "request_id", "fields")

# Event columns a row filter may compare, and the SQL expression over a record ``a`` each
# reads. The fields list and the time are not comparable (policies cannot filter on them).
_FILTERABLE = {
    "system": "a.client_id",
    "purpose": "a.purpose",
    "outcome": "a.outcome",
    "agency_code": "(a.entry->>'agency')",
    "end_user": "(a.entry->>'endUser')",
    "operation_name": "(a.entry->'operation'->>'name')",
    "request_id": "(a.entry->>'request')",
}

# One person's events: the fields come only from the disclosed groups that name the person.
_EVENT_SELECT = """
SELECT a.recorded_at AS at, a.chain_id, a.seq, a.client_id AS system,
       a.entry->>'agency' AS agency_code, a.entry->>'endUser' AS end_user, a.purpose,
       a.entry->'operation'->>'name' AS operation_name, a.outcome,
       a.entry->>'request' AS request_id,
       ARRAY(SELECT DISTINCT f.name
             FROM jsonb_array_elements(COALESCE(a.entry->'disclosed', '[]')) AS g(grp)
             CROSS JOIN LATERAL jsonb_array_elements_text(g.grp->'fields') AS f(name)
             WHERE g.grp->'subjects' ? k.subject
             ORDER BY f.name) AS fields
FROM audit_record AS a"""


@dataclass(frozen=True, slots=True)
class EventKey:
    """An event's place in the newest-first order: records with the same time are ordered
    by chain and position, so the order is total and a page boundary is exact."""

    at: datetime
    chain_id: UUID
    seq: int


@dataclass(frozen=True, slots=True)
class HistoryWindow:
    """Which events to fetch: recorded in [since, until) (either open), after ``after`` in
    newest-first order, at most ``limit`` per person. Hashable: one batch per window."""

    since: datetime | None
    until: datetime | None
    after: EventKey | None
    limit: int


class AuditLog:
    """Access events per person, read through the national database's pool."""

    name = "audit"

    def __init__(self, database: NationalDatabase) -> None:
        self._database = database

    async def events(self, subject: str, window: HistoryWindow,
                     row_filter: RowFilter = ()) -> list[Row]:
        """One page of ``subject``'s events, newest first."""
        rows = await self.events_of_many([subject], window, row_filter)
        for row in rows:
            del row["subject"]
        return rows

    async def events_of_many(self, subjects: Sequence[str], window: HistoryWindow,
                             row_filter: RowFilter = ()) -> list[Row]:
        """The same page for each of many people, in one query (a LATERAL page per person);
        each row names its person in ``subject``, rows of one person newest first."""
        if window.limit < 0:
            raise ValueError("a page holds zero or more events")
        args: list[Any] = [list(dict.fromkeys(subjects))]
        clauses = ["a.subject_ids @> ARRAY[k.subject]"]
        if window.since is not None:
            args.append(window.since)
            clauses.append(f"a.recorded_at >= ${len(args)}")
        if window.until is not None:
            args.append(window.until)
            clauses.append(f"a.recorded_at < ${len(args)}")
        if window.after is not None:
            args.extend((window.after.at, window.after.chain_id, window.after.seq))
            n = len(args)
            clauses.append(f"(a.recorded_at, a.chain_id, a.seq) < (${n - 2}, ${n - 1}, ${n})")
        clauses.extend(_conditions(row_filter, args))
        args.append(window.limit)
        sql = (f"SELECT k.subject, e.* FROM unnest($1::text[]) AS k(subject) CROSS JOIN LATERAL"
               f" ({_EVENT_SELECT} WHERE {' AND '.join(clauses)}"
               f" ORDER BY a.recorded_at DESC, a.chain_id DESC, a.seq DESC"
               f" LIMIT ${len(args)}) AS e")
        rows = await self._database.read(sql, args)
        for row in rows:
            row["fields"] = list(row["fields"])
        return rows


def _conditions(row_filter: RowFilter, args: list[Any]) -> list[str]:
    """A policy's row conditions on events, as SQL over whitelisted expressions."""
    clauses = []
    for condition in row_filter:
        expression = _FILTERABLE.get(condition.column)
        if expression is None or condition.op not in ("eq", "in"):
            raise ValueError(f"access events cannot be filtered by {condition.op} on "
                             f"{condition.column!r}")
        if condition.op == "eq":
            args.append(condition.value)
            clauses.append(f"{expression} = ${len(args)}")
        else:
            args.append(list(condition.value))  # type: ignore[arg-type]
            clauses.append(f"{expression} = ANY(${len(args)}::text[])")
    return clauses
