"""The set of databases one hub installation uses on a PostgreSQL server.

The national database belongs to the hub. The others belong to the simulated external
systems under ``sandbox/``; they live on the same server only because the demo and the tests
need somewhere to put them. One of those systems keeps files as well: the directory Đà Nẵng's
legacy system drops its exports into, named after the installation too (under ``.hub/drops/``),
so that two installations (a demo, a test run) never read each other's.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from hub.config import PROJECT_ROOT
from hub.postgres_server import database_url

__all__ = ["DatabaseSet", "create_databases", "drop_databases"]


@dataclass(frozen=True, slots=True)
class DatabaseSet:
    national: str
    population: str
    agency_rest: str
    agency_graphql: str
    agency_database: str  # the Ministry of Health's HR database, which the hub reads
    agency_file_drop: str  # Đà Nẵng's legacy system's own storage (the hub reads its files)
    file_drops: str  # the directory that legacy system drops its exports into

    @classmethod
    def on_server(cls, server_url: str, name: str) -> DatabaseSet:
        return cls(
            national=database_url(server_url, name),
            population=database_url(server_url, f"{name}_population"),
            agency_rest=database_url(server_url, f"{name}_agency_rest"),
            agency_graphql=database_url(server_url, f"{name}_agency_graphql"),
            agency_database=database_url(server_url, f"{name}_agency_database"),
            agency_file_drop=database_url(server_url, f"{name}_agency_file_drop"),
            file_drops=str(PROJECT_ROOT / ".hub" / "drops" / name),
        )

    @classmethod
    def beside(cls, national_url: str) -> DatabaseSet:
        """The national database as given; the sandbox databases named after it."""
        name = urlsplit(national_url).path.lstrip("/") or "hub"
        derived = cls.on_server(national_url, name)
        return cls(national_url, derived.population, derived.agency_rest,
                   derived.agency_graphql, derived.agency_database, derived.agency_file_drop,
                   derived.file_drops)

    def all(self) -> tuple[str, ...]:
        return (self.national, self.population, self.agency_rest, self.agency_graphql,
                self.agency_database, self.agency_file_drop)

    def source_env(self) -> dict[str, str]:
        """The variables config/sources.yaml reads the stored systems' places from (the
        HTTP systems' addresses come with their ports: hub.launcher.Ports)."""
        return {"AGENCY_MOH_DSN": self.agency_database,
                "AGENCY_DANANG_DROP_DIR": self.file_drops}


async def create_databases(databases: DatabaseSet, *, recreate: bool = False) -> None:
    """Create each database that does not exist yet (or drop and recreate all of them, and
    empty the drop directory)."""
    if recreate:
        _remove_drops(databases)
    for url in databases.all():
        name = urlsplit(url).path.lstrip("/")
        admin = await asyncpg.connect(database_url(url, "postgres"))
        try:
            if recreate:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await admin.execute(
                    f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        finally:
            await admin.close()


def _remove_drops(databases: DatabaseSet) -> None:
    drops = Path(databases.file_drops)
    # The installation's own directory (see on_server); a link there is not followed.
    if drops.is_dir() and not drops.is_symlink():
        shutil.rmtree(drops)


async def drop_databases(databases: DatabaseSet) -> None:
    """Drop every database of the set (closing their connections first) and remove its drop
    directory."""
    _remove_drops(databases)
    for url in databases.all():
        name = urlsplit(url).path.lstrip("/")
        admin = await asyncpg.connect(database_url(url, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
