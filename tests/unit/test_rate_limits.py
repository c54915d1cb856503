"""Rate limits (GCRA): in one process against a clock of the test's own, and shared through
a real Redis by several limiters as several hub processes would be; Redis failing falls back
to limiting in the process."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from hub.rate_limits import (
    LocalRateLimiter,
    Rate,
    RedisRateLimiter,
    default_rate,
    retry_after_header,
)

RATE = Rate(per_minute=60, burst=5)  # one a second sustained, five at once


class Clock:
    def __init__(self) -> None:
        self.now_us = 1_000_000_000

    def __call__(self) -> int:
        return self.now_us

    def advance(self, seconds: float) -> None:
        self.now_us += int(seconds * 1e6)


def test_a_burst_passes_whole_and_the_next_waits_one_interval() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(clock=clock)
    assert [limiter.take_now("a", RATE).allowed for _ in range(5)] == [True] * 5
    refused = limiter.take_now("a", RATE)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(1.0)
    assert retry_after_header(refused) == "1"
    # Just under the wait: still refused, and a refusal moves nothing.
    clock.advance(0.999)
    assert not limiter.take_now("a", RATE).allowed
    clock.advance(0.001)
    assert limiter.take_now("a", RATE).allowed
    assert not limiter.take_now("a", RATE).allowed
    # Another client has its own allowance.
    assert limiter.take_now("b", RATE).allowed


def test_the_sustained_rate_is_held_over_time() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(clock=clock)
    allowed = 0
    for _ in range(6000):  # ten minutes at ten tries a second
        allowed += limiter.take_now("a", RATE).allowed
        clock.advance(0.1)
    # The burst at once, then one a second for the rest of the ten minutes: 60 a minute.
    assert allowed == 5 + 599
    # After a quiet spell the burst is back, and no more than the burst.
    clock.advance(60)
    assert [limiter.take_now("a", RATE).allowed for _ in range(6)] == [True] * 5 + [False]


def test_a_burst_of_one_is_a_plain_rate() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(clock=clock)
    single = Rate(per_minute=120, burst=1)
    assert limiter.take_now("a", single).allowed
    refused = limiter.take_now("a", single)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.5)
    assert retry_after_header(refused) == "1"  # whole seconds, at least one


def test_the_memory_is_bounded_and_forgets_the_quietest() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(clock=clock, max_clients=3)
    for client in ("a", "b", "c", "d"):
        for _ in range(5):
            limiter.take_now(client, RATE)
    assert limiter.take_now("a", RATE).allowed  # forgotten: a full allowance again
    assert not limiter.take_now("d", RATE).allowed


@pytest.mark.parametrize(("per_minute", "burst", "expected"), [
    (0, 0, None), (0, 10, None), (600, 0, Rate(600, 100)), (5, 0, Rate(5, 1)),
    (600, 7, Rate(600, 7))])
def test_the_hubs_default(per_minute: int, burst: int, expected: Rate | None) -> None:
    assert default_rate(per_minute, burst) == expected


# -- shared through Redis -----------------------------------------------------------------------

def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_limiters_sharing_redis_share_one_allowance(redis_url: str) -> None:
    async def scenario() -> tuple[list[bool], list[bool], Any, dict[str, Any]]:
        first, second = RedisRateLimiter(redis_url), RedisRateLimiter(redis_url)
        client = f"test-{uuid.uuid4().hex}"
        try:
            one = [(await first.take(client, RATE)).allowed for _ in range(3)]
            two = [(await second.take(client, RATE)).allowed for _ in range(2)]
            over = [await first.take(client, RATE), await second.take(client, RATE)]
            other = await second.take(f"{client}-other", RATE)
            assert other.allowed
            return one, two, over, second.status()
        finally:
            await first.close()
            await second.close()

    one, two, over, status = _run(scenario())
    assert one == [True] * 3
    assert two == [True] * 2
    assert [v.allowed for v in over] == [False, False]
    assert 0.5 < over[0].retry_after <= 1.0
    assert status == {"backend": "redis", "shared": True}


def test_concurrent_takes_through_redis_let_exactly_the_burst_through(redis_url: str) -> None:
    async def scenario() -> int:
        limiters = [RedisRateLimiter(redis_url) for _ in range(4)]
        client = f"test-{uuid.uuid4().hex}"
        try:
            verdicts = await asyncio.gather(*(limiters[i % 4].take(client, Rate(60, 20))
                                              for i in range(100)))
            return sum(v.allowed for v in verdicts)
        finally:
            for limiter in limiters:
                await limiter.close()

    assert _run(scenario()) == 20


def test_redis_unreachable_falls_back_to_the_process_and_says_so() -> None:
    async def scenario() -> tuple[list[bool], dict[str, Any]]:
        limiter = RedisRateLimiter("redis://:secret@127.0.0.1:1/0", timeout=0.2)
        try:
            allowed = [(await limiter.take("a", RATE)).allowed for _ in range(6)]
            return allowed, limiter.status()
        finally:
            await limiter.close()

    allowed, status = _run(scenario())
    assert allowed == [True] * 5 + [False]
    assert status["backend"] == "local"
    assert status["shared"] is False
    assert "Redis unavailable" in status["problem"]
    assert "secret" not in str(status)


def test_a_private_redis_is_started_when_none_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests import redis_server

    monkeypatch.delenv("HUB_REDIS_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    real = redis_server._answers
    monkeypatch.setattr(redis_server, "_answers",
                        lambda host, port: port != 6379 and real(host, port))
    with redis_server.redis_for_tests() as url:
        assert not url.endswith(":6379/15")

        async def check() -> bool:
            limiter = RedisRateLimiter(url)
            try:
                return (await limiter.take("a", RATE)).allowed
            finally:
                await limiter.close()

        assert _run(check())
