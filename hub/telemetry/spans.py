"""Spans of the hub's own work on an operation: the operation, parsing, validation,
execution, the audit commit. Per operation and per phase only, never per field (a span per
resolved field would cost more than the field: STACK-NOTES.md).

When tracing is off, ``phase`` is a bare ``nullcontext``: no span objects, no context
switches.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from adapters.observe import tracing_enabled
from hub.audit.entry import AuditDraft

__all__ = ["current_trace_id", "describe_operation", "phase", "tracing_enabled"]

_tracer = trace.get_tracer("hub")


def phase(name: str, **attributes: Any) -> AbstractContextManager[Span | None]:
    """A child span of the current one for one phase of the work (or nothing, untraced)."""
    if not tracing_enabled():
        return nullcontext()
    return _tracer.start_as_current_span(name, attributes=attributes)


def current_trace_id() -> str | None:
    """The trace the current request belongs to (hex), when it is traced."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def describe_operation(span: Span, draft: AuditDraft, status: int) -> None:
    """Name an operation's span as GraphQL's conventions do (``query CivilServantPage``) and
    say who ran it and how it ended. The document's text is not recorded (it may hold a
    personal ID written inline): its keyed digest is, the same one the audit record holds."""
    kind = draft.operation_type
    if kind is not None:
        span.update_name(f"{kind} {draft.operation_name}" if draft.operation_name else kind)
        span.set_attribute("graphql.operation.type", kind)
    if draft.operation_name:
        span.set_attribute("graphql.operation.name", draft.operation_name)
    if draft.document_hash:
        span.set_attribute("hub.document_digest", draft.document_hash)
    span.set_attribute("hub.client", draft.client_id)
    if draft.purpose:
        span.set_attribute("hub.purpose", draft.purpose)
    span.set_attribute("hub.outcome", draft.outcome)
    if draft.errors:
        span.set_attribute("hub.error_codes", list(dict.fromkeys(draft.errors)))
    if status >= 500 or draft.outcome == "failed":
        span.set_status(Status(StatusCode.ERROR, ", ".join(draft.errors[:3])))
