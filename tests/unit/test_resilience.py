"""A source's guard (adapters/resilience.py) with a clock and a sleep of the test's own:
retries of idempotent reads that may pass, within the time budget; the breaker opening,
failing fast, probing half-open and closing; the concurrency limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.errors import SourceTimeout, SourceUnavailable
from adapters.resilience import Guard, Resilience, retryable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def guard(clock: Clock, **settings: Any) -> Guard:
    return Guard("population", Resilience(**settings), clock=clock, sleep=clock.sleep)


class Source:
    """Fails the first ``failures`` calls (retryably unless told), then answers."""

    def __init__(self, failures: int = 0, *, can_retry: bool = True,
                 error: type[Exception] = SourceUnavailable) -> None:
        self.failures = failures
        self.calls = 0
        self.budgets: list[float] = []
        self.can_retry = can_retry
        self.error = error

    async def __call__(self, seconds: float) -> str:
        self.calls += 1
        self.budgets.append(seconds)
        if self.calls <= self.failures:
            failure = self.error("population", "answered HTTP 503")
            raise retryable(failure) if self.can_retry and isinstance(
                failure, SourceUnavailable) else failure
        return "answer"


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_read_that_may_pass_is_tried_again_with_a_growing_pause() -> None:
    clock = Clock()
    source = Source(failures=2)
    assert run(guard(clock, retries=2).run(source, timeout=2.0, idempotent=True)) == "answer"
    assert source.calls == 3
    assert len(clock.slept) == 2
    assert 0.025 <= clock.slept[0] <= 0.05
    assert 0.05 <= clock.slept[1] <= 0.1
    assert source.budgets[0] == 2.0
    assert source.budgets[2] < 2.0


@pytest.mark.parametrize(("source", "idempotent"), [
    (Source(failures=1), False),                      # a write is never sent twice
    (Source(failures=1, can_retry=False), True),      # credentials refused, malformed answer
    (Source(failures=1, error=SourceTimeout), True),  # the budget is spent
])
def test_what_is_not_tried_again(source: Source, idempotent: bool) -> None:
    with pytest.raises((SourceUnavailable, SourceTimeout)):
        run(guard(Clock(), retries=3).run(source, timeout=2.0, idempotent=idempotent))
    assert source.calls == 1


def test_retries_stop_when_the_budget_would_not_cover_the_pause() -> None:
    clock = Clock()
    source = Source(failures=5)
    with pytest.raises(SourceUnavailable):
        run(guard(clock, retries=5, backoff_seconds=0.4).run(source, timeout=1.0,
                                                              idempotent=True))
    assert source.calls == 2  # 0.4 then 0.8: the second pause would outlast the budget


def test_the_breaker_opens_fails_fast_probes_and_closes() -> None:
    clock = Clock()
    keeper = guard(clock, retries=0, breaker_failures=3, breaker_open_seconds=10)
    failing = Source(failures=100)

    async def call(source: Source) -> Any:
        return await keeper.run(source, timeout=1.0, idempotent=True)

    for _ in range(3):
        with pytest.raises(SourceUnavailable):
            run(call(failing))
    assert keeper.status()["state"] == "open"
    assert keeper.opened == 1
    with pytest.raises(SourceUnavailable, match="circuit open"):
        run(call(failing))
    with pytest.raises(SourceUnavailable):
        keeper.raise_if_open()
    assert failing.calls == 3  # the open breaker kept the fourth call from the source
    clock.now += 9.9
    assert keeper.status()["state"] == "open"
    clock.now += 0.2
    assert keeper.status()["state"] == "half-open"
    # The probe fails: open again, for another full period.
    with pytest.raises(SourceUnavailable):
        run(call(failing))
    assert (keeper.status()["state"], keeper.opened, failing.calls) == ("open", 2, 4)
    clock.now += 10.1
    healthy = Source()
    assert run(call(healthy)) == "answer"
    assert keeper.status() == {"state": "closed", "failuresInARow": 0}


def test_successes_between_failures_keep_the_breaker_closed() -> None:
    clock = Clock()
    keeper = guard(clock, retries=0, breaker_failures=3)
    for _ in range(10):
        with pytest.raises(SourceUnavailable):
            run(keeper.run(Source(failures=1), timeout=1.0, idempotent=True))
        with pytest.raises(SourceUnavailable):
            run(keeper.run(Source(failures=1), timeout=1.0, idempotent=True))
        assert run(keeper.run(Source(), timeout=1.0, idempotent=True)) == "answer"
    assert keeper.status()["state"] == "closed"


def test_only_one_probe_at_a_time_when_half_open() -> None:
    async def scenario() -> list[str]:
        clock = Clock()
        keeper = guard(clock, retries=0, breaker_failures=1, breaker_open_seconds=1)
        with pytest.raises(SourceUnavailable):
            await keeper.run(Source(failures=1), timeout=1.0, idempotent=True)
        clock.now += 1.5
        release = asyncio.Event()

        async def slow(seconds: float) -> str:
            await release.wait()
            return "probe"

        probe = asyncio.ensure_future(keeper.run(slow, timeout=5.0, idempotent=True))
        await asyncio.sleep(0)
        outcomes = []
        try:
            await keeper.run(Source(), timeout=1.0, idempotent=True)
        except SourceUnavailable as error:
            outcomes.append(error.message)
        release.set()
        outcomes.append(await probe)
        outcomes.append(keeper.state)
        return outcomes

    refused, probe, state = asyncio.run(scenario())
    assert "circuit open" in refused
    assert (probe, state) == ("probe", "closed")


def test_the_concurrency_limit_holds_and_waiting_counts_against_the_budget() -> None:
    async def scenario() -> tuple[int, str]:
        keeper = Guard("population", Resilience(max_concurrency=2))
        running = peak = 0
        gate = asyncio.Event()

        async def slow(seconds: float) -> str:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await gate.wait()
            running -= 1
            return "ok"

        calls = [asyncio.ensure_future(keeper.run(slow, timeout=5.0, idempotent=True))
                 for _ in range(2)]
        await asyncio.sleep(0.01)
        try:
            await keeper.run(slow, timeout=0.05, idempotent=True)
            waited = "answered"
        except SourceTimeout as error:
            waited = error.message
        gate.set()
        await asyncio.gather(*calls)
        return peak, waited

    peak, waited = asyncio.run(scenario())
    assert peak == 2
    assert "2 calls in flight" in waited
