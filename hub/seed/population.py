"""The population registry's citizens: every employee, their families and the new hires.

Each employee appears with exactly the identity the national database holds (personal ID, full
name, birth date, sex). Around them: a spouse for most (``spouse_id`` set on both sides), both
parents for some (married to each other, the older ones often deceased), and children for some
couples, so the registry holds two to three times as many people as the civil service. Employees
are always alive; only relatives have a ``death_date``.
"""

from __future__ import annotations

import random
from typing import Final

from hub.seed import binary
from hub.seed.context import Context
from hub.seed.draw import between
from hub.seed.employees import Employee, Person
from hub.seed.form2c import declare_relative
from hub.seed.names import family_urn, given_urn, middle_urn
from hub.seed.plan import chunk_random
from hub.seed.serials import SerialAllocator
from hub.seed.stamps import touched
from hub.seed.timeline import (
    AS_OF_ORDINAL,
    DAYS_PER_YEAR,
    ordinal,
    year_of,
)
from resolvers import personal_id

__all__ = ["citizen_rows"]

_CITIZEN_FIELDS: Final = binary.field_count(14)
_NULL: Final = binary.NULL
_YEAR_DAYS: Final = DAYS_PER_YEAR

_LIVES_WHERE_WORKS: Final = 0.92
_CURRENT_IS_PERMANENT: Final = 0.75
_PARENTS_RATE: Final = 0.30
_CHILDREN_RATE: Final = 0.45  # of married employees aged 27 and over
_DEATHS_FROM: Final = ordinal(1995, 1, 1)
_MERGER: Final = personal_id.MERGER_DATE.toordinal()


def _married_share(age: float) -> float:
    return 0.15 if age < 25 else 0.50 if age < 30 else 0.82


def _death_chance(age: float) -> float:
    """Share of people born ``age`` years before AS_OF who have died."""
    return (0.90 if age >= 90 else 0.55 if age >= 80 else 0.25 if age >= 70
            else 0.08 if age >= 60 else 0.02)


class _Household:
    """Where an employee's family lives and comes from, shared by the household's members
    (fields already encoded for COPY: they are written once per member), and where the
    employee's declaration of their family goes (``declared``, with its own generator)."""

    __slots__ = ("address", "current", "declared", "home", "origin", "permanent")

    def __init__(self, home: str, address: str, current: bytes, origin: bytes,
                 declared: tuple[random.Random, list[bytes]]) -> None:
        self.home = home
        self.address = address
        self.permanent = binary.text(address)
        self.current = current
        self.origin = origin
        self.declared = declared


def citizen_rows(context: Context, chunk: int, employees: list[Employee],
                 hires: list[Employee], serials: SerialAllocator
                 ) -> tuple[list[bytes], dict[str, str], list[bytes]]:
    """(citizen rows, permanent address of each person an agency HR system holds, the
    employees' declarations of the relatives drawn here: family_member rows)."""
    rng = chunk_random(context.plan.seed, chunk, "population")
    declared: tuple[random.Random, list[bytes]] = (
        chunk_random(context.plan.seed, chunk, "family-declared"), [])
    places = context.places
    rows: list[bytes] = []
    addresses: dict[str, str] = {}
    for e in (*employees, *hires):
        agency_province = e.agency.agency.province_code
        home = agency_province if rng.random() < _LIVES_WHERE_WORKS \
            else places.current_registration_code(e.birth_province)
        permanent = places.address(rng, home)
        permanent_field = binary.text(permanent)
        current_field = permanent_field if rng.random() < _CURRENT_IS_PERMANENT \
            else binary.text(places.address(rng, home))
        household = _Household(home, permanent, current_field,
                               binary.text(places.hometown(rng, e.birth_province)), declared)
        if e.agency.agency.system is not None:
            addresses[e.pid] = permanent
        if e.is_new_hire:
            rows.append(_row(context, rng, e, household.origin, permanent_field, current_field,
                             _NULL, _NULL, _NULL, None))
            continue
        _family(context, rng, serials, e, household, rows)
    return rows, addresses, declared[1]


def _family(context: Context, rng: random.Random, serials: SerialAllocator, e: Employee,
            household: _Household, rows: list[bytes]) -> None:
    age = (AS_OF_ORDINAL - e.birth) / _YEAR_DAYS
    spouse = None
    if rng.random() < _married_share(age):
        spouse = _spouse(context, rng, serials, e)
    father = mother = None
    if rng.random() < _PARENTS_RATE:
        father, mother = _parents(context, rng, serials, e)
    rows.append(_row(context, rng, e, household.origin, household.permanent, household.current,
                     father.pid_field if father else _NULL, mother.pid_field if mother else _NULL,
                     spouse.pid_field if spouse else _NULL, None))
    # The employee's declaration (form 2C order: parents, spouse, children), written last.
    relatives: list[tuple[str, Person, int | None, str]] = []
    if spouse is not None:
        relatives.append(("spouse", spouse, None, household.address))
        spouse_origin = binary.text(context.places.hometown(rng, spouse.birth_province))
        rows.append(_row(context, rng, spouse, spouse_origin, household.permanent,
                         household.current, _NULL, _NULL, e.pid_field, None))
        if age >= 27 and rng.random() < _CHILDREN_RATE:
            husband, wife = (e, spouse) if e.sex == "male" else (spouse, e)
            origin = household.origin if e.sex == "male" else spouse_origin
            for _ in range(1 if rng.random() < 0.6 else 2):
                child = _child(context, rng, serials, husband, wife, household.home)
                if child is not None:
                    rows.append(_row(context, rng, child, origin, household.permanent,
                                     household.current, husband.pid_field, wife.pid_field,
                                     _NULL, None))
                    relatives.append(("child", child, None, household.address))
    if father is not None and mother is not None:
        places = context.places
        hometown = places.current_registration_code(e.birth_province)
        parents_address = places.address(rng, hometown)
        parents_home = binary.text(parents_address)
        mother_origin = binary.text(places.hometown(rng, mother.birth_province))
        # Each death is drawn where it always was (the registry's data stay the same).
        father_death = _death(rng, father.birth)
        rows.append(_row(context, rng, father, household.origin, parents_home, parents_home,
                         _NULL, _NULL, mother.pid_field, father_death))
        mother_death = _death(rng, mother.birth)
        rows.append(_row(context, rng, mother, mother_origin, parents_home, parents_home,
                         _NULL, _NULL, father.pid_field, mother_death))
        relatives[:0] = [("father", father, father_death, parents_address),
                         ("mother", mother, mother_death, parents_address)]
    declared, out = household.declared
    code = binary.text(e.code)
    for relation, person, death, address in relatives:
        declare_relative(context, declared, code, relation, person, death, address, out)


def _person(context: Context, rng: random.Random, serials: SerialAllocator, sex: str,
            birth: int, birth_province: str, ethnicity: str, family: str | None = None) -> Person:
    places = context.places
    year = year_of(birth)
    pid = serials.allocate(birth_province, birth, sex)
    return Person(pid, binary.text(pid),
                  family or family_urn(ethnicity).draw(rng), middle_urn(sex, year).draw(rng),
                  given_urn(sex).draw(rng), sex, birth, birth_province, ethnicity,
                  places.religion(rng, ethnicity, birth_province))


def _spouse(context: Context, rng: random.Random, serials: SerialAllocator, e: Employee
            ) -> Person:
    places = context.places
    sex = "female" if e.sex == "male" else "male"
    # Husbands are usually a few years older than their wives.
    gap = rng.uniform(-1, 6) * _YEAR_DAYS
    birth = int(e.birth - gap) if sex == "male" else int(e.birth + gap)
    birth = min(birth, AS_OF_ORDINAL - int(20 * _YEAR_DAYS))
    birth_province = e.birth_province if rng.random() < 0.6 else places.birth_province_urn.draw(rng)
    ethnicity = e.ethnicity if rng.random() < 0.85 else places.ethnicity(rng, birth_province)
    return _person(context, rng, serials, sex, birth, birth_province, ethnicity)


def _parents(context: Context, rng: random.Random, serials: SerialAllocator, e: Employee
             ) -> tuple[Person, Person]:
    places = context.places
    father_birth = e.birth - int(rng.uniform(22, 38) * _YEAR_DAYS)
    mother_birth = e.birth - int(rng.uniform(19, 35) * _YEAR_DAYS)
    mother_province = e.birth_province if rng.random() < 0.7 else \
        places.birth_province_urn.draw(rng)
    mother_ethnicity = e.ethnicity if rng.random() < 0.9 else \
        places.ethnicity(rng, mother_province)
    father = _person(context, rng, serials, "male", father_birth, e.birth_province, e.ethnicity,
                     family=e.family)
    mother = _person(context, rng, serials, "female", mother_birth, mother_province,
                     mother_ethnicity)
    return father, mother


def _child(context: Context, rng: random.Random, serials: SerialAllocator, father: Person,
           mother: Person, home: str) -> Person | None:
    """A child of the couple, registered where the family lives: under one of the pre-merger
    provinces now forming it, or under today's code if born after the merger."""
    birth = mother.birth + int(rng.uniform(23, 38) * _YEAR_DAYS)
    if birth > AS_OF_ORDINAL - 30:
        return None
    if birth < _MERGER:
        members = context.places.legacy_members[home]
        registered = members[int(rng.random() * len(members))]
    else:
        registered = home
    sex = "male" if rng.random() < 0.51 else "female"
    return _person(context, rng, serials, sex, birth, registered, father.ethnicity,
                   family=father.family)


def _death(rng: random.Random, birth: int) -> int | None:
    age = (AS_OF_ORDINAL - birth) / _YEAR_DAYS
    if rng.random() >= _death_chance(age):
        return None
    first = max(birth + int(45 * _YEAR_DAYS), _DEATHS_FROM)
    return between(rng, first, AS_OF_ORDINAL - 1) if first < AS_OF_ORDINAL - 1 else None


def _row(context: Context, rng: random.Random, p: Person, origin: bytes, permanent: bytes,
         current: bytes, father: bytes, mother: bytes, spouse: bytes, death: int | None) -> bytes:
    """A citizen row; links are encoded personal IDs or NULL."""
    text = context.text
    return b"".join((
        _CITIZEN_FIELDS, p.pid_field, binary.text(p.full_name), binary.date(p.birth),
        text[p.sex], text[p.ethnicity], text[p.religion], origin, permanent, current, father,
        mother, spouse, _NULL if death is None else binary.date(death),
        touched(rng, death or 0)))
