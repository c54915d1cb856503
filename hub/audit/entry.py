"""One operation's audit record: what the request path gathers, and the entry it becomes.

An entry (format version 1) is a JSON object; the chain hash covers all of it:

    v          1
    chain      the writer's chain id (UUID text)          seq   position in the chain, from 1
    at         when the record was sealed (UTC, microseconds; also the row's recorded_at)
    request    the request id (X-Request-Id, or one the hub made)
    trace      the W3C trace id (from traceparent, or one the hub made)
    client     the OAuth client id, "-" when no token was accepted
    agency     the client's agency code from its policy, or null
    endUser    the end user the client named (X-End-User), or null
    purpose    the declared purpose of use, or null
    operation  {type: query|mutation|null, name, document: SHA-256 of the normalised
                document, variables: HMAC-SHA256 of the canonical variables, or null}
    outcome    allowed | partial (data with errors) | refused (nothing ran) | failed
    status     the HTTP status answered
    errors     the error codes answered, sorted, without repeats
    disclosed  [{fields: ["Type.field", ...], subjects: [personal ID, ...]}], one group per
               distinct set of fields; a group with no subjects holds fields about no person
    denied     {fields: ["Type.field", ...] outside the client's grants, reason} or null
    sources    {source name: calls made}
    latencyUs  time from admission to the answer, in microseconds

No value from an answer is ever stored: only field names, personal IDs and digests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from hub.audit.chain import ENTRY_VERSION, timestamp

__all__ = ["OUTCOMES", "UNAUTHENTICATED_CLIENT", "AuditDraft", "Disclosed", "entry_subjects",
           "seal_entry"]

OUTCOMES = frozenset({"allowed", "partial", "refused", "failed"})
UNAUTHENTICATED_CLIENT = "-"

# Fields per subject, grouped: (fields, subjects), both sorted; as pairs or a mapping.
DisclosedGroup = tuple[tuple[str, ...], Sequence[str]]
Disclosed = Mapping[tuple[str, ...], Sequence[str]] | Sequence[DisclosedGroup]


def _groups(disclosed: Disclosed) -> list[DisclosedGroup]:
    return list(disclosed.items()) if isinstance(disclosed, Mapping) else list(disclosed)


@dataclass(slots=True)
class AuditDraft:
    """What the request path knows about one operation before it joins a chain."""

    request_id: str
    trace_id: str
    client_id: str = UNAUTHENTICATED_CLIENT
    agency: str | None = None
    end_user: str | None = None
    purpose: str | None = None
    operation_type: str | None = None
    operation_name: str | None = None
    document_hash: str | None = None
    variables_digest: str | None = None
    outcome: str = "refused"
    status: int = 200
    errors: list[str] = field(default_factory=list)
    disclosed: Disclosed = field(default_factory=list)
    denied_fields: list[str] = field(default_factory=list)
    denied_reason: str | None = None
    sources: Mapping[str, int] = field(default_factory=dict)
    latency_us: int = 0

    def subjects(self) -> list[str]:
        """Every personal ID the operation disclosed something of, sorted."""
        found: set[str] = set()
        for _, subjects in _groups(self.disclosed):
            found.update(subjects)
        return sorted(found)


def _text(value: str | None, limit: int = 256) -> str | None:
    """A string fit for the log: printable characters only (a NUL, which jsonb cannot hold,
    or a control character from a client-chosen name must not fail a commit shared with other
    requests), at most ``limit`` characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if not value.isprintable():
        value = "".join(c if c.isprintable() else "\ufffd" for c in value)
    return value if len(value) <= limit else value[:limit - 1] + "\u2026"


def _texts(values: Iterable[str], limit: int = 256) -> list[str]:
    return [_text(v, limit) or "" for v in values]


def seal_entry(draft: AuditDraft, chain_id: UUID, seq: int, at: datetime) -> dict[str, Any]:
    """The entry ``draft`` becomes at position ``seq`` of ``chain_id``."""
    if draft.outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {draft.outcome!r}")
    denied = None
    if draft.denied_fields or draft.denied_reason is not None:
        denied = {"fields": sorted(_texts(draft.denied_fields, 512)),
                  "reason": _text(draft.denied_reason, 1024)}
    return {
        "v": ENTRY_VERSION,
        "chain": str(chain_id),
        "seq": seq,
        "at": timestamp(at),
        "request": _text(draft.request_id, 160),
        "trace": _text(draft.trace_id, 64),
        "client": _text(draft.client_id),
        "agency": _text(draft.agency, 64),
        "endUser": _text(draft.end_user),
        "purpose": _text(draft.purpose, 64),
        "operation": {"type": _text(draft.operation_type, 16),
                      "name": _text(draft.operation_name),
                      "document": _text(draft.document_hash, 64),
                      "variables": _text(draft.variables_digest, 64)},
        "outcome": draft.outcome,
        "status": int(draft.status),
        "errors": sorted(set(_texts(draft.errors, 64))),
        "disclosed": [{"fields": _texts(fields, 512), "subjects": _texts(subjects, 64)}
                      for fields, subjects in sorted(_groups(draft.disclosed))],
        "denied": denied,
        "sources": {_text(name, 64) or "": int(calls)
                    for name, calls in sorted(draft.sources.items())},
        "latencyUs": int(draft.latency_us),
    }


def entry_subjects(entry: Mapping[str, Any]) -> list[str]:
    """Every personal ID an entry names, sorted (the record's ``subject_ids`` column)."""
    found: set[str] = set()
    for group in entry["disclosed"]:
        found.update(group["subjects"])
    return sorted(found)
