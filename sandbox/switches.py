"""Fault switches and request statistics, shared by every simulated service.

Each service wraps its API endpoints with :meth:`SandboxControl.api_route`. The wrapper counts
the call, then applies the faults the switches ask for, in the order a real failing system
would show them: an outage refuses at once; otherwise the latency is paid, a share of calls
fail with 500, and a malformed switch garbles whatever body the endpoint produced.

Statistics let tests and benchmarks prove how the hub talks to a system: ``requests`` counts
every API call that arrived (even those answered by a fault or refused, so retries and circuit
breakers are visible), ``items`` the ids asked for, and ``batchSizes`` the size of each recent
batch (an addition to the contract, bounded to the last few thousand calls).

The control endpoints (``/_sandbox/...``) and ``/healthz`` are not API calls: never counted,
never delayed or broken.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.http import (
    ErrorDialect,
    InvalidInput,
    JSONResponse,
    RequestError,
    read_json_body,
    secret_matches,
)
from sandbox.inputs import json_object
from sandbox.settings import env_bool, env_float, env_int, env_str

__all__ = ["CONTROL_HEADER", "Endpoint", "SandboxControl", "Stats", "Switches"]

CONTROL_HEADER = "X-Sandbox-Control"
MAX_LATENCY_MS = 60_000
MAX_OVERSIZED_BYTES = 256 * 1024 * 1024
_BATCH_HISTORY = 4096

Endpoint = Callable[[Request], Awaitable[Response]]
Authenticator = Callable[[Request], None]  # raises RequestError(401) when refused


@dataclass(slots=True)
class Switches:
    latency_ms: int = 0
    error_rate: float = 0.0
    outage: bool = False
    malformed: bool = False
    oversized_bytes: int = 0   # pad each answer to at least this many bytes
    reset: bool = False        # drop the connection halfway through each answer

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Switches:
        return cls(
            latency_ms=env_int(environ, "SANDBOX_LATENCY_MS", 0, minimum=0,
                               maximum=MAX_LATENCY_MS),
            error_rate=env_float(environ, "SANDBOX_ERROR_RATE", 0.0, minimum=0.0, maximum=1.0),
            outage=env_bool(environ, "SANDBOX_OUTAGE", False),
            malformed=env_bool(environ, "SANDBOX_MALFORMED", False),
            oversized_bytes=env_int(environ, "SANDBOX_OVERSIZED_BYTES", 0, minimum=0,
                                    maximum=MAX_OVERSIZED_BYTES),
            reset=env_bool(environ, "SANDBOX_RESET", False),
        )

    def to_json(self) -> dict[str, Any]:
        return {"latencyMs": self.latency_ms, "errorRate": self.error_rate,
                "outage": self.outage, "malformed": self.malformed,
                "oversizedBytes": self.oversized_bytes, "reset": self.reset}

    def update(self, body: object) -> None:
        """Apply a (partial) switches object; validates everything before changing anything."""
        fields = json_object(body, required=(),
                             optional=("latencyMs", "errorRate", "outage", "malformed",
                                       "oversizedBytes", "reset"))
        latency = fields.get("latencyMs", self.latency_ms)
        rate = fields.get("errorRate", self.error_rate)
        outage = fields.get("outage", self.outage)
        malformed = fields.get("malformed", self.malformed)
        oversized = fields.get("oversizedBytes", self.oversized_bytes)
        reset = fields.get("reset", self.reset)
        # bool is a subclass of int: true must not pass as latency 1 or error rate 1.0.
        if (isinstance(latency, bool) or not isinstance(latency, int)
                or not 0 <= latency <= MAX_LATENCY_MS):
            raise InvalidInput(f"latencyMs must be an integer from 0 to {MAX_LATENCY_MS}")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise InvalidInput("errorRate must be a number from 0.0 to 1.0")
        if (not isinstance(outage, bool) or not isinstance(malformed, bool)
                or not isinstance(reset, bool)):
            raise InvalidInput("outage, malformed and reset must be true or false")
        if (isinstance(oversized, bool) or not isinstance(oversized, int)
                or not 0 <= oversized <= MAX_OVERSIZED_BYTES):
            raise InvalidInput(f"oversizedBytes must be an integer from 0 to "
                               f"{MAX_OVERSIZED_BYTES}")
        self.latency_ms, self.error_rate = latency, float(rate)
        self.outage, self.malformed = outage, malformed
        self.oversized_bytes, self.reset = oversized, reset


class Stats:
    """Per-route counters. Single-threaded (one event loop), so no locking is needed."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self.batch_sizes: dict[str, deque[int]] = {}

    def count_request(self, route: str) -> None:
        self.requests[route] += 1

    def count_items(self, route: str, count: int) -> None:
        self.items[route] += count
        self.batch_sizes.setdefault(route, deque(maxlen=_BATCH_HISTORY)).append(count)

    def reset(self) -> None:
        self.requests.clear()
        self.items.clear()
        self.batch_sizes.clear()

    def to_json(self) -> dict[str, Any]:
        return {"requests": dict(self.requests), "items": dict(self.items),
                "batchSizes": {route: list(sizes) for route, sizes in self.batch_sizes.items()}}


def _garble(response: Response) -> Response:
    """The same response with its JSON body cut in half: unparseable, but valid UTF-8.

    A strict prefix of a JSON object (orjson writes no trailing whitespace) is never valid
    JSON. The text is cut on a character boundary so clients fail on JSON, not on decoding.
    """
    text = bytes(response.body).decode("utf-8", "replace")
    broken = text[: len(text) // 2] if len(text) > 1 else "{"
    headers = {k: v for k, v in response.headers.items()
               if k.lower() not in ("content-length", "content-type")}
    return Response(broken.encode("utf-8"), status_code=response.status_code, headers=headers,
                    media_type="application/json")


def _padded(response: Response, size: int) -> Response:
    """The same JSON answer padded with white space to at least ``size`` bytes (still valid
    JSON): a system answering far more than it was asked."""
    body = bytes(response.body)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(body + b" " * max(size - len(body), 0), status_code=response.status_code,
                    headers=headers)


class _Reset(Response):
    """Starts the answer, then drops the connection: the client reads a status and part of a
    body, then nothing (as when a system or a proxy in between dies mid-answer)."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
        raise ConnectionResetError("simulated connection reset")


class SandboxControl:
    """One service's switches, statistics, fault-injecting wrapper and control endpoints."""

    def __init__(self, *, service: str, dialect: ErrorDialect, authenticate: Authenticator,
                 switches: Switches, control_key: str, stats: Stats | None = None,
                 rng: random.Random | None = None) -> None:
        self.service = service
        self.dialect = dialect
        self.authenticate = authenticate
        self.switches = switches
        self.stats = stats or Stats()
        self._control_key = control_key
        self._rng = rng or random.Random()

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, service: str, dialect: ErrorDialect,
                 authenticate: Authenticator, stats: Stats) -> SandboxControl:
        return cls(service=service, dialect=dialect, authenticate=authenticate, stats=stats,
                   switches=Switches.from_env(environ),
                   control_key=env_str(environ, "SANDBOX_CONTROL_KEY", "sandbox-control"))

    def api_route(self, path: str, endpoint: Endpoint, *, name: str,
                  methods: list[str]) -> Route:
        """A route whose calls are counted and subjected to the fault switches."""

        async def guarded(request: Request) -> Response:
            self.stats.count_request(name)
            switches = self.switches
            if switches.outage:
                return self.dialect.response(503, f"{self.service} is unavailable "
                                                  "(simulated outage)")
            if switches.latency_ms:
                await asyncio.sleep(switches.latency_ms / 1000)
            if switches.error_rate and self._rng.random() < switches.error_rate:
                return self.dialect.response(500, f"{self.service} failed "
                                                  "(simulated internal error)")
            try:
                self.authenticate(request)
                response = await endpoint(request)
            except RequestError as error:
                response = self.dialect.from_error(error)
            if self.switches.reset:
                return _Reset()
            if self.switches.oversized_bytes:
                response = _padded(response, self.switches.oversized_bytes)
            return _garble(response) if self.switches.malformed else response

        return Route(path, guarded, methods=methods, name=name)

    def control_routes(self) -> list[Route]:
        return [
            Route("/healthz", self._health, methods=["GET"], name="healthz"),
            Route("/_sandbox/switches", self._get_switches, methods=["GET"]),
            Route("/_sandbox/switches", self._put_switches, methods=["PUT"]),
            Route("/_sandbox/stats", self._get_stats, methods=["GET"]),
            Route("/_sandbox/stats/reset", self._reset_stats, methods=["POST"]),
        ]

    def _require_control(self, request: Request) -> None:
        if not secret_matches(request.headers.get(CONTROL_HEADER), (self._control_key,)):
            raise RequestError(403, f"missing or wrong {CONTROL_HEADER} header")

    async def _health(self, request: Request) -> Response:
        if self.switches.outage:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def _get_switches(self, request: Request) -> Response:
        try:
            self._require_control(request)
        except RequestError as error:
            return self.dialect.from_error(error)
        return JSONResponse(self.switches.to_json())

    async def _put_switches(self, request: Request) -> Response:
        try:
            self._require_control(request)
            self.switches.update(await read_json_body(request))
        except RequestError as error:
            return self.dialect.from_error(error)
        return JSONResponse(self.switches.to_json())

    async def _get_stats(self, request: Request) -> Response:
        return JSONResponse(self.stats.to_json())

    async def _reset_stats(self, request: Request) -> Response:
        try:
            self._require_control(request)
        except RequestError as error:
            return self.dialect.from_error(error)
        self.stats.reset()
        return JSONResponse(self.stats.to_json())
