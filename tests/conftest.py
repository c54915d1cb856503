"""Shared test set-up: a real PostgreSQL, seeded databases, the sandbox services and the hub,
all started for real on loopback. Nothing is skipped for lack of a service: what is missing is
provisioned (a private PostgreSQL cluster under .hub/ when none answers)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.databases import DatabaseSet, create_databases
from hub.environment import STATE_DIR
from hub.launcher import Ports, free_port, start_hub, start_sandbox, stop
from hub.postgres_server import ensure_server
from tests.settings import TEST_DB_PREFIX

TEST_EMPLOYEES = 800
TEST_SEED = 7
CONTROL = {"x-sandbox-control": "sandbox-control"}


@pytest.fixture(scope="session")
def server_url() -> str:
    return ensure_server(STATE_DIR)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    from tests.redis_server import redis_for_tests

    with redis_for_tests() as url:
        yield url


@pytest.fixture(scope="session")
def databases(server_url: str) -> DatabaseSet:
    """Freshly created and seeded test databases (named after HUB_TEST_DB_PREFIX), shared
    by the e2e tests."""
    from hub.seed import seed_all

    databases = DatabaseSet.on_server(server_url, TEST_DB_PREFIX)

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
            self.switch(system, latencyMs=0, errorRate=0.0, outage=False, malformed=False,
                        oversizedBytes=0, reset=False)
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


# The client the functional tests query as: the Ministry of Home Affairs' administration
# purpose grants every field (see policies/moha-personnel-db.yaml).
ADMIN = ("moha-personnel-db", "administration")


@pytest.fixture(scope="session")
def client_secrets(databases: DatabaseSet) -> dict[str, str]:
    """Every client with a policy, registered with a fresh secret in the test database."""
    from hub.auth.clients import register_with_new_secrets
    from hub.policy.load import load_policy_dir

    policies = load_policy_dir()
    return asyncio.run(register_with_new_secrets(
        databases.national, {c: p.name for c, p in policies.clients.items()}))


@dataclass(frozen=True)
class HubAuthFiles:
    """Where the test hub keeps its signing keys, and the issuer it names in tokens: tests
    mint hostile tokens with them."""

    port: int
    keys_dir: Path

    @property
    def env(self) -> dict[str, str]:
        return {"HUB_AUTH_ISSUER": f"http://127.0.0.1:{self.port}",
                "HUB_SIGNING_KEY_FILE": str(self.keys_dir / "signing.jwks"),
                "HUB_MASK_SECRET_FILE": str(self.keys_dir / "mask.secret")}


@pytest.fixture(scope="session")
def hub_auth(tmp_path_factory: pytest.TempPathFactory) -> HubAuthFiles:
    return HubAuthFiles(free_port(), tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def graphiql_assets() -> Path:
    """GraphiQL's scripts, fetched once through npm, for the hub to serve itself."""
    from hub.config import graphiql_assets_dir
    from hub.graphiql import install_assets, load_page

    target = graphiql_assets_dir()
    if not load_page(target).local:
        install_assets(target)
    return target


@pytest.fixture(scope="session")
def hub_url(databases: DatabaseSet, sandbox_session: Sandbox, client_secrets: dict[str, str],
            hub_auth: HubAuthFiles, graphiql_assets: Path) -> Iterator[str]:
    process = start_hub(databases, sandbox_session.ports, hub_auth.port, env={
        "HUB_EXPOSE_SOURCE_CALLS": "1",
        "POPULATION_TIMEOUT_SECONDS": "0.5",
        "AGENCY_MOF_TIMEOUT_SECONDS": "0.5",
        "AGENCY_HANOI_TIMEOUT_SECONDS": "0.5",
        # Sources fail on purpose in many tests, each expecting its own failure: no retries
        # and no breaker here, whose state would carry over from one test to the next
        # (tests/e2e/test_resilience.py has a hub of its own for them).
        "HUB_SOURCE_RETRIES": "0", "HUB_BREAKER_FAILURES": "1000000",
        **hub_auth.env,
    })
    try:
        yield f"http://127.0.0.1:{hub_auth.port}"
    finally:
        stop(process)


@dataclass
class Tokens:
    """Access tokens from the hub's real token endpoint, per client, renewed before expiry."""

    base_url: str
    secrets: dict[str, str]
    _cache: dict[str, tuple[str, float]] = field(default_factory=dict)

    def token(self, client_id: str) -> str:
        cached = self._cache.get(client_id)
        if cached is not None and cached[1] > time.monotonic() + 30:
            return cached[0]
        response = httpx.post(f"{self.base_url}/oauth/token",
                              data={"grant_type": "client_credentials"},
                              auth=(client_id, self.secrets[client_id]), timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        self._cache[client_id] = (body["access_token"],
                                  time.monotonic() + float(body["expires_in"]))
        return str(body["access_token"])

    def headers(self, client_id: str, purpose: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(client_id)}", "x-purpose": purpose}


@pytest.fixture(scope="session")
def tokens(hub_url: str, client_secrets: dict[str, str]) -> Tokens:
    return Tokens(hub_url, client_secrets)


@pytest.fixture
def admin_headers(tokens: Tokens) -> dict[str, str]:
    """Authorization and purpose headers of the administration client, with a live token."""
    return tokens.headers(*ADMIN)


@dataclass
class GraphQLClient:
    base_url: str
    tokens: Tokens
    client_id: str = ADMIN[0]
    purpose: str = ADMIN[1]

    def as_client(self, client_id: str, purpose: str) -> GraphQLClient:
        return GraphQLClient(self.base_url, self.tokens, client_id, purpose)

    def headers(self) -> dict[str, str]:
        return self.tokens.headers(self.client_id, self.purpose)

    def post(self, query: str, variables: dict[str, Any] | None = None,
             **kwargs: Any) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return httpx.post(f"{self.base_url}/graphql", json=body, timeout=30, headers=headers,
                          **kwargs)

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
def graphql(hub_url: str, tokens: Tokens) -> GraphQLClient:
    return GraphQLClient(hub_url, tokens)
