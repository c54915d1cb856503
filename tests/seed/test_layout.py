"""A data set written by an older seeder, whose sandbox tables lack a column or table of
today's layout: seeding again rebuilds them, and ``ensure_seeded`` (the demo's) seeds it
again rather than keeping it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from hub.databases import DatabaseSet, create_databases, drop_databases
from hub.seed import ensure_seeded, seed_all
from hub.seed.layout import outdated, seeded_tables
from tests.seed.conftest import SEED_DB

EMPLOYEES, SEED = 150, 4


@pytest.fixture
async def older(seed_server: str) -> AsyncIterator[DatabaseSet]:
    """Seeded, then taken back to the agency systems' layout before hire dates and
    decisions."""
    databases = DatabaseSet.on_server(seed_server, f"{SEED_DB}_layout")
    await create_databases(databases, recreate=True)
    await seed_all(databases, employees=EMPLOYEES, seed=SEED, workers=0)
    rest = await asyncpg.connect(databases.agency_rest)
    hanoi = await asyncpg.connect(databases.agency_graphql)
    try:
        await rest.execute("DROP TABLE ky_luat; ALTER TABLE nhan_su DROP COLUMN ngay_tuyen_dung")
        await hanoi.execute("ALTER TABLE staff DROP COLUMN hired_on")
    finally:
        await rest.close()
        await hanoi.close()
    yield databases
    await drop_databases(databases)


async def test_an_older_layout_is_rebuilt_and_seeded_again(older: DatabaseSet) -> None:
    systems = ((older.agency_rest, seeded_tables("agency_rest")),
               (older.agency_graphql, seeded_tables("agency_graphql")))
    for url, tables in systems:
        assert await outdated(url, tables)
    assert not await outdated(older.population, seeded_tables("population"))
    # The same (employees, seed) as the data held: seeded again all the same.
    summary = await ensure_seeded(older, employees=EMPLOYEES, seed=SEED)
    assert summary is not None
    for url, tables in systems:
        assert not await outdated(url, tables)
    rest = await asyncpg.connect(older.agency_rest)
    try:
        assert await rest.fetchval("SELECT count(*) FROM nhan_su WHERE ngay_tuyen_dung IS NULL"
                                   ) == 0
        assert await rest.fetchval("SELECT count(*) FROM ky_luat") == summary.rows[
            "agency_rest.ky_luat"]
    finally:
        await rest.close()
    # Now current: kept.
    assert await ensure_seeded(older, employees=EMPLOYEES, seed=SEED) is None
