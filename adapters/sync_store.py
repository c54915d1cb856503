"""Synchronisation's own records in the national database (migration 0014): where each agency
system's feed was read up to, each run, each difference found and the conflicts under review;
and the national side of a comparison (the files, their discipline decisions, and files of the
same identity under another personal ID), read set-wise for a page of agency records.

A page is kept in one transaction — its differences, its conflicts and the watermark after it
— so a run stopped at any point resumes after the last page kept, and finds again (and keeps
once) whatever it was deciding when it stopped.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson

from adapters.filters import RowFilter
from adapters.postgres import NationalDatabase, Row

__all__ = ["ConflictKey", "ConflictWindow", "NewConflict", "NewItem", "RunSuperseded",
           "SyncState", "SyncStore"]

FILE_COLUMNS = ("employee_code", "personal_id", "full_name", "birth_date", "sex", "category",
                "status", "agency_code", "unit_name", "position_code", "rank_code",
                "salary_step", "salary_coefficient", "hired_on", "version", "updated_at")
_FILE_SELECT = ", ".join(FILE_COLUMNS)
_DISCIPLINE_COLUMNS = ("employee_code", "decision_number", "form_code", "decided_on",
                       "issuer", "reason", "effective_from", "effective_to")
CONFLICT_COLUMNS = ("id", "system", "agency_code", "personal_id", "employee_code", "local_id",
                    "kind", "fields", "national", "agency", "national_version",
                    "national_updated_at", "agency_updated_at", "proposed", "detected_at",
                    "status", "resolved_at", "resolved_by", "resolution_note",
                    "resolution_submission", "resolution_outcome")
_CONFLICT_SELECT = ", ".join(CONFLICT_COLUMNS)
_JSON_COLUMNS = ("fields", "national", "agency", "proposed", "resolution_outcome")


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=_jsonable).decode("utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)  # Decimal, UUID


def _loads_row(row: Row) -> dict[str, Any]:
    out = dict(row)
    for name in _JSON_COLUMNS:
        if isinstance(out.get(name), str):
            out[name] = orjson.loads(out[name])
    return out


class RunSuperseded(ValueError):
    """A run's pages are no longer its own to keep: another run of the system started."""


@dataclass(frozen=True, slots=True)
class SyncState:
    watermark: str | None
    synced_through: datetime | None
    last_success_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewItem:
    """A difference found, and what became of it."""

    local_id: str | None
    personal_id: str | None
    employee_code: str | None
    agency_code: str | None
    outcome: str
    status: str
    kind: str | None = None
    submission_id: uuid.UUID | None = None
    reasons: Sequence[Mapping[str, str]] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)
    agency_updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewConflict:
    agency_code: str
    personal_id: str | None
    employee_code: str | None
    local_id: str | None
    kind: str
    fields: list[dict[str, Any]]
    national: Mapping[str, Any]
    agency: Mapping[str, Any]
    national_version: int | None
    national_updated_at: datetime | None
    agency_updated_at: datetime | None
    proposed: Mapping[str, Any] | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class ConflictKey:
    """A conflict's place in the newest-first order of a review queue."""

    detected_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = orjson.dumps([self.detected_at.isoformat(), str(self.id)])
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> ConflictKey:
        """ValueError for anything this class did not encode."""
        if not cursor or len(cursor) > 200 or not cursor.isascii():
            raise ValueError("not a cursor of this list")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            moment, ident = orjson.loads(raw)
            key = cls(datetime.fromisoformat(moment), uuid.UUID(ident))
        except (binascii.Error, ValueError, TypeError):
            raise ValueError("not a cursor of this list") from None
        if key.detected_at.tzinfo is None:
            raise ValueError("not a cursor of this list")
        return key


@dataclass(frozen=True, slots=True)
class ConflictWindow:
    agency_codes: Sequence[str] | None   # None: every agency
    status: str | None                   # None: any
    after: ConflictKey | None
    limit: int


class SyncStore:
    def __init__(self, national: NationalDatabase) -> None:
        self._national = national

    # ------------------------------------------------------------------ runs and state

    async def state(self, system: str) -> SyncState | None:
        rows = await self._national.query(
            "SELECT watermark, synced_through, last_success_at FROM sync_state"
            " WHERE system = $1", [system])
        return SyncState(**rows[0]) if rows else None

    async def start_run(self, system: str, watermark: str | None) -> uuid.UUID:
        run_id = uuid.uuid4()
        async with self._national.transaction() as conn:
            # The caller holds the system's lock: a run still marked running was stopped.
            await conn.execute(
                "UPDATE sync_run SET status = 'failed', finished_at = now(),"
                " error = 'interrupted' WHERE system = $1 AND status = 'running'", system)
            await conn.execute(
                "INSERT INTO sync_run (id, system, status, watermark_from)"
                " VALUES ($1, $2, 'running', $3)", run_id, system, watermark)
            await conn.execute(
                "INSERT INTO sync_state (system, last_run_id) VALUES ($1, $2)"
                " ON CONFLICT (system) DO UPDATE SET last_run_id = excluded.last_run_id,"
                " updated_at = now()", system, run_id)
        return run_id

    async def finish_run(self, run_id: uuid.UUID, system: str, *, status: str,
                         counts: Mapping[str, int], error: str | None = None) -> None:
        async with self._national.transaction() as conn:
            await conn.execute(
                "UPDATE sync_run SET finished_at = now(), status = $2, counts = $3::jsonb,"
                " error = $4, watermark_to = (SELECT watermark FROM sync_state WHERE system = $5)"
                " WHERE id = $1", run_id, status, _dumps(counts), error, system)
            if status == "completed":
                await conn.execute(
                    "UPDATE sync_state SET last_success_at = now(), updated_at = now()"
                    " WHERE system = $1", system)

    async def keep_page(self, run_id: uuid.UUID, system: str, items: Sequence[NewItem],
                        conflicts: Sequence[NewConflict], watermark: str | None,
                        synced_through: datetime | None, counts: Mapping[str, int]) -> None:
        """A page's differences and conflicts, and the watermark after it, in one
        transaction. A conflict found before (same system and fingerprint) is not added
        again: it is marked as seen by this run, its review status untouched."""
        async with self._national.transaction() as conn:
            if items:
                # One statement for the page's items, whatever their number.
                columns = list(zip(*[
                    (i.local_id, i.personal_id, i.employee_code, i.agency_code, i.outcome,
                     i.kind, i.submission_id, i.status, _dumps(list(i.reasons)),
                     _dumps(i.detail), i.agency_updated_at) for i in items], strict=True))
                await conn.execute(
                    "INSERT INTO sync_item (run_id, system, local_id, personal_id,"
                    " employee_code, agency_code, outcome, kind, submission_id, status,"
                    " reasons, detail, agency_updated_at)"
                    " SELECT $1, $2, l, p, e, a, o, k, s, st, r::jsonb, d::jsonb, t"
                    " FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
                    " $8::text[], $9::uuid[], $10::text[], $11::text[], $12::text[],"
                    " $13::timestamptz[]) AS u(l, p, e, a, o, k, s, st, r, d, t)",
                    run_id, system, *(list(c) for c in columns))
            if conflicts:
                await conn.executemany(
                    "INSERT INTO sync_conflict (id, system, agency_code, personal_id,"
                    " employee_code, local_id, kind, fields, national, agency,"
                    " national_version, national_updated_at, agency_updated_at, proposed,"
                    " fingerprint, detected_run, last_seen_run)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::jsonb,"
                    " $11, $12, $13, $14::jsonb, $15, $16, $16)"
                    " ON CONFLICT (system, fingerprint) DO UPDATE"
                    " SET last_seen_run = excluded.last_seen_run",
                    [(uuid.uuid4(), system, c.agency_code, c.personal_id, c.employee_code,
                      c.local_id, c.kind, _dumps(c.fields), _dumps(c.national),
                      _dumps(c.agency), c.national_version, c.national_updated_at,
                      c.agency_updated_at, None if c.proposed is None else _dumps(c.proposed),
                      c.fingerprint, run_id)
                     for c in conflicts])
            moved = await conn.execute(
                "UPDATE sync_state SET watermark = $2,"
                " synced_through = greatest(synced_through, $3), updated_at = now()"
                " WHERE system = $1 AND last_run_id = $4", system, watermark, synced_through,
                run_id)
            if moved != "UPDATE 1":
                # Another run started since (this one lost its lock): its watermark stands,
                # and nothing of this page is kept.
                raise RunSuperseded(f"{system}: another synchronisation run took over")
            await conn.execute("UPDATE sync_run SET counts = $2::jsonb WHERE id = $1",
                               run_id, _dumps(counts))

    async def reset(self, system: str) -> None:
        """Read the system's feed from the beginning next time (``hub sync --full``)."""
        await self._national.query(
            "UPDATE sync_state SET watermark = NULL, updated_at = now() WHERE system = $1"
            " RETURNING system", [system])

    # ------------------------------------------------------------------ the national side

    async def files(self, personal_ids: Sequence[str]) -> dict[str, Row]:
        rows = await self._national.query(
            f"SELECT {_FILE_SELECT} FROM employee WHERE personal_id = ANY($1::bpchar[])",
            [list(personal_ids)])
        return {row["personal_id"]: row for row in rows}

    async def disciplines(self, employee_codes: Sequence[str]) -> dict[str, list[Row]]:
        rows = await self._national.query(
            f"SELECT {', '.join(_DISCIPLINE_COLUMNS)} FROM discipline"
            " WHERE employee_code = ANY($1::text[]) ORDER BY employee_code, decided_on, id",
            [list(employee_codes)])
        found: dict[str, list[Row]] = {}
        for row in rows:
            found.setdefault(row["employee_code"], []).append(row)
        return found

    async def same_birth(self, births: Sequence[tuple[date, str]]) -> list[Row]:
        """The national files of people born on these days with these sexes (to match a
        record the national database lacks to a person registered under another ID)."""
        if not births:
            return []
        days, sexes = zip(*sorted(set(births)), strict=True)
        return await self._national.query(
            f"SELECT {', '.join('e.' + c for c in FILE_COLUMNS)} FROM employee e"
            " JOIN unnest($1::date[], $2::text[]) AS b(day, sex)"
            " ON e.birth_date = b.day AND e.sex = b.sex", [list(days), list(sexes)])

    # ------------------------------------------------------------------ conflicts

    async def conflicts(self, window: ConflictWindow,
                        row_filter: RowFilter = ()) -> list[dict[str, Any]]:
        """A page of conflicts, newest first, within ``row_filter`` (a reader's scope)."""
        args: list[Any] = []
        where = self._national.where("sync_conflict", row_filter, args)
        if window.agency_codes is not None:
            args.append(list(window.agency_codes))
            where.append(f"agency_code = ANY(${len(args)}::text[])")
        if window.status is not None:
            args.append(window.status)
            where.append(f"status = ${len(args)}")
        if window.after is not None:
            args += [window.after.detected_at, window.after.id]
            where.append(f"(detected_at, id) < (${len(args) - 1}, ${len(args)})")
        args.append(window.limit)
        rows = await self._national.read(
            f"SELECT {_CONFLICT_SELECT} FROM sync_conflict"
            f"{' WHERE ' + ' AND '.join(where) if where else ''}"
            f" ORDER BY detected_at DESC, id DESC LIMIT ${len(args)}", args)
        return [_loads_row(row) for row in rows]

    async def conflict_statuses(self, system: str, fingerprints: Sequence[str]
                                ) -> dict[str, str]:
        """Where the conflicts of these fingerprints stand, for those that exist."""
        rows = await self._national.query(
            "SELECT fingerprint, status FROM sync_conflict WHERE system = $1"
            " AND fingerprint = ANY($2::text[])", [system, list(fingerprints)])
        return {row["fingerprint"]: row["status"] for row in rows}

    async def conflict(self, conflict_id: uuid.UUID) -> dict[str, Any] | None:
        rows = await self._national.query(
            f"SELECT {_CONFLICT_SELECT} FROM sync_conflict WHERE id = $1", [conflict_id])
        return _loads_row(rows[0]) if rows else None

    async def resolve(self, conflict_id: uuid.UUID, status: str, by: str,
                      note: str | None) -> dict[str, Any] | None:
        """Record a reviewer's decision on an open conflict; None when it is not open."""
        rows = await self._national.query(
            "UPDATE sync_conflict SET status = $2, resolved_at = now(), resolved_by = $3,"
            " resolution_note = $4 WHERE id = $1 AND status = 'open'"
            f" RETURNING {_CONFLICT_SELECT}", [conflict_id, status, by, note])
        return _loads_row(rows[0]) if rows else None

    async def taken_to_apply(self, system: str, limit: int = 500) -> list[dict[str, Any]]:
        """Conflicts resolved by taking the agency's version, not yet submitted."""
        rows = await self._national.query(
            f"SELECT {_CONFLICT_SELECT} FROM sync_conflict WHERE system = $1"
            " AND status = 'taken-agency' AND resolution_outcome IS NULL"
            " ORDER BY resolved_at, id LIMIT $2", [system, limit])
        return [_loads_row(row) for row in rows]

    async def taken_applied(self, conflict_id: uuid.UUID, submission_id: uuid.UUID | None,
                            outcome: Mapping[str, Any]) -> None:
        await self._national.query(
            "UPDATE sync_conflict SET resolution_submission = $2,"
            " resolution_outcome = $3::jsonb WHERE id = $1 RETURNING id",
            [conflict_id, submission_id, _dumps(outcome)])
