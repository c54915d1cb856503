"""What a checked change writes: the table, the columns and, for an existing record, its id.

Only called on a change ``checks.check_change`` found nothing wrong with, so fields are
present and well formed; derived values (the salary coefficient of a rank and step) come from
the code lists, never from the submission.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from adapters.submission_store import RecordChange
from resolvers.code_lists import CodeLists

__all__ = ["record_change"]

Row = Mapping[str, Any]


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


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


_WRITERS: dict[str, Callable[[Row, Row, CodeLists], RecordChange]] = {
    "position-change": _position,
    "discipline-decision": _discipline,
    "discipline-end": _discipline_end,
    "evaluation": _evaluation,
    "training": _training,
    "qualification": _qualification,
    "award": _award,
}


def record_change(kind: str, change: Row, employee: Row, codes: CodeLists) -> RecordChange:
    return _WRITERS[kind](change, employee, codes)
