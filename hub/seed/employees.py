"""The people in service: identity, post, rank and career facts of each employee of a chunk.

Everything the record tables, the population registry and the agency systems later need about
an employee is decided here, once, so that those views agree with each other: the discipline
that cost someone a leadership post also lowered their evaluation that year; the date of the
current appointment is where the work history's open entry starts and what the position
allowance runs from.

Also made here: the *new hires*, people an agency HR system has just taken on and the national
database does not know yet (they exist in the agency system and the population registry only).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from hub.seed import binary
from hub.seed.agencies import STORED_SYSTEMS
from hub.seed.catalog import Rank
from hub.seed.context import AgencyContext, Context
from hub.seed.draw import below, between
from hub.seed.names import Urn, family_urn, given_urn, middle_urn
from hub.seed.plan import chunk_random
from hub.seed.roles import (
    CADRE_POSITIONS,
    RETIREMENT_AGE,
    age_range,
    female_share,
    rank_level,
    salary_step,
    seniority_level_start,
)
from hub.seed.serials import SerialAllocator
from hub.seed.timeline import (
    AS_OF_ORDINAL,
    DAYS_PER_YEAR,
    UPDATES_FROM_ORDINAL,
    add_months,
    moment,
    ordinal,
    year_of,
)

__all__ = ["DISCIPLINE_WEIGHTS", "Discipline", "Employee", "Person", "generate_employees"]

_DISCIPLINE_RATE: Final = 0.03
_NEW_HIRE_RATE: Final = 0.015  # per employee of an agency with its own HR system
# Relative frequency of the discipline forms: mostly reprimands and warnings.
DISCIPLINE_WEIGHTS: Final = {"reprimand": 50, "warning": 30, "salary_step_reduction": 8,
                              "demotion": 4, "dismissal_from_post": 4, "forced_resignation": 2,
                              "removal_from_office": 2}
_SEVERANCE_FORMS: Final = frozenset(("forced_resignation", "removal_from_office"))
_POST_LOSING_FORMS: Final = frozenset(("demotion", "dismissal_from_post"))
_DISCIPLINE_FROM: Final = ordinal(2019, 1, 1)
# The deputy someone demoted from a head post becomes.
_DEMOTED_TO: Final = {"TRUONG_PHONG": "PHO_TRUONG_PHONG", "VU_TRUONG": "PHO_VU_TRUONG"}
# Ages of ordinary staff: few at the edges, most between 30 and 50.
_STAFF_AGES: Final = Urn([(age, 1.0 if age < 26 else 2.2 if age < 30 else 3.0 if age < 50
                           else 2.2 if age < 56 else 1.4) for age in range(22, 63)])
# Years after 22 at which people join the service.
_START_DELAY: Final = Urn([(0, 25), (1, 20), (2, 15), (3, 10), (4, 8), (5, 6), (6, 5), (7, 4),
                           (8, 3), (10, 2), (12, 2)])
# Share of employees born in the province they work in (ministries recruit nationwide).
_LOCAL_BIRTH_SHARE: Final = {"ministry": 0.35, "ministry_unit": 0.45}
_STATUS_ON_LEAVE: Final = {"male": 0.008, "female": 0.025}  # women: maternity leave
_STATUS_SUSPENDED: Final = 0.004


@dataclass(slots=True)
class Person:
    """Someone in the population registry."""

    pid: str
    pid_field: bytes  # the personal ID encoded for COPY: written to several tables
    family: str
    middle: str
    given: str
    sex: str
    birth: int  # ordinal
    birth_province: str  # pre-merger code where the birth was registered
    ethnicity: str
    religion: str

    @property
    def full_name(self) -> str:
        if self.middle:
            return f"{self.family} {self.middle} {self.given}"
        return f"{self.family} {self.given}"


@dataclass(slots=True)
class Discipline:
    form: str
    decided: int
    effective_from: int
    effective_to: int | None
    # Drawn with the national record (hub.seed.career.discipline), which the agency systems
    # copy: empty until then.
    number: str = ""
    issuer: str = ""
    reason: str = ""


@dataclass(slots=True)
class Employee(Person):
    """Someone in service: the facts every view of them (national record, registry, agency
    system) is built from."""

    index: int  # position in the whole run; -1 for a new hire
    code: str  # employee_code; '' for a new hire
    agency: AgencyContext
    position: str
    leadership: bool
    designated: bool
    category: str
    rank: Rank
    step: int
    status: str
    unit: str
    hired: int
    post_since: int  # in the current post and agency since
    updated_at: int  # seconds since 2000-01-01 UTC
    discipline: Discipline | None

    @property
    def seniority(self) -> float:
        return (AS_OF_ORDINAL - self.hired) / DAYS_PER_YEAR

    @property
    def is_new_hire(self) -> bool:
        return self.index < 0


def generate_employees(context: Context, chunk: int, serials: SerialAllocator
                       ) -> tuple[list[Employee], list[Employee]]:
    """(the chunk's employees, the new hires of their agency HR systems)."""
    plan = context.plan
    rng = chunk_random(plan.seed, chunk, "employees")
    hires_rng = chunk_random(plan.seed, chunk, "new-hires")
    agencies = plan.assign_agencies(chunk)
    employees: list[Employee] = []
    hires: list[Employee] = []
    for index, agency_index in zip(plan.chunk_range(chunk), agencies, strict=True):
        agency = context.agencies[agency_index]
        post = plan.designated.get(index)
        employee = _employee(context, rng, serials, index, agency,
                             post[1] if post is not None else None)
        employees.append(employee)
        system = agency.agency.system
        if system is not None and system not in STORED_SYSTEMS \
                and hires_rng.random() < _NEW_HIRE_RATE:
            hires.append(_new_hire(context, hires_rng, serials, agency))
    # The newer systems' hires come last, from a generator of their own: adding those systems
    # changed no earlier draw, so the other systems' data stayed as they were.
    stored_rng = chunk_random(plan.seed, chunk, "new-hires-stored")
    for employee in employees:
        agency = employee.agency
        if agency.agency.system in STORED_SYSTEMS and stored_rng.random() < _NEW_HIRE_RATE:
            hires.append(_new_hire(context, stored_rng, serials, agency))
    return employees, hires


def _employee(context: Context, rng: random.Random, serials: SerialAllocator, index: int,
              agency: AgencyContext, designated_post: str | None) -> Employee:
    profile = agency.profile
    position = designated_post or agency.positions.draw(rng)
    leadership = context.positions[position].leadership
    category = profile.category
    if position in CADRE_POSITIONS or (
            designated_post is None and not leadership and profile.cadre_share
            and position in ("CHUYEN_VIEN", "NHAN_VIEN") and rng.random() < profile.cadre_share):
        category = "cadre"
    sex = "female" if rng.random() < female_share(position, leadership) else "male"
    birth, age = _birth(rng, position, sex, leadership)
    hired = _hired(rng, birth, age, position, leadership)
    seniority = (AS_OF_ORDINAL - hired) / DAYS_PER_YEAR

    discipline = None
    if rng.random() < _DISCIPLINE_RATE:
        discipline = _discipline(context, rng, category, hired, leadership,
                                 designated_post is not None)
        if discipline is not None and discipline.form in _POST_LOSING_FORMS:
            position = _DEMOTED_TO.get(position, profile.base_position) \
                if discipline.form == "demotion" else profile.base_position
            leadership = context.positions[position].leadership

    rank, years_in_rank = _rank(context, rng, agency, position, leadership, seniority)
    step = salary_step(rng, rank, years_in_rank)
    if discipline is not None and discipline.form == "salary_step_reduction" and step > 1:
        step -= 1

    if discipline is not None and discipline.form in _SEVERANCE_FORMS:
        status = "resigned"
    elif age >= RETIREMENT_AGE[sex]:
        status = "retired"
    else:
        r = rng.random()
        status = ("on_leave" if r < _STATUS_ON_LEAVE[sex]
                  else "suspended" if r < _STATUS_ON_LEAVE[sex] + _STATUS_SUSPENDED
                  else "active")

    unit = _unit(rng, agency, position, category, designated_post)
    post_since = _post_since(rng, hired, seniority, leadership)
    person = _identity(context, rng, serials, agency, sex, birth)
    last_change = max(UPDATES_FROM_ORDINAL, post_since,
                      discipline.decided if discipline else UPDATES_FROM_ORDINAL)
    updated_at = moment(rng, last_change, AS_OF_ORDINAL - 3)
    return Employee(person.pid, person.pid_field, person.family, person.middle, person.given,
                    sex, birth, person.birth_province, person.ethnicity, person.religion, index,
                    f"CB{index + 1:08d}", agency, position, leadership,
                    designated_post is not None, category, rank, step, status, unit, hired,
                    post_since, updated_at, discipline)


def _new_hire(context: Context, rng: random.Random, serials: SerialAllocator,
              agency: AgencyContext) -> Employee:
    """Someone the agency took on in the last weeks; only level-0 ranks, step 1."""
    position = agency.staff_positions.draw(rng)
    sex = "female" if rng.random() < female_share(position, False) else "male"
    age = 22 + rng.random() * 8
    birth = AS_OF_ORDINAL - int(age * DAYS_PER_YEAR)
    hired = AS_OF_ORDINAL - between(rng, 5, 75)
    track = agency.profile.tracks_for(position, False)[0][0]
    person = _identity(context, rng, serials, agency, sex, birth)
    return Employee(person.pid, person.pid_field, person.family, person.middle, person.given,
                    sex, birth, person.birth_province, person.ethnicity, person.religion, -1, "",
                    agency,
                    position, False, False, agency.profile.category, context.ranks[track[0]], 1,
                    "active", _unit(rng, agency, position, agency.profile.category, None), hired,
                    hired, moment(rng, hired, AS_OF_ORDINAL - 1), None)


def _identity(context: Context, rng: random.Random, serials: SerialAllocator,
              agency: AgencyContext, sex: str, birth: int) -> Person:
    places = context.places
    local = _LOCAL_BIRTH_SHARE.get(agency.agency.kind, 0.7)
    birth_province = places.birth_province(rng, agency.agency.province_code, local)
    ethnicity = places.ethnicity(rng, birth_province)
    year = year_of(birth)
    pid = serials.allocate(birth_province, birth, sex)
    return Person(pid, binary.text(pid), family_urn(ethnicity).draw(rng),
                  middle_urn(sex, year).draw(rng), given_urn(sex).draw(rng), sex, birth,
                  birth_province, ethnicity, places.religion(rng, ethnicity, birth_province))


def _birth(rng: random.Random, position: str, sex: str, leadership: bool) -> tuple[int, float]:
    """(birth ordinal, age at AS_OF in years)."""
    low, high = age_range(position)
    if sex == "female":  # women retire at 57; a few just past it are still on file as retired
        high = min(high, 56 if leadership else 57)
    if leadership:
        age = low + (high - low) * (rng.random() + rng.random()) / 2
    else:
        whole = _STAFF_AGES.draw(rng)
        while not low <= whole <= high:
            whole = _STAFF_AGES.draw(rng)
        age = whole + rng.random()
    return AS_OF_ORDINAL - int(age * DAYS_PER_YEAR), age


def _hired(rng: random.Random, birth: int, age: float, position: str, leadership: bool) -> int:
    start_age = (20 if position == "NHAN_VIEN" else 22) + _START_DELAY.draw(rng) + rng.random()
    if leadership:  # leaders served some years before their appointment
        start_age = min(start_age, age - 5)
    hired = birth + int(start_age * DAYS_PER_YEAR)
    latest = AS_OF_ORDINAL - 30
    return min(hired, latest - below(rng, 60))


def _discipline(context: Context, rng: random.Random, category: str, hired: int,
                leadership: bool, designated: bool) -> Discipline | None:
    first = max(hired + 365, _DISCIPLINE_FROM)
    last = AS_OF_ORDINAL - 5
    if first > last:
        return None
    forms = [(code, weight) for code, weight in DISCIPLINE_WEIGHTS.items()
             if category in context.discipline_forms[code].applies_to
             and (not designated or code in ("reprimand", "warning"))
             and (leadership or code not in _POST_LOSING_FORMS)]
    code = rng.choices([c for c, _ in forms], weights=[w for _, w in forms])[0]
    decided = between(rng, first, last)
    effective_from = min(decided + between(rng, 0, 10), AS_OF_ORDINAL)
    months = context.discipline_forms[code].appointment_bar_months
    effective_to = add_months(effective_from, months) if months else None
    return Discipline(code, decided, effective_from, effective_to)


def _rank(context: Context, rng: random.Random, agency: AgencyContext, position: str,
          leadership: bool, seniority: float) -> tuple[Rank, float]:
    """(rank, years in that rank)."""
    tracks = agency.profile.tracks_for(position, leadership)
    track = tracks[0][0] if len(tracks) == 1 else rng.choices(
        [t for t, _ in tracks], weights=[w for _, w in tracks])[0]
    level = rank_level(rng, position, seniority, len(track))
    if level == 0:
        return context.ranks[track[0]], seniority
    low, high = seniority_level_start(level)
    promoted_after = low + rng.random() * (min(high, seniority) - low)
    return context.ranks[track[level]], seniority - promoted_after


def _unit(rng: random.Random, agency: AgencyContext, position: str, category: str,
          designated_post: str | None) -> str:
    profile = agency.profile
    if designated_post is not None:
        return profile.office_unit if designated_post == "CHANH_VAN_PHONG" \
            else profile.leadership_unit
    if category == "cadre" and agency.agency.cadre_units:
        units = agency.agency.cadre_units
        return units[int(rng.random() * len(units))]
    if position == "THANH_TRA_VIEN" and profile.inspection_unit:
        return profile.inspection_unit
    if position == "KE_TOAN" and profile.finance_unit and rng.random() < 0.7:
        return profile.finance_unit
    return agency.units[int(rng.random() * len(agency.units))]


def _post_since(rng: random.Random, hired: int, seniority: float, leadership: bool) -> int:
    """When the current appointment (or the move to the current agency) took effect."""
    if leadership:
        earliest = min(hired + int(3 * DAYS_PER_YEAR), AS_OF_ORDINAL - 60)
        appointed = AS_OF_ORDINAL - int(rng.uniform(0.2, 6.0) * DAYS_PER_YEAR)
        return max(appointed, earliest, hired)
    if seniority > 3 and rng.random() < 0.55:
        return hired + int(rng.uniform(0.25, 0.85) * (AS_OF_ORDINAL - hired))
    return hired
