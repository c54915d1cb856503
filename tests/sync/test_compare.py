"""The comparison of an agency's record with the national file (pure rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.sync.compare import classify, fingerprint, identity_key, registration_code
from resolvers.code_lists import CodeLists

LADDER = [Decimal("2.34") + Decimal("0.33") * i for i in range(9)]
CODES = CodeLists(
    provinces={}, legacy_provinces={},
    ranks={"01.003": {"code": "01.003", "category": "civil_servant", "ladder": LADDER},
           "V.07.01.01": {"code": "V.07.01.01", "category": "public_employee",
                          "ladder": [Decimal("4.00"), Decimal("4.34")]}},
    positions={"CHUYEN_VIEN": {"code": "CHUYEN_VIEN"},
               "PHO_TRUONG_PHONG": {"code": "PHO_TRUONG_PHONG"}},
    discipline_forms={"reprimand": {"code": "reprimand"}}, evaluation_grades={})
NATIONAL_TIME = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
EMPLOYEE: dict[str, Any] = {
    "employee_code": "CB00000042", "personal_id": "001090012345", "full_name": "Nguyễn Văn An",
    "birth_date": date(1990, 5, 17), "sex": "male", "category": "civil_servant",
    "agency_code": "000.00.01.G02", "unit_name": "Phòng Tổng hợp",
    "position_code": "CHUYEN_VIEN", "rank_code": "01.003", "salary_step": 3,
    "salary_coefficient": Decimal("3.00"), "hired_on": date(2015, 3, 1), "version": 4,
    "updated_at": NATIONAL_TIME}
DECISION: dict[str, Any] = {
    "decision_number": "12/QĐ-BTC", "form_code": "reprimand", "decided_on": date(2026, 9, 1),
    "issuer": "Bộ trưởng Bộ Tài chính", "reason": "vi phạm quy chế",
    "effective_from": date(2026, 9, 1), "effective_to": None}


def record(**changes: Any) -> dict[str, Any]:
    """The agency's record of EMPLOYEE, as the feed reads it (same facts unless changed)."""
    base: dict[str, Any] = {
        "personal_id": "001090012345", "local_id": "TC00000042", "full_name": "Nguyễn Văn An",
        "birth_date": date(1990, 5, 17), "sex": "male", "agency_code": "000.00.01.G02",
        "unit_name": "Phòng Tổng hợp", "position_code": "CHUYEN_VIEN", "rank_code": "01.003",
        "salary_step": 3, "salary_coefficient": 3.0, "pending_discipline": None,
        "address": "Hà Nội", "updated_at": datetime(2026, 2, 27, tzinfo=UTC),
        "hired_on": date(2015, 3, 1), "disciplines": []}
    return {**base, **changes}


def outcomes(found: list[Any]) -> list[tuple[str, str | None]]:
    return [(f.outcome, f.conflict or f.kind) for f in found]


def run(rec: dict[str, Any], employee: dict[str, Any] | None = EMPLOYEE,
        disciplines: list[dict[str, Any]] | None = None, twin: dict[str, Any] | None = None,
        in_scope: bool = True) -> list[Any]:
    return classify(rec, employee, disciplines or [], twin, CODES, code_prefix="BTC",
                    in_scope=in_scope)


def test_the_same_facts_are_no_difference() -> None:
    assert run(record()) == []
    # written otherwise, the same values: a coefficient as 3 or "3.00", spacing, case,
    # composed or decomposed diacritics
    assert run(record(salary_coefficient="3.00", full_name="  nguyễn  VĂN an ")) == []
    assert run(record(full_name="Nguye\u0302\u0303n Va\u0306n An")) == []
    # what the national database does not keep: the address, a pending case
    assert run(record(address="elsewhere", pending_discipline="Đang xem xét")) == []


def test_a_later_step_raise_is_a_position_change_on_the_agency_date() -> None:
    later = datetime(2026, 10, 5, 8, 30, tzinfo=UTC)
    [found] = run(record(salary_step=4, salary_coefficient=3.33, updated_at=later))
    assert (found.outcome, found.kind) == ("changed", "position-change")
    assert found.change == {"salaryStep": 4, "effectiveFrom": "2026-10-05"}
    assert found.fields == [{"field": "salary_step", "national": 3, "agency": 4}]


def test_a_promotion_names_the_post_and_a_new_rank_its_step() -> None:
    later = datetime(2026, 10, 5, tzinfo=UTC)
    [found] = run(record(position_code="PHO_TRUONG_PHONG", updated_at=later))
    assert found.change == {"positionCode": "PHO_TRUONG_PHONG", "effectiveFrom": "2026-10-05"}
    [found] = run(record(rank_code="V.07.01.01", salary_step=2, salary_coefficient=4.34,
                         updated_at=later))
    assert found.change == {"rankCode": "V.07.01.01", "salaryStep": 2,
                            "effectiveFrom": "2026-10-05"}


@pytest.mark.parametrize("agency_time", [NATIONAL_TIME, datetime(2025, 1, 1, tzinfo=UTC), None])
def test_a_change_no_later_than_the_national_file_is_a_conflict(agency_time: Any) -> None:
    # at the same instant, the national file is as new: the hub does not guess
    [found] = run(record(salary_step=4, salary_coefficient=3.33, updated_at=agency_time))
    assert (found.outcome, found.conflict) == ("conflict", "national-newer")


@pytest.mark.parametrize(("changes", "code", "path"), [
    ({"position_code": "TBP"}, "UNKNOWN_CODE", "position_code"),
    ({"rank_code": "01003"}, "UNKNOWN_CODE", "rank_code"),
    ({"salary_coefficient": 3.01}, "NOT_ON_LADDER", "salary_coefficient"),
    ({"salary_step": 10, "salary_coefficient": None}, "NOT_ON_LADDER", "salary_step"),
    ({"salary_step": None}, "NOT_ON_LADDER", "salary_step"),
])
def test_values_that_cannot_be_national_are_invalid(changes: dict[str, Any], code: str,
                                                    path: str) -> None:
    later = datetime(2026, 10, 5, tzinfo=UTC)
    [found] = run(record(updated_at=later, **changes))
    assert found.outcome == "invalid"
    assert (found.reasons[0]["code"], found.reasons[0]["path"]) == (code, path)
    assert found.change is None


def test_a_different_identity_is_queued_never_applied() -> None:
    [found] = run(record(full_name="Nguyen Văn An"))  # a diacritic dropped
    assert (found.outcome, found.conflict) == ("conflict", "identity")
    assert found.fields == [{"field": "full_name", "national": "Nguyễn Văn An",
                             "agency": "Nguyen Văn An"}]
    [found] = run(record(birth_date=date(1990, 5, 18), sex="female"))
    assert [d["field"] for d in found.fields] == ["birth_date", "sex"]


def test_a_different_identity_holds_back_everything_else_of_the_record() -> None:
    """A record under the file's personal ID but another name (a mistyped ID, or a name not
    as the registry has it) changes nothing: its step and decision are shown in the
    identity conflict, never applied to the file."""
    later = datetime(2026, 10, 5, tzinfo=UTC)
    [found] = run(record(full_name="Nguyen Van An", salary_step=4, salary_coefficient=3.33,
                         updated_at=later, disciplines=[DECISION]))
    assert (found.outcome, found.conflict, found.change) == ("conflict", "identity", None)
    assert [d["field"] for d in found.fields] == ["full_name", "salary_step", "discipline"]
    # the conflict is the identity's: a later step does not make it another one
    again = run(record(full_name="Nguyen Van An", salary_step=5, salary_coefficient=3.66,
                       updated_at=later))[0]
    assert fingerprint("s", record(), found) == fingerprint("s", record(), again)


def test_a_time_without_an_offset_cannot_be_ordered_and_is_a_conflict() -> None:
    [found] = run(record(salary_step=4, salary_coefficient=3.33,
                         updated_at=datetime(2026, 10, 5, 8, 30)))
    assert (found.outcome, found.conflict) == ("conflict", "national-newer")


def test_the_effective_day_is_vietnams() -> None:
    # 23:30 UTC on 4 October is 06:30 on 5 October in Hà Nội
    [found] = run(record(salary_step=4, salary_coefficient=3.33,
                         updated_at=datetime(2026, 10, 4, 23, 30, tzinfo=UTC)))
    assert found.change["effectiveFrom"] == "2026-10-05"


def test_another_agency_is_a_transfer_conflict() -> None:
    [found] = run(record(agency_code="000.00.02.G02"))
    assert (found.outcome, found.conflict) == ("conflict", "transfer")
    [found] = run(record(), in_scope=False)  # the national file is another system's
    assert found.conflict == "transfer"


def test_a_decision_the_national_file_lacks_is_new_one_it_holds_differently_a_conflict(
        ) -> None:
    [found] = run(record(disciplines=[DECISION]))
    assert (found.outcome, found.kind) == ("new", "discipline-decision")
    assert found.change == {"formCode": "reprimand", "decisionNumber": "12/QĐ-BTC",
                            "decidedOn": "2026-09-01", "issuer": "Bộ trưởng Bộ Tài chính",
                            "reason": "vi phạm quy chế", "effectiveFrom": "2026-09-01"}
    assert run(record(disciplines=[DECISION]), disciplines=[DECISION]) == []
    national = {**DECISION, "employee_code": "CB00000042", "form_code": "warning"}
    [found] = run(record(disciplines=[DECISION]), disciplines=[national])
    assert (found.outcome, found.conflict) == ("conflict", "discipline")
    assert found.fields == [{"field": "discipline[12/QĐ-BTC].form_code", "national": "warning",
                             "agency": "reprimand"}]
    # a national decision the agency's system lacks is not synchronisation's to remove
    assert run(record(), disciplines=[national]) == []
    # the issuer written with decomposed diacritics and other spacing is the same issuer
    nfd = {**DECISION, "issuer": " Bo\u0323\u0302 tru\u031bo\u031b\u0309ng  Bộ Tài chính"}
    assert run(record(disciplines=[nfd]), disciplines=[
        {**DECISION, "issuer": "Bộ trưởng Bộ Tài chính", "employee_code": "CB00000042"}]) == []


def test_someone_the_national_database_lacks_is_registered() -> None:
    [found] = run(record(personal_id="001095054321", local_id="tcm-00001/001",
                         full_name="Trần  Thị Bích Ngọc", sex="female",
                         birth_date=date(1995, 1, 2), hired_on=date(2026, 10, 1)),
                  employee=None)
    assert (found.outcome, found.kind) == ("new", "register-employee")
    assert found.change == {
        "employeeCode": "BTCTCM00001001", "familyName": "Trần", "middleName": "Thị Bích",
        "givenName": "Ngọc", "birthDate": "1995-01-02", "sex": "female",
        "category": "civil_servant", "agencyCode": "000.00.01.G02",
        "unitName": "Phòng Tổng hợp", "positionCode": "CHUYEN_VIEN", "rankCode": "01.003",
        "salaryStep": 3, "hiredOn": "2026-10-01"}


def test_a_new_hires_decisions_follow_the_registration() -> None:
    found = run(record(personal_id="001095054321", local_id="TC9", disciplines=[DECISION]),
                employee=None)
    assert outcomes(found) == [("new", "register-employee"), ("new", "discipline-decision")]


def test_a_new_hire_with_missing_or_invalid_values_is_reported() -> None:
    [found] = run(record(personal_id="001095054321", hired_on=None, position_code="TBP"),
                  employee=None)
    assert found.outcome == "invalid"
    assert {r["code"] for r in found.reasons} == {"UNKNOWN_CODE", "REQUIRED"}


def test_a_second_record_of_a_registered_person_is_a_duplicate() -> None:
    [found] = run(record(personal_id="001090012346", local_id="TC00099999"), employee=None,
                  twin=EMPLOYEE)
    assert (found.outcome, found.conflict) == ("conflict", "duplicate")
    assert found.fields == [{"field": "personal_id", "national": "001090012345",
                             "agency": "001090012346"}]


@pytest.mark.parametrize("pid", ["", "12345", "00109001234X", "999090012345", None, 1234])
def test_a_malformed_personal_id_is_unmatched(pid: Any) -> None:
    [found] = run(record(personal_id=pid), employee=None)
    assert (found.outcome, found.reasons[0]["code"]) == ("unmatched", "INVALID_PERSONAL_ID")


def test_registration_codes() -> None:
    assert registration_code("HN", 12345) == "HN12345"
    assert registration_code("BTC", " tc-0001 ") == "BTCTC0001"
    assert registration_code("BTC", "") is None
    assert registration_code("BTC", "---") is None
    assert registration_code("BTC", "X" * 30) is None  # too long for an employee code


def test_identity_keys_ignore_case_spacing_and_composition_not_diacritics() -> None:
    key = identity_key("Nguyễn Văn An", date(1990, 5, 17), "male")
    assert identity_key(" nguyễn văn  AN", "1990-05-17", "male") == key
    assert identity_key("Nguyen Van An", date(1990, 5, 17), "male") != key


def test_fingerprints_tell_differences_apart_and_repeat_for_the_same_one() -> None:
    one = run(record(full_name="Nguyen Văn An"))[0]
    again = run(record(full_name="Nguyen Văn An"))[0]
    other = run(record(full_name="Nguyễn Van An"))[0]
    assert fingerprint("s", record(), one) == fingerprint("s", record(), again)
    assert fingerprint("s", record(), one) != fingerprint("s", record(), other)
    assert fingerprint("s", record(), one) != fingerprint("t", record(), one)


texts = st.one_of(st.none(), st.text(max_size=40), st.integers(), st.floats(allow_nan=True))


@given(st.fixed_dictionaries({}, optional={
    "personal_id": texts, "local_id": texts, "full_name": texts, "birth_date": texts,
    "sex": texts, "agency_code": texts, "position_code": texts, "rank_code": texts,
    "salary_step": texts, "salary_coefficient": texts, "updated_at": texts,
    "hired_on": texts}), st.booleans())
def test_any_record_is_classified_without_error(rec: dict[str, Any], matched: bool) -> None:
    """Whatever a vendor sends (values absent, of the wrong type, hostile), the comparison
    classifies it: nothing raises, and only well-formed findings carry a change."""
    for found in run(rec, employee=EMPLOYEE if matched else None):
        assert found.outcome in {"new", "changed", "conflict", "invalid", "unmatched"}
        if found.change is not None:
            assert found.outcome in {"new", "changed"}
