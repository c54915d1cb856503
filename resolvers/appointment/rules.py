"""What bars an appointment: the rules, pure (no I/O, no GraphQL), over decisions from any source.

A discipline decision bars appointing the person from the day it is taken (or takes effect,
when no decision date is known) until its form's ``appointment_bar_months`` have run from the
day it took effect — and never before the decision's own effective period ends. A form with
no such months ends the service (forced resignation, removal from office): the person is not
in service and cannot be appointed, with no end. Periods in months end on the same day of the
month, as the Civil Code counts them (the last day of a shorter month when there is none).

A decision the rules cannot read (an unknown form, no date it took effect) bars nothing for
certain and clears nothing for certain: it makes the check incomplete, like a source that
could not be read.

Two sources hold the same decision when their decision numbers agree (ignoring case, spacing
and Unicode composition); they disagree when one holds a decision the other does not, or when
the same number comes with another form, dates or issuer.
"""

from __future__ import annotations

import calendar
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

__all__ = ["NATIONAL", "Bar", "BarKind", "Decision", "Disagreement", "DisagreementKind",
           "Standing", "Verdict", "add_months", "disagreements", "same_number", "standing",
           "verdict"]

# How the national database is named as a source (the adapter's own name).
NATIONAL = "national"


class Verdict(Enum):
    CLEAR = "clear"
    BARRED = "barred"
    PENDING_CASE = "pending_case"
    INCOMPLETE = "incomplete"


class BarKind(Enum):
    IN_EFFECT = "in_effect"  # the decision is in effect on the day
    BAR_PERIOD = "bar_period"  # taken, not in effect that day, but its bar has not run out
    NOT_IN_SERVICE = "not_in_service"  # a form that ends the service: no end


class DisagreementKind(Enum):
    MISSING_NATIONALLY = "missing_nationally"
    MISSING_IN_AGENCY_SYSTEM = "missing_in_agency_system"
    CONFLICTING = "conflicting"


@dataclass(frozen=True, slots=True)
class Decision:
    """A discipline decision as one source holds it (national form codes; an untranslatable
    vendor code stays as the source holds it). Agency systems may leave anything unknown."""

    source: str
    number: str | None
    form: str | None
    decided_on: date | None
    issuer: str | None
    reason: str | None
    effective_from: date | None
    effective_to: date | None


@dataclass(frozen=True, slots=True)
class Standing:
    """A decision on a given day. ``readable`` False: the rules cannot tell (then ``bars``
    and ``in_effect`` are None)."""

    readable: bool
    in_effect: bool | None
    bars: bool | None
    until: date | None  # the last day it bars appointment; None with bars: no end
    kind: BarKind | None


@dataclass(frozen=True, slots=True)
class Bar:
    decision: Decision
    kind: BarKind
    until: date | None


@dataclass(frozen=True, slots=True)
class Disagreement:
    kind: DisagreementKind
    system: str  # the agency system compared with the national database
    number: str | None
    fields: tuple[str, ...] = ()  # CONFLICTING: which facts differ


_UNREADABLE = Standing(False, None, None, None, None)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day if it has no such day); capped at
    the last representable date."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > date.max.year:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def standing(decision: Decision, bar_months: Mapping[str, int | None], as_of: date
             ) -> Standing:
    """Whether ``decision`` is in effect on ``as_of`` and whether it bars appointment then.
    ``bar_months``: the known forms and their bar (None: the form ends the service)."""
    start = decision.effective_from
    if start is None or decision.form is None or decision.form not in bar_months:
        return _UNREADABLE
    end = decision.effective_to
    if end is not None and end < start:
        return _UNREADABLE  # a period that ends before it begins says nothing certain
    taken = decision.decided_on if decision.decided_on is not None else start
    taken = min(taken, start)
    in_effect = start <= as_of and (end is None or as_of <= end)
    if as_of < taken:  # not yet decided on that day
        return Standing(True, False, False, None, None)
    months = bar_months[decision.form]
    if months is None:
        return Standing(True, in_effect, True, None, BarKind.NOT_IN_SERVICE)
    if end is None:  # in effect with no end: it bars as long as it lasts
        return Standing(True, in_effect, True, None, BarKind.IN_EFFECT if in_effect
                        else BarKind.BAR_PERIOD)
    until = max(add_months(start, months), end)
    if as_of > until:
        return Standing(True, in_effect, False, until, None)
    return Standing(True, in_effect, True, until,
                    BarKind.IN_EFFECT if in_effect else BarKind.BAR_PERIOD)


def same_number(number: str | None) -> str | None:
    """The key two sources' decision numbers are matched by."""
    if number is None:
        return None
    key = "".join(unicodedata.normalize("NFC", number).split()).casefold()
    return key or None


def _same_text(one: str | None, other: str | None) -> bool:
    def norm(text: str | None) -> str:
        return " ".join(unicodedata.normalize("NFC", text or "").split()).casefold()

    return norm(one) == norm(other)


_COMPARED = (("form", "form"), ("decidedOn", "decided_on"), ("effectiveFrom", "effective_from"),
             ("effectiveTo", "effective_to"))


def _differences(national: Decision, agency: Decision) -> tuple[str, ...]:
    found = [name for name, attribute in _COMPARED
             if getattr(national, attribute) != getattr(agency, attribute)]
    if not _same_text(national.issuer, agency.issuer):
        found.append("issuer")
    return tuple(found)


def disagreements(national: Sequence[Decision], system: str,
                  held: Sequence[Decision]) -> list[Disagreement]:
    """How one agency system's decisions (``held``) differ from the national database's: by
    decision number, in the national order then the system's."""
    by_number: dict[str | None, list[Decision]] = {}
    for decision in held:
        by_number.setdefault(same_number(decision.number), []).append(decision)
    found: list[Disagreement] = []
    for decision in national:
        matches = by_number.get(same_number(decision.number))
        if not matches or same_number(decision.number) is None:
            found.append(Disagreement(DisagreementKind.MISSING_IN_AGENCY_SYSTEM, system,
                                      decision.number))
            continue
        other = matches.pop(0)
        differing = _differences(decision, other)
        if differing:
            found.append(Disagreement(DisagreementKind.CONFLICTING, system, decision.number,
                                      differing))
    for decision in held:  # what no national decision matched, in the system's order
        left = by_number.get(same_number(decision.number), [])
        if decision in left:
            left.remove(decision)
            found.append(Disagreement(DisagreementKind.MISSING_NATIONALLY, system,
                                      decision.number))
    return found


def verdict(bars: Iterable[Bar], complete: bool, pending: bool) -> Verdict:
    """A bar is certain whatever a missing source holds; anything short of one needs every
    source: only then may a pending case or a clear record be reported."""
    if any(True for _ in bars):
        return Verdict.BARRED
    if not complete:
        return Verdict.INCOMPLETE
    return Verdict.PENDING_CASE if pending else Verdict.CLEAR
