"""A person as an agency HR system of the stored kind holds them, and how that record drifts
from the national one: the Ministry of Health's database and Đà Nẵng's legacy system
(``hub.seed.agency_db``, ``hub.seed.file_drop``).

The drift kinds are those of the HTTP systems (``hub.seed.agency_systems.DRIFT_KINDS``), made
the same way from the same building blocks — a misspelling (``names.misspell``), a pre-2025
address (``places.stale_address``), a decision only the agency holds
(``agency_decisions.missing_decision``), a second record under a look-alike personal ID
(``serials.lookalike``) — but described in each system's own column names and drawn with each
system's own generator, so neither system's data depends on the other's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from hub.seed.agency_decisions import (
    MISSING_PER_CHUNK,
    Decision,
    describe,
    missing_decision,
    national_copy,
)
from hub.seed.agency_systems import DRIFT_KINDS
from hub.seed.career import DISCIPLINE_REASONS
from hub.seed.context import Context
from hub.seed.draw import below, between
from hub.seed.employees import Employee
from hub.seed.names import Urn, misspell
from hub.seed.serials import SerialAllocator
from hub.seed.timeline import (
    AS_OF_ORDINAL,
    PG_EPOCH_ORDINAL,
    UPDATES_FROM_ORDINAL,
    moment,
    to_date,
)

__all__ = ["Drift", "DriftDraw", "Entry", "Vocabulary", "entry_for"]

# Percent of records with each kind (new hires come with the employees). Rates of their own:
# these are other vendors' systems, with their own habits of error.
_RATES: Final = (("position_changed", 2.0), ("pending_discipline", 1.5),
                 ("misspelt_name", 1.5), ("stale_address", 2.0), ("invalid_coefficient", 0.5),
                 ("unknown_code", 0.5), ("discipline_missing", 0.5), ("duplicate_person", 0.3))
assert {k for k, _ in _RATES} | {"new_hire"} == set(DRIFT_KINDS)
_KINDS: Final = Urn([*_RATES, (None, 100.0 - sum(r for _, r in _RATES))], resolution=2_000)
# The post a promotion leads to, where the agency has such posts to give.
_PROMOTION: Final = {"CHUYEN_VIEN": "PHO_TRUONG_PHONG", "KE_TOAN": "PHO_TRUONG_PHONG",
                     "BAC_SI": "PHO_TRUONG_PHONG", "DIEU_DUONG": "PHO_TRUONG_PHONG",
                     "GIAO_VIEN": "PHO_TRUONG_PHONG", "PHO_TRUONG_PHONG": "TRUONG_PHONG"}
_SECONDS_PER_DAY: Final = 86_400
_OFFICE_OPENS_UTC: Final = 1_800  # 07:30 in Vietnam
_FIRST_UPDATE: Final = (UPDATES_FROM_ORDINAL - PG_EPOCH_ORDINAL) * _SECONDS_PER_DAY + 1_800
# Decisions only these systems hold are numbered in the upper half of each chunk's share of
# numbers (hub.seed.agency_decisions), the HTTP systems' drift using the lower half.
_FIRST_MISSING: Final = MISSING_PER_CHUNK // 2


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """How one system writes what drift touches: its post codes and column names."""

    position_code: Callable[[str], str]  # national position -> the system's code
    unknown_codes: tuple[str, ...]  # codes of its own not in its code list
    position_column: str
    step_column: str
    coefficient_column: str


@dataclass(slots=True)
class Entry:
    """One record as the system holds it, in national terms until encoded."""

    name: str
    position: str
    position_code: str  # the system's code, as stored
    step: int
    coefficient: Decimal
    pending_discipline: str | None
    address: str
    modified: int  # seconds since 2000-01-01 UTC
    decisions: list[Decision] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Drift:
    kind: str
    detail: str
    duplicate_of: str | None = None  # duplicate_person: the look-alike personal ID


def _day_start(day: int) -> int:
    return (day - PG_EPOCH_ORDINAL) * _SECONDS_PER_DAY + _OFFICE_OPENS_UTC


def entry_for(rng: random.Random, e: Employee, address: str, words: Vocabulary) -> Entry:
    """The record as the system holds it before any drift: the national facts, recorded a day
    or two before they reached the national database, with a copy of the national decision."""
    if e.is_new_hire:
        modified = e.updated_at
    else:
        modified = max(e.updated_at - below(rng, 3) * _SECONDS_PER_DAY, _FIRST_UPDATE)
    national = national_copy(e)
    decisions = [] if national is None else [national]
    if national is not None:  # recorded no earlier than it was decided
        modified = max(modified, _day_start(national.decided))
    return Entry(e.full_name, e.position, words.position_code(e.position), e.step,
                 e.rank.coefficients[e.step - 1], None, address, modified, decisions)


class DriftDraw:
    """The drift of one chunk's records of one system."""

    def __init__(self, context: Context, rng: random.Random, chunk: int,
                 serials: SerialAllocator, words: Vocabulary) -> None:
        self._context = context
        self._rng = rng
        self._chunk = chunk
        self._serials = serials
        self._words = words
        self._missing = _FIRST_MISSING

    def apply(self, e: Employee, entry: Entry) -> Drift | None:
        """Maybe make ``entry`` differ from the national record; the drift if it does."""
        if e.is_new_hire:
            return Drift("new_hire", f"hired {to_date(e.hired).isoformat()} as {e.position} "
                                     f"at {e.agency.agency.code}; not yet in the national "
                                     "database")
        kind = _KINDS.draw(self._rng)
        if kind == "position_changed":
            changed = self._newer_post(e, entry)
            if changed is not None:
                return changed
            kind = "stale_address"  # nothing to promote to: drift the address instead
        if kind is None:
            return None
        apply: dict[str, Callable[[Employee, Entry], Drift | None]] = {
            "pending_discipline": self._pending_discipline,
            "misspelt_name": self._misspelt_name, "stale_address": self._stale_address,
            "invalid_coefficient": self._invalid_coefficient,
            "unknown_code": self._unknown_code, "discipline_missing": self._discipline_missing,
            "duplicate_person": self._duplicate_person}
        return apply[kind](e, entry)

    def _pending_discipline(self, e: Employee, entry: Entry) -> Drift:
        rng = self._rng
        opened = AS_OF_ORDINAL - between(rng, 5, 90)
        reason = DISCIPLINE_REASONS[below(rng, len(DISCIPLINE_REASONS))]
        entry.pending_discipline = (
            f"Đang xem xét kỷ luật: {reason[0].lower()}{reason[1:]} (Tờ trình số "
            f"{between(rng, 10, 999)}/TTr-{e.agency.agency.abbreviation} ngày "
            f"{to_date(opened).strftime('%d/%m/%Y')})")
        entry.modified = max(entry.modified, moment(rng, opened, AS_OF_ORDINAL - 1))
        return Drift("pending_discipline", entry.pending_discipline)

    def _misspelt_name(self, e: Employee, entry: Entry) -> Drift:
        entry.name = misspell(e.full_name, self._rng)
        return Drift("misspelt_name", f"{e.full_name} -> {entry.name}")

    def _stale_address(self, e: Employee, entry: Entry) -> Drift:
        registry = entry.address
        entry.address = self._context.places.stale_address(self._rng,
                                                            e.agency.agency.province_code)
        return Drift("stale_address", f"registry: {registry} | agency: {entry.address}")

    def _invalid_coefficient(self, e: Employee, entry: Entry) -> Drift:
        entry.coefficient += Decimal("0.01")
        return Drift("invalid_coefficient",
                     f"{self._words.coefficient_column}: {entry.coefficient} is not on the "
                     f"ladder of rank {e.rank.code} (step {e.step} is "
                     f"{e.rank.coefficients[e.step - 1]})")

    def _unknown_code(self, e: Employee, entry: Entry) -> Drift:
        valid = entry.position_code
        unknown = self._words.unknown_codes
        entry.position_code = unknown[below(self._rng, len(unknown))]
        return Drift("unknown_code", f"{self._words.position_column}: {entry.position_code} "
                                     f"is not in the vendor code list (national {e.position} "
                                     f"is {valid})")

    def _discipline_missing(self, e: Employee, entry: Entry) -> Drift | None:
        if e.status != "active":  # decisions against people still at work
            return None
        decision = missing_decision(self._context, self._rng, e, self._chunk, self._missing)
        if decision is None:
            return None
        self._missing += 1
        entry.decisions.append(decision)
        entry.modified = max(entry.modified, moment(self._rng, decision.decided,
                                                    AS_OF_ORDINAL - 1))
        return Drift("discipline_missing", f"{describe(decision)}: held only by the agency "
                                           "system")

    def _duplicate_person(self, e: Employee, entry: Entry) -> Drift | None:
        pid = self._serials.lookalike(e.pid)
        if pid is None:
            return None
        return Drift("duplicate_person", f"second record of {e.pid} under personal ID {pid}: "
                                         "same name, birth date, sex, agency and post", pid)

    def duplicate_entry(self, e: Employee, entry: Entry) -> Entry:
        """The second record: keyed in afresh from the appointment papers (the national name
        and post), with none of the first record's decisions or pending case."""
        return Entry(e.full_name, e.position, entry.position_code, entry.step,
                     entry.coefficient, None, entry.address,
                     moment(self._rng, UPDATES_FROM_ORDINAL, AS_OF_ORDINAL - 1))

    def _newer_post(self, e: Employee, entry: Entry) -> Drift | None:
        """A promotion or a step raise the agency recorded after the national database's
        last update of this person."""
        rng, words = self._rng, self._words
        promotion = None if e.designated else _PROMOTION.get(e.position)
        if promotion is not None and promotion not in {p for p, _ in e.agency.profile.positions}:
            promotion = None
        raise_step = e.step < e.rank.steps
        if promotion is None and not raise_step:
            return None
        first_day = (e.updated_at // _SECONDS_PER_DAY) + PG_EPOCH_ORDINAL + 1
        entry.modified = moment(rng, min(first_day, AS_OF_ORDINAL - 1), AS_OF_ORDINAL - 1)
        if promotion is not None and (not raise_step or rng.random() < 0.5):
            old = entry.position_code
            entry.position = promotion
            entry.position_code = words.position_code(promotion)
            return Drift("position_changed",
                         f"{words.position_column}: {old} -> {entry.position_code}")
        entry.step = e.step + 1
        entry.coefficient = e.rank.coefficients[e.step]
        return Drift("position_changed",
                     f"{words.step_column}: {e.step} -> {entry.step}; "
                     f"{words.coefficient_column}: {e.rank.coefficients[e.step - 1]} -> "
                     f"{entry.coefficient}")
