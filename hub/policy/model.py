"""Policies as data: what each client may read, per purpose of use, per GraphQL type, and
which changes it may submit (per change kind).

These classes are what a policy file says, checked for shape and nothing else: whether the
types and fields exist, and what a grant means for a query, is decided against the schema by
``hub.policy.compile``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["AttributeRef", "ClientPolicy", "PolicySet", "PolicyTest", "Purpose", "RowCondition",
           "TypeGrant", "WriteRule", "document_id"]

Scalar = str | int | bool


@dataclass(frozen=True, slots=True)
class AttributeRef:
    """A value taken from the client's own attributes (its province, its agency...)."""

    attribute: str


@dataclass(frozen=True, slots=True)
class RowCondition:
    field: str                     # "status" or, one link away, "agency.provinceCode"
    op: Literal["equals", "in"]
    value: Scalar | tuple[Scalar, ...] | AttributeRef

    def describe(self) -> str:
        if isinstance(self.value, AttributeRef):
            shown = f"client.{self.value.attribute}"
        elif isinstance(self.value, tuple):
            shown = "[" + ", ".join(str(v) for v in self.value) + "]"
        else:
            shown = str(self.value)
        return f"{self.field} {'=' if self.op == 'equals' else 'in'} {shown}"


@dataclass(frozen=True, slots=True)
class TypeGrant:
    fields: frozenset[str]
    masks: Mapping[str, str] = field(default_factory=dict)
    legal_basis: Mapping[str, str] = field(default_factory=dict)
    rows: tuple[RowCondition, ...] = ()


@dataclass(frozen=True, slots=True)
class WriteRule:
    """One change kind a purpose allows, as the file says it (``writes:``): the row scope
    (conditions on CivilServant, or on Agency for the kinds that bring an employee into an
    agency), the co-signature (True: ``cosign: employee``; False: ``cosign: none``; None:
    not said) and the legal basis."""

    rows: tuple[RowCondition, ...] = ()
    cosign: bool | None = None
    legal_basis: str = ""


@dataclass(frozen=True, slots=True)
class Purpose:
    name: str
    description: str
    grants: Mapping[str, TypeGrant]
    writes: Mapping[str, WriteRule] = field(default_factory=dict)  # change kind -> rule


@dataclass(frozen=True, slots=True)
class PolicyTest:
    name: str
    purpose: str
    query: str | None             # None: a case that checks only what needs no query (writes)
    expect: Mapping[str, Any]
    variables: Mapping[str, Any] | None = None
    operation: str | None = None


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """How much a client may ask: requests a minute sustained and at once (None: the hub's
    default rate), and the estimated cost one operation may have (None: the hub's)."""

    requests_per_minute: int | None = None
    burst: int | None = None
    max_cost: int | None = None


@dataclass(frozen=True, slots=True)
class ClientPolicy:
    client_id: str
    name: str
    agency: str
    attributes: Mapping[str, Scalar | tuple[Scalar, ...]]
    purposes: Mapping[str, Purpose]
    tests: tuple[PolicyTest, ...]
    source: Path
    limits: ClientLimits | None = None  # None: the hub's defaults
    # Trusted documents by id ("sha256:<hex>" of the text), and whether they are all the
    # client may run.
    documents: Mapping[str, str] = field(default_factory=dict)
    documents_required: bool = False


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every client's policy, as loaded together from one folder. ``digest`` identifies the
    exact contents: views compiled from one set are never mixed with another's."""

    clients: Mapping[str, ClientPolicy]
    digest: str

    def purposes_of(self, client_id: str) -> frozenset[str]:
        """The purposes a client's policy declares (none for a client without a policy)."""
        client = self.clients.get(client_id)
        return frozenset(client.purposes) if client is not None else frozenset()


def document_id(text: str) -> str:
    """A trusted document's id: ``sha256:`` and the hex digest of its text (surrounding
    white space aside), as a client computes it from the same text."""
    return "sha256:" + hashlib.sha256(text.strip().encode("utf-8")).hexdigest()
