"""What a checked change writes: the table, the columns and, for an existing record, its id.

Only called on a change ``checks`` found nothing wrong with, so fields are present and well
formed; derived values (the salary coefficient of a rank and step) come from the code lists,
never from the submission. Most kinds write one record; a transfer into an agency writes
several (``record_changes``), a registration a new file and its first work-history entry
(``registration``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from adapters.submission_store import THIS_SUBMISSION, RecordChange
from hub.updates.checks import parse_day
from resolvers.code_lists import CodeLists

__all__ = ["record_change", "record_changes", "registration"]

Row = Mapping[str, Any]


def _day(value: Any) -> date | None:
    # The checks accepted exactly this form (a change that reaches here passed them).
    return None if value is None else parse_day(value)


def _position(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    values: dict[str, Any] = {}
    if "positionCode" in change:
        values["position_code"] = change["positionCode"]
    rank_code = change.get("rankCode", employee["rank_code"])
    if "rankCode" in change:
        values["rank_code"] = rank_code
    if "salaryStep" in change or "rankCode" in change:
        step = change.get("salaryStep", employee["salary_step"])
        values["salary_step"] = step
        values["salary_coefficient"] = codes.ranks[rank_code]["ladder"][step - 1]
    return RecordChange("employee", values)


def _discipline(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return RecordChange("discipline", {
        "form_code": change["formCode"], "decision_number": change["decisionNumber"].strip(),
        "decided_on": _day(change["decidedOn"]), "issuer": change["issuer"].strip(),
        "reason": (change.get("reason") or "").strip(),
        "effective_from": _day(change["effectiveFrom"]),
        "effective_to": _day(change.get("effectiveTo"))})


def _discipline_end(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return RecordChange("discipline", {"effective_to": _day(change["effectiveTo"])},
                        record_id=int(change["disciplineId"]))


def _evaluation(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return RecordChange("evaluation", {"year": change["year"], "grade_code": change["gradeCode"]})


def _training(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return RecordChange("training", {
        "course": change["course"].strip(), "institution": change["institution"].strip(),
        "from_date": _day(change["fromDate"]), "to_date": _day(change["toDate"]),
        "certificate": (change.get("certificate") or "").strip()})


def _qualification(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return RecordChange("qualification", {
        "kind": change["kind"].strip(), "level": change["level"].strip(),
        "field": (change.get("field") or "").strip(),
        "institution": (change.get("institution") or "").strip(),
        "awarded_on": _day(change["awardedOn"])})


def _award(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return RecordChange("award", {
        "form": change["form"].strip(), "decision_number": change["decisionNumber"].strip(),
        "decided_on": _day(change["decidedOn"]), "issuer": change["issuer"].strip()})


def _asset_declaration(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return RecordChange("asset_declaration", {
        "year": change["year"], "declared_on": _day(change["declaredOn"]),
        "land_plots": change["landPlots"], "houses": change["houses"],
        "total_assets_vnd": change["totalAssetsVnd"],
        "annual_income_vnd": change["annualIncomeVnd"]})


def _declared(change: Row, name: str) -> str:
    """A declared text as kept: trimmed, and in NFC (the same name typed on another keyboard,
    decomposed, must read back and compare as the same)."""
    return unicodedata.normalize("NFC", _text(change, name))


def _entry(table: str, change: Row, id_field: str, values: dict[str, Any]) -> RecordChange:
    """A declared entry: a new one, or (``id_field`` given) the employee's entry of that id
    restated whole (the store refuses an id that is not one of the employee's entries)."""
    record_id = change.get(id_field)
    return RecordChange(table, values, record_id=None if record_id is None else int(record_id))


def _personal_history(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return _entry("personal_history", change, "entryId", {
        "from_date": _day(change["fromDate"]), "to_date": _day(change.get("toDate")),
        "activity": _declared(change, "activity"), "place": _declared(change, "place")})


def _family_member(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    deceased = change.get("deceased") is True
    return _entry("family_member", change, "memberId", {
        "relation": _text(change, "relation"), "full_name": _declared(change, "fullName"),
        "birth_year": change["birthYear"], "occupation": _declared(change, "occupation"),
        "workplace_or_address": _declared(change, "workplaceOrAddress"),
        "personal_id": change.get("personalId"), "deceased": deceased,
        "death_year": change.get("deathYear") if deceased else None})


def _transfer_out(change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return RecordChange("transfer", {
        "from_agency": employee["agency_code"], "to_agency": change["toAgencyCode"].strip(),
        "effective_from": _day(change["effectiveFrom"]),
        "decision_number": change["decisionNumber"].strip(), "released_by": THIS_SUBMISSION,
        "status": "pending"})


_WRITERS: dict[str, Callable[[Row, Row, CodeLists], RecordChange]] = {
    "position-change": _position,
    "discipline-decision": _discipline,
    "discipline-end": _discipline_end,
    "evaluation": _evaluation,
    "training": _training,
    "qualification": _qualification,
    "award": _award,
    "asset-declaration": _asset_declaration,
    "personal-history": _personal_history,
    "family": _family_member,
    "transfer-out": _transfer_out,
}


def record_change(kind: str, change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return _WRITERS[kind](change, employee, codes)


def _transfer_in(change: Row, employee: Row, facts: Row) -> list[RecordChange]:
    """Move the file to the receiving agency, end the current post the day before, open the
    new one, and complete the pending transfer (still pending, to this agency, when written)."""
    transfer, agency, entry = facts["transfer"], facts["agency"], facts.get("open_entry")
    effective = date.fromisoformat(change["effectiveFrom"].strip())
    position = change["positionCode"].strip()
    writes = [RecordChange("employee", {"agency_code": agency["code"],
                                        "unit_name": change["unitName"].strip(),
                                        "position_code": position})]
    if entry is not None:
        writes.append(RecordChange("work_history", {"to_date": effective - timedelta(days=1)},
                                   record_id=entry["id"], expect={"to_date": None}))
    writes.append(RecordChange("work_history", {
        "from_date": effective, "to_date": None, "agency_code": agency["code"],
        "agency_name": agency["name"], "position_code": position,
        "description": f"transferred from {transfer['from_agency']} "
                       f"(decision {transfer['decision_number']})"}))
    writes.append(RecordChange("transfer", {"status": "completed",
                                            "received_by": THIS_SUBMISSION,
                                            "received_on": effective},
                               record_id=transfer["id"],
                               expect={"status": "pending", "to_agency": agency["code"]}))
    return writes


def record_changes(kind: str, change: Row, employee: Row, codes: CodeLists,
                   facts: Row | None = None) -> list[RecordChange]:
    """What a checked change of ``kind`` writes to ``employee``'s file, in order; ``facts``
    are those the change was checked with."""
    if kind == "transfer-in":
        return _transfer_in(change, employee, facts or {})
    return [record_change(kind, change, employee, codes)]


def _text(change: Row, name: str, default: str = "") -> str:
    value = change.get(name)
    return value.strip() if isinstance(value, str) else default


def registration(change: Row, personal_id: str, agency: Row,
                 codes: CodeLists) -> tuple[RecordChange, RecordChange]:
    """A checked registration: the new file, and its first work-history entry (the post the
    employee is hired into)."""
    rank, step = _text(change, "rankCode"), change["salaryStep"]
    hired = date.fromisoformat(_text(change, "hiredOn"))
    employee = RecordChange("employee", {
        "employee_code": change["employeeCode"].strip(), "personal_id": personal_id,
        "family_name": _text(change, "familyName"), "middle_name": _text(change, "middleName"),
        "given_name": _text(change, "givenName"),
        "birth_date": date.fromisoformat(_text(change, "birthDate")),
        "sex": _text(change, "sex"),
        "ethnicity": _text(change, "ethnicity", "Kinh"),
        "religion": _text(change, "religion", "Không"), "category": _text(change, "category"),
        "status": "active", "agency_code": agency["code"],
        "unit_name": _text(change, "unitName"),
        "position_code": _text(change, "positionCode"),
        "rank_code": rank, "salary_step": step,
        "salary_coefficient": codes.ranks[rank]["ladder"][step - 1], "hired_on": hired})
    entry = RecordChange("work_history", {
        "from_date": hired, "to_date": None, "agency_code": agency["code"],
        "agency_name": agency["name"], "position_code": _text(change, "positionCode"),
        "description": "registered"})
    return employee, entry
