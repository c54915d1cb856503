"""Opening an asyncpg pool to the national database, or to one of its standbys.

One place, so a standby's connections act as the same role, with the same time budget, as the
primary's: a query answered by a replica must see exactly what the primary would let it see.
"""

from __future__ import annotations

from contextlib import nullcontext

import asyncpg
from opentelemetry.instrumentation.utils import (
    is_instrumentation_enabled,
    suppress_instrumentation,
)

from adapters.observe import tracing_configured

__all__ = ["open_pool", "reset_unobserved"]


async def reset_unobserved(connection: asyncpg.Connection) -> None:
    """What asyncpg does to a connection given back to its pool (its reset query: session
    settings, advisory locks, LISTENs and cursors undone), kept out of traces. The pool runs
    it on every release; traced, it was a span of housekeeping under every source call, a
    sixth of a request's spans and of their cost. An open transaction has already been rolled
    back by the pool when this runs."""
    query = connection.get_reset_query()
    if not query:
        return
    # Untraced, or inside a sampled-out request, nothing would trace it anyway.
    traced = tracing_configured() and is_instrumentation_enabled()
    with suppress_instrumentation() if traced else nullcontext():
        await connection.execute(query)


async def open_pool(dsn: str, *, min_size: int, max_size: int, timeout: float,
                    role: str | None) -> asyncpg.Pool:
    """``role``: the database role to act as (SET ROLE at connection start); ``timeout``: each
    statement's budget."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size,
        server_settings={"role": role} if role else None, command_timeout=timeout,
        reset=reset_unobserved)
    return pool
