"""Real servers for the authentication tests: uvicorn in a background thread, on loopback."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import asyncpg
import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey, Key
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.auth import AuthenticationError, AuthRuntime, auth_routes, bearer_challenge
from hub.launcher import free_port

T = TypeVar("T")


class ServerThread:
    """A Starlette app served by uvicorn on a free loopback port, in its own thread and event
    loop. ``loop`` is that loop, for running coroutines next to the app's own objects."""

    def __init__(self, app: Starlette, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                     log_level="warning", lifespan="on"))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None

    def _serve(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self._server.serve()

        try:
            asyncio.run(serve())
        except BaseException as error:  # reported by start()
            self._failure = error

    def start(self, timeout: float = 20.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server thread ended: {self._failure!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def auth_app(runtime: AuthRuntime, dsn: str) -> Starlette:
    """The auth routes plus a protected route that answers with the verified token."""
    import httpx

    async def protected(request: Request) -> Response:
        try:
            token = await runtime.verifier.verify(request.headers.get("authorization"))
        except AuthenticationError as error:
            return JSONResponse({"error": error.message}, status_code=401,
                                headers={"WWW-Authenticate": bearer_challenge(error)})
        return JSONResponse(dataclasses.asdict(token))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as http:
            await runtime.open(dsn, http)
            try:
                yield
            finally:
                await runtime.close()

    return Starlette(routes=[*auth_routes(runtime), Route("/protected", protected)],
                     lifespan=lifespan)


class ExternalIssuer:
    """A trusted external authorization server: it publishes a JWKS (counting the fetches) and
    signs tokens with its current key."""

    def __init__(self) -> None:
        self.key: Key = self.new_key()
        self.published: list[Key] = [self.key]
        self.fetches = 0
        self.server = ServerThread(Starlette(routes=[Route("/jwks", self._jwks)]))
        self.issuer = "https://idp.example.gov.vn"
        self.audience = "hub-external"

    @staticmethod
    def new_key() -> Key:
        key = ECKey.generate_key("P-256", private=True)
        key.ensure_kid()
        return key

    @property
    def jwks_url(self) -> str:
        return f"{self.server.url}/jwks"

    async def _jwks(self, request: Request) -> Response:
        self.fetches += 1
        return JSONResponse({"keys": [{**k.as_dict(private=False), "use": "sig"}
                                      for k in self.published]})

    def rotate(self) -> None:
        """A new key signs and is published; the old one is withdrawn."""
        self.key = self.new_key()
        self.published = [self.key]

    def token(self, client_id: str, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": self.audience, "azp": client_id,
                "sub": "service-account-" + client_id, "iat": now, "exp": now + 300,
                "jti": base64.urlsafe_b64encode(now.to_bytes(8, "big")).decode(), **claims}
        return jwt.encode({"alg": "ES256", "kid": self.key.kid, "typ": "JWT"}, body, self.key,
                          algorithms=["ES256"])


def b64(data: bytes | dict[str, Any] | list[Any]) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def with_connection(dsn: str, action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    conn = await asyncpg.connect(dsn)
    try:
        return await action(conn)
    finally:
        await conn.close()
