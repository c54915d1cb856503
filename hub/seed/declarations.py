"""Party membership, health records and asset declarations of an employee."""

from __future__ import annotations

import random
from typing import Final

from hub.seed import binary
from hub.seed.context import Context
from hub.seed.draw import between
from hub.seed.employees import Employee
from hub.seed.names import Urn
from hub.seed.stamps import touched
from hub.seed.timeline import AS_OF_ORDINAL, DAYS_PER_YEAR, ordinal

__all__ = ["asset_declarations", "health_record", "party_membership"]

_PARTY_FIELDS: Final = binary.field_count(6)
_HEALTH_FIELDS: Final = binary.field_count(7)
_ASSET_FIELDS: Final = binary.field_count(8)

_MEMBERSHIP_RATE: Final = {"cadre": 0.98, "civil_servant": 0.55, "public_employee": 0.46}
_LEADER_MEMBERSHIP_RATE: Final = 0.95
_PROBATION_DAYS: Final = 365  # a candidate member becomes official after twelve months
# Card numbers: an affine bijection of the employee index, so they are unique and look random.
_CARD_NUMBERS: Final = 100_000_000
_CARD_MULTIPLIER: Final = 48_271_123  # coprime with 10**8

_HEALTH_STATUS: Final = Urn([("good", 70.0), ("fair", 20.0), ("average", 8.0), ("poor", 2.0)], 100)
_BLOOD_TYPES: Final = Urn([("O", 45.0), ("B", 30.0), ("A", 20.0), ("AB", 5.0)], 100)
_HEALTH_RECORD_RATE: Final = 0.95
_CHECKUPS_FROM: Final = ordinal(2025, 3, 1)
_CHECKUPS_TO: Final = ordinal(2026, 10, 15)

_DECLARED_YEARS: Final = (2024, 2025)
_BASE_SALARY_VND: Final = 2_340_000  # lương cơ sở from 1 July 2024
_LAND_PLOTS: Final = Urn([(0, 15.0), (1, 55.0), (2, 22.0), (3, 8.0)], 100)
_HOUSES: Final = Urn([(0, 10.0), (1, 70.0), (2, 20.0)], 100)



def party_membership(context: Context, rng: random.Random, e: Employee, code: bytes,
                     out: list[bytes]) -> bool:
    """About 55% of employees are members (nearly all cadres and leaders); returns whether."""
    rate = _LEADER_MEMBERSHIP_RATE if e.leadership else _MEMBERSHIP_RATE[e.category]
    if rng.random() >= rate:
        return False
    earliest = e.birth + int(19 * DAYS_PER_YEAR)
    latest = AS_OF_ORDINAL - 30
    joined = min(latest, earliest + int(rng.random() * 16 * DAYS_PER_YEAR))
    official = joined + _PROBATION_DAYS + between(rng, 0, 60)
    card = (_CARD_MULTIPLIER * e.index + context.plan.seed) % _CARD_NUMBERS
    text = context.text
    out.append(b"".join((
        _PARTY_FIELDS, code, binary.date(joined),
        binary.date(official) if official <= AS_OF_ORDINAL else binary.NULL,
        text[f"Chi bộ {e.unit}"], binary.text(f"{card:08d}"), touched(rng, min(official, latest)))))
    return True


def _body_measures(sex: str) -> tuple[bytes, ...]:
    """Encoded (height, weight) field pairs of a population: adult height and body-mass index
    roughly normal. Drawn once (three Gaussian draws per record would be the costliest part
    of the record); records pick one of them."""
    rng = random.Random(f"body-measures/{sex}")
    mean, deviation = (166.0, 6.0) if sex == "male" else (155.0, 5.5)
    pairs = []
    for _ in range(_BODY_MEASURES):
        height = round(rng.gauss(mean, deviation))
        bmi = min(max(rng.gauss(22.3, 2.6), 16.5), 35.0)
        pairs.append(binary.int2(height) + binary.int2(round(bmi * (height / 100) ** 2)))
    return tuple(pairs)


_BODY_MEASURES: Final = 4_096
_MEASURES: Final = {sex: _body_measures(sex) for sex in ("male", "female")}


def health_record(context: Context, rng: random.Random, e: Employee, code: bytes,
                  out: list[bytes]) -> None:
    if rng.random() >= _HEALTH_RECORD_RATE:
        return
    checked = between(rng, _CHECKUPS_FROM, _CHECKUPS_TO)
    text = context.text
    out.append(b"".join((_HEALTH_FIELDS, code, text[_HEALTH_STATUS.draw(rng)],
                         _MEASURES[e.sex][int(rng.random() * _BODY_MEASURES)],
                         text[_BLOOD_TYPES.draw(rng)], binary.date(checked),
                         touched(rng, checked))))


def asset_declarations(context: Context, rng: random.Random, e: Employee, code: bytes,
                       out: list[bytes]) -> None:
    """Leaders declare assets and income every year by 31 December (Law on Anti-corruption)."""
    if not e.leadership:
        return
    coefficient = float(e.rank.coefficients[e.step - 1]
                        + context.positions[e.position].allowance_coefficient)
    assets = round(rng.lognormvariate(21.8, 0.8), -6)  # median about 3 billion VND
    income = round(coefficient * _BASE_SALARY_VND * 12 * rng.uniform(1.3, 2.0), -5)
    land, houses = _LAND_PLOTS.draw(rng), _HOUSES.draw(rng)
    for year in _DECLARED_YEARS:
        if e.post_since > ordinal(year, 11, 30):
            continue
        declared = ordinal(year, 12, between(rng, 1, 31))
        out.append(b"".join((_ASSET_FIELDS, code, binary.int2(year), binary.date(declared),
                             binary.int2(land), binary.int2(houses), binary.int8(int(assets)),
                             binary.int8(int(income)), touched(rng, declared))))
        assets = round(assets * rng.uniform(1.0, 1.12), -6)
        income = round(income * rng.uniform(1.0, 1.08), -5)
