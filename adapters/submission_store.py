"""The submissions inbox and the versioned write, in the national database.

An accepted change is one transaction: the personnel file is locked, its version compared
with the one the submission was based on, the records written (one or several: a transfer
moves the file, closes a work-history entry, opens another and completes the transfer), the
file's version raised, the previous and new values of each kept in ``record_version``, and the
submission stored as accepted. A registration (``register``) creates a new file at version 1
the same way. A rejected one is stored with its reasons. Nothing here decides *whether* a
change is acceptable (the hub's desk does, before calling ``apply``) except what only the
database can tell at write time: a stale version (CONFLICT), a signed change already applied
(REPLAYED), a retry of a request already answered (the first answer is returned), a record
that is no longer as the change expects it (NOT_FOUND), an agency whose headcount quota is
full (QUOTA_EXCEEDED), a person or code registered meanwhile (DUPLICATE) and a transfer
already pending (TRANSFER_PENDING).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from adapters.postgres import NationalDatabase
from adapters.round_writes import (
    BUMPED,
    FILE,
    HISTORY_COLUMNS,
    SUBMISSION_COLUMNS,
    UPSERT_KEYS,
    Accepted,
    RoundWriter,
    insert_rows,
    writable,
)
from adapters.round_writes import Mismatch as RecordMismatch

log = logging.getLogger(__name__)

__all__ = ["THIS_SUBMISSION", "Decision", "KeyReused", "RecordChange", "RecordMismatch",
           "Submission", "SubmissionStore"]

Row = dict[str, Any]
# The tables a change may write, and how: update the file itself, add a record to it, or
# update one of its records by id / by natural key.
_FILE = FILE
_ADDABLE = frozenset({"discipline", "training", "qualification", "award", "allowance",
                      "work_history", "asset_declaration", "transfer", "personal_history",
                      "family_member"})
_UPSERT_KEYS = UPSERT_KEYS
# A value standing for the id of the submission being applied (a transfer names the
# submissions that released and received the employee).
THIS_SUBMISSION: Any = type("ThisSubmission", (), {"__repr__": lambda self: "THIS_SUBMISSION"})()
# Unique constraints a concurrent write can trip, and the rejection each means.
_RACED = {
    "employee_pkey": ("DUPLICATE", "change.employeeCode",
                      "this employee code is already in the national database"),
    "employee_personal_id_key": ("DUPLICATE", "employee.personalId",
                                 "this person is already in the national database"),
    "transfer_pending_idx": ("TRANSFER_PENDING", "employee.employeeCode",
                             "the employee already has a pending transfer"),
    "family_member_person_idx": ("DUPLICATE", "change.personalId",
                                 "the employee already declared a relative with this "
                                 "personal ID"),
}


def _json(value: Any) -> str:
    def default(item: Any) -> Any:
        if isinstance(item, Decimal):
            return str(item)
        if isinstance(item, uuid.UUID):
            return str(item)
        raise TypeError(type(item).__name__)

    return orjson.dumps(value, default=default).decode()


class KeyReused(Exception):
    """An idempotency key already taken by another request (another kind, signed change or
    co-signature): nothing is decided nor kept. ``index``: the batch item that reused it."""

    def __init__(self, index: int | None = None) -> None:
        super().__init__("this idempotency key was used for another request")
        self.index = index


@dataclass(frozen=True, slots=True)
class Submission:
    """One received submission, as the desk understood it."""

    client_id: str
    idempotency_key: str
    kind: str
    agency_code: str | None = None
    jti: str | None = None
    employee_code: str | None = None
    personal_id: str | None = None
    base_version: int | None = None
    payload: Mapping[str, Any] | None = None
    signatures: Sequence[str] = ()
    resubmission_of: uuid.UUID | None = None
    batch_id: uuid.UUID | None = None
    # What was sent (kind, signed change, co-signature), digested: a retry must match it.
    request_digest: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True, slots=True)
class RecordChange:
    """What to write: ``table`` (the file, ``employee``, or one of its record tables),
    ``values`` by column, and for an update of an existing record its ``record_id``."""

    table: str
    values: Mapping[str, Any]
    record_id: int | None = None
    # For an update: the values the record must still hold (else the change is refused).
    expect: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    submission_id: uuid.UUID
    status: str                      # accepted | rejected
    reasons: list[dict[str, str]]
    result: dict[str, Any] | None    # accepted: {"version": file version, "record": key}
    received_at: datetime
    repeated: bool = False           # the first answer to the same idempotency key
    request_digest: str | None = None  # the request first answered (None: not recorded)


def _substituted(change: RecordChange, submission: Submission) -> RecordChange:
    """``change`` with THIS_SUBMISSION standing for ``submission``'s id."""
    if not any(v is THIS_SUBMISSION for v in change.values.values()):
        return change
    return replace(change, values={c: submission.id if v is THIS_SUBMISSION else v
                                   for c, v in change.values.items()})


def _reason(code: str, path: str, message: str) -> dict[str, str]:
    return {"code": code, "path": path, "message": message}


_BUMPED = BUMPED


class _Redo(Exception):
    """An item of a batch written without savepoints raised: write the batch again, with."""


_BROKE_A_RULE = _reason("INVALID", "change", "the change breaks a rule of the national database"
                                             " (e.g. a date before the record's start)")


class SubmissionStore:
    def __init__(self, national: NationalDatabase) -> None:
        self._db = national
        self._rounds = RoundWriter(national)

    # -- reading -----------------------------------------------------------------------------

    async def earlier(self, client_id: str, idempotency_key: str) -> Decision | None:
        rows = await self._db.query(
            "SELECT id, status, reasons, result, received_at, request_digest FROM submission"
            " WHERE client_id = $1 AND idempotency_key = $2", (client_id, idempotency_key))
        return self._decision(rows[0], repeated=True) if rows else None

    async def earlier_many(self, client_id: str, idempotency_keys: Sequence[str]
                           ) -> dict[str, Decision]:
        """``earlier`` for many keys at once: the first decision by idempotency key."""
        if not idempotency_keys:
            return {}
        rows = await self._db.query(
            "SELECT idempotency_key, id, status, reasons, result, received_at, request_digest"
            " FROM submission"
            " WHERE client_id = $1 AND idempotency_key = ANY($2)",
            (client_id, list(idempotency_keys)))
        return {row["idempotency_key"]: self._decision(row, repeated=True) for row in rows}

    async def resubmittable(self, client_id: str, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``ids`` naming a rejected submission of this client (what a correction
        may be a resubmission of); one query for all."""
        if not ids:
            return set()
        rows = await self._db.query(
            "SELECT id FROM submission WHERE id = ANY($1) AND client_id = $2"
            " AND status = 'rejected'", (list(dict.fromkeys(ids)), client_id))
        return {row["id"] for row in rows}

    async def employees(self, employee_codes: Sequence[str]) -> dict[str, Row]:
        """``employee`` for many codes at once, by code (an unknown code is absent)."""
        if not employee_codes:
            return {}
        rows = await self._db.query(
            "SELECT employee_code, personal_id, category, status, agency_code, unit_name,"
            " position_code, rank_code, salary_step, hired_on, version FROM employee"
            " WHERE employee_code = ANY($1)", (list(employee_codes),))
        return {row["employee_code"]: row for row in rows}

    async def _one(self, sql: str, args: Sequence[Any]) -> Row | None:
        rows = await self._db.query(sql, args)
        return rows[0] if rows else None

    async def employee(self, employee_code: str) -> Row | None:
        return await self._one(
            "SELECT employee_code, personal_id, category, status, agency_code, unit_name,"
            " position_code, rank_code, salary_step, hired_on, version FROM employee"
            " WHERE employee_code = $1", (employee_code,))

    async def agency(self, code: str) -> Row | None:
        """An agency with its headcount quota and how many active employees it has."""
        return await self._one(
            "SELECT a.code, a.name, a.headcount_quota, (SELECT count(*) FROM employee e"
            " WHERE e.agency_code = a.code AND e.status = 'active') AS active"
            " FROM agency a WHERE a.code = $1", (code,))

    async def registered(self, personal_id: str, employee_code: str) -> tuple[bool, bool]:
        """Whether the national database already holds this person, and this employee code."""
        rows = await self._db.query(
            "SELECT coalesce(bool_or(personal_id = $1), false) AS person,"
            " coalesce(bool_or(employee_code = $2), false) AS code FROM employee"
            " WHERE personal_id = $1 OR employee_code = $2", (personal_id, employee_code))
        return bool(rows[0]["person"]), bool(rows[0]["code"])

    async def pending_transfer(self, employee_code: str) -> Row | None:
        return await self._one(
            "SELECT id, employee_code, from_agency, to_agency, effective_from, decision_number"
            " FROM transfer WHERE employee_code = $1 AND status = 'pending'", (employee_code,))

    async def family_members(self, employee_code: str) -> list[Row]:
        """The relatives the employee has declared (what a new declaration may repeat)."""
        return await self._db.query(
            "SELECT id, relation, full_name, birth_year, personal_id FROM family_member"
            " WHERE employee_code = $1 ORDER BY id", (employee_code,))

    async def open_work_entry(self, employee_code: str) -> Row | None:
        """The employee's current work-history entry (no end date), the latest if several."""
        return await self._one(
            "SELECT id, from_date, agency_code, position_code FROM work_history"
            " WHERE employee_code = $1 AND to_date IS NULL ORDER BY from_date DESC, id DESC"
            " LIMIT 1", (employee_code,))

    @staticmethod
    def _decision(row: Mapping[str, Any], *, repeated: bool = False) -> Decision:
        result = row["result"]
        return Decision(row["id"], row["status"], orjson.loads(row["reasons"]),
                        orjson.loads(result) if result is not None else None,
                        row["received_at"], repeated, row.get("request_digest"))

    # -- writing -----------------------------------------------------------------------------

    async def reject(self, submission: Submission, reasons: Sequence[Mapping[str, str]]
                     ) -> Decision:
        """Keep a rejected submission with its reasons (or, for a retry, the first answer)."""
        async with self._db.transaction() as connection:
            return await self._store(connection, submission, "rejected",
                                     [dict(r) for r in reasons], None)

    async def apply(self, submission: Submission,
                    change: RecordChange | Sequence[RecordChange], *,
                    quota_agency: str | None = None) -> Decision:
        """Write one change (or several, together) to an existing file and raise its version.
        ``quota_agency``: the agency the employee joins, whose headcount quota must have room
        (checked under a lock on the agency)."""
        changes = [change] if isinstance(change, RecordChange) else list(change)
        try:
            async with self._db.transaction() as connection:
                return await self._apply(connection, submission, changes, quota_agency)
        except asyncpg.UniqueViolationError as error:
            return await self._raced(submission, error)
        except RecordMismatch as error:  # a record to update is not as the change expects
            return await self.reject(submission, [_reason("NOT_FOUND", "change", str(error))])
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as error:
            return await self._broke_a_rule(submission, error)

    async def apply_many(self, items: Sequence[tuple[Submission, Sequence[RecordChange] | None,
                                                     Sequence[Mapping[str, str]]]]
                         ) -> list[Decision]:
        """Decide many submissions in ONE transaction, in order, each as ``apply`` (changes
        given) or ``reject`` (changes None, with its reasons) would alone. The files written
        are locked up front, in key order; the caller sends at most one item per file, and
        no two items with the same idempotency key. None may carry a ``quota_agency`` (a
        write bringing someone into an agency goes through ``apply``).

        The round is first written set-wise (``adapters.round_writes``: a few statements
        for all its items, decisions made on the files as locked). Only when that raises (a
        retry racing it, a record no longer as a change expects, a database rule) is it
        rolled back whole (nothing of it kept) and made again with a savepoint per item, so
        that a refusal at write time rolls back only its item and is kept as its rejection
        (or answered with the first decision).

        An error no decision covers ends the run: the items decided before it are committed
        (as they would be alone) and the error raised. A deadlock or serialization failure
        rolls everything back and is raised (nothing decided; the caller may decide the
        items one by one)."""
        if not items:
            return []
        accepted_codes = [s.employee_code for s, changes, _ in items if changes is not None]
        if (len(set(accepted_codes)) == len(accepted_codes)
                and all(changes is None or writable(changes, _ADDABLE)
                        for _, changes, _ in items)):
            try:
                return await self._apply_many(items, savepoints=False)
            except _Redo as redo:
                log.info("a batch of %d submissions written again, an item at a time: %s",
                         len(items), redo.__cause__)
        return await self._apply_many(items, savepoints=True)

    async def _apply_many(self, items: Sequence[tuple[Submission,
                                                      Sequence[RecordChange] | None,
                                                      Sequence[Mapping[str, str]]]], *,
                          savepoints: bool) -> list[Decision]:
        decisions: list[Decision] = []
        failure: Exception | None = None
        codes = sorted({s.employee_code for s, changes, _ in items
                        if changes is not None and s.employee_code is not None})
        async with self._db.transaction() as connection:
            files: dict[str, Row] = {}
            if codes:
                files = {row["employee_code"]: dict(row) for row in await connection.fetch(
                    "SELECT * FROM employee WHERE employee_code = ANY($1)"
                    " ORDER BY employee_code FOR UPDATE", codes)}
            replayed = await self._replayed_among(connection, items)
            if not savepoints:
                try:
                    return await self._decide_set(connection, items, files, replayed)
                except asyncpg.TransactionRollbackError:
                    raise
                except Exception as error:
                    raise _Redo from error
            for submission, changes, reasons in items:
                try:
                    decisions.append(await self._decide_in(connection, submission, changes,
                                                           reasons, files, replayed))
                except asyncpg.TransactionRollbackError:
                    raise
                except Exception as error:  # raised once the decided items commit
                    failure = error
                    break
        if failure is not None:
            raise failure
        return decisions

    async def _replayed_among(self, connection: asyncpg.Connection,
                              items: Sequence[tuple[Submission, Any, Any]]
                              ) -> set[tuple[str | None, str]]:
        """The (agency, jti) pairs of ``items`` already applied, read at once."""
        pairs = {(s.agency_code, s.jti) for s, changes, _ in items
                 if changes is not None and s.jti is not None}
        if not pairs:
            return set()
        # Joined pair by pair, so that each is one probe of the (agency, jti) index whatever
        # plan the statement was cached with (``jti = ANY($1)`` as a filter can end up
        # scanning every submission an agency ever made).
        agencies, jtis = zip(*[(a, j) for a, j in pairs if a is not None], strict=True) \
            if any(a is not None for a, _ in pairs) else ((), ())
        rows = await connection.fetch(
            "SELECT s.agency_code, s.jti FROM unnest($1::text[], $2::text[]) AS p(agency, jti)"
            " JOIN submission s ON s.agency_code = p.agency AND s.jti = p.jti"
            " AND s.status = 'accepted'", list(agencies), list(jtis))
        found = {(row["agency_code"], row["jti"]) for row in rows}
        orphans = sorted(j for a, j in pairs if a is None)
        if orphans:  # submissions of a client acting for no agency
            found |= {(None, row["jti"]) for row in await connection.fetch(
                "SELECT jti FROM submission WHERE agency_code IS NULL AND jti = ANY($1)"
                " AND status = 'accepted'", orphans)}
        return found

    def _refusal(self, submission: Submission, current: Row | None,
                 replayed: set[tuple[str | None, str]]
                 ) -> tuple[list[dict[str, str]], dict[str, Any] | None] | None:
        """Why a change to a locked file cannot be applied as it is (the reasons and the
        result to keep), or None if it can."""
        if current is None:
            return [_reason("NOT_FOUND", "employee.employeeCode",
                            "no such employee in the national database")], None
        if submission.base_version is not None and current["version"] != submission.base_version:
            return [_reason("CONFLICT", "baseVersion",
                            f"the record is at version {current['version']}, not "
                            f"{submission.base_version}: fetch it again and resubmit")], \
                {"currentVersion": current["version"]}
        if submission.jti is not None and (submission.agency_code, submission.jti) in replayed:
            return [_reason("REPLAYED", "jti", "this signed change was already applied (same "
                                               "agency and jti)")], None
        return None

    async def _decide_set(self, connection: asyncpg.Connection,
                          items: Sequence[tuple[Submission, Sequence[RecordChange] | None,
                                                Sequence[Mapping[str, str]]]],
                          files: Mapping[str, Row], replayed: set[tuple[str | None, str]]
                          ) -> list[Decision]:
        """Every item decided on the files as locked, then written set-wise: the accepted
        changes, the inbox rows, the history rows."""
        received_at = await connection.fetchval("SELECT now()")
        outcomes: list[tuple[str, list[dict[str, str]], dict[str, Any] | None]] = []
        accepted: list[tuple[int, Accepted]] = []
        for submission, changes, reasons in items:
            if changes is None:
                outcomes.append(("rejected", [dict(r) for r in reasons], None))
                continue
            current = files.get(submission.employee_code or "")
            refused = self._refusal(submission, current, replayed)
            if refused is not None:
                outcomes.append(("rejected", *refused))
                continue
            assert current is not None
            assert submission.employee_code is not None
            accepted.append((len(outcomes), Accepted(
                submission.employee_code, submission.client_id, current,
                [_substituted(change, submission) for change in changes])))
            outcomes.append(("accepted", [], None))
            if submission.jti is not None:
                replayed.add((submission.agency_code, submission.jti))
        versions, written = await self._rounds.write(connection, [a for _, a in accepted])
        history: list[dict[str, Any]] = []
        for (index, _), version, records in zip(accepted, versions, written, strict=True):
            outcomes[index] = ("accepted", [], {"version": version, "record": records[0][1]})
            history += self._history_rows(items[index][0], version, records)
        await insert_rows(connection, "submission", SUBMISSION_COLUMNS, [
            self._submission_row(submission, *outcome)
            for (submission, _, _), outcome in zip(items, outcomes, strict=True)])
        await insert_rows(connection, "record_version", HISTORY_COLUMNS, history)
        return [Decision(submission.id, status, reasons, result, received_at,
                         request_digest=submission.request_digest)
                for (submission, _, _), (status, reasons, result)
                in zip(items, outcomes, strict=True)]

    async def _decide_in(self, connection: asyncpg.Connection, submission: Submission,
                         changes: Sequence[RecordChange] | None,
                         reasons: Sequence[Mapping[str, str]], files: Mapping[str, Row],
                         replayed: set[tuple[str | None, str]]) -> Decision:
        """One item of a round in its own savepoint."""
        try:
            async with connection.transaction():
                if changes is None:
                    return await self._store(connection, submission, "rejected",
                                             [dict(r) for r in reasons], None)
                return await self._apply_locked(connection, submission, changes,
                                                files.get(submission.employee_code or ""),
                                                replayed)
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name == "submission_client_id_idempotency_key_key":
                found = await self._answered(connection, submission)
                assert found is not None
                return found
            if error.constraint_name == "submission_jti_idx":
                return await self._reject_in(connection, submission, [_reason(
                    "REPLAYED", "jti", "this signed change was already applied (same agency "
                                       "and jti)")])
            raced = _RACED.get(error.constraint_name or "")
            if raced is None:
                raise
            return await self._reject_in(connection, submission, [_reason(*raced)])
        except RecordMismatch as error:
            return await self._reject_in(connection, submission,
                                         [_reason("NOT_FOUND", "change", str(error))])
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as error:
            log.warning("submission %s refused by a database rule: %s", submission.id, error)
            return await self._reject_in(connection, submission, [dict(_BROKE_A_RULE)])

    async def _reject_in(self, connection: asyncpg.Connection, submission: Submission,
                         reasons: list[dict[str, str]]) -> Decision:
        async with connection.transaction():
            return await self._store(connection, submission, "rejected", reasons, None)

    async def _apply_locked(self, connection: asyncpg.Connection, submission: Submission,
                            changes: Sequence[RecordChange], current: Row | None,
                            replayed: set[tuple[str | None, str]],
                            quota_agency: str | None = None) -> Decision:
        """Apply changes to a file locked (and read: ``current``) up front, knowing the
        jtis already applied among those asked; the retry check is left to the
        submission's unique key. Once applied, ``current`` is updated in place to the file
        as written (its columns and version): a later item of the same round for the same
        employee is decided on the file as this one left it."""
        refused = self._refusal(submission, current, replayed)
        if refused is not None:
            return await self._store(connection, submission, "rejected", *refused)
        assert current is not None
        if quota_agency is not None:
            full = await self._quota_full(connection, quota_agency)
            if full is not None:
                return await self._store(connection, submission, "rejected", [full], None)
        written: list[tuple[str, str, Row | None, Row]] = []
        version: int | None = None
        for change in changes:
            if version is None and change.table == _FILE and not _BUMPED & set(change.values):
                # The file's own columns and its version in one statement.
                file_previous, values, key, version = await self._write_file(
                    connection, submission, change, current)
                written.append((change.table, key, file_previous, values))
                continue
            previous, values, key = await self._write(connection, submission, change,
                                                      dict(current))
            written.append((change.table, key, previous, values))
        if version is None:
            version = await connection.fetchval(
                "UPDATE employee SET version = version + 1, updated_at = now(), updated_by = $2"
                " WHERE employee_code = $1 RETURNING version",
                submission.employee_code, submission.client_id)
        decision = await self._store(connection, submission, "accepted", [],
                                     {"version": version, "record": written[0][1]},
                                     retry_wins=False)
        await self._history(connection, submission, version, written)
        if submission.jti is not None:
            replayed.add((submission.agency_code, submission.jti))
        for table, _, _, values in written:
            if table == _FILE:
                current.update(values)
        current["version"] = version
        return decision

    async def _write_file(self, connection: asyncpg.Connection, submission: Submission,
                          change: RecordChange, current: Row
                          ) -> tuple[Row, Row, str, int]:
        """``_write`` of the file itself, raising its version as ``_apply`` does after."""
        columns = list(change.values)
        values = [submission.id if v is THIS_SUBMISSION else v for v in change.values.values()]
        sets = ", ".join(f"{self._db.quoted(_FILE, c)} = ${i + 3}"
                         for i, c in enumerate(columns))
        version = await connection.fetchval(
            f"UPDATE employee SET {sets}{', ' if sets else ''}version = version + 1,"
            " updated_at = now(), updated_by = $2 WHERE employee_code = $1 RETURNING version",
            submission.employee_code, submission.client_id, *values)
        return ({c: current[c] for c in columns}, dict(zip(columns, values, strict=True)),
                str(submission.employee_code), version)

    async def _broke_a_rule(self, submission: Submission, error: Exception) -> Decision:
        # The checks should have caught it; the database's own rules did. The change is
        # refused and kept, never lost in an error.
        log.warning("submission %s refused by a database rule: %s", submission.id, error)
        return await self.reject(submission, [_reason(
            "INVALID", "change", "the change breaks a rule of the national database (e.g. a "
                                 "date before the record's start)")])

    async def register(self, submission: Submission, employee: RecordChange,
                       *also: RecordChange) -> Decision:
        """Create a new file (``employee``: the ``employee`` table's values, employee_code and
        agency_code among them) at version 1, with the records ``also`` added to it, if the
        agency's headcount quota has room; each written record has its history row (no
        previous values)."""
        try:
            async with self._db.transaction() as connection:
                return await self._register(connection, submission, employee, also)
        except asyncpg.UniqueViolationError as error:
            return await self._raced(submission, error)
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as error:
            return await self._broke_a_rule(submission, error)

    async def _raced(self, submission: Submission,
                     error: asyncpg.UniqueViolationError) -> Decision:
        # Raced by a retry of the same request, or the same signed change sent again, or a
        # write that makes this one a duplicate.
        if error.constraint_name == "submission_client_id_idempotency_key_key":
            found = await self.earlier(submission.client_id, submission.idempotency_key)
            assert found is not None
            return found
        if error.constraint_name == "submission_jti_idx":
            return await self.reject(submission, [_reason(
                "REPLAYED", "jti", "this signed change was already applied (same agency "
                                   "and jti)")])
        raced = _RACED.get(error.constraint_name or "")
        if raced is not None:
            return await self.reject(submission, [_reason(*raced)])
        raise error

    async def _answered(self, connection: asyncpg.Connection,
                        submission: Submission) -> Decision | None:
        earlier = await connection.fetchrow(
            "SELECT id, status, reasons, result, received_at, request_digest FROM submission"
            " WHERE client_id = $1 AND idempotency_key = $2",
            submission.client_id, submission.idempotency_key)
        return None if earlier is None else self._decision(earlier, repeated=True)

    async def _replayed(self, connection: asyncpg.Connection, submission: Submission) -> bool:
        if submission.jti is None:
            return False
        # Equality on both, so the (agency, jti) index answers (IS NOT DISTINCT FROM cannot
        # use it: the lookup would scan every submission kept).
        if submission.agency_code is None:
            return bool(await connection.fetchval(
                "SELECT 1 FROM submission WHERE agency_code IS NULL AND jti = $1"
                " AND status = 'accepted'", submission.jti))
        return bool(await connection.fetchval(
            "SELECT 1 FROM submission WHERE agency_code = $1 AND jti = $2"
            " AND status = 'accepted'", submission.agency_code, submission.jti))

    async def _quota_full(self, connection: asyncpg.Connection, agency_code: str
                          ) -> dict[str, str] | None:
        """Why the agency cannot take one more active employee, or None if it can. Holds the
        agency's lock until the transaction ends: writes bringing people into it queue here
        (an advisory lock: the hub may read agencies, not update them)."""
        await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                 f"agency-quota:{agency_code}")
        quota = await connection.fetchval(
            "SELECT headcount_quota FROM agency WHERE code = $1", agency_code)
        if quota is None:
            return _reason("UNKNOWN_CODE", "change.agencyCode",
                           f"no agency {agency_code} in the national database")
        active = await connection.fetchval(
            "SELECT count(*) FROM employee WHERE agency_code = $1 AND status = 'active'",
            agency_code)
        if active >= quota:
            return _reason("QUOTA_EXCEEDED", "change.agencyCode",
                           f"agency {agency_code} has {active} active employees for a "
                           f"headcount quota of {quota}")
        return None

    async def _register(self, connection: asyncpg.Connection, submission: Submission,
                        employee: RecordChange, also: Sequence[RecordChange]) -> Decision:
        earlier = await self._answered(connection, submission)
        if earlier is not None:
            return earlier
        full = await self._quota_full(connection, employee.values["agency_code"])
        if full is not None:
            return await self._store(connection, submission, "rejected", [full], None)
        if await self._replayed(connection, submission):
            return await self._store(connection, submission, "rejected", [_reason(
                "REPLAYED", "jti", "this signed change was already applied (same agency and "
                                   "jti)")], None)
        values = dict(employee.values)
        columns = [*values, "status", "version", "updated_by"]
        row = {**values, "status": values.get("status", "active"), "version": 1,
               "updated_by": submission.client_id}
        columns = list(dict.fromkeys(columns))
        await connection.execute(
            f"INSERT INTO employee ({', '.join(self._db.quoted('employee', c) for c in columns)})"
            f" VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})",
            *[row[c] for c in columns])
        written: list[tuple[str, str, Row | None, Row]] = [
            (employee.table, str(values["employee_code"]), None, values)]
        current = {"employee_code": values["employee_code"], "version": 1}
        for change in also:
            previous, values_written, key = await self._write(connection, submission, change,
                                                              current)
            written.append((change.table, key, previous, values_written))
        decision = await self._store(connection, submission, "accepted", [],
                                     {"version": 1, "record": str(values["employee_code"])},
                                     retry_wins=False)
        await self._history(connection, submission, 1, written)
        return decision

    async def _history(self, connection: asyncpg.Connection, submission: Submission,
                       version: int, written: Sequence[tuple[str, str, Row | None, Row]]
                       ) -> None:
        await insert_rows(connection, "record_version", HISTORY_COLUMNS,
                          self._history_rows(submission, version, written))

    @staticmethod
    def _history_rows(submission: Submission, version: int,
                      written: Sequence[tuple[str, str, Row | None, Row]]
                      ) -> list[dict[str, Any]]:
        """The ``record_version`` rows of what an accepted submission wrote."""
        signed_by = _json(list(submission.signatures))
        source = (submission.payload or {}).get("sourceSystem")
        return [{"entity": table, "record_key": key, "employee_code": submission.employee_code,
                 "version": version,
                 "previous": None if previous is None else _json(previous),
                 "current": _json(values), "submission_id": submission.id,
                 "client_id": submission.client_id, "agency_code": submission.agency_code,
                 "signed_by": signed_by, "source_system": source}
                for table, key, previous, values in written]

    @staticmethod
    def _submission_row(submission: Submission, status: str, reasons: list[dict[str, str]],
                        result: dict[str, Any] | None) -> dict[str, Any]:
        """The ``submission`` (inbox) row of a decided submission."""
        return {"id": submission.id, "client_id": submission.client_id,
                "agency_code": submission.agency_code,
                "idempotency_key": submission.idempotency_key, "jti": submission.jti,
                "kind": submission.kind, "employee_code": submission.employee_code,
                "personal_id": submission.personal_id, "base_version": submission.base_version,
                "payload": None if submission.payload is None else _json(submission.payload),
                "signatures": _json(list(submission.signatures)), "status": status,
                "reasons": _json(reasons), "result": None if result is None else _json(result),
                "resubmission_of": submission.resubmission_of, "batch_id": submission.batch_id,
                "request_digest": submission.request_digest}

    async def _apply(self, connection: asyncpg.Connection, submission: Submission,
                     changes: Sequence[RecordChange], quota_agency: str | None) -> Decision:
        earlier = await self._answered(connection, submission)
        if earlier is not None:
            return earlier
        current = await connection.fetchrow(
            "SELECT * FROM employee WHERE employee_code = $1 FOR UPDATE",
            submission.employee_code)
        replayed: set[tuple[str | None, str]] = set()
        if submission.jti is not None and await self._replayed(connection, submission):
            replayed.add((submission.agency_code, submission.jti))
        # No tolerance for a retry racing us here: the insert fails, the whole transaction
        # (the write included) rolls back, and ``apply`` answers with the first decision.
        return await self._apply_locked(connection, submission, changes,
                                        None if current is None else dict(current), replayed,
                                        quota_agency)

    async def _write(self, connection: asyncpg.Connection, submission: Submission,
                     change: RecordChange, current: Row
                     ) -> tuple[Row | None, Row, str]:
        """Write the change; return the previous values (None for a new record), the values
        written, and the record's key."""
        table = change.table
        columns = list(change.values)
        quoted = [self._db.quoted(table, c) for c in columns]
        values = [submission.id if v is THIS_SUBMISSION else v for v in change.values.values()]
        change = replace(change, values=dict(zip(columns, values, strict=True)))
        by = submission.client_id
        if table == _FILE:
            sets = ", ".join(f"{q} = ${i + 2}" for i, q in enumerate(quoted))
            await connection.execute(
                f"UPDATE employee SET {sets} WHERE employee_code = $1",
                submission.employee_code, *values)
            return ({c: current[c] for c in columns}, dict(change.values),
                    str(submission.employee_code))
        if table in _UPSERT_KEYS:
            keys = _UPSERT_KEYS[table]
            names = [*keys[1:], *[c for c in columns if c not in keys]]
            old = await connection.fetchrow(
                f"SELECT * FROM {self._db.quoted(table)} WHERE employee_code = $1"
                f" AND {self._db.quoted(table, keys[1])} = $2",
                submission.employee_code, change.values[keys[1]])
            assignments = ", ".join(f"{self._db.quoted(table, c)} = EXCLUDED."
                                    f"{self._db.quoted(table, c)}" for c in names[1:])
            all_columns = ["employee_code", *names, "updated_by"]
            placeholders = ", ".join(f"${i + 1}" for i in range(len(all_columns)))
            await connection.execute(
                f"INSERT INTO {self._db.quoted(table)} ("
                f"{', '.join(self._db.quoted(table, c) for c in all_columns)})"
                f" VALUES ({placeholders}) ON CONFLICT (employee_code, "
                f"{self._db.quoted(table, keys[1])}) DO UPDATE SET {assignments},"
                f" version = {self._db.quoted(table)}.version + 1, updated_at = now(),"
                " updated_by = EXCLUDED.updated_by",
                submission.employee_code, *[change.values[c] for c in names], by)
            previous = None if old is None else {c: old[c] for c in names}
            return previous, dict(change.values), f"{submission.employee_code}/" \
                                                  f"{change.values[keys[1]]}"
        if table in _ADDABLE and change.record_id is None:
            all_columns = ["employee_code", *columns, "updated_by"]
            placeholders = ", ".join(f"${i + 1}" for i in range(len(all_columns)))
            record_id = await connection.fetchval(
                f"INSERT INTO {self._db.quoted(table)} ("
                f"{', '.join(self._db.quoted(table, c) for c in all_columns)})"
                f" VALUES ({placeholders}) RETURNING id",
                submission.employee_code, *values, by)
            return None, dict(change.values), str(record_id)
        if table in _ADDABLE:
            old = await connection.fetchrow(
                f"SELECT * FROM {self._db.quoted(table)} WHERE id = $1"
                " AND employee_code = $2 FOR UPDATE", change.record_id,
                submission.employee_code)
            if old is None:
                raise RecordMismatch(f"{table} {change.record_id} is not this employee's")
            for column, expected in change.expect.items():
                if old[column] != expected:
                    raise RecordMismatch(f"{table} {change.record_id} no longer has {column} "
                                      f"{expected!r}")
            sets = ", ".join(f"{q} = ${i + 2}" for i, q in enumerate(quoted))
            await connection.execute(
                f"UPDATE {self._db.quoted(table)} SET {sets}, version = version + 1,"
                f" updated_at = now(), updated_by = ${len(values) + 2} WHERE id = $1",
                change.record_id, *values, by)
            return {c: old[c] for c in columns}, dict(change.values), str(change.record_id)
        raise ValueError(f"a change cannot write {table!r}")

    async def _store(self, connection: asyncpg.Connection, submission: Submission,
                     status: str, reasons: list[dict[str, str]],
                     result: dict[str, Any] | None, *, retry_wins: bool = True) -> Decision:
        on_conflict = " ON CONFLICT (client_id, idempotency_key) DO NOTHING" if retry_wins else ""
        row = self._submission_row(submission, status, reasons, result)
        casts = [f"${i + 1}{'::jsonb' if kind == 'jsonb' else ''}"
                 for i, kind in enumerate(SUBMISSION_COLUMNS.values())]
        stored = await connection.fetchrow(
            f"INSERT INTO submission ({', '.join(SUBMISSION_COLUMNS)}) VALUES"
            f" ({', '.join(casts)}){on_conflict} RETURNING id, status, reasons, result,"
            " received_at, request_digest", *[row[c] for c in SUBMISSION_COLUMNS])
        if stored is None:  # a retry of the same request got here first
            earlier = await self._answered(connection, submission)
            assert earlier is not None
            return earlier
        return self._decision(stored)

