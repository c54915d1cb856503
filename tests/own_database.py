"""A migrated national database of a test package's own, beside the shared test databases
(which other test modules and sessions drop and recreate)."""

from __future__ import annotations

import asyncio

import asyncpg

from hub.migrate import apply_migrations
from hub.postgres_server import database_url
from tests.settings import TEST_DB_PREFIX

__all__ = ["own_migrated_database"]


def own_migrated_database(server_url: str, suffix: str) -> str:
    """Create (afresh) and migrate ``<prefix>_<suffix>``; return its URL."""
    name = f"{TEST_DB_PREFIX}_{suffix}"
    dsn = database_url(server_url, name)

    async def prepare() -> None:
        admin = await asyncpg.connect(database_url(server_url, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        finally:
            await admin.close()
        await apply_migrations(dsn)

    asyncio.run(prepare())
    return dsn
