"""The hub's authentication served for real: a migrated national database of its own, the auth
routes and a protected route under uvicorn, a trusted external issuer with its own JWKS server.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from joserfc import jwt

from hub.auth import AuthRuntime, AuthSettings, ClientRecord, TrustedIssuer, register_client
from hub.launcher import free_port
from tests.auth.harness import ExternalIssuer, ServerThread, auth_app, with_connection
from tests.own_database import own_migrated_database

T = TypeVar("T")

# A database of its own: the auth tests need the migrated schema only, and the shared seeded
# databases are dropped and recreated by other test sessions.

#: The purposes each client has declared (the policy engine's answer, here a table).
PURPOSES: dict[str, frozenset[str]] = {}

_ids = itertools.count(1)


def new_client_id(prefix: str = "client") -> str:
    return f"{prefix}-{next(_ids)}-{int(time.time() * 1000) % 100_000}"


@dataclass
class Hub:
    url: str
    dsn: str
    settings: AuthSettings
    runtime: AuthRuntime
    server: ServerThread

    def db(self, action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        return asyncio.run(with_connection(self.dsn, action))

    def register(self, client_id: str, *, secret: str | None = "secret-" + "x" * 20,
                 jwks: dict[str, Any] | None = None,
                 purposes: frozenset[str] = frozenset()) -> ClientRecord:
        PURPOSES[client_id] = purposes

        async def act(conn: asyncpg.Connection) -> ClientRecord:
            return await register_client(conn, client_id, f"Test client {client_id}",
                                         secret=secret, jwks=jwks)

        record = self.db(act)
        self.wait_for(lambda: self.runtime.registry.get(client_id) is not None,
                      f"{client_id} in the registry")
        return record

    @staticmethod
    def wait_for(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)

    def request_token(self, client_id: str | None = None, secret: str | None = None,
                      **form: str) -> httpx.Response:
        auth = (client_id, secret) if client_id is not None and secret is not None else None
        return httpx.post(f"{self.url}/oauth/token", auth=auth,
                          data={"grant_type": "client_credentials", **form}, timeout=10)

    def token_for(self, client_id: str, secret: str = "secret-" + "x" * 20,
                  **form: str) -> str:
        response = self.request_token(client_id, secret, **form)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def protected(self, token: str | None = None, *,
                  authorization: str | None = None) -> httpx.Response:
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.get(f"{self.url}/protected", headers=headers, timeout=10)

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        """A token signed with the hub's own signing key, claims and header as given."""
        key, algorithm, kid = self.runtime.keys.signer()
        return jwt.encode({"alg": algorithm, "kid": kid, "typ": "at+jwt", **header}, claims,
                          key, algorithms=[header.get("alg", algorithm)])

    def claims(self, client_id: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.settings.issuer, "sub": client_id, "client_id": client_id,
                "aud": self.settings.audience, "iat": now, "nbf": now, "exp": now + 300,
                "jti": f"test-{now}", **overrides}


@pytest.fixture(scope="session")
def auth_dsn(server_url: str) -> str:
    return own_migrated_database(server_url, "auth")


@pytest.fixture(scope="session")
def external_issuer() -> Iterator[ExternalIssuer]:
    issuer = ExternalIssuer()
    issuer.server.start()
    try:
        yield issuer
    finally:
        issuer.server.stop()


@pytest.fixture(scope="session")
def hub(auth_dsn: str, external_issuer: ExternalIssuer,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    port = free_port()
    settings = AuthSettings(
        issuer=f"http://127.0.0.1:{port}",
        signing_key_file=Path(tmp_path_factory.mktemp("keys")) / "signing.jwks",
        trusted_issuers=(TrustedIssuer(external_issuer.issuer, external_issuer.jwks_url,
                                       external_issuer.audience, clients=("ext-*",)),),
        jwks_refresh_seconds=1)
    runtime = AuthRuntime(settings, lambda client_id: PURPOSES.get(client_id, frozenset()))
    server = ServerThread(auth_app(runtime, auth_dsn), port=port)
    server.start()
    try:
        yield Hub(server.url, auth_dsn, settings, runtime, server)
    finally:
        server.stop()
