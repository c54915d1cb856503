"""Checks of registrations, asset declarations and transfers (pure): the new file's structure,
the personal ID against birth date and sex, the agency's quota, duplicates, the person's
identity in the population registry, and the facts a transfer depends on."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.population import Identity
from hub.updates.checks import (
    RegistrationFacts,
    check_change,
    check_registration,
    check_registration_facts,
    same_name,
)
from tests.unit.test_update_checks import CODES, EMPLOYEE, JSON, TODAY

PID = "001090012345"  # Hà Nội, a man born in 1990
FILE = {"employeeCode": "HN0001", "familyName": "Nguyễn", "middleName": "Văn",
        "givenName": "An", "birthDate": "1990-04-02", "sex": "male", "ethnicity": "Kinh",
        "religion": "Không", "category": "civil_servant", "agencyCode": "000.00.01.H01",
        "unitName": "Phòng Tổ chức", "positionCode": "P01", "rankCode": "01.003",
        "salaryStep": 1, "hiredOn": "2026-11-01"}
AGENCY = {"code": "000.00.01.H01", "name": "Sở Nội vụ", "headcount_quota": 10, "active": 3}
PERSON = Identity(PID, "Nguyễn Văn An", date(1990, 4, 2), "male", None)


def structure(change: Any, employee: Any = None) -> list[tuple[str, str]]:
    stated = {"personalId": PID} if employee is None else employee
    return [(r.code, r.path) for r in check_registration(change, stated, CODES, TODAY)]


def facts(change: dict[str, Any] | None = None, **given: Any) -> list[tuple[str, str]]:
    found = RegistrationFacts(**{"agency": AGENCY, "person_registered": False,
                                 "code_taken": False, "identity": PERSON, **given})
    return [(r.code, r.path) for r in check_registration_facts(change or FILE, PID, found)]


def test_a_valid_registration_passes_both_steps() -> None:
    assert structure(FILE) == []
    assert facts() == []
    assert structure({k: v for k, v in FILE.items()
                      if k not in ("middleName", "ethnicity", "religion")}) == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"rankCode": "99.999"}, [("UNKNOWN_CODE", "change.rankCode")]),
    ({"positionCode": "P99"}, [("UNKNOWN_CODE", "change.positionCode")]),
    ({"salaryStep": 10}, [("NOT_ON_LADDER", "change.salaryStep")]),
    ({"rankCode": "V.07.01.01"}, [("CATEGORY_MISMATCH", "change.rankCode")]),
    ({"category": "volunteer"}, [("UNKNOWN_CODE", "change.category")]),
    ({"sex": "m"}, [("INVALID", "change.sex")]),
    ({"birthDate": "1990-02-30"}, [("INVALID_DATE", "change.birthDate")]),
    ({"hiredOn": "2006-01-01"}, [("DATE_ORDER", "change.hiredOn")]),
    ({"hiredOn": "2028-01-01"}, [("DATE_ORDER", "change.hiredOn")]),
    ({"employeeCode": "a b"}, [("INVALID", "change.employeeCode")]),
    ({"givenName": ""}, [("INVALID", "change.givenName")]),
    ({"agencyCode": None}, [("REQUIRED", "change.agencyCode")]),
])
def test_structure_reasons(change: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert structure({**FILE, **change}) == expected


@pytest.mark.parametrize(("change", "number", "problem"), [
    ({}, "001290012345", "century"),                     # born in the 2000s by its digit
    ({"sex": "female"}, PID, "sex digit"),
    ({"birthDate": "1991-04-02"}, PID, "year digits"),
    ({}, "0010900123", "12 digits"),
    ({}, "003090012345", "province"),
])
def test_the_personal_id_must_fit_birth_date_and_sex(change: dict[str, Any], number: str,
                                                     problem: str) -> None:
    reasons = check_registration({**FILE, **change}, {"personalId": number}, CODES, TODAY)
    assert {(r.code, r.path) for r in reasons} == {("INVALID_PERSONAL_ID",
                                                    "employee.personalId")}
    assert any(problem in r.message for r in reasons), reasons


def test_the_payload_names_the_person_and_the_same_code() -> None:
    assert structure(FILE, {}) == [("REQUIRED", "employee.personalId")]
    assert structure(FILE, {"personalId": PID, "employeeCode": "OTHER"}) == [
        ("INVALID", "employee.employeeCode")]
    assert structure(["not", "an", "object"]) == [("INVALID", "change")]


def test_quota_duplicates_and_unknown_agency() -> None:
    assert facts(agency={**AGENCY, "active": 10}) == [("QUOTA_EXCEEDED", "change.agencyCode")]
    assert facts(agency=None) == [("UNKNOWN_CODE", "change.agencyCode")]
    assert facts(person_registered=True, code_taken=True) == [
        ("DUPLICATE", "employee.personalId"), ("DUPLICATE", "change.employeeCode")]


@pytest.mark.parametrize(("recorded", "expected"), [
    (PERSON, []),
    (Identity(PID, "  nguyễn   VĂN an ", date(1990, 4, 2), "male", None), []),
    (Identity(PID, "Trần Văn An", date(1990, 4, 2), "male", None),
     [("IDENTITY_MISMATCH", "change.familyName")]),
    (Identity(PID, "Nguyễn Văn Bình", date(1990, 4, 2), "male", None),
     [("IDENTITY_MISMATCH", "change.givenName")]),
    (Identity(PID, "Nguyễn Thị An", date(1990, 4, 2), "male", None),
     [("IDENTITY_MISMATCH", "change.middleName")]),
    (Identity(PID, "Nguyen Van An", date(1990, 4, 2), "male", None),
     [("IDENTITY_MISMATCH", "change.familyName")]),
    (Identity(PID, "Nguyễn Văn An", date(1990, 4, 3), "male", None),
     [("IDENTITY_MISMATCH", "change.birthDate")]),
    (Identity(PID, "Nguyễn Văn An", date(1990, 4, 2), "female", None),
     [("IDENTITY_MISMATCH", "change.sex")]),
    (Identity(PID, "Nguyễn Văn An", date(1990, 4, 2), "male", date(2024, 1, 1)),
     [("DECEASED", "employee.personalId")]),
    (None, [("NOT_IN_REGISTRY", "employee.personalId")]),
])
def test_identity_against_the_population_registry(recorded: Identity | None,
                                                  expected: list[tuple[str, str]]) -> None:
    assert facts(identity=recorded) == expected


def test_names_compare_like_the_registry() -> None:
    assert same_name("Nguyễn  Văn An", "nguyễn văn an")
    assert same_name("Nguye\u0302\u0303n Văn An", "Nguyễn Văn An")  # decomposed vs composed
    assert not same_name("Nguyen Van An", "Nguyễn Văn An")


DECLARATION = {"year": 2025, "declaredOn": "2026-01-15", "landPlots": 1, "houses": 1,
               "totalAssetsVnd": 2_500_000_000, "annualIncomeVnd": 300_000_000}


def codes_of(kind: str, change: Any, facts: dict[str, Any] | None = None,
             employee: dict[str, Any] | None = None) -> list[str]:
    return [r.code for r in check_change(kind, change, employee or EMPLOYEE, CODES, TODAY,
                                         facts)]


def test_asset_declarations() -> None:
    assert codes_of("asset-declaration", DECLARATION) == []
    assert codes_of("asset-declaration", {**DECLARATION, "declaredOn": "2024-12-31"}) == [
        "DATE_ORDER"]
    assert codes_of("asset-declaration", {**DECLARATION, "totalAssetsVnd": -1}) == ["INVALID"]
    assert codes_of("asset-declaration", {**DECLARATION, "houses": True}) == ["INVALID"]
    assert codes_of("asset-declaration", {**DECLARATION, "year": 2027}) == ["INVALID"]
    assert codes_of("asset-declaration", {"year": 2025}) == ["REQUIRED"] * 5


RELEASE = {"toAgencyCode": "000.00.00.G01", "decisionNumber": "7/QĐ-SNV",
           "effectiveFrom": "2026-12-01"}
ACTIVE = {**EMPLOYEE, "status": "active", "agency_code": "000.00.01.H01"}


def test_transfer_out() -> None:
    target = {"to_agency": {"code": "000.00.00.G01"}, "pending": None}
    assert codes_of("transfer-out", RELEASE, target, ACTIVE) == []
    assert codes_of("transfer-out", RELEASE, {"to_agency": None}, ACTIVE) == ["UNKNOWN_CODE"]
    assert codes_of("transfer-out", {**RELEASE, "toAgencyCode": "000.00.01.H01"}, target,
                    ACTIVE) == ["SAME_AGENCY"]
    assert codes_of("transfer-out", RELEASE, {**target, "pending": {"to_agency": "X"}},
                    ACTIVE) == ["TRANSFER_PENDING"]
    assert codes_of("transfer-out", RELEASE, target, {**ACTIVE, "status": "retired"}) == [
        "NOT_ACTIVE"]
    assert codes_of("transfer-out", {**RELEASE, "effectiveFrom": "2014-01-01"}, target,
                    ACTIVE) == ["DATE_ORDER"]


RECEIVE = {"agencyCode": "000.00.00.G01", "unitName": "Vụ Tổ chức", "positionCode": "P02",
           "effectiveFrom": "2026-12-01"}
PENDING = {"id": 1, "to_agency": "000.00.00.G01", "from_agency": "000.00.01.H01",
           "effective_from": date(2026, 12, 1), "decision_number": "7/QĐ-SNV"}


def test_transfer_in() -> None:
    known = {"transfer": PENDING, "agency": {**AGENCY, "code": "000.00.00.G01"},
             "open_entry": {"id": 5, "from_date": date(2015, 3, 1)}}
    assert codes_of("transfer-in", RECEIVE, known, ACTIVE) == []
    assert codes_of("transfer-in", RECEIVE, {**known, "transfer": None}, ACTIVE) == [
        "NOT_FOUND"]
    assert codes_of("transfer-in", {**RECEIVE, "effectiveFrom": "2026-11-30"}, known,
                    ACTIVE) == ["DATE_ORDER"]
    assert codes_of("transfer-in", RECEIVE, {
        **known, "agency": {**AGENCY, "active": 10}}, ACTIVE) == ["QUOTA_EXCEEDED"]
    assert codes_of("transfer-in", {**RECEIVE, "positionCode": "P77"}, known, ACTIVE) == [
        "UNKNOWN_CODE"]
    late_entry = {**known, "open_entry": {"id": 5, "from_date": date(2026, 12, 1)}}
    assert codes_of("transfer-in", RECEIVE, late_entry, ACTIVE) == ["DATE_ORDER"]


FIELDS = st.sampled_from([*FILE, "toAgencyCode", "decisionNumber", "effectiveFrom",
                          *DECLARATION])


@given(change=st.dictionaries(FIELDS, JSON, max_size=10), stated=JSON)
def test_hostile_registrations_get_reasons_never_exceptions(change: dict[str, Any],
                                                            stated: Any) -> None:
    for reason in check_registration({**FILE, **change}, stated, CODES, TODAY):
        assert reason.code.isupper()
        assert reason.message
        assert reason.path.startswith(("change", "employee."))


@given(kind=st.sampled_from(["asset-declaration", "transfer-out", "transfer-in"]),
       change=st.dictionaries(FIELDS, JSON, max_size=8))
def test_hostile_changes_get_reasons_never_exceptions(kind: str, change: dict[str, Any]) -> None:
    known = {"transfer": PENDING, "agency": AGENCY, "to_agency": None, "pending": None}
    for reason in check_change(kind, change, ACTIVE, CODES, TODAY, known):
        assert reason.code.isupper()
        assert reason.message
