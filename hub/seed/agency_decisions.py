"""Discipline decisions as the agency HR systems hold them: ``ky_luat`` (Ministry of Finance,
vendor form codes) and ``staff_discipline`` (Hà Nội, national form codes).

A system holds a copy of each national decision of the people it holds, exactly as the
national database has it. The ``discipline_missing`` drift adds one the national database does
not have: a recent decision, still in effect, whose number no national decision carries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from hub.seed import binary
from hub.seed.career import DISCIPLINE_REASONS, discipline_issuer
from hub.seed.context import Context
from hub.seed.draw import between
from hub.seed.employees import DISCIPLINE_WEIGHTS, Employee
from hub.seed.tables import KY_LUAT, STAFF_DISCIPLINE
from hub.seed.timeline import AS_OF_ORDINAL, add_months, to_date
from sandbox.agency_rest.codes import NATIONAL_TO_VENDOR_DISCIPLINE

__all__ = ["MISSING_PER_CHUNK", "Decision", "decision_rows", "describe", "missing_decision",
           "national_copy"]

# National decision numbers run from 1 to 2999 per issuer (hub.seed.career); the ones only an
# agency system holds are numbered from 3000 up, MISSING_PER_CHUNK per chunk at most, so no
# two decisions anywhere share a number with them.
_FIRST_MISSING_NUMBER: Final = 3_000
MISSING_PER_CHUNK: Final = 100
# Recent: decided 10 to 120 days before the data's day, so in effect then whatever the form
# (the shortest, a reprimand, runs six months).
_MISSING_DECIDED_DAYS: Final = (10, 120)
_POST_LOSING: Final = frozenset(("demotion", "dismissal_from_post"))
_FIELDS: Final = binary.field_count(len(KY_LUAT.columns))
assert len(KY_LUAT.columns) == len(STAFF_DISCIPLINE.columns)


@dataclass(frozen=True, slots=True)
class Decision:
    number: str
    decided: int  # ordinal
    form: str  # national discipline_form code
    issuer: str
    reason: str
    effective_from: int
    effective_to: int | None


def national_copy(e: Employee) -> Decision | None:
    """The employee's national decision, as written by the national record (its number,
    issuer and reason are drawn there)."""
    d = e.discipline
    if d is None:
        return None
    if not d.number:
        raise RuntimeError("the national record must be generated before the agency systems")
    return Decision(d.number, d.decided, d.form, d.issuer, d.reason, d.effective_from,
                    d.effective_to)


def missing_decision(context: Context, rng: random.Random, e: Employee, chunk: int,
                     sequence: int) -> Decision | None:
    """A decision in effect on the data's day that only the agency system records: a form the
    employee's category and post allow (short of dismissal from the service), ``sequence``-th
    of its chunk. None when the chunk has used up its numbers."""
    if sequence >= MISSING_PER_CHUNK:
        return None
    forms = [(code, weight) for code, weight in DISCIPLINE_WEIGHTS.items()
             if e.category in context.discipline_forms[code].applies_to
             and context.discipline_forms[code].appointment_bar_months is not None
             and (not e.designated or code in ("reprimand", "warning"))
             and (e.leadership or code not in _POST_LOSING)]
    form = rng.choices([c for c, _ in forms], weights=[w for _, w in forms])[0]
    decided = AS_OF_ORDINAL - between(rng, *_MISSING_DECIDED_DAYS)
    effective_from = min(decided + between(rng, 0, 5), AS_OF_ORDINAL - 1)
    months = context.discipline_forms[form].appointment_bar_months
    assert months is not None
    issuer, abbreviation = discipline_issuer(context, e)
    number = f"{_FIRST_MISSING_NUMBER + chunk * MISSING_PER_CHUNK + sequence}/QĐ-{abbreviation}"
    return Decision(number, decided, form, issuer,
                    DISCIPLINE_REASONS[int(rng.random() * len(DISCIPLINE_REASONS))],
                    effective_from, add_months(effective_from, months))


def describe(decision: Decision) -> str:
    """How seed_drift names a decision."""
    return (f"{decision.number} ({decision.form}) decided "
            f"{to_date(decision.decided).isoformat()} by {decision.issuer}")


def decision_rows(context: Context, system: str, owner: bytes,
                  decisions: list[Decision]) -> list[bytes]:
    """COPY rows of ``ky_luat`` or ``staff_discipline``; ``owner`` is the encoded key of the
    record they belong to (``ma_nhan_su`` / ``citizen_id``)."""
    text = context.text
    vendor = system == "agency_rest"
    return [b"".join((
        _FIELDS, owner, binary.text(d.number), binary.date(d.decided),
        text[NATIONAL_TO_VENDOR_DISCIPLINE[d.form] if vendor else d.form], text[d.issuer],
        text[d.reason], binary.date(d.effective_from),
        binary.NULL if d.effective_to is None else binary.date(d.effective_to)))
        for d in decisions]
