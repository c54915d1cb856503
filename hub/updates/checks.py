"""Checking a change against the code lists and the record it changes, before anything is
written. Pure: every fact comes in as an argument (the current record, and for some kinds the
facts the desk looked up: the agency joined, a pending transfer, what the population registry
holds), and every finding goes out as a reason with a machine-readable code, the path of the
offending field in the signed payload, and a message.

A registration is checked in two steps (``check_registration``, then
``check_registration_facts``): its own structure first, so a malformed one costs no lookup,
then against the national database and the population registry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from adapters.population import Identity
from resolvers import personal_id as pid
from resolvers.code_lists import CodeLists

__all__ = [
    "CHECKED_KINDS",
    "FAMILY_RELATIONS",
    "REGISTRATION",
    "Reason",
    "RegistrationFacts",
    "check_change",
    "check_registration",
    "check_registration_facts",
    "parse_day",
    "same_name",
]

REGISTRATION = "register-employee"

Row = Mapping[str, Any]
# How far ahead a change may take effect, and how far back a decision may date.
_MAX_AHEAD = timedelta(days=366)
_EARLIEST = date(1950, 1, 1)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(value: Any) -> date | None:
    """A date written exactly YYYY-MM-DD (spaces around it aside), else None. Python's own
    parser also takes 20240101 and other ISO forms: checks and writes must agree on one."""
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    path: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "path": self.path, "message": self.message}


# Line and paragraph separators (U+2028, U+2029): line breaks in all but name.
_BREAKS = frozenset({"Zl", "Zp"})


class _Findings:
    """The reasons found so far, and typed readers of the change that add one when a field is
    missing or malformed (and return None, so later checks skip it)."""

    def __init__(self, change: Mapping[str, Any],
                 facts: Mapping[str, Any] | None = None) -> None:
        self.change = change
        self.facts: Mapping[str, Any] = facts or {}
        self.reasons: list[Reason] = []

    def add(self, code: str, field: str, message: str) -> None:
        self.reasons.append(Reason(code, f"change.{field}" if field else "change", message))

    def add_at(self, code: str, path: str, message: str) -> None:
        """A reason about a field outside ``change`` (``employee.personalId``)."""
        self.reasons.append(Reason(code, path, message))

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

    def line(self, field: str, *, required: bool = True, limit: int = 500) -> str | None:
        """``text`` that is also one plain line: no control, format, private-use or
        unassigned characters, no line or paragraph separators (a NUL, a newline, a
        right-to-left override in a declared name would mislead whoever prints or reads the
        form)."""
        value = self.change.get(field)
        if not required and isinstance(value, str) and not value.strip():
            return None  # a blank optional cell is an absent one
        value = self.text(field, required=required, limit=limit)
        if value is not None and any(unicodedata.category(c)[0] == "C"
                                     or unicodedata.category(c) in _BREAKS for c in value):
            self.add("INVALID", field, f"{field} must be one line of plain text (no control "
                                       "or format characters)")
            return None
        if value is not None and len(unicodedata.normalize("NFC", value)) > limit:
            # Kept in NFC (changes.py): a text that composes longer than it was sent must
            # still fit.
            self.add("INVALID", field, f"{field} must be a non-empty string of at most "
                                       f"{limit} characters")
            return None
        return value

    def flag(self, field: str) -> bool | None:
        """An optional boolean: None when absent (or, with a reason, not a boolean)."""
        value = self.change.get(field)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.add("INVALID", field, f"{field} must be true or false")
            return None
        return value

    def day(self, field: str, *, required: bool = True) -> date | None:
        text = self.text(field, required=required, limit=10)
        if text is None:
            return None
        value = parse_day(text)
        if value is None:
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


# Amounts in đồng: up to a million billion (a bigint holds far more).
_MAX_VND = 10**15


def _asset_declaration(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    year = f.integer("year", 1990, today.year)
    declared = f.day("declaredOn")
    f.not_after("declaredOn", declared, today, "today")
    if year is not None and declared is not None and declared.year < year:
        f.add("DATE_ORDER", "declaredOn", f"a declaration for {year} is made in {year} or "
                                          f"later, not on {declared}")
    f.integer("landPlots", 0, 1000)
    f.integer("houses", 0, 1000)
    f.integer("totalAssetsVnd", 0, _MAX_VND)
    f.integer("annualIncomeVnd", 0, _MAX_VND)


def _birth_year(employee: Row) -> int | None:
    """The employee's birth year, as their personal ID states it (the desk's view of the file
    carries the ID, not the birth date)."""
    number = employee.get("personal_id")
    parts = pid.parse(number) if isinstance(number, str) else None
    return None if parts is None else parts.birth_year


def _personal_history(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    """A period of the employee's own past: it has begun and, if it has ended, ended by
    today (an ongoing one has no toDate); ``entryId`` names an entry it corrects."""
    f.integer("entryId", 1, 2**62, required=False)
    start = f.day("fromDate")
    end = f.day("toDate", required=False)
    f.not_after("fromDate", start, today, "today")
    f.not_after("toDate", end, today, "today (an ongoing period has no toDate)")
    f.not_before("toDate", end, start, "fromDate")
    born = _birth_year(employee)
    if start is not None and born is not None and start.year < born:
        f.add("DATE_ORDER", "fromDate", f"fromDate ({start}) is before the employee's birth "
                                        f"year ({born})")
    f.line("activity", limit=500)
    f.line("place", required=False, limit=300)


# Form 2C's relatives (migration 0012 holds the same list), with the sex a relation implies.
FAMILY_RELATIONS: Mapping[str, str | None] = {
    "father": "male", "mother": "female", "adoptive_father": "male",
    "adoptive_mother": "female", "spouse": None, "child": None, "sibling": None,
    "father_in_law": "male", "mother_in_law": "female", "sibling_in_law": None}
_PARENTS = frozenset({"father", "mother", "adoptive_father", "adoptive_mother"})
_EARLIEST_BIRTH_YEAR = 1900
_OLDEST_LIVING = 120  # years: a living relative older than this is a mistake


def _family(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    """A relative: who they are to the employee, their name, birth year (plausible for the
    relation and, with a personal ID, the year the ID states), occupation, where they work or
    live, and whether they have died (and when); ``memberId`` names an entry it corrects.
    Facts: ``relatives``, those the employee already declared: the same relative again (by
    personal ID, or by relation, name and birth year) is a DUPLICATE naming the entry to
    correct instead."""
    member = f.integer("memberId", 1, 2**62, required=False)
    _family_fields(f, employee, today)
    if not f.reasons:
        _declared_before(f, member)


def _same_name(a: Any, b: Any) -> bool:
    """Names compared as a reader would: composed, case and runs of spaces aside."""
    def norm(text: Any) -> str:
        return " ".join(unicodedata.normalize("NFC", str(text)).casefold().split())
    return norm(a) == norm(b)


def _declared_before(f: _Findings, member: int | None) -> None:
    change = f.change
    for known in f.facts.get("relatives") or ():
        if known["id"] == member:
            continue  # the entry being corrected
        number = change.get("personalId")
        if number is not None and known["personal_id"] == number:
            f.add("DUPLICATE", "personalId", f"the employee already declared this relative "
                                             f"(memberId {known['id']}): correct that entry")
            return
        if (known["relation"] == change.get("relation")
                and known["birth_year"] == change.get("birthYear")
                and _same_name(known["full_name"], change.get("fullName"))):
            f.add("DUPLICATE", "fullName", f"the employee already declared this relative "
                                           f"(memberId {known['id']}): correct that entry")
            return


def _family_fields(f: _Findings, employee: Row, today: date) -> None:
    relation = f.text("relation", limit=32)
    if relation is not None and relation not in FAMILY_RELATIONS:
        f.add("UNKNOWN_CODE", "relation", f"{relation!r} is not one of "
                                          f"{', '.join(FAMILY_RELATIONS)}")
        relation = None
    f.line("fullName", limit=200)
    f.line("occupation", required=False, limit=200)
    f.line("workplaceOrAddress", required=False, limit=300)
    born = f.integer("birthYear", _EARLIEST_BIRTH_YEAR, today.year)
    deceased = f.flag("deceased")
    died = f.integer("deathYear", _EARLIEST_BIRTH_YEAR, today.year, required=False)
    if died is not None and deceased is not True:
        f.add("INVALID", "deathYear", "deathYear is given for a relative not declared "
                                      "deceased (deceased: true)")
    if died is not None and born is not None and died < born:
        f.add("DATE_ORDER", "deathYear", f"deathYear ({died}) is before birthYear ({born})")
    if born is not None and not deceased and today.year - born > _OLDEST_LIVING:
        f.add("INVALID", "birthYear", f"a living relative born in {born} would be "
                                      f"{today.year - born}: declare them deceased")
    own = _birth_year(employee)
    if born is not None and own is not None and relation is not None:
        if relation in _PARENTS and born >= own:
            f.add("DATE_ORDER", "birthYear", f"a {relation.replace('_', ' ')} born in {born} "
                                             f"is not older than the employee (born {own})")
        elif relation == "child" and born <= own:
            f.add("DATE_ORDER", "birthYear", f"a child born in {born} is not younger than "
                                             f"the employee (born {own})")
    number = f.change.get("personalId")
    if number is None:
        return
    if not isinstance(number, str) or not pid.is_well_formed(number):
        f.add("INVALID_PERSONAL_ID", "personalId", "a personal ID is 12 digits starting with a "
                                                   "birth-registration province code")
        return
    if number == employee.get("personal_id"):
        f.add("INVALID_PERSONAL_ID", "personalId", "this is the employee's own personal ID")
        return
    parts = pid.parse(number)
    assert parts is not None  # well formed
    if born is not None and parts.birth_year != born:
        f.add("INVALID_PERSONAL_ID", "personalId", f"the personal ID states birth year "
                                                   f"{parts.birth_year}, not {born}")
    implied = None if relation is None else FAMILY_RELATIONS[relation]
    if relation is not None and implied is not None and parts.sex != implied:
        f.add("INVALID_PERSONAL_ID", "personalId", f"the personal ID is a {parts.sex}'s, a "
                                                   f"{relation.replace('_', ' ')} is {implied}")


def _transfer_out(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    """Facts: ``to_agency`` (the agency named, or None if there is none such) and
    ``pending`` (a transfer of the employee already pending, or None)."""
    target = f.text("toAgencyCode", limit=32)
    if target is not None:
        if target == employee["agency_code"]:
            f.add("SAME_AGENCY", "toAgencyCode", f"the employee already works at {target}")
        elif f.facts.get("to_agency") is None:
            f.add("UNKNOWN_CODE", "toAgencyCode",
                  f"no agency {target} in the national database")
    f.text("decisionNumber", limit=64)
    effective = f.day("effectiveFrom")
    f.not_before("effectiveFrom", effective, employee.get("hired_on"), "the hiring date")
    f.not_after("effectiveFrom", effective, today + _MAX_AHEAD, "a year from today")
    if employee.get("status") != "active":
        f.add_at("NOT_ACTIVE", "employee.employeeCode",
                 f"only an active employee is transferred (this one is {employee.get('status')})")
    pending = f.facts.get("pending")
    if pending is not None:
        f.add_at("TRANSFER_PENDING", "employee.employeeCode",
                 f"the employee's transfer to {pending['to_agency']} is still pending")


def _transfer_in(f: _Findings, employee: Row, codes: CodeLists, today: date) -> None:
    """Facts: ``transfer`` (the employee's pending transfer to the agency named, or None),
    ``agency`` (that agency, with ``headcount_quota`` and its ``active`` employees) and
    ``open_entry`` (the employee's current work-history entry, or None)."""
    target = f.text("agencyCode", limit=32)
    f.text("unitName", limit=300)
    f.code("positionCode", codes.positions, "position")
    effective = f.day("effectiveFrom")
    f.not_after("effectiveFrom", effective, today + _MAX_AHEAD, "a year from today")
    if target is None:
        return
    transfer = f.facts.get("transfer")
    if transfer is None:
        f.add_at("NOT_FOUND", "change.agencyCode",
                 f"no pending transfer of employee {employee['employee_code']} to {target}")
        return
    f.not_before("effectiveFrom", effective, transfer["effective_from"],
                 "the date the employee was released")
    entry = f.facts.get("open_entry")
    if effective is not None and entry is not None and effective <= entry["from_date"]:
        f.add("DATE_ORDER", "effectiveFrom", f"effectiveFrom ({effective}) is not after the "
                                             f"start of the current post ({entry['from_date']})")
    agency = f.facts.get("agency")
    if agency is not None and agency["active"] >= agency["headcount_quota"]:
        f.add("QUOTA_EXCEEDED", "agencyCode",
              f"agency {target} has {agency['active']} active employees for a headcount "
              f"quota of {agency['headcount_quota']}")


Check = Callable[[_Findings, Row, CodeLists, date], None]
_CHECKS: dict[str, Check] = {
    "position-change": _position_change,
    "discipline-decision": _discipline_decision,
    "discipline-end": _discipline_end,
    "evaluation": _evaluation,
    "training": _training,
    "qualification": _qualification,
    "award": _award,
    "asset-declaration": _asset_declaration,
    "personal-history": _personal_history,
    "family": _family,
    "transfer-out": _transfer_out,
    "transfer-in": _transfer_in,
}
CHECKED_KINDS = frozenset(_CHECKS)


def check_change(kind: str, change: Any, employee: Row, codes: CodeLists,
                 today: date, facts: Mapping[str, Any] | None = None) -> list[Reason]:
    """Every reason ``change`` (the payload's ``change`` object) cannot be applied to
    ``employee`` (its current national record), given the ``facts`` its kind needs; empty
    when it can."""
    if not isinstance(change, Mapping):
        return [Reason("INVALID", "change", "change must be a JSON object")]
    check = _CHECKS.get(kind)
    if check is None:
        return [Reason("UNKNOWN_KIND", "kind", f"{kind!r} is not a change this hub checks")]
    findings = _Findings(change, facts)
    check(findings, employee, codes, today)
    return findings.reasons


# -- registering a new employee ---------------------------------------------------------------

_EMPLOYEE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_SEXES = ("male", "female")
_CATEGORIES = ("cadre", "civil_servant", "public_employee")
_MIN_AGE = 18
_NAME_PARTS = (("familyName", True), ("middleName", False), ("givenName", True))


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def check_registration(change: Any, payload_employee: Any, codes: CodeLists,
                       today: date) -> list[Reason]:
    """Every reason the new file ``change`` (with the payload's ``employee`` object, which
    carries the personal ID) is malformed: fields, code lists, the salary ladder, dates, and
    the personal ID's structure against the stated birth date and sex."""
    if not isinstance(change, Mapping):
        return [Reason("INVALID", "change", "change must be a JSON object")]
    f = _Findings(change)
    code = f.text("employeeCode", limit=32)
    if code is not None and not _EMPLOYEE_CODE.fullmatch(code):
        f.add("INVALID", "employeeCode", "employeeCode is 1 to 32 letters, digits, '.', '_' "
                                         "and '-', starting with a letter or digit")
    stated = payload_employee if isinstance(payload_employee, Mapping) else {}
    if code is not None and stated.get("employeeCode") not in (None, code):
        f.add_at("INVALID", "employee.employeeCode",
                 "employee.employeeCode differs from change.employeeCode")
    for name, required in _NAME_PARTS:
        f.text(name, required=required, limit=100)
    born = f.day("birthDate")
    f.not_after("birthDate", born, today, "today")
    sex = f.text("sex", limit=8)
    if sex is not None and sex not in _SEXES:
        f.add("INVALID", "sex", 'sex is "male" or "female"')
        sex = None
    f.text("ethnicity", required=False, limit=100)
    f.text("religion", required=False, limit=100)
    category = f.text("category", limit=32)
    if category is not None and category not in _CATEGORIES:
        f.add("UNKNOWN_CODE", "category", f"{category!r} is not one of {', '.join(_CATEGORIES)}")
        category = None
    f.text("agencyCode", limit=32)
    f.text("unitName", limit=300)
    f.code("positionCode", codes.positions, "position")
    rank = f.code("rankCode", codes.ranks, "rank")
    if rank is not None and category is not None and category != "cadre" and (
            rank["category"] != category):
        f.add("CATEGORY_MISMATCH", "rankCode", f"rank {rank['code']} is for the "
                                               f"{rank['category']} category, not {category}")
    step = f.integer("salaryStep", 1, 20)
    if rank is not None and step is not None and step > len(rank["ladder"]):
        f.add("NOT_ON_LADDER", "salaryStep",
              f"rank {rank['code']} has steps 1 to {len(rank['ladder'])}, not {step}")
    hired = f.day("hiredOn")
    f.not_after("hiredOn", hired, today + _MAX_AHEAD, "a year from today")
    if born is not None and hired is not None and _age_on(born, hired) < _MIN_AGE:
        f.add("DATE_ORDER", "hiredOn", f"hiredOn ({hired}) is before the person's "
                                       f"{_MIN_AGE}th birthday")
    number = stated.get("personalId")
    if not isinstance(number, str):
        f.add_at("REQUIRED", "employee.personalId", "a registration names the person's "
                                                    "personal ID")
    elif born is not None and sex is not None:
        for problem in pid.problems(number, born, sex):
            f.add_at("INVALID_PERSONAL_ID", "employee.personalId", problem)
    elif not pid.is_well_formed(number):
        f.add_at("INVALID_PERSONAL_ID", "employee.personalId",
                 "a personal ID is 12 digits starting with a birth-registration province code")
    return f.reasons


@dataclass(frozen=True, slots=True)
class RegistrationFacts:
    """What the desk found about a registration: the agency joined (None if there is no such
    agency; else with ``headcount_quota`` and its ``active`` employees), whether the national
    database already holds the person or the employee code, and what the population registry
    holds under the personal ID (None: nothing)."""

    agency: Row | None
    person_registered: bool
    code_taken: bool
    identity: Identity | None


def _canonical(name: str) -> list[str]:
    return unicodedata.normalize("NFC", name).casefold().split()


def same_name(given: str, recorded: str) -> bool:
    """Names compare regardless of case, spacing and Unicode composition, as the registry
    compares them — not diacritics: 'Nguyễn' and 'Nguyen' are different names."""
    return _canonical(given) == _canonical(recorded)


def _name_mismatch(change: Row, recorded: str) -> str | None:
    """The name part that differs from the registry's full name (family name first, given
    name last, middle name between), or None when the names are the same."""
    parts = {name: _canonical(str(change.get(name) or "")) for name, _ in _NAME_PARTS}
    stated = [*parts["familyName"], *parts["middleName"], *parts["givenName"]]
    words = _canonical(recorded)
    if stated == words:
        return None
    family, given = parts["familyName"], parts["givenName"]
    if words[:len(family)] != family:
        return "familyName"
    if not given or words[len(words) - len(given):] != given:
        return "givenName"
    return "middleName"


def check_registration_facts(change: Row, personal_id: str,
                             facts: RegistrationFacts) -> list[Reason]:
    """Every reason a well-formed registration (``check_registration`` found nothing) cannot
    be accepted given what the national database and the population registry hold."""
    f = _Findings(change)
    agency_code = change["agencyCode"].strip()
    agency = facts.agency
    if agency is None:
        f.add("UNKNOWN_CODE", "agencyCode", f"no agency {agency_code} in the national database")
    elif agency["active"] >= agency["headcount_quota"]:
        f.add("QUOTA_EXCEEDED", "agencyCode",
              f"agency {agency_code} has {agency['active']} active employees for a headcount "
              f"quota of {agency['headcount_quota']}")
    if facts.person_registered:
        f.add_at("DUPLICATE", "employee.personalId",
                 "this person is already in the national database")
    if facts.code_taken:
        f.add("DUPLICATE", "employeeCode", f"employee code {change['employeeCode']} is "
                                           "already in the national database")
    identity = facts.identity
    if identity is None:
        f.add_at("NOT_IN_REGISTRY", "employee.personalId",
                 f"the population registry has no person with personal ID {personal_id}")
        return f.reasons
    part = _name_mismatch(change, identity.full_name)
    if part is not None:
        f.add("IDENTITY_MISMATCH", part, "the name differs from the population registry's")
    if identity.birth_date != date.fromisoformat(change["birthDate"].strip()):
        f.add("IDENTITY_MISMATCH", "birthDate",
              "the birth date differs from the population registry's")
    if identity.sex != change["sex"].strip():
        f.add("IDENTITY_MISMATCH", "sex", "the sex differs from the population registry's")
    if not identity.alive:
        f.add_at("DECEASED", "employee.personalId",
                 "the population registry records this person as deceased")
    return f.reasons
