"""Streaming rows into PostgreSQL with binary COPY, one connection per table.

Every table has its own writer (connection + queue), so the server ingests all tables at once
while the generator produces the next batch. Each writer copies the batches of its table in
order, one ``COPY ... FROM STDIN (FORMAT binary)`` per batch, so identity columns are numbered
deterministically.

Bulk mode (the normal one) needs a superuser, as local and test servers have:

- ``session_replication_role = replica`` switches off foreign-key checks for the seeder's
  sessions. They are the most expensive part of loading record tables (an index probe per
  row, three to six times the cost of the insert); the seeder writes consistent data by
  construction and the tests verify every reference.
- Each table loads in one transaction. Tables marked ``deferred_indexes`` drop their indexes
  inside it (except those a foreign key relies on) and rebuild them by sorting before
  committing: inserting keys into large B-trees row by row, random ones above all, costs
  several times more. DDL is transactional, so an interrupted seed leaves the schema exactly as
  it was. Autovacuum also leaves the tables alone until the commit instead of repeatedly
  scanning a growing table.
- A table nothing refers to is truncated again inside that transaction, which lets
  ``COPY ... FREEZE`` write its rows frozen and all-visible (no hint-bit writes on first
  read, no anti-wraparound vacuum later).

Without the privilege the checks stay on: every batch commits on its own, and a table whose
rows refer to another's (record tables to ``employee``, an agency system's decisions to its
staff) waits for the batch's referenced rows to be committed before copying its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Final

import asyncpg

from hub.seed import binary
from hub.seed.tables import EMPLOYEE, Table

__all__ = ["Progress", "TableWriter", "copy_rows", "open_writer_connection", "writers_for"]

_QUEUE_DEPTH: Final = 2  # batches buffered per table: bounds memory, keeps the server busy
_INDEX_BUILD_MEMORY: Final = "512MB"


async def open_writer_connection(url: str) -> tuple[asyncpg.Connection, bool]:
    """(a connection tuned for bulk loading, whether its foreign-key checks are off)."""
    conn = await asyncpg.connect(url)
    # A crash mid-seed is repaired by seeding again; no need to wait for each WAL flush.
    await conn.execute("SET synchronous_commit = off")
    try:
        await conn.execute("SET session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        return conn, False
    return conn, True


async def copy_rows(conn: asyncpg.Connection, table: Table, payload: bytes, *,
                    freeze: bool = False) -> None:
    """COPY already-encoded rows (see :mod:`hub.seed.binary`) into ``table``."""
    async def stream() -> AsyncIterator[bytes]:
        yield binary.HEADER
        yield payload
        yield binary.TRAILER

    await conn.copy_to_table(table.name, source=stream(), columns=list(table.columns),
                             format="binary", freeze=freeze or None)


@dataclass(frozen=True, slots=True)
class _Index:
    name: str
    constraint: str | None  # the constraint it implements (primary key, unique), if any
    definition: str  # CREATE INDEX ..., or the constraint's definition

    def drop(self, table: str) -> str:
        if self.constraint is not None:
            return f'ALTER TABLE {table} DROP CONSTRAINT "{self.constraint}"'
        return f"DROP INDEX {self.name}"

    def create(self, table: str) -> str:
        if self.constraint is not None:
            return f'ALTER TABLE {table} ADD CONSTRAINT "{self.constraint}" {self.definition}'
        return self.definition


async def _droppable_indexes(conn: asyncpg.Connection, table: str) -> list[_Index]:
    """The table's indexes, except those a foreign key relies on (they must stay)."""
    rows = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, c.conname,"
        " coalesce(pg_get_constraintdef(c.oid), pg_get_indexdef(i.indexrelid)) AS definition"
        " FROM pg_index i"
        " LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid"
        "  AND c.contype IN ('p', 'u', 'x')"
        " WHERE i.indrelid = $1::regclass AND NOT EXISTS ("
        "  SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)"
        " ORDER BY c.conname IS NULL, i.indexrelid::regclass::text", table)
    return [_Index(r["name"], r["conname"], r["definition"]) for r in rows]


class Progress:
    """How many batches of a table are committed; waited on when foreign keys are checked."""

    def __init__(self) -> None:
        self._done = 0
        self._changed = asyncio.Condition()

    async def advance(self) -> None:
        async with self._changed:
            self._done += 1
            self._changed.notify_all()

    async def reach(self, batches: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._done >= batches)


def _parent(table: Table) -> Table | None:
    """The table ``table``'s rows refer to (every national record table refers to
    ``employee``)."""
    if table.database == "national" and table is not EMPLOYEE:
        return EMPLOYEE
    return table.parent


class TableWriter:
    def __init__(self, table: Table, url: str, parent_progress: Progress | None,
                 own_progress: Progress | None) -> None:
        self.table = table
        self.url = url
        self.rows = 0
        self._queue: asyncio.Queue[tuple[bytes, int] | None] = asyncio.Queue(_QUEUE_DEPTH)
        # Checked loading only: the batches of the referenced table committed so far, and
        # this table's own, announced to the tables referring to it.
        self._parent_progress = parent_progress
        self._own_progress = own_progress

    async def put(self, payload: bytes, rows: int) -> None:
        await self._queue.put((payload, rows))

    async def close(self) -> None:
        await self._queue.put(None)

    async def run(self) -> None:
        conn, bulk = await open_writer_connection(self.url)
        try:
            if bulk:
                async with conn.transaction():
                    await self._bulk_load(conn)
            else:
                await self._checked_load(conn)
        finally:
            await conn.close()

    async def _bulk_load(self, conn: asyncpg.Connection) -> None:
        name = self.table.name
        # Only a table nothing refers to may be truncated alone (see the module docstring).
        freeze = not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f'"
            " AND confrelid = $1::regclass)", name)
        if freeze:
            await conn.execute(f"TRUNCATE {name}")
        deferred = await _droppable_indexes(conn, name) if self.table.deferred_indexes else []
        for index in deferred:
            await conn.execute(index.drop(name))
        while (item := await self._queue.get()) is not None:
            payload, rows = item
            if rows:
                await copy_rows(conn, self.table, payload, freeze=freeze)
            self.rows += rows
        if deferred:
            await conn.execute(f"SET LOCAL maintenance_work_mem = '{_INDEX_BUILD_MEMORY}'")
            for index in deferred:
                await conn.execute(index.create(name))

    async def _checked_load(self, conn: asyncpg.Connection) -> None:
        batches = 0
        while (item := await self._queue.get()) is not None:
            payload, rows = item
            batches += 1
            if self._parent_progress is not None:
                await self._parent_progress.reach(batches)
            if rows:
                await copy_rows(conn, self.table, payload)
            self.rows += rows
            if self._own_progress is not None:
                await self._own_progress.advance()


def writers_for(tables: Sequence[Table], urls: dict[str, str]) -> list[TableWriter]:
    referenced = {id(parent): parent for t in tables if (parent := _parent(t)) is not None}
    progress = {key: Progress() for key in referenced}
    return [TableWriter(t, urls[t.database],
                        None if (parent := _parent(t)) is None else progress[id(parent)],
                        progress.get(id(t))) for t in tables]
