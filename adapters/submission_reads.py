"""The write side read back: a personnel file's versions, and a client's submissions inbox.

Both live in the national database (migration 0009): ``record_version`` holds every accepted
change with the values before and after, ``submission`` every submission received, accepted
or rejected, with its reasons. Both are read newest first, a keyset page at a time, and
nothing here decides who may read what: the caller passes the person (employee codes), the
client (its own inbox only), which record columns may show (``visible``) and a row filter,
and gets rows.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from adapters.filters import RowFilter
from adapters.postgres import NationalDatabase, Row

__all__ = ["InboxWindow", "SubmissionKey", "SubmissionReads", "VersionKey", "VersionWindow"]


@dataclass(frozen=True, slots=True)
class VersionKey:
    """A version's place in the newest-first order: versions applied at the same time (one
    transaction) are ordered by their row id, so the order is total."""

    applied_at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class VersionWindow:
    """Which versions: applied in [since, until) (either open), after ``after`` in
    newest-first order, at most ``limit`` per person. Hashable: one batch per window."""

    since: datetime | None
    until: datetime | None
    after: VersionKey | None
    limit: int


@dataclass(frozen=True, slots=True)
class SubmissionKey:
    received_at: datetime
    id: UUID


@dataclass(frozen=True, slots=True)
class InboxWindow:
    """Which submissions: of ``status`` (None: any), received in [since, until), after
    ``after`` in newest-first order, at most ``limit``."""

    status: str | None
    since: datetime | None
    until: datetime | None
    after: SubmissionKey | None
    limit: int


# Columns of a version a row filter may compare (by the GraphQL type's row keys), as SQL.
_VERSION_FILTERABLE = {
    "version": "r.version::text",
    "entity": "r.entity",
    "submitted_by": "r.client_id",
    "agency_code": "r.agency_code",
    "source_system": "r.source_system",
}
_SUBMISSION_FILTERABLE = {
    "id": "s.id::text",
    "kind": "s.kind",
    "status": "s.status",
    "employee_code": "s.employee_code",
    "agency_code": "s.agency_code",
    "idempotency_key": "s.idempotency_key",
}

_VERSION_SELECT = """
SELECT r.id, r.version, r.entity, r.record_key, r.employee_code, r.applied_at,
       r.client_id AS submitted_by, r.agency_code, r.source_system, r.submission_id,
       r.previous::text AS previous, r.current::text AS current, r.signed_by::text AS signed_by
FROM record_version AS r"""

# The inbox: a resubmission's links shown only within the client's own submissions.
_SUBMISSION_SELECT = """
SELECT s.id, s.kind, s.status, s.reasons::text AS reasons, s.result::text AS result,
       s.employee_code, s.agency_code, s.idempotency_key, s.batch_id, s.received_at,
       s.decided_at,
       (SELECT o.id FROM submission AS o
         WHERE o.id = s.resubmission_of AND o.client_id = s.client_id) AS resubmission_of,
       (SELECT n.id FROM submission AS n
         WHERE n.resubmission_of = s.id AND n.client_id = s.client_id
         ORDER BY n.received_at DESC, n.id DESC LIMIT 1) AS resubmitted_by
FROM submission AS s"""


def _conditions(row_filter: RowFilter, args: list[Any], filterable: Mapping[str, str]
                ) -> list[str]:
    """A policy's row conditions as SQL over whitelisted expressions. A condition on
    anything else cannot be checked here, so it excludes every row: never lets one through."""
    clauses = []
    for condition in row_filter:
        expression = filterable.get(condition.column)
        if expression is None or condition.op not in ("eq", "in"):
            clauses.append("FALSE")
            continue
        if condition.op == "eq":
            args.append(str(condition.value))
            clauses.append(f"{expression} = ${len(args)}")
        else:
            args.append([str(v) for v in condition.value])  # type: ignore[union-attr]
            clauses.append(f"{expression} = ANY(${len(args)}::text[])")
    return clauses


def _time_window(column: str, since: datetime | None, until: datetime | None,
                 args: list[Any]) -> list[str]:
    clauses = []
    if since is not None:
        args.append(since)
        clauses.append(f"{column} >= ${len(args)}")
    if until is not None:
        args.append(until)
        clauses.append(f"{column} < ${len(args)}")
    return clauses


def signer_kids(signatures: Sequence[Any]) -> list[str]:
    """The key ids in the protected headers of compact JWS signatures (never the tokens:
    they carry the whole signed payload)."""
    kids = []
    for token in signatures:
        if not isinstance(token, str):
            continue
        header = token.partition(".")[0]
        try:
            decoded = orjson.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        except (ValueError, binascii.Error, orjson.JSONDecodeError):
            continue
        kid = decoded.get("kid") if isinstance(decoded, dict) else None
        if isinstance(kid, str):
            kids.append(kid)
    return kids


def _version_row(row: Row) -> Row:
    row["previous"] = None if row["previous"] is None else orjson.loads(row["previous"])
    row["current"] = orjson.loads(row["current"])
    row["signer_keys"] = signer_kids(orjson.loads(row.pop("signed_by")))
    return row


def _submission_row(row: Row) -> Row:
    row["reasons"] = orjson.loads(row["reasons"])
    row["result"] = None if row["result"] is None else orjson.loads(row["result"])
    return row


class SubmissionReads:
    """Record versions per person and a client's inbox, through the national database's
    pool."""

    def __init__(self, database: NationalDatabase) -> None:
        self._database = database

    async def versions_of_many(self, employee_codes: Sequence[str], window: VersionWindow,
                               visible: Collection[str] | None = None,
                               row_filter: RowFilter = ()) -> list[Row]:
        """A page of versions for each of many personnel files, in one query (a LATERAL page
        per file); each row names its file in ``subject``, rows of one file newest first.
        ``visible``: "entity.column" names; only versions that changed one of them are read
        (None: every version)."""
        if window.limit < 0:
            raise ValueError("a page holds zero or more versions")
        args: list[Any] = [list(dict.fromkeys(employee_codes))]
        clauses = ["r.employee_code = k.subject"]
        clauses.extend(_time_window("r.applied_at", window.since, window.until, args))
        if window.after is not None:
            args.extend((window.after.applied_at, window.after.id))
            clauses.append(f"(r.applied_at, r.id) < (${len(args) - 1}, ${len(args)})")
        if visible is not None:
            args.append(sorted(visible))
            clauses.append("EXISTS (SELECT 1 FROM jsonb_object_keys(r.current) AS c(name)"
                           f" WHERE r.entity || '.' || c.name = ANY(${len(args)}::text[]))")
        clauses.extend(_conditions(row_filter, args, _VERSION_FILTERABLE))
        args.append(window.limit)
        sql = (f"SELECT k.subject, v.* FROM unnest($1::text[]) AS k(subject) CROSS JOIN LATERAL"
               f" ({_VERSION_SELECT} WHERE {' AND '.join(clauses)}"
               f" ORDER BY r.applied_at DESC, r.id DESC LIMIT ${len(args)}) AS v")
        return [_version_row(row) for row in await self._database.read(sql, args)]

    async def inbox(self, client_id: str, window: InboxWindow,
                    row_filter: RowFilter = ()) -> list[Row]:
        """A page of ``client_id``'s own submissions, newest first."""
        if window.limit < 0:
            raise ValueError("a page holds zero or more submissions")
        args: list[Any] = [client_id]
        clauses = ["s.client_id = $1"]
        if window.status is not None:
            args.append(window.status)
            clauses.append(f"s.status = ${len(args)}")
        clauses.extend(_time_window("s.received_at", window.since, window.until, args))
        if window.after is not None:
            args.extend((window.after.received_at, window.after.id))
            clauses.append(f"(s.received_at, s.id) < (${len(args) - 1}, ${len(args)})")
        clauses.extend(_conditions(row_filter, args, _SUBMISSION_FILTERABLE))
        args.append(window.limit)
        sql = (f"{_SUBMISSION_SELECT} WHERE {' AND '.join(clauses)}"
               f" ORDER BY s.received_at DESC, s.id DESC LIMIT ${len(args)}")
        return [_submission_row(row) for row in await self._database.read(sql, args)]
