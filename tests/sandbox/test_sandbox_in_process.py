"""The services as ASGI apps in this process, to look inside: every batch lookup is exactly one
SQL query (two for the agency systems: the records, then all their discipline decisions, in one
snapshot), however many ids it carries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

from sandbox.agency_graphql.app import create_app as graphql_app
from sandbox.agency_rest.app import create_app as rest_app
from sandbox.population.app import create_app as population_app
from tests.sandbox.sandbox_testkit import GRAPHQL_STAFF, REST_STAFF, Services


class _CountingConnection:
    """A connection of the pool, recording its queries in the pool's list."""

    def __init__(self, conn: Any, queries: list[str]) -> None:
        self._conn = conn
        self._queries = queries

    def transaction(self, **options: Any) -> Any:
        return self._conn.transaction(**options)

    async def fetch(self, sql: str, *args: object) -> Any:
        self._queries.append(sql)
        return await self._conn.fetch(sql, *args)


class CountingPool:
    """Stands in for the service's asyncpg pool, recording every query sent through it."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self.queries: list[str] = []

    async def fetch(self, sql: str, *args: object) -> Any:
        self.queries.append(sql)
        return await self._pool.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: object) -> Any:
        self.queries.append(sql)
        return await self._pool.fetchrow(sql, *args)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[_CountingConnection]:
        async with self._pool.acquire() as conn:
            yield _CountingConnection(conn, self.queries)


@asynccontextmanager
async def in_process(factory: Callable[..., Starlette], dsn: str,
                     headers: dict[str, str]) -> AsyncIterator[tuple[httpx.AsyncClient,
                                                                     CountingPool]]:
    app = factory(dsn, environ={})
    async with app.router.lifespan_context(app):
        service = app.state.service
        counting = CountingPool(service.pool)
        service._pool = counting
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox",
                                     headers=headers) as client:
            yield client, counting


async def test_population_batch_is_one_query(services: Services) -> None:
    ids = ["001085000001", *(f"{n:012d}" for n in range(499))]
    async with in_process(population_app, services.databases.population,
                          {"X-API-Key": "demo-population-key"}) as (client, pool):
        response = await client.post("/v1/citizens/batch", json={"personalIds": ids})
    assert response.status_code == 200
    assert len(response.json()["citizens"]) == 1
    assert len(pool.queries) == 1
    assert "personal_id = ANY($1)" in pool.queries[0]


async def test_rest_lookup_is_one_query(services: Services) -> None:
    ids = [row["so_cccd"] for row in REST_STAFF] + [f"{n:012d}" for n in range(900)]
    async with in_process(rest_app, services.databases.agency_rest,
                          {"Authorization": "Bearer demo-mof-token"}) as (client, pool):
        response = await client.post("/api/v1/nhan-su/tra-cuu", json={"so_cccd": ids})
    assert response.json()["so_ban_ghi"] == len(REST_STAFF)
    assert len(pool.queries) == 2
    assert "so_cccd = ANY($1)" in pool.queries[0]
    assert "FROM ky_luat WHERE ma_nhan_su = ANY($1)" in pool.queries[1]


async def test_graphql_lookup_is_one_query(services: Services) -> None:
    ids = [row["citizen_id"] for row in GRAPHQL_STAFF] + [f"{n:012d}" for n in range(900)]
    async with in_process(graphql_app, services.databases.agency_graphql,
                          {"X-Api-Token": "demo-hanoi-token"}) as (client, pool):
        response = await client.post("/graphql", json={
            "query": "query($ids: [String!]!) { staffByCitizenIds(ids: $ids) { citizenId } }",
            "variables": {"ids": ids}})
    assert len(response.json()["data"]["staffByCitizenIds"]) == len(GRAPHQL_STAFF)
    assert len(pool.queries) == 2
    assert "citizen_id = ANY($1)" in pool.queries[0]
    assert "FROM staff_discipline WHERE citizen_id = ANY($1)" in pool.queries[1]
