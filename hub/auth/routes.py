"""The authentication runtime (opened in the app's lifespan) and its three HTTP endpoints."""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio.from_thread
import asyncpg
import httpx
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.pg_pool import reset_unobserved
from hub.auth.keys import SigningKeys
from hub.auth.registry import ClientRegistry
from hub.auth.replay import AssertionReplayGuard
from hub.auth.server import ASSERTION_ALGORITHMS, AUTH_METHODS, MAX_FORM_BYTES, TokenServer
from hub.auth.settings import SIGNING_ALGORITHMS, AuthSettings
from hub.auth.token_limits import claimed_client
from hub.auth.verifier import AuthenticationError, TokenVerifier
from hub.http_body import read_body
from hub.rate_limits import Rate, RateLimiter, retry_after_header

__all__ = ["AuthRuntime", "auth_routes", "bearer_challenge"]

log = logging.getLogger(__name__)


class AuthRuntime:
    """Settings, signing keys, client registry, token verifier and token server, opened and
    closed together. ``purposes_of`` answers which purposes of use a client has declared (the
    policy engine owns that); it is called from the token endpoint's worker threads."""

    def __init__(self, settings: AuthSettings,
                 purposes_of: Callable[[str], frozenset[str]]) -> None:
        self.settings = settings
        self.purposes_of = purposes_of
        self.keys = SigningKeys.load_or_create(settings.signing_key_file, settings.algorithm)
        self.registry = ClientRegistry()
        self._pool: asyncpg.Pool | None = None
        self._verifier: TokenVerifier | None = None
        self._token_server: TokenServer | None = None

    @property
    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            raise RuntimeError("AuthRuntime is not open")
        return self._verifier

    @property
    def token_server(self) -> TokenServer:
        if self._token_server is None:
            raise RuntimeError("AuthRuntime is not open")
        return self._token_server

    async def open(self, dsn: str, http_client: httpx.AsyncClient, *,
                   role: str | None = None) -> None:
        """Load the client registry and start following its changes; ``http_client`` fetches
        trusted issuers' key sets (the caller owns and closes it). ``role``: the database role
        to act as."""
        await self.registry.start(dsn, role=role)
        try:
            self._pool = await asyncpg.create_pool(
                dsn, min_size=1, max_size=4,
                server_settings={"role": role} if role else None, reset=reset_unobserved)
        except BaseException:
            await self.registry.close()
            raise
        guard = AssertionReplayGuard(self._pool)

        def claim_jti(client_id: str, jti: str, expires_at: float) -> bool:
            # Called from the token endpoint's worker thread: run the query on the event loop.
            return anyio.from_thread.run(guard.first_use, client_id, jti, expires_at)

        self._verifier = TokenVerifier(self.settings, self.keys, self.registry, http_client)
        self._token_server = TokenServer(self.settings, self.keys, self.registry,
                                         self.purposes_of, claim_jti)

    async def close(self) -> None:
        self._verifier = None
        self._token_server = None
        await self.registry.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def bearer_challenge(error: AuthenticationError | None = None, *, realm: str = "hub") -> str:
    """The ``WWW-Authenticate`` value of a 401 (RFC 6750 §3). A request that carried no token
    gets no error code, as the RFC asks."""
    if error is None or error.message == "no bearer token":
        return f'Bearer realm="{realm}"'
    description = "".join(c if " " <= c <= "~" and c not in '"\\' else "?"
                          for c in error.message)
    return f'Bearer realm="{realm}", error="invalid_token", error_description="{description}"'


def _json(body: object, *, max_age: int | None = None) -> Response:
    response = Response(orjson.dumps(body), media_type="application/json")
    if max_age is not None:
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def auth_routes(runtime: AuthRuntime, limiter: RateLimiter | None = None,
                rate: Rate | None = None) -> list[Route]:
    """``POST /oauth/token``, ``GET /.well-known/jwks.json`` and
    ``GET /.well-known/oauth-authorization-server``. With ``limiter`` and ``rate``, each
    client id a token request claims is held to ``rate`` (``hub.auth.token_limits``)."""
    settings = runtime.settings
    metadata = {
        "issuer": settings.issuer,
        "token_endpoint": settings.token_endpoint,
        "jwks_uri": settings.jwks_uri,
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "access_token_signing_alg_values_supported": list(SIGNING_ALGORITHMS),
    }

    async def token(request: Request) -> Response:
        body = await read_body(request, MAX_FORM_BYTES)
        if limiter is not None and rate is not None:
            verdict = await limiter.take(f"token:{claimed_client(request.headers, body or b'')}",
                                         rate)
            if not verdict.allowed:
                wait = retry_after_header(verdict)
                return Response(orjson.dumps({
                    "error": "slow_down",
                    "error_description": f"too many token requests for this client: retry "
                                         f"after {wait} s"}), status_code=429,
                    media_type="application/json",
                    headers={"Retry-After": wait, "Cache-Control": "no-store"})
        try:
            return await run_in_threadpool(runtime.token_server.respond, request.headers,
                                           request.headers.get("content-type"), body)
        except Exception:
            log.exception("token endpoint failed")
            return Response(orjson.dumps({"error": "server_error"}), status_code=500,
                            media_type="application/json",
                            headers={"Cache-Control": "no-store"})

    async def jwks(request: Request) -> Response:
        # A rotation made by another process (`hub keys rotate`) is published at once; the
        # check is one stat() call. Short caching: a verifier meeting an unknown kid refetches.
        runtime.keys.reload_if_changed()
        return _json(runtime.keys.public_jwks(), max_age=300)

    async def server_metadata(request: Request) -> Response:
        return _json(metadata, max_age=3600)

    return [
        Route("/oauth/token", token, methods=["POST"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", server_metadata, methods=["GET"]),
    ]
