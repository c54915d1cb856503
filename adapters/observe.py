"""Each call to a source, seen from outside: one span and two metrics per call.

A call is an adapter's unit of work against one source: a batch lookup (however many tries
it takes), one query, one page of a change feed. Its span carries the source, the operation,
the batch size, the rows returned and the outcome; the HTTP or PostgreSQL calls under it
(instrumented httpx and asyncpg) are its children. ``hub.source.duration`` (a histogram) and
``hub.source.errors`` (a counter) are recorded by source, operation and outcome: the outcome
is ``ok`` or the error code a client would see (``SOURCE_UNAVAILABLE``, ``SOURCE_TIMEOUT``),
a small fixed set, so the number of series stays bounded.

Without a configured provider (hub/telemetry/setup.py) the API's no-op tracer and meter
answer, and ``observe`` skips the span altogether: a call then costs a clock read and two
no-op metric calls.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import context, metrics, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from adapters.errors import SourceError

__all__ = ["SourceCall", "background", "enable_tracing", "observe", "quiet_unless_recording",
           "tracing_configured", "tracing_enabled"]

_tracer = trace.get_tracer("hub.adapters")
_meter = metrics.get_meter("hub.adapters")
_duration = _meter.create_histogram(
    "hub.source.duration", unit="s",
    description="Time of each call to a source (a batch, a query, a feed page), retries "
                "included")
_errors = _meter.create_counter(
    "hub.source.errors", unit="{call}", description="Calls to a source that failed")


class SourceCall:
    """What the caller learns during the call and the span should say."""

    __slots__ = ("rows", "server")

    def __init__(self) -> None:
        self.rows: int | None = None
        self.server: str | None = None  # which server of the source answered (a standby)


_tracing = False


def enable_tracing() -> None:
    """Say that this process records spans: called once its SDK tracer provider is installed
    (hub/telemetry/setup.py). Until then every check here answers at once; asking the API
    instead (it reads the environment each time no provider is set) cost half a per cent of
    an untraced hub's CPU."""
    global _tracing
    _tracing = True


def tracing_configured() -> bool:
    """Whether this process records spans at all."""
    return _tracing


def tracing_enabled() -> bool:
    """Whether a span started here could be recorded: tracing is configured, and the trace
    this work belongs to (if any) was sampled. A trace sampled out keeps its context, which
    is still propagated, but gets no spans of ours: under the usual parent-based sampling
    they would be dropped anyway, after costing their creation."""
    if not _tracing:
        return False
    span_context = trace.get_current_span().get_span_context()
    return not span_context.is_valid or span_context.trace_flags.sampled


def quiet_unless_recording(span: Span) -> AbstractContextManager[object]:
    """Within a trace sampled out, the asyncpg and httpx instrumentations are told to skip
    their work at once instead of building spans to drop (their cost, not ours, dominated a
    sampled-out request). The trace's context still travels to the systems the hub calls
    (adapters/http_json.py injects it)."""
    return nullcontext() if span.is_recording() else suppress_instrumentation()


@contextmanager
def background(name: str, **attributes: Any) -> Iterator[None]:
    """A trace of its own for one unit of work the hub does outside any request (an audit
    write, a scheduled synchronisation): the statements and calls it makes become its
    children, sampled with it, where each would otherwise start a trace of one span. When
    its trace is sampled out, they are not instrumented at all."""
    if not _tracing:
        yield
        return
    with _tracer.start_as_current_span(name, context=context.Context(),
                                       attributes=attributes) as span, \
            quiet_unless_recording(span):
        yield


@contextmanager
def observe(source: str, operation: str, *, batch: int | None = None) -> Iterator[SourceCall]:
    """Time ``source``'s ``operation``; the caller sets ``call.rows`` when it has them."""
    call = SourceCall()
    started = time.perf_counter()
    outcome = "ok"
    span = None
    if tracing_enabled():
        span = _tracer.start_span(f"{source} {operation}", kind=SpanKind.CLIENT, attributes={
            "hub.source": source, "hub.source.operation": operation})
        if batch is not None:
            span.set_attribute("hub.source.batch_size", batch)
    try:
        if span is None:
            yield call
        else:
            with trace.use_span(span, end_on_exit=False, record_exception=False,
                                set_status_on_exception=False):
                yield call
    except SourceError as error:
        outcome = error.code
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, error.message))
        raise
    except BaseException as error:
        outcome = "CANCELLED" if not isinstance(error, Exception) else "INTERNAL"
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        raise
    finally:
        attributes = {"source": source, "operation": operation, "outcome": outcome}
        _duration.record(time.perf_counter() - started, attributes)
        if outcome != "ok":
            _errors.add(1, attributes)
        if span is not None:
            span.set_attribute("hub.source.outcome", outcome)
            if call.rows is not None:
                span.set_attribute("hub.source.rows", call.rows)
            if call.server is not None:
                span.set_attribute("hub.source.server", call.server)
            span.end()
