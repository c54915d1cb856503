"""Throwaway databases seeded once for the whole seeder test session.

``seeded`` holds 2,000 employees generated in this process; the determinism test seeds the
same (employees, seed) again through a worker process with another batching and compares every
table's contents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from hub.databases import DatabaseSet, create_databases, drop_databases
from hub.environment import STATE_DIR
from hub.postgres_server import ensure_server
from hub.seed import SeedSummary, seed_all
from tests.settings import TEST_DB_PREFIX

SEED_EMPLOYEES = 2_000
SEED = 11
# Named after the run's prefix, like every other test database: two runs at once must not
# seed (and drop) each other's.
SEED_DB = f"{TEST_DB_PREFIX}_seed"


@dataclass(frozen=True)
class Seeded:
    databases: DatabaseSet
    summary: SeedSummary


@pytest.fixture(scope="session")
def seed_server() -> str:
    return ensure_server(STATE_DIR)  # the repository's .hub/, wherever pytest runs from


@pytest.fixture(scope="session")
async def seeded(seed_server: str) -> AsyncIterator[Seeded]:
    databases = DatabaseSet.on_server(seed_server, SEED_DB)
    await create_databases(databases, recreate=True)
    summary = await seed_all(databases, employees=SEED_EMPLOYEES, seed=SEED, workers=0)
    yield Seeded(databases, summary)
    await drop_databases(databases)


@pytest.fixture(scope="session")
async def national(seeded: Seeded) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(seeded.databases.national)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def population(seeded: Seeded) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(seeded.databases.population)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def agency_rest(seeded: Seeded) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(seeded.databases.agency_rest)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def agency_graphql(seeded: Seeded) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(seeded.databases.agency_graphql)
    yield conn
    await conn.close()
