"""Fixtures for the sandbox tests: throwaway databases holding a few rows, and the three
services started for real (``python -m sandbox serve-all`` in a subprocess), reached over HTTP.

The databases are named after this process so that concurrent test runs cannot trample each
other, and are dropped at the end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import httpx
import pytest

from hub.databases import DatabaseSet, create_databases, drop_databases
from hub.postgres_server import ensure_server
from sandbox import SYSTEMS
from sandbox.schemas import apply_schema
from tests.sandbox.sandbox_testkit import (
    GRAPHQL_TOKEN,
    POPULATION_KEY,
    REPO,
    REST_TOKEN,
    ServiceProcess,
    Services,
    insert_rows,
    service_env,
)

T = TypeVar("T")


def in_thread(function: Callable[[], T]) -> T:
    """Run blocking set-up code (which may call asyncio.run) away from the test event loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


async def _create(databases: DatabaseSet) -> None:
    await create_databases(databases, recreate=True)
    for system in SYSTEMS:
        await apply_schema(getattr(databases, system), system)
    await insert_rows(databases)


@pytest.fixture(scope="session")
def databases() -> Iterator[DatabaseSet]:
    server_url = in_thread(lambda: ensure_server(REPO / ".hub"))
    dbs = DatabaseSet.on_server(server_url, f"sandboxtest_{os.getpid()}")
    in_thread(lambda: asyncio.run(_create(dbs)))
    yield dbs
    in_thread(lambda: asyncio.run(drop_databases(dbs)))


@pytest.fixture(scope="session")
def services(databases: DatabaseSet) -> Iterator[Services]:
    args = ["serve-all"]
    for system in SYSTEMS:
        flag = system.replace("_", "-")
        args += [f"--{flag}-port", "0", f"--{flag}-dsn", getattr(databases, system)]
    process = ServiceProcess(args, service_env())
    urls = process.wait_listening(len(SYSTEMS))
    yield Services(urls["population"], urls["agency_rest"], urls["agency_graphql"], databases)
    process.stop()


def _client(base_url: str, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10)


@pytest.fixture
async def population(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(services.population, {"X-API-Key": POPULATION_KEY}) as client:
        yield client


@pytest.fixture
async def agency_rest(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(services.agency_rest, {"Authorization": f"Bearer {REST_TOKEN}"}) as client:
        yield client


@pytest.fixture
async def agency_graphql(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(services.agency_graphql, {"X-Api-Token": GRAPHQL_TOKEN}) as client:
        yield client


@pytest.fixture
async def anonymous() -> AsyncIterator[httpx.AsyncClient]:
    """A client without any credentials (give it absolute URLs)."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
