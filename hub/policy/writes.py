"""Write grants: which changes a client may submit to the national database, for whom.

A purpose's ``writes`` maps change kinds (the record groups of DESIGN.md §3) to a grant: the
records the client may change (a row scope, in the language of the read side's row filters),
whether the employee must co-sign, and the legal basis. They compile into ``WriteGrant``s,
whose row filters are the same ``RowFilter`` objects the read side pushes down to sources:

- for ``register-employee`` and ``transfer-in`` the employee is not in the agency yet, so the
  scope is on the agency the employee joins: conditions on ``Agency`` fields
  (``authority``, ``parent.authority``), the filter is for the ``agency`` entity;
- for every other kind, on the employee's current record: conditions on ``CivilServant``
  fields (``status``, ``agency.authority``), the filter is for the ``employee`` entity.

A scope is evaluated by the hub, never shown to the client, so it may compare fields the
client may not read (a submitter who may not read ``Agency.authority`` can still be scoped
by it). The employee's own declarations (``DECLARATION_KINDS``) always need the employee's
co-signature: a policy cannot waive it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from graphql import GraphQLObjectType

from adapters import RowFilter
from hub.policy.model import ClientPolicy, Purpose, WriteRule
from hub.policy.rows import RowFilterCompiler

__all__ = ["DECLARATION_KINDS", "WRITE_KINDS", "WriteGrant", "WriteKind", "compile_writes",
           "write_subject"]

SubjectType = Literal["CivilServant", "Agency"]


@dataclass(frozen=True, slots=True)
class WriteKind:
    name: str
    label: str                 # what a submission of this kind changes
    subject_type: SubjectType  # what the row scope's conditions are on
    declaration: bool = False  # the employee's own declaration: co-signed, always

    @property
    def entity(self) -> str:
        return "agency" if self.subject_type == "Agency" else "employee"


def _kinds(*kinds: WriteKind) -> dict[str, WriteKind]:
    return {kind.name: kind for kind in kinds}


WRITE_KINDS: Mapping[str, WriteKind] = _kinds(
    WriteKind("register-employee", "registering a new employee in an agency", "Agency"),
    WriteKind("position-change", "a change of position, rank or salary step", "CivilServant"),
    WriteKind("discipline-decision", "a new discipline decision", "CivilServant"),
    WriteKind("discipline-end", "the end of a discipline decision", "CivilServant"),
    WriteKind("evaluation", "a yearly evaluation", "CivilServant"),
    WriteKind("training", "a training course", "CivilServant"),
    WriteKind("qualification", "a qualification", "CivilServant"),
    WriteKind("award", "an award", "CivilServant"),
    WriteKind("transfer-out", "a transfer out of the employee's agency", "CivilServant"),
    WriteKind("transfer-in", "taking a transferred employee into an agency", "Agency"),
    WriteKind("personal-history", "the employee's declared personal history", "CivilServant",
              declaration=True),
    WriteKind("family", "the employee's declared family", "CivilServant", declaration=True),
    WriteKind("asset-declaration", "the employee's asset and income declaration",
              "CivilServant", declaration=True),
)

DECLARATION_KINDS = frozenset(name for name, kind in WRITE_KINDS.items() if kind.declaration)


def write_subject(kind: str) -> str:
    """How findings and `hub policy explain` name a change kind: ``write:position-change``."""
    return f"write:{kind}"


@dataclass(frozen=True, slots=True)
class WriteGrant:
    """What one client may submit of one kind, for one purpose, compiled.

    ``rows`` is a row filter for ``entity``: the employee's record (``employee``) or, for
    ``register-employee`` and ``transfer-in``, the agency the employee joins (``agency``). An
    empty filter allows every record. ``scope`` is its readable account, as
    `hub policy explain` prints it; ``cosign`` says the employee's co-signature is required."""

    kind: str
    entity: str                   # "employee" or "agency"
    subject_type: SubjectType     # "CivilServant" or "Agency"
    rows: RowFilter
    scope: tuple[str, ...]
    cosign: bool
    legal_basis: str

    @property
    def unscoped(self) -> bool:
        return not self.rows


class _WriteCompiler:
    def __init__(self, types: Mapping[str, GraphQLObjectType], client: ClientPolicy,
                 purpose: Purpose, problem: Callable[[str, str], None]) -> None:
        self.types = types
        self.client = client
        self.purpose = purpose
        self.problem = problem

    def _misplaced(self, kind: WriteKind, path: str) -> str | None:
        """A hint when a condition is written on the wrong type for its kind (a CivilServant
        path for a kind scoped by the agency joined, or the other way round)."""
        first = path.partition(".")[0]
        own = self.types[kind.subject_type]
        if first in own.fields:
            return None
        if kind.subject_type == "Agency":
            if first in self.types["CivilServant"].fields:
                inner = path.partition(".")[2]
                example = f"`{inner}`" if first == "agency" and inner else "e.g. `authority`"
                return (f"rows of {kind.name} are conditions on the agency the employee joins "
                        f"(Agency fields, {example}), not on the employee: {path!r} is a "
                        "CivilServant field")
            return None
        if first in self.types["Agency"].fields:
            return (f"rows of {kind.name} are conditions on the employee (CivilServant fields): "
                    f"for the employee's agency write `agency.{path}`")
        return None

    def _one(self, name: str, rule: WriteRule) -> WriteGrant | None:
        subject = write_subject(name)
        kind = WRITE_KINDS.get(name)
        if kind is None:
            self.problem(subject, f"no change kind {name!r}: the kinds are "
                                  f"{', '.join(WRITE_KINDS)}")
            return None
        failed = False

        def problem(_type_name: str, message: str) -> None:
            nonlocal failed
            failed = True
            self.problem(subject, message)

        if kind.declaration and rule.cosign is False:
            problem(kind.subject_type, "the employee's own declaration needs the employee's "
                                       "co-signature: a policy cannot waive it (remove "
                                       "`cosign: none`)")
        placed = []
        for condition in rule.rows:
            hint = self._misplaced(kind, condition.field)
            if hint is not None:
                problem(kind.subject_type, hint)
            else:
                placed.append(condition)
        rows, scope = RowFilterCompiler(self.types, self.client, self.purpose,
                                        problem).conditions(kind.subject_type, tuple(placed))
        if failed:
            return None
        return WriteGrant(kind=name, entity=kind.entity, subject_type=kind.subject_type,
                          rows=rows, scope=scope, cosign=kind.declaration or bool(rule.cosign),
                          legal_basis=rule.legal_basis)

    def compile(self) -> dict[str, WriteGrant]:
        grants = {}
        for name, rule in self.purpose.writes.items():
            grant = self._one(name, rule)
            if grant is not None:
                grants[name] = grant
        return grants


def compile_writes(types: Mapping[str, GraphQLObjectType], client: ClientPolicy,
                   purpose: Purpose, problem: Callable[[str, str], None]
                   ) -> dict[str, WriteGrant]:
    """The purpose's write grants by kind; each problem goes to ``problem(subject, message)``
    with the subject ``write:<kind>``."""
    return _WriteCompiler(types, client, purpose, problem).compile()
