"""Lookup tables derived from a plan, built once per process and shared by all its chunks.

Building them costs a few milliseconds; rebuilding them per chunk would be wasted work, and
sending them to worker processes would cost more than rebuilding them there. Workers receive
the (small) plan and call :func:`context_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hub.seed import binary
from hub.seed.agencies import Agency
from hub.seed.catalog import DisciplineForm, Position, Rank
from hub.seed.names import Urn
from hub.seed.places import Places
from hub.seed.plan import Plan
from hub.seed.roles import DESIGNATED_POSITIONS, PROFILES, Profile

__all__ = ["AgencyContext", "Context", "context_for"]


@dataclass(frozen=True, slots=True)
class AgencyContext:
    """One agency with what its employees are drawn from."""

    index: int
    agency: Agency
    profile: Profile
    positions: Urn[str]  # ordinary (non-designated) posts
    staff_positions: Urn[str]  # ordinary posts without leadership (for new hires)
    units: tuple[str, ...]  # divisions for ordinary staff
    code_field: bytes  # the agency code, encoded for COPY
    name_field: bytes


class Context:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        catalog = plan.catalog
        self.ranks: dict[str, Rank] = catalog.ranks
        self.positions: dict[str, Position] = catalog.positions
        self.places = Places(catalog)
        self.agencies: tuple[AgencyContext, ...] = tuple(
            self._agency_context(i, agency) for i, agency in enumerate(plan.agencies))
        self.by_code: dict[str, AgencyContext] = {a.agency.code: a for a in self.agencies}
        # The ministry or provincial People's Committee each agency belongs to, and the
        # agency directly above it (who disciplines its head).
        self.top: tuple[AgencyContext, ...] = tuple(self._top(a) for a in self.agencies)
        self.parent: tuple[AgencyContext | None, ...] = tuple(
            self.by_code[a.agency.parent_code] if a.agency.parent_code else None
            for a in self.agencies)
        # Agencies of the same kind of work, for earlier posts in work histories.
        self.peers: dict[str, tuple[AgencyContext, ...]] = {}
        for a in self.agencies:
            self.peers[a.agency.profile] = (*self.peers.get(a.agency.profile, ()), a)
        self.discipline_forms: dict[str, DisciplineForm] = catalog.discipline_forms
        self.text = binary.TextCache()
        # Coefficients as COPY fields: every ladder value, encoded once.
        self.coefficient_fields: dict[Decimal, bytes] = {
            c: binary.numeric(c) for rank in self.ranks.values() for c in rank.coefficients}
        for position in self.positions.values():
            self.coefficient_fields.setdefault(position.allowance_coefficient,
                                               binary.numeric(position.allowance_coefficient))

    def _agency_context(self, index: int, agency: Agency) -> AgencyContext:
        profile = PROFILES[agency.profile]
        ordinary = [(p, w) for p, w in profile.positions if p not in DESIGNATED_POSITIONS]
        staff = [(p, w) for p, w in ordinary if not self.positions[p].leadership]
        return AgencyContext(index, agency, profile, Urn(ordinary, resolution=1_000),
                             Urn(staff, resolution=1_000), (*profile.units, *agency.units),
                             binary.text(agency.code), binary.text(agency.name))

    def _top(self, agency: AgencyContext) -> AgencyContext:
        while agency.agency.parent_code is not None:
            agency = self.by_code[agency.agency.parent_code]
        return agency

    def coefficient_field(self, value: Decimal) -> bytes:
        field = self.coefficient_fields.get(value)
        if field is None:
            field = self.coefficient_fields[value] = binary.numeric(value)
        return field


_CACHE: dict[int, Context] = {}


def context_for(plan: Plan) -> Context:
    """The context of ``plan``, built on first use in this process."""
    key = id(plan)
    context = _CACHE.get(key)
    if context is None or context.plan is not plan:
        _CACHE.clear()
        context = _CACHE[key] = Context(plan)
    return context
