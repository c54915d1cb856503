"""The hub's own metrics: requests, their latency, policy denials, the audit log's lag.

Every attribute takes a bounded set of values, so a client cannot grow the number of series:
the client (registered ids, or ``-`` before authentication), the operation type, the outcome
and error code (fixed lists), and the operation name, which clients choose freely, counted
under its own name only for the first ``MAX_OPERATION_NAMES`` names seen by this process and
as ``(other)`` after that.
"""

from __future__ import annotations

import threading

from opentelemetry import metrics

from hub.audit.entry import AuditDraft

__all__ = ["MAX_OPERATION_NAMES", "record_audit_lag", "record_request"]

MAX_OPERATION_NAMES = 200
_OTHER = "(other)"

_meter = metrics.get_meter("hub")
_requests = _meter.create_counter(
    "hub.requests", unit="{operation}",
    description="GraphQL operations by client, operation, outcome and first error code")
_latency = _meter.create_histogram(
    "hub.request.duration", unit="s",
    description="Time from a request's arrival to its answer being ready (audit commit "
                "excluded: see hub.audit.commit_lag)")
_denials = _meter.create_counter(
    "hub.policy.denials", unit="{operation}",
    description="Operations refused by policy: a field outside the client's grants, a purpose "
                "or client not admitted, a document not trusted")
_audit_lag = _meter.create_histogram(
    "hub.audit.commit_lag", unit="s",
    description="Time an answer waits for its audit record to be committed")


class _BoundedNames:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, name: str | None) -> str:
        if not name:
            return ""
        if name in self._seen:
            return name
        with self._lock:
            if len(self._seen) < self._limit:
                self._seen.add(name)
                return name
        return _OTHER


_operation_name = _BoundedNames(MAX_OPERATION_NAMES)


def record_request(draft: AuditDraft) -> None:
    """Count one answered operation (called once its audit record is settled)."""
    code = draft.errors[0] if draft.errors else ""
    client = draft.client_id
    _requests.add(1, {"client": client, "operation.type": draft.operation_type or "",
                      "operation.name": _operation_name(draft.operation_name),
                      "outcome": draft.outcome, "code": code})
    _latency.record(draft.latency_us / 1e6, {"client": client,
                                            "operation.type": draft.operation_type or "",
                                            "outcome": draft.outcome})
    if draft.denied_fields:
        _denials.add(1, {"client": client, "reason": "FIELDS_OUTSIDE_GRANT"})
    elif draft.denied_reason is not None and code in ("FORBIDDEN", "UNAUTHENTICATED"):
        _denials.add(1, {"client": client, "reason": code})


def record_audit_lag(seconds: float, outcome: str) -> None:
    _audit_lag.record(seconds, {"outcome": outcome})
