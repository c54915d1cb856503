"""Rate limits per client, shared by every hub process through Redis.

Each client has a sustained rate (requests per minute) and a burst (how many may arrive at
once after a quiet spell), from its policy file's ``limits`` or the hub's defaults
(``HUB_RATE_LIMIT_PER_MINUTE``, ``HUB_RATE_LIMIT_BURST``). The rule is GCRA, the generic cell
rate algorithm: one number per client, the time at which its allowance would be back to
full (the "theoretical arrival time"). A request is let through when that time is no further
ahead than the burst allows, and moves it one interval on; a refused one moves nothing and
learns how long to wait. No counters to reset, no window edges to game.

With ``HUB_REDIS_URL`` the number lives in Redis and one Lua script reads and moves it
atomically on Redis's own clock, so every process (and machine) of a deployment draws on the
same allowance. Without Redis, or while Redis cannot be reached, each process keeps its own
(the same rule in memory): a single process is limited exactly, several each by the full
limit. ``status()`` says which is in force, for ``/readyz``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["LocalRateLimiter", "Rate", "RateLimiter", "RedisRateLimiter", "Verdict",
           "default_rate", "open_rate_limiter", "retry_after_header"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_minute`` requests a minute sustained, ``burst`` at once."""

    per_minute: int
    burst: int

    @property
    def interval_us(self) -> int:
        return max(1, round(60_000_000 / self.per_minute))

    @property
    def tolerance_us(self) -> int:
        """How far ahead of now the theoretical arrival time may be and still let one in."""
        return self.interval_us * (self.burst - 1)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds, when refused


class RateLimiter(Protocol):
    async def take(self, client_id: str, rate: Rate) -> Verdict: ...

    def status(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


def _gcra(tat_us: int | None, now_us: int, rate: Rate) -> tuple[Verdict, int | None]:
    """The verdict for one request, and the new theoretical arrival time (None: unchanged)."""
    tat = now_us if tat_us is None or tat_us < now_us else tat_us
    if tat - now_us > rate.tolerance_us:
        return Verdict(False, (tat - rate.tolerance_us - now_us) / 1e6), None
    return Verdict(True), tat + rate.interval_us


class LocalRateLimiter:
    """GCRA in this process's memory. ``clock``: microseconds, monotonic (tests give their
    own). Keeps at most ``max_clients`` clients (the least recently seen forgotten: a client
    forgotten is one whose allowance is full again)."""

    def __init__(self, *, clock: Any = None, max_clients: int = 100_000) -> None:
        self._clock = clock or (lambda: time.monotonic_ns() // 1000)
        self._tats: OrderedDict[str, int] = OrderedDict()
        self._max = max_clients

    async def take(self, client_id: str, rate: Rate) -> Verdict:
        return self.take_now(client_id, rate)

    def take_now(self, client_id: str, rate: Rate) -> Verdict:
        now = int(self._clock())
        verdict, tat = _gcra(self._tats.get(client_id), now, rate)
        if tat is not None:
            self._tats[client_id] = tat
            self._tats.move_to_end(client_id)
            while len(self._tats) > self._max:
                self._tats.popitem(last=False)
        return verdict

    def status(self) -> dict[str, Any]:
        return {"backend": "local", "shared": False}

    async def close(self) -> None:
        return None


# KEYS[1]: the client's key. ARGV: interval and tolerance in microseconds. Returns
# {allowed (1/0), microseconds to wait}. Redis's clock, so every process agrees on "now".
_SCRIPT = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
if tat - now > tolerance then
  return {0, tat - tolerance - now}
end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new), 'PX',
           math.ceil((new - now) / 1000) + 1000)
return {1, 0}
"""


class RedisRateLimiter:
    """GCRA in Redis, shared by every process; falls back to this process's own limiter
    while Redis fails (and tries Redis again after ``retry_seconds``)."""

    def __init__(self, url: str, *, prefix: str = "hub:rate:", timeout: float = 0.25,
                 retry_seconds: float = 5.0) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url, socket_timeout=timeout,
                                           socket_connect_timeout=timeout)
        self._script = self._redis.register_script(_SCRIPT)
        self._prefix = prefix
        self._url = url
        self._local = LocalRateLimiter()
        self._retry_seconds = retry_seconds
        self._down_until = 0.0
        self._last_error: str | None = None

    async def take(self, client_id: str, rate: Rate) -> Verdict:
        if time.monotonic() < self._down_until:
            return self._local.take_now(client_id, rate)
        try:
            allowed, wait_us = await self._script(
                keys=[self._prefix + client_id],
                args=[rate.interval_us, rate.tolerance_us])
        except Exception as error:  # unreachable, timed out, refused: limit locally
            if self._last_error is None:
                log.warning("rate limits: Redis at %s failed (%s); each process limits on "
                            "its own until it answers again", _safe(self._url), error)
            self._last_error = f"{type(error).__name__}: {error}"[:200]
            self._down_until = time.monotonic() + self._retry_seconds
            return self._local.take_now(client_id, rate)
        if self._last_error is not None:
            log.warning("rate limits: Redis answers again; limits are shared again")
            self._last_error = None
        return Verdict(bool(allowed), int(wait_us) / 1e6)

    def status(self) -> dict[str, Any]:
        if self._last_error is not None:
            return {"backend": "local", "shared": False,
                    "problem": f"Redis unavailable: {self._last_error}"}
        return {"backend": "redis", "shared": True}

    async def close(self) -> None:
        await self._redis.aclose()

    async def ping(self) -> None:
        await asyncio.wait_for(self._redis.ping(), 2.0)


def _safe(url: str) -> str:
    """A Redis URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def open_rate_limiter(redis_url: str | None, prefix: str = "hub:") -> RateLimiter:
    return (RedisRateLimiter(redis_url, prefix=f"{prefix}rate:") if redis_url
            else LocalRateLimiter())


def default_rate(per_minute: int, burst: int) -> Rate | None:
    """The hub's default limit (``per_minute`` 0: none; ``burst`` 0: a sixth of a minute's
    worth, as in policy files)."""
    if per_minute <= 0:
        return None
    return Rate(per_minute, burst if burst > 0 else max(1, per_minute // 6))


def retry_after_header(verdict: Verdict) -> str:
    """Whole seconds, at least 1 (Retry-After takes no fractions)."""
    return str(max(1, math.ceil(verdict.retry_after)))
