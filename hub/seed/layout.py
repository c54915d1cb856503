"""Whether the simulated systems' tables have the layout this seeder writes.

The sandbox schemas are plain ``CREATE TABLE IF NOT EXISTS``: a database seeded by an older
seeder keeps its old tables when the schema grows (a column, a table). The seeder then drops
such a system's tables before recreating them, and ``ensure_seeded`` seeds such a data set
again instead of keeping it.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from hub.seed.tables import CHUNK_TABLES, Database, Table
from sandbox import SCHEMAS, Schema

__all__ = ["SANDBOX_DATABASES", "outdated", "seeded_tables"]

# The databases whose tables come from sandbox/*/schema.sql (the national one has migrations).
SANDBOX_DATABASES: tuple[Schema, ...] = SCHEMAS


def seeded_tables(database: Database) -> tuple[Table, ...]:
    return tuple(t for t in CHUNK_TABLES if t.database == database)


async def outdated(url: str, tables: Iterable[Table]) -> bool:
    """Does any of ``tables`` lack, in the database at ``url``, a column the seeder writes
    (or is it missing altogether)?"""
    wanted = {(t.name, c) for t in tables for c in t.columns}
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ANY($1::text[])",
            sorted({name for name, _ in wanted}))
    finally:
        await conn.close()
    return not wanted <= {(r["table_name"], r["column_name"]) for r in rows}
