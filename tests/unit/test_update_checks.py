"""Checks of submitted changes against the code lists and the current record (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.updates.checks import CHECKED_KINDS, check_change
from resolvers.code_lists import CodeLists

TODAY = date(2026, 11, 22)
EXPERT_LADDER = [Decimal("2.34") + Decimal("0.33") * i for i in range(9)]
CODES = CodeLists(
    provinces={}, legacy_provinces={},
    ranks={
        "01.003": {"code": "01.003", "category": "civil_servant", "ladder": EXPERT_LADDER},
        "01.002": {"code": "01.002", "category": "civil_servant",
                   "ladder": [Decimal("4.40") + Decimal("0.34") * i for i in range(8)]},
        "V.07.01.01": {"code": "V.07.01.01", "category": "public_employee",
                       "ladder": [Decimal("6.20"), Decimal("6.56")]},
    },
    positions={"P01": {"code": "P01"}, "P02": {"code": "P02"}},
    discipline_forms={
        "reprimand": {"code": "reprimand",
                      "applies_to": ["cadre", "civil_servant", "public_employee"]},
        "demotion": {"code": "demotion", "applies_to": ["civil_servant"]},
    },
    evaluation_grades={"excellent": {"code": "excellent"}, "good": {"code": "good"}},
)
EMPLOYEE = {"employee_code": "CB00000001", "category": "civil_servant", "rank_code": "01.003",
            "salary_step": 3, "hired_on": date(2015, 3, 1)}


def codes_of(kind: str, change: Any, employee: dict[str, Any] | None = None) -> list[str]:
    return [r.code for r in check_change(kind, change, employee or EMPLOYEE, CODES, TODAY)]


def test_a_valid_position_change_passes() -> None:
    assert codes_of("position-change", {"rankCode": "01.002", "salaryStep": 2,
                                        "salaryCoefficient": "4.74",
                                        "effectiveFrom": "2026-12-01"}) == []
    assert codes_of("position-change", {"salaryStep": 4, "effectiveFrom": "2026-12-01"}) == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"effectiveFrom": "2026-12-01"}, ["REQUIRED"]),
    ({"rankCode": "99.999", "salaryStep": 1, "effectiveFrom": "2026-12-01"}, ["UNKNOWN_CODE"]),
    ({"salaryStep": 10, "effectiveFrom": "2026-12-01"}, ["NOT_ON_LADDER"]),
    ({"salaryStep": 2, "salaryCoefficient": 2.67, "effectiveFrom": "2026-12-01"}, []),
    ({"salaryStep": 2, "salaryCoefficient": 2.70, "effectiveFrom": "2026-12-01"},
     ["NOT_ON_LADDER"]),
    ({"rankCode": "V.07.01.01", "salaryStep": 1, "effectiveFrom": "2026-12-01"},
     ["CATEGORY_MISMATCH"]),
    ({"rankCode": "01.002", "effectiveFrom": "2026-12-01"}, ["REQUIRED"]),
    ({"salaryStep": 2, "effectiveFrom": "2010-01-01"}, ["DATE_ORDER"]),
    ({"salaryStep": 2, "effectiveFrom": "2029-01-01"}, ["DATE_ORDER"]),
    ({"salaryStep": 2, "effectiveFrom": "2026-13-01"}, ["INVALID_DATE"]),
    ({"salaryStep": True, "effectiveFrom": "2026-12-01"}, ["INVALID"]),
    ({"positionCode": "P09", "effectiveFrom": "2026-12-01"}, ["UNKNOWN_CODE"]),
])
def test_position_change_reasons(change: dict[str, Any], expected: list[str]) -> None:
    assert codes_of("position-change", change) == expected


def test_reasons_carry_the_payload_path_and_a_message() -> None:
    (reason,) = check_change("position-change", {"salaryStep": 12,
                                                 "effectiveFrom": "2026-12-01"},
                             EMPLOYEE, CODES, TODAY)
    assert reason.as_json() == {"code": "NOT_ON_LADDER", "path": "change.salaryStep",
                                "message": "rank 01.003 has steps 1 to 9, not 12"}


def test_discipline_forms_follow_the_category_and_dates_follow_each_other() -> None:
    decision = {"formCode": "demotion", "decisionNumber": "12/QĐ-UBND", "issuer": "UBND",
                "decidedOn": "2026-10-01", "effectiveFrom": "2026-10-05",
                "effectiveTo": "2027-10-05"}
    assert codes_of("discipline-decision", decision) == []
    employee = {**EMPLOYEE, "category": "public_employee"}
    assert codes_of("discipline-decision", decision, employee) == ["FORM_NOT_APPLICABLE"]
    assert codes_of("discipline-decision", {**decision, "effectiveFrom": "2026-09-01"}) == [
        "DATE_ORDER"]
    assert codes_of("discipline-decision", {**decision, "effectiveTo": "2026-10-01"}) == [
        "DATE_ORDER"]
    assert codes_of("discipline-decision", {**decision, "decidedOn": "2027-01-01",
                                            "effectiveFrom": "2027-01-01"}) == ["DATE_ORDER"]


def test_other_kinds() -> None:
    assert codes_of("evaluation", {"year": 2025, "gradeCode": "good"}) == []
    assert codes_of("evaluation", {"year": 2010, "gradeCode": "great"}) == [
        "UNKNOWN_CODE", "DATE_ORDER"]
    assert codes_of("training", {"course": "QLNN", "institution": "HVHC",
                                 "fromDate": "2026-01-10", "toDate": "2026-01-05"}) == [
        "DATE_ORDER"]
    assert codes_of("qualification", {"kind": "diploma", "level": "master",
                                      "awardedOn": "2020-06-01"}) == ["UNKNOWN_CODE"]
    assert codes_of("award", {"form": "Bằng khen", "decisionNumber": "1/QĐ",
                              "issuer": "Thủ tướng", "decidedOn": "2026-05-01"}) == []
    assert codes_of("no-such-kind", {}) == ["UNKNOWN_KIND"]
    assert codes_of("award", ["not", "an", "object"]) == ["INVALID"]


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
FIELDS = st.sampled_from(["positionCode", "rankCode", "salaryStep", "salaryCoefficient",
                          "effectiveFrom", "formCode", "decisionNumber", "issuer", "decidedOn",
                          "effectiveTo", "year", "gradeCode", "course", "institution",
                          "fromDate", "toDate", "kind", "level", "awardedOn", "form"])


@given(kind=st.sampled_from(sorted(CHECKED_KINDS)),
       change=st.dictionaries(FIELDS, JSON, max_size=8))
def test_hostile_changes_get_reasons_never_exceptions(kind: str, change: dict[str, Any]) -> None:
    for reason in check_change(kind, change, EMPLOYEE, CODES, TODAY):
        assert reason.code.isupper()
        assert reason.path.startswith(("change", "employee."))
        assert reason.message
