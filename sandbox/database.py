"""The connection pool each service holds for its own database, for the app's lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from sandbox import System
from sandbox.schemas import apply_schema

__all__ = ["PooledService", "service_pool"]

_CLOSE_TIMEOUT_SECONDS = 5.0


@asynccontextmanager
async def service_pool(dsn: str, system: System, *, max_size: int) -> AsyncIterator[asyncpg.Pool]:
    """Apply the system's schema (so an empty database works), then pool connections to it."""
    await apply_schema(dsn, system)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=max_size)
    try:
        yield pool
    finally:
        # A connection stuck in a query must not hang shutdown forever.
        try:
            await asyncio.wait_for(pool.close(), _CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            pool.terminate()


class PooledService:
    """Base for a service object: owns the pool, opened and closed by the app's lifespan."""

    def __init__(self, dsn: str, system: System, *, pool_size: int) -> None:
        self._dsn = dsn
        self._system: System = system
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"{self._system} service used outside its app's lifespan")
        return self._pool

    @asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        async with service_pool(self._dsn, self._system, max_size=self._pool_size) as pool:
            self._pool = pool
            try:
                yield
            finally:
                self._pool = None
