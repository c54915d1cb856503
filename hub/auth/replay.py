"""One use per client assertion (RFC 7523 §3, "jti"), across every hub process.

The used ids live in PostgreSQL rather than in memory: with several worker processes, an
assertion replayed to another worker would otherwise be accepted.
"""

from __future__ import annotations

import time

import asyncpg

__all__ = ["AssertionReplayGuard"]

_PURGE_EVERY_SECONDS = 60.0


class AssertionReplayGuard:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._next_purge = 0.0

    async def first_use(self, client_id: str, jti: str, expires_at: float) -> bool:
        """Record ``jti`` for this client until ``expires_at`` (epoch seconds); False if it is
        already recorded and not yet expired, i.e. the assertion is a replay."""
        async with self._pool.acquire() as conn:
            if time.monotonic() >= self._next_purge:
                self._next_purge = time.monotonic() + _PURGE_EVERY_SECONDS
                await conn.execute("DELETE FROM oauth_assertion_jti WHERE expires_at < now()")
            # An expired row may be taken over: the assertion that used it can no longer pass
            # its own expiry check, so reusing the id is not a replay.
            inserted = await conn.fetchval(
                "INSERT INTO oauth_assertion_jti (client_id, jti, expires_at)"
                " VALUES ($1, $2, to_timestamp($3))"
                " ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at"
                " WHERE oauth_assertion_jti.expires_at < now()"
                " RETURNING true",
                client_id, jti, float(expires_at))
        return bool(inserted)
