"""A round of decided submissions written set-wise: a few statements for the whole round.

Written one at a time, each accepted change costs three or four round trips to the database
(the record, the file's version, the inbox row, the history rows), and a bulk submission of
thousands is bound by them. Here the same writes are grouped: the file updates sharing a set
of columns are one ``UPDATE ... FROM unnest(...)``, the records added to one table one
``INSERT ... SELECT FROM unnest(...)``, and so on; every inbox row of the round is one
insert, every history row another. Values travel as typed arrays (the column's own type,
read from the catalogue), never spliced into the text.

The caller (``SubmissionStore.apply_many``) has locked the files and decided which items are
accepted; this module only writes them, and it expects what the rounds hold: one item per
file, at most one change per table per item. ``writable`` says whether a round fits; one
that does not is written an item at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from adapters.postgres import NationalDatabase

__all__ = ["FILE", "HISTORY_COLUMNS", "SUBMISSION_COLUMNS", "UPSERT_KEYS", "Accepted",
           "Mismatch", "RoundWriter", "Written", "insert_rows", "writable"]

Row = dict[str, Any]
FILE = "employee"
# Record tables one row per (employee, year) of: a change replaces the year's record.
UPSERT_KEYS = {"evaluation": ("employee_code", "year"),
               "asset_declaration": ("employee_code", "year")}
# The columns the version bump sets (a change setting one itself is written apart).
BUMPED = frozenset({"version", "updated_at", "updated_by"})
# A record written: its table, key, previous values (None: new) and values written.
Written = tuple[str, str, Row | None, Row]


class Mismatch(Exception):
    """A record a change updates is not the employee's, or no longer as the change
    expects."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted item: who wrote it, the file it writes (as locked), the changes (by
    table, values and, for an update, the record id and what it must still hold)."""

    employee_code: str
    client_id: str
    current: Mapping[str, Any]
    changes: Sequence[Any]   # RecordChange, values with the submission's id substituted


def writable(changes: Sequence[Any], addable: frozenset[str]) -> bool:
    """Whether an item's changes fit a set-wise round: at most one per table, the file's not
    setting the version columns, every other one an insert, upsert or update of a record
    table."""
    tables = [change.table for change in changes]
    if len(set(tables)) != len(tables):
        return False
    for change in changes:
        if change.table == FILE:
            if change.record_id is not None or BUMPED & set(change.values):
                return False
        elif change.table not in addable and change.table not in UPSERT_KEYS:
            return False
    return True


class RoundWriter:
    """The set-wise statements over one connection in a transaction."""

    def __init__(self, national: NationalDatabase) -> None:
        self._db = national

    def _unnest(self, table: str, columns: Sequence[str]) -> str:
        """``unnest($1::type[], ...) AS v(col, ...)`` over ``table``'s columns."""
        arrays = ", ".join(f"${i + 1}::{self._db.array_type(table, c)}[]"
                           for i, c in enumerate(columns))
        names = ", ".join(self._db.quoted(table, c) for c in columns)
        return f"unnest({arrays}) AS v({names})"

    async def write(self, connection: asyncpg.Connection, accepted: Sequence[Accepted]
                    ) -> tuple[list[int], list[list[Written]]]:
        """Write every item's changes and raise each file's version: the new versions and,
        per item, what was written (in its changes' order)."""
        written: list[dict[int, Written]] = [{} for _ in accepted]
        file_groups: dict[tuple[str, ...], list[int]] = {}
        record_groups: dict[tuple[str, tuple[str, ...], bool], list[tuple[int, int]]] = {}
        for index, item in enumerate(accepted):
            file_columns: tuple[str, ...] = ()
            for position, change in enumerate(item.changes):
                if change.table == FILE:
                    file_columns = tuple(change.values)
                    written[index][position] = (
                        FILE, item.employee_code,
                        {c: item.current[c] for c in file_columns}, dict(change.values))
                else:
                    group = (change.table, tuple(change.values), change.record_id is not None)
                    record_groups.setdefault(group, []).append((index, position))
            file_groups.setdefault(file_columns, []).append(index)
        for (table, columns, by_id), members in record_groups.items():
            write = self._update_records if by_id else (
                self._upsert_records if table in UPSERT_KEYS else self._insert_records)
            for (index, position), done in zip(members, await write(
                    connection, table, list(columns),
                    [(accepted[i], accepted[i].changes[p]) for i, p in members]), strict=True):
                written[index][position] = done
        versions = [0] * len(accepted)
        for columns, indexes in file_groups.items():
            for index, version in zip(indexes, await self._update_files(
                    connection, list(columns), [accepted[i] for i in indexes]), strict=True):
                versions[index] = version
        return versions, [[done[p] for p in sorted(done)] for done in written]

    async def _update_files(self, connection: asyncpg.Connection, columns: list[str],
                            items: Sequence[Accepted]) -> list[int]:
        """Set ``columns`` on each file (none: only its version) and raise its version."""
        names = ["employee_code", "updated_by", *columns]
        sets = "".join(f"{self._db.quoted(FILE, c)} = v.{self._db.quoted(FILE, c)}, "
                       for c in columns)
        rows = await connection.fetch(
            f"UPDATE employee AS t SET {sets}version = t.version + 1, updated_at = now(),"
            f" updated_by = v.updated_by FROM {self._unnest(FILE, names)}"
            " WHERE t.employee_code = v.employee_code RETURNING t.employee_code, t.version",
            *_arrays(names, [{"employee_code": item.employee_code,
                              "updated_by": item.client_id,
                              **next((c.values for c in item.changes if c.table == FILE), {})}
                             for item in items]))
        versions = {row["employee_code"]: row["version"] for row in rows}
        return [versions[item.employee_code] for item in items]

    async def _insert_records(self, connection: asyncpg.Connection, table: str,
                              columns: list[str], members: Sequence[tuple[Accepted, Any]]
                              ) -> list[Written]:
        names = ["employee_code", "updated_by", *columns]
        quoted = ", ".join(self._db.quoted(table, c) for c in names)
        rows = await connection.fetch(
            f"INSERT INTO {self._db.quoted(table)} ({quoted}) SELECT {quoted} FROM"
            f" {self._unnest(table, names)} RETURNING id, employee_code",
            *_arrays(names, [_with_owner(item, change) for item, change in members]))
        # One row per employee in a round: the id comes back with its employee's code.
        ids = {row["employee_code"]: row["id"] for row in rows}
        return [(table, str(ids[item.employee_code]), None, dict(change.values))
                for item, change in members]

    async def _upsert_records(self, connection: asyncpg.Connection, table: str,
                              columns: list[str], members: Sequence[tuple[Accepted, Any]]
                              ) -> list[Written]:
        key = UPSERT_KEYS[table][1]
        quoted_key = self._db.quoted(table, key)
        old = {(row["employee_code"], row[key]): row for row in await connection.fetch(
            f"SELECT * FROM {self._db.quoted(table)} WHERE (employee_code, {quoted_key}) IN"
            f" (SELECT * FROM {self._unnest(table, ['employee_code', key])})",
            *_arrays(["employee_code", key], [_with_owner(item, change)
                                              for item, change in members]))}
        names = ["employee_code", "updated_by", *columns]
        quoted = ", ".join(self._db.quoted(table, c) for c in names)
        updates = ", ".join(f"{self._db.quoted(table, c)} = EXCLUDED.{self._db.quoted(table, c)}"
                            for c in columns if c != key)
        await connection.execute(
            f"INSERT INTO {self._db.quoted(table)} ({quoted}) SELECT {quoted} FROM"
            f" {self._unnest(table, names)} ON CONFLICT (employee_code, {quoted_key}) DO UPDATE"
            f" SET {updates}{', ' if updates else ''}version = {self._db.quoted(table)}.version"
            " + 1, updated_at = now(), updated_by = EXCLUDED.updated_by",
            *_arrays(names, [_with_owner(item, change) for item, change in members]))
        done: list[Written] = []
        for item, change in members:
            previous = old.get((item.employee_code, change.values[key]))
            done.append((table, f"{item.employee_code}/{change.values[key]}",
                         None if previous is None else {c: previous[c] for c in columns
                                                        if c != "employee_code"},
                         dict(change.values)))
        return done

    async def _update_records(self, connection: asyncpg.Connection, table: str,
                              columns: list[str], members: Sequence[tuple[Accepted, Any]]
                              ) -> list[Written]:
        ids = [change.record_id for _, change in members]
        old = {row["id"]: row for row in await connection.fetch(
            f"SELECT * FROM {self._db.quoted(table)} WHERE id = ANY($1) FOR UPDATE", ids)}
        for item, change in members:
            row = old.get(change.record_id)
            if row is None or row["employee_code"] != item.employee_code:
                raise Mismatch(f"{table} {change.record_id} is not this employee's")
            for column, expected in change.expect.items():
                if row[column] != expected:
                    raise Mismatch(f"{table} {change.record_id} no longer has {column} "
                                   f"{expected!r}")
        names = ["id", "updated_by", *columns]
        sets = "".join(f"{self._db.quoted(table, c)} = v.{self._db.quoted(table, c)}, "
                       for c in columns)
        await connection.execute(
            f"UPDATE {self._db.quoted(table)} AS t SET {sets}version = t.version + 1,"
            f" updated_at = now(), updated_by = v.updated_by FROM {self._unnest(table, names)}"
            " WHERE t.id = v.id",
            *_arrays(names, [{"id": change.record_id, "updated_by": item.client_id,
                              **change.values} for item, change in members]))
        return [(table, str(change.record_id), {c: old[change.record_id][c] for c in columns},
                 dict(change.values)) for _, change in members]


def _with_owner(item: Accepted, change: Any) -> Row:
    return {"employee_code": item.employee_code, "updated_by": item.client_id,
            **change.values}


def _arrays(names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """Column-wise arrays of ``rows`` (one array per name, in order)."""
    return [[row.get(name) for row in rows] for name in names]


# The inbox and the history: the store's own tables, their array types known here.
SUBMISSION_COLUMNS = {
    "id": "uuid", "client_id": "text", "agency_code": "text", "idempotency_key": "text",
    "jti": "text", "kind": "text", "employee_code": "text", "personal_id": "text",
    "base_version": "integer", "payload": "jsonb", "signatures": "jsonb", "status": "text",
    "reasons": "jsonb", "result": "jsonb", "resubmission_of": "uuid", "batch_id": "uuid",
    "request_digest": "text"}
HISTORY_COLUMNS = {
    "entity": "text", "record_key": "text", "employee_code": "text", "version": "integer",
    "previous": "jsonb", "current": "jsonb", "submission_id": "uuid", "client_id": "text",
    "agency_code": "text", "signed_by": "jsonb", "source_system": "text"}


async def insert_rows(connection: asyncpg.Connection, table: str, types: Mapping[str, str],
                      rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (values by column; jsonb as JSON text) into the inbox or the
    history in one statement."""
    if not rows:
        return
    names = list(types)
    arrays = ", ".join(f"${i + 1}::{'text' if types[c] == 'jsonb' else types[c]}[]"
                       for i, c in enumerate(names))
    values = ", ".join(f"{c}::jsonb" if types[c] == "jsonb" else c for c in names)
    await connection.execute(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {values} FROM unnest({arrays})"
        f" AS v({', '.join(names)})", *_arrays(names, rows))

