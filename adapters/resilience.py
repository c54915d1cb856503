"""Resilience per source: a concurrency limit, retries of idempotent reads, and a circuit
breaker, all inside the call's own time budget.

- **Concurrency.** At most ``max_concurrency`` calls to the source are in flight from this
  process; a call waits for a slot within its time budget, so a slow source cannot tie up
  every connection the hub has.
- **Retries.** A read the source may safely see twice is tried again when it failed in a way
  that may pass (unreachable, reset, HTTP 5xx), after a short pause that grows (with jitter so
  processes do not retry in step), while the budget lasts. A timeout is not retried: the
  budget is spent. A refusal of the hub's credentials or a malformed answer is not retried.
- **Circuit breaker.** After ``breaker_failures`` failed calls in a row the breaker opens: for
  ``breaker_open_seconds`` calls fail at once, without reaching the source, and the fields
  the source owns are null with the source named (DESIGN.md §8). Then one call is let through
  as a probe (half-open): its success closes the breaker, its failure opens it again.
  ``status()`` is for ``/readyz``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.errors import SourceError, SourceTimeout, SourceUnavailable
from adapters.observe import observe

__all__ = ["Guard", "Resilience", "retryable"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Resilience:
    retries: int = 1
    backoff_seconds: float = 0.05
    max_concurrency: int = 32
    breaker_failures: int = 5
    breaker_open_seconds: float = 10.0
    max_response_bytes: int = 16 * 1024 * 1024  # a longer answer is a failure


def retryable(error: SourceUnavailable) -> SourceUnavailable:
    """Mark a failure that may pass if the same read is tried again."""
    error.retryable = True  # type: ignore[attr-defined]
    return error


class Guard:
    """One source's limit, retries and breaker (one per adapter, opened with the app)."""

    def __init__(self, source: str, settings: Resilience | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.source = source
        self.settings = settings or Resilience()
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(self.settings.max_concurrency)
        self._failures = 0
        self._open_until: float | None = None
        self._probing = False
        self.opened = 0  # times the breaker opened (for readiness and tests)

    @property
    def state(self) -> str:
        if self._open_until is None:
            return "closed"
        return "open" if self._clock() < self._open_until else "half-open"

    def status(self) -> dict[str, Any]:
        state = self.state
        found: dict[str, Any] = {"state": state, "failuresInARow": self._failures}
        if state == "open" and self._open_until is not None:
            found["retryInSeconds"] = round(self._open_until - self._clock(), 1)
        return found

    def raise_if_open(self) -> None:
        """For readiness checks: an open breaker is a source not ready (a check does not
        probe it, nor count towards opening or closing it)."""
        if self.state == "open":
            raise SourceUnavailable(self.source, "is failing: calls paused (circuit open)")

    def _admit(self) -> bool:
        """Whether a call may go to the source now (True for the half-open probe)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._probing:
            self._probing = True
            return True
        return False

    def _succeeded(self) -> None:
        self._failures = 0
        self._open_until = None
        self._probing = False

    def _failed(self) -> None:
        self._failures += 1
        probe = self._probing
        self._probing = False
        if probe or self._failures >= self.settings.breaker_failures:
            if self.state != "open":
                self.opened += 1
            self._open_until = self._clock() + self.settings.breaker_open_seconds

    async def run(self, call: Callable[[float], Awaitable[T]], *, timeout: float,
                  idempotent: bool, operation: str = "call", batch: int | None = None) -> T:
        """``call(seconds_left)`` under the guard, within ``timeout`` seconds in all; seen
        from outside as one call of ``operation`` (adapters/observe.py), with ``batch`` keys
        and, when it returns a list, that many rows."""
        with observe(self.source, operation, batch=batch) as seen:
            result = await self._run(call, timeout=timeout, idempotent=idempotent)
            if isinstance(result, list):
                seen.rows = len(result)
            return result

    async def _run(self, call: Callable[[float], Awaitable[T]], *, timeout: float,
                   idempotent: bool) -> T:
        if not self._admit():
            wait = (self._open_until or 0) - self._clock()
            raise SourceUnavailable(self.source, f"is failing: calls paused for "
                                                 f"{max(wait, 0):.1f} s more (circuit open)")
        deadline = self._clock() + timeout
        attempts = 1 + (self.settings.retries if idempotent else 0)
        delay = self.settings.backoff_seconds
        for attempt in range(attempts):
            left = deadline - self._clock()
            try:
                async with asyncio.timeout(max(left, 0.001)):
                    await self._slots.acquire()
            except TimeoutError:
                self._probing = False  # nothing was tried: the breaker learns nothing
                raise SourceTimeout(self.source, f"had {self.settings.max_concurrency} calls "
                                                 f"in flight for {timeout:g} s") from None
            try:
                result = await call(max(deadline - self._clock(), 0.001))
            except SourceError as error:
                last = attempt == attempts - 1
                again = (not last and getattr(error, "retryable", False)
                         and deadline - self._clock() > delay)
                if not again:
                    self._failed()
                    raise
            else:
                self._succeeded()
                return result
            finally:
                self._slots.release()
            await self._sleep(delay * random.uniform(0.5, 1.0))
            delay *= 2
        raise AssertionError("unreachable")
