"""Opening an asyncpg pool to the national database, or to one of its standbys.

One place, so a standby's connections act as the same role, with the same time budget, as the
primary's: a query answered by a replica must see exactly what the primary would let it see.
"""

from __future__ import annotations

import asyncpg

__all__ = ["open_pool"]


async def open_pool(dsn: str, *, min_size: int, max_size: int, timeout: float,
                    role: str | None) -> asyncpg.Pool:
    """``role``: the database role to act as (SET ROLE at connection start); ``timeout``: each
    statement's budget."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size,
        server_settings={"role": role} if role else None, command_timeout=timeout)
    return pool
