"""Assembling a service's Starlette app: its API routes plus the shared control endpoints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import Lifespan

from hub.telemetry.setup import configure_telemetry
from sandbox.settings import env_int, env_str
from sandbox.switches import SandboxControl

__all__ = ["build_app", "pool_size_from_env"]


def pool_size_from_env(environ: Mapping[str, str]) -> int:
    return env_int(environ, "SANDBOX_DB_POOL_SIZE", 10, minimum=1, maximum=200)


def _traced() -> list[Middleware]:
    # A real system's own tracing, as a standard library does it: the hub's W3C traceparent
    # is honoured, so the system's spans continue the hub's trace.
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return [Middleware(OpenTelemetryMiddleware, exclude_spans=["receive", "send"])]


def build_app(*, routes: Sequence[BaseRoute], control: SandboxControl, service: object,
              lifespan: Lifespan[Starlette]) -> Starlette:
    app = Starlette(
        routes=[*control.control_routes(), *routes],
        lifespan=lifespan,
        # Unknown paths, wrong methods and unexpected failures answer in the vendor's own
        # error envelope too, never in Starlette's plain text.
        exception_handlers={HTTPException: control.dialect.http_exception,
                            Exception: control.dialect.http_exception},
        middleware=_traced() if configure_telemetry("sandbox").tracing else [],
    )
    # For in-process use (tests): the switches, the statistics and the service's pool.
    app.state.control = control
    app.state.service = service
    return app


@dataclass(frozen=True, slots=True)
class TokenServiceSettings:
    """Settings of an agency HR system: a batch cap, one API token, a connection pool."""

    max_batch: int
    token: str
    pool_size: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str], prefix: str,
                 default_token: str) -> TokenServiceSettings:
        return cls(
            max_batch=env_int(environ, f"{prefix}_MAX_BATCH", 1000, minimum=1,
                              maximum=100_000),
            token=env_str(environ, f"{prefix}_TOKEN", default_token),
            pool_size=pool_size_from_env(environ),
        )
