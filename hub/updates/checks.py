"""Checking a change against the code lists and the record it changes, before anything is
written. Pure: every fact comes in as an argument, and every finding goes out as a reason with
a machine-readable code, the path of the offending field in the signed payload, and a message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from resolvers.code_lists import CodeLists

__all__ = ["CHECKED_KINDS", "Reason", "check_change"]

Row = Mapping[str, Any]
# How far ahead a change may take effect, and how far back a decision may date.
_MAX_AHEAD = timedelta(days=366)
_EARLIEST = date(1950, 1, 1)


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    path: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "path": self.path, "message": self.message}


class _Findings:
    """The reasons found so far, and typed readers of the change that add one when a field is
    missing or malformed (and return None, so later checks skip it)."""

    def __init__(self, change: Mapping[str, Any]) -> None:
        self.change = change
        self.reasons: list[Reason] = []

    def add(self, code: str, field: str, message: str) -> None:
        self.reasons.append(Reason(code, f"change.{field}" if field else "change", message))

    def text(self, field: str, *, required: bool = True, limit: int = 500) -> str | None:
        value = self.change.get(field)
        if value is None:
            if required:
                self.add("REQUIRED", field, f"{field} is required")
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            self.add("INVALID", field, f"{field} must be a non-empty string of at most "
                                       f"{limit} characters")
            return None
        return value.strip()

    def day(self, field: str, *, required: bool = True) -> date | None:
        text = self.text(field, required=required, limit=10)
        if text is None:
            return None
        try:
            value = date.fromisoformat(text)
        except ValueError:
            self.add("INVALID_DATE", field, f"{field} must be a date (YYYY-MM-DD)")
            return None
        if value < _EARLIEST:
            self.add("INVALID_DATE", field, f"{field} is before {_EARLIEST.isoformat()}")
            return None
        return value

    def integer(self, field: str, low: int, high: int, *, required: bool = True) -> int | None:
        value = self.change.get(field)
        if value is None:
            if required:
                self.add("REQUIRED", field, f"{field} is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add("INVALID", field, f"{field} must be an integer from {low} to {high}")
            return None
        return value

    def code(self, field: str, known: Mapping[str, Row], what: str, *,
             required: bool = True) -> Row | None:
        text = self.text(field, required=required, limit=32)
        if text is None:
            return None
        found = known.get(text)
        if found is None:
            self.add("UNKNOWN_CODE", field, f"{text!r} is not a {what} code")
        return found

    def not_after(self, field: str, value: date | None, limit: date, what: str) -> None:
        if value is not None and value > limit:
            self.add("DATE_ORDER", field, f"{field} ({value}) is after {what} ({limit})")

    def not_before(self, field: str, value: date | None, limit: date | None, what: str) -> None:
        if value is not None and limit is not None and value < limit:
            self.add("DATE_ORDER", field, f"{field} ({value}) is before {what} ({limit})")


def _position_change(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    if not any(k in f.change for k in ("positionCode", "rankCode", "salaryStep")):
        f.add("REQUIRED", "", "a position change names a new positionCode, rankCode or "
                              "salaryStep")
    f.code("positionCode", codes.positions, "position", required=False)
    rank = f.code("rankCode", codes.ranks, "rank", required=False)
    if rank is not None and employee["category"] != "cadre" and (
            rank["category"] != employee["category"]):
        f.add("CATEGORY_MISMATCH", "rankCode",
              f"rank {rank['code']} is for the {rank['category']} category, the employee is "
              f"a {employee['category']}")
    rank = rank or codes.ranks.get(employee["rank_code"])
    if rank is not None:
        ladder: list[Decimal] = rank["ladder"]
        step = f.integer("salaryStep", 1, 20, required="rankCode" in f.change)
        step = step if step is not None else (
            None if "rankCode" in f.change else employee["salary_step"])
        if step is not None and not 1 <= step <= len(ladder):
            f.add("NOT_ON_LADDER", "salaryStep",
                  f"rank {rank['code']} has steps 1 to {len(ladder)}, not {step}")
        elif step is not None and "salaryCoefficient" in f.change:
            given = f.change["salaryCoefficient"]
            expected = ladder[step - 1]
            if not isinstance(given, (int, float, str)) or isinstance(given, bool) or (
                    _decimal(given) != expected):
                f.add("NOT_ON_LADDER", "salaryCoefficient",
                      f"step {step} of rank {rank['code']} has coefficient {expected}, "
                      f"not {given}")
    effective = f.day("effectiveFrom")
    f.not_before("effectiveFrom", effective, employee.get("hired_on"), "the hiring date")
    f.not_after("effectiveFrom", effective, today + _MAX_AHEAD, "a year from today")


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        return None


def _discipline_decision(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    form = f.code("formCode", codes.discipline_forms, "discipline form")
    if form is not None and employee["category"] not in form["applies_to"]:
        f.add("FORM_NOT_APPLICABLE", "formCode",
              f"{form['code']} does not apply to a {employee['category']} (it applies to "
              f"{', '.join(form['applies_to'])})")
    f.text("decisionNumber", limit=64)
    f.text("issuer", limit=200)
    f.text("reason", required=False, limit=2000)
    decided = f.day("decidedOn")
    f.not_after("decidedOn", decided, today, "today")
    start = f.day("effectiveFrom")
    f.not_before("effectiveFrom", start, decided, "the decision date")
    end = f.day("effectiveTo", required=False)
    f.not_before("effectiveTo", end, start, "effectiveFrom")


def _discipline_end(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    f.integer("disciplineId", 1, 2**62)
    end = f.day("effectiveTo")
    f.not_after("effectiveTo", end, today + _MAX_AHEAD, "a year from today")


def _evaluation(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    year = f.integer("year", 1990, today.year)
    f.code("gradeCode", codes.evaluation_grades, "evaluation grade")
    hired = employee.get("hired_on")
    if year is not None and hired is not None and year < hired.year:
        f.add("DATE_ORDER", "year", f"the employee was hired in {hired.year}, after {year}")


def _training(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    f.text("course", limit=300)
    f.text("institution", limit=300)
    f.text("certificate", required=False, limit=100)
    start = f.day("fromDate")
    end = f.day("toDate")
    f.not_before("toDate", end, start, "fromDate")
    f.not_after("toDate", end, today + _MAX_AHEAD, "a year from today")


_QUALIFICATION_KINDS = {"degree", "political_theory", "state_management", "foreign_language",
                        "information_technology"}


def _qualification(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    kind = f.text("kind", limit=32)
    if kind is not None and kind not in _QUALIFICATION_KINDS:
        f.add("UNKNOWN_CODE", "kind", f"{kind!r} is not one of "
                                      f"{', '.join(sorted(_QUALIFICATION_KINDS))}")
    f.text("level", limit=100)
    f.text("field", required=False, limit=200)
    f.text("institution", required=False, limit=300)
    awarded = f.day("awardedOn")
    f.not_after("awardedOn", awarded, today, "today")


def _award(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    f.text("form", limit=200)
    f.text("decisionNumber", limit=64)
    f.text("issuer", limit=200)
    decided = f.day("decidedOn")
    f.not_after("decidedOn", decided, today, "today")


Check = Callable[[_Findings, Row, CodeLists, date], None]
_CHECKS: dict[str, Check] = {
    "position-change": _position_change,
    "discipline-decision": _discipline_decision,
    "discipline-end": _discipline_end,
    "evaluation": _evaluation,
    "training": _training,
    "qualification": _qualification,
    "award": _award,
}
CHECKED_KINDS = frozenset(_CHECKS)


def check_change(kind: str, change: Any, employee: Row, codes: CodeLists,
                 today: date) -> list[Reason]:
    """Every reason ``change`` (the payload's ``change`` object) cannot be applied to
    ``employee`` (its current national record); empty when it can."""
    if not isinstance(change, Mapping):
        return [Reason("INVALID", "change", "change must be a JSON object")]
    check = _CHECKS.get(kind)
    if check is None:
        return [Reason("UNKNOWN_KIND", "kind", f"{kind!r} is not a change this hub checks")]
    findings = _Findings(change)
    check(findings, employee, codes, today)
    return findings.reasons
