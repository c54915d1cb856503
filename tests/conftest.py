"""Shared test set-up: a real PostgreSQL, seeded databases, the sandbox services and the hub,
all started for real on loopback. Nothing is skipped for lack of a service: what is missing is
provisioned (a private PostgreSQL cluster under .hub/ when none answers)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hub.databases import DatabaseSet, create_databases
from hub.environment import STATE_DIR
from hub.launcher import Ports, free_port, start_hub, start_sandbox, stop
from hub.postgres_server import ensure_server

TEST_EMPLOYEES = 800
TEST_SEED = 7
CONTROL = {"x-sandbox-control": "sandbox-control"}


@pytest.fixture(scope="session")
def server_url() -> str:
    return ensure_server(STATE_DIR)


@pytest.fixture(scope="session")
def databases(server_url: str) -> DatabaseSet:
    """Freshly created and seeded test databases (hubtest*), shared by the e2e tests."""
    from hub.seed import seed_all

    databases = DatabaseSet.on_server(server_url, "hubtest")

    async def prepare() -> None:
        await create_databases(databases, recreate=True)
        await seed_all(databases, employees=TEST_EMPLOYEES, seed=TEST_SEED)

    asyncio.run(prepare())
    return databases


@dataclass
class Sandbox:
    ports: Ports

    def url(self, system: str) -> str:
        return f"http://127.0.0.1:{getattr(self.ports, system)}"

    def switch(self, system: str, **switches: Any) -> None:
        response = httpx.put(f"{self.url(system)}/_sandbox/switches", json=switches,
                             headers=CONTROL)
        response.raise_for_status()

    def reset(self) -> None:
        for system in ("population", "agency_rest", "agency_graphql"):
            self.switch(system, latencyMs=0, errorRate=0.0, outage=False, malformed=False)
            httpx.post(f"{self.url(system)}/_sandbox/stats/reset",
                       headers=CONTROL).raise_for_status()

    def stats(self, system: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url(system)}/_sandbox/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture(scope="session")
def sandbox_session(databases: DatabaseSet) -> Iterator[Sandbox]:
    ports = Ports()
    process = start_sandbox(databases, ports)
    try:
        yield Sandbox(ports)
    finally:
        stop(process)


@pytest.fixture
def sandbox(sandbox_session: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with every fault switch off and statistics reset, before and after."""
    sandbox_session.reset()
    yield sandbox_session
    sandbox_session.reset()


@pytest.fixture(scope="session")
def hub_url(databases: DatabaseSet, sandbox_session: Sandbox) -> Iterator[str]:
    port = free_port()
    process = start_hub(databases, sandbox_session.ports, port, env={
        "HUB_EXPOSE_SOURCE_CALLS": "1",
        "POPULATION_TIMEOUT_SECONDS": "0.5",
        "AGENCY_MOF_TIMEOUT_SECONDS": "0.5",
        "AGENCY_HANOI_TIMEOUT_SECONDS": "0.5",
    })
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@dataclass
class GraphQLClient:
    base_url: str

    def post(self, query: str, variables: dict[str, Any] | None = None,
             **kwargs: Any) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return httpx.post(f"{self.base_url}/graphql", json=body, timeout=30, **kwargs)

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        assert response.status_code in (200, 400), response.text
        result: dict[str, Any] = response.json()
        return result

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        result = self.query(query, variables)
        assert "errors" not in result, result.get("errors")
        data: dict[str, Any] = result["data"]
        return data


@pytest.fixture(scope="session")
def graphql(hub_url: str) -> GraphQLClient:
    return GraphQLClient(hub_url)
