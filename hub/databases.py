"""The set of databases one hub installation uses on a PostgreSQL server.

The national database belongs to the hub. The other three belong to the simulated external
systems under ``sandbox/``; they live on the same server only because the demo and the tests
need somewhere to put them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg

from hub.postgres_server import database_url

__all__ = ["DatabaseSet", "create_databases", "drop_databases"]


@dataclass(frozen=True, slots=True)
class DatabaseSet:
    national: str
    population: str
    agency_rest: str
    agency_graphql: str

    @classmethod
    def on_server(cls, server_url: str, name: str) -> DatabaseSet:
        return cls(
            national=database_url(server_url, name),
            population=database_url(server_url, f"{name}_population"),
            agency_rest=database_url(server_url, f"{name}_agency_rest"),
            agency_graphql=database_url(server_url, f"{name}_agency_graphql"),
        )

    @classmethod
    def beside(cls, national_url: str) -> DatabaseSet:
        """The national database as given; the sandbox databases named after it."""
        name = urlsplit(national_url).path.lstrip("/") or "hub"
        derived = cls.on_server(national_url, name)
        return cls(national_url, derived.population, derived.agency_rest, derived.agency_graphql)

    def all(self) -> tuple[str, ...]:
        return (self.national, self.population, self.agency_rest, self.agency_graphql)


async def create_databases(databases: DatabaseSet, *, recreate: bool = False) -> None:
    """Create each database that does not exist yet (or drop and recreate all of them)."""
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


async def drop_databases(databases: DatabaseSet) -> None:
    """Drop every database of the set (closing their connections first)."""
    for url in databases.all():
        name = urlsplit(url).path.lstrip("/")
        admin = await asyncpg.connect(database_url(url, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
