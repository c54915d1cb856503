"""Counting source calls per request, so batching can be seen (and tested) from outside.

The hub opens a log for each request in a context variable; adapters record each call they
make. Tasks spawned inside the request (DataLoader batches) inherit the context, so their calls
land in the same log. Outside a request nothing is recorded.
"""

from __future__ import annotations

from collections import Counter
from contextvars import ContextVar

__all__ = ["current_call_log", "open_call_log", "record_call"]

_call_log: ContextVar[Counter[str] | None] = ContextVar("hub_source_calls", default=None)


def open_call_log() -> Counter[str]:
    log: Counter[str] = Counter()
    _call_log.set(log)
    return log


def current_call_log() -> Counter[str] | None:
    return _call_log.get()


def record_call(source: str) -> None:
    log = _call_log.get()
    if log is not None:
        log[source] += 1
