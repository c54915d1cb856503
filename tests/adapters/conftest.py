"""The agency systems the hub reads as stored data, against real PostgreSQL and real files.

``stored`` is a small seeded installation of its own (2,000 employees): the Ministry of
Health's database and Đà Nẵng's first export, with their drift. Tests that change data get
scratch copies (``scratch_database``, a temporary drop directory) so the seed stays as seeded.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from adapters.agency_database import DatabaseAgencySystemConfig
from adapters.file_drop import FileDropConfig
from hub.config import PROJECT_ROOT
from hub.databases import DatabaseSet, create_databases, drop_databases
from hub.environment import STATE_DIR
from hub.postgres_server import database_url, ensure_server
from hub.seed import seed_all
from hub.source_config import load_source_config
from tests.settings import TEST_DB_PREFIX

STORED_EMPLOYEES = 2_000
STORED_SEED = 5


@pytest.fixture(scope="session")
def stored_server() -> str:
    return ensure_server(STATE_DIR)


@pytest.fixture(scope="session")
def stored(stored_server: str) -> Iterator[DatabaseSet]:
    databases = DatabaseSet.on_server(stored_server, f"{TEST_DB_PREFIX}_stored")

    async def prepare() -> None:
        await create_databases(databases, recreate=True)
        await seed_all(databases, employees=STORED_EMPLOYEES, seed=STORED_SEED, workers=0)

    asyncio.run(prepare())
    yield databases
    asyncio.run(drop_databases(databases))


@pytest.fixture(scope="session")
def shipped(stored: DatabaseSet) -> dict[str, DatabaseAgencySystemConfig | FileDropConfig]:
    """The stored systems as config/sources.yaml describes them, pointed at ``stored``."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in stored.source_env().items():
            patch.setenv(name, value)
        config = load_source_config(PROJECT_ROOT / "config/sources.yaml")
    return {s.name: s for s in config.agency_systems
            if isinstance(s, DatabaseAgencySystemConfig | FileDropConfig)}


@pytest.fixture(scope="session")
def moh_config(shipped: dict[str, DatabaseAgencySystemConfig | FileDropConfig]
               ) -> DatabaseAgencySystemConfig:
    config = shipped["moh-hris"]
    assert isinstance(config, DatabaseAgencySystemConfig)
    return config


@pytest.fixture(scope="session")
def danang_config(shipped: dict[str, DatabaseAgencySystemConfig | FileDropConfig]
                  ) -> FileDropConfig:
    config = shipped["danang-hrm"]
    assert isinstance(config, FileDropConfig)
    return dataclasses.replace(config, rescan_seconds=0.0)


async def copy_database(server: str, template: str, name: str) -> str:
    """A fresh copy of the database at ``template`` named ``name``; its URL."""
    admin = await asyncpg.connect(database_url(server, "postgres"))
    try:
        source = template.rsplit("/", 1)[1]
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    finally:
        await admin.close()
    return database_url(server, name)


async def drop_database(server: str, name: str) -> None:
    admin = await asyncpg.connect(database_url(server, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def scratch_moh(stored_server: str, stored: DatabaseSet) -> AsyncIterator[str]:
    """A copy of the seeded Ministry of Health database the test may change."""
    name = f"{TEST_DB_PREFIX}_scratch_moh"
    yield await copy_database(stored_server, stored.agency_database, name)
    await drop_database(stored_server, name)


@pytest.fixture
async def scratch_legacy(stored_server: str, stored: DatabaseSet) -> AsyncIterator[str]:
    """A copy of Đà Nẵng's seeded legacy database, to change and export again."""
    name = f"{TEST_DB_PREFIX}_scratch_legacy"
    yield await copy_database(stored_server, stored.agency_file_drop, name)
    await drop_database(stored_server, name)


@pytest.fixture
def drops(tmp_path: Path) -> Path:
    directory = tmp_path / "drops"
    directory.mkdir()
    return directory
