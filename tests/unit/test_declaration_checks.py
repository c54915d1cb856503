"""Checks of the employee's own form-2C declarations: personal history and family (pure)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.updates.changes import record_change
from hub.updates.checks import FAMILY_RELATIONS, check_change
from tests.unit.test_update_checks import CODES, TODAY

# Born in 1985 (the ID's year digits), a man registered in Hà Nội.
EMPLOYEE = {"employee_code": "CB00000001", "personal_id": "001085012345",
            "category": "civil_servant", "rank_code": "01.003", "salary_step": 3,
            "hired_on": date(2010, 3, 1)}
PERIOD = {"fromDate": "2003-09-05", "toDate": "2007-06-30", "activity": "Sinh viên",
          "place": "Trường Đại học Luật Hà Nội"}
FATHER = {"relation": "father", "fullName": "Nguyễn Văn Hùng", "birthYear": 1955,
          "occupation": "Nghỉ hưu", "workplaceOrAddress": "Xã Đông Anh, Hà Nội",
          "personalId": "001055000123"}
HUGE = "x" * 100_000


def reasons(kind: str, change: Any) -> list[tuple[str, str]]:
    return [(r.code, r.path) for r in check_change(kind, change, EMPLOYEE, CODES, TODAY)]


def history(**changed: Any) -> list[tuple[str, str]]:
    return reasons("personal-history", {**PERIOD, **changed})


def relative(**changed: Any) -> list[tuple[str, str]]:
    return reasons("family", {k: v for k, v in {**FATHER, **changed}.items()
                              if v is not _ABSENT})


_ABSENT = object()


# -- personal history ----------------------------------------------------------------------------

def test_a_period_passes_ended_ongoing_or_corrected() -> None:
    assert history() == []
    assert history(toDate=None) == []           # still going on
    assert history(place=None) == []            # the place is optional
    assert history(entryId=42) == []            # a correction of entry 42
    assert history(fromDate=TODAY.isoformat(), toDate=None) == []


@pytest.mark.parametrize(("changed", "expected"), [
    ({"fromDate": None}, ("REQUIRED", "change.fromDate")),
    ({"activity": None}, ("REQUIRED", "change.activity")),
    ({"activity": "   "}, ("INVALID", "change.activity")),
    ({"activity": HUGE}, ("INVALID", "change.activity")),
    ({"activity": "a" * 501}, ("INVALID", "change.activity")),
    ({"place": "p" * 301}, ("INVALID", "change.place")),
    ({"activity": "Sinh\x00viên"}, ("INVALID", "change.activity")),
    ({"activity": "Sinh viên\nTrưởng phòng"}, ("INVALID", "change.activity")),
    ({"activity": "Sinh viên\u2028Trưởng phòng"}, ("INVALID", "change.activity")),
    ({"place": "Hà Nội\u202e"}, ("INVALID", "change.place")),     # right-to-left override
    ({"activity": 12}, ("INVALID", "change.activity")),
    ({"activity": ["Sinh viên"]}, ("INVALID", "change.activity")),
    ({"fromDate": "2003-9-5"}, ("INVALID_DATE", "change.fromDate")),
    ({"fromDate": "20030905"}, ("INVALID_DATE", "change.fromDate")),
    ({"fromDate": "0000-01-01"}, ("INVALID_DATE", "change.fromDate")),
    ({"fromDate": "1949-12-31"}, ("INVALID_DATE", "change.fromDate")),
    ({"fromDate": "2003-02-30"}, ("INVALID_DATE", "change.fromDate")),
    ({"fromDate": 20030905}, ("INVALID", "change.fromDate")),
    ({"toDate": "9999-12-31"}, ("DATE_ORDER", "change.toDate")),
    ({"fromDate": "2026-11-23", "toDate": None}, ("DATE_ORDER", "change.fromDate")),
    ({"toDate": "2003-09-04"}, ("DATE_ORDER", "change.toDate")),
    ({"fromDate": "1984-01-01"}, ("DATE_ORDER", "change.fromDate")),  # before the birth year
    ({"entryId": 0}, ("INVALID", "change.entryId")),
    ({"entryId": "7"}, ("INVALID", "change.entryId")),
    ({"entryId": True}, ("INVALID", "change.entryId")),
    ({"entryId": 2**63}, ("INVALID", "change.entryId")),
])
def test_a_malformed_period_gets_a_precise_reason(changed: dict[str, Any],
                                                   expected: tuple[str, str]) -> None:
    assert history(**changed) == [expected]


def test_blank_optional_texts_are_absent_and_written_empty() -> None:
    assert history(place="") == history(place="  ") == []
    written = record_change("personal-history", {**PERIOD, "place": " "}, EMPLOYEE, CODES)
    assert written.values["place"] == ""
    assert history(activity="") == [("INVALID", "change.activity")]  # required stays so


def test_a_text_is_measured_as_it_is_kept() -> None:
    """U+0958 has no composed form: NFC writes it as two characters, so 300 of them sent are
    600 kept, beyond the place's 300."""
    assert history(place="\u0958" * 150) == []
    assert history(place="\u0958" * 300) == [("INVALID", "change.place")]


def test_a_period_is_written_as_declared_in_nfc() -> None:
    decomposed = "Sinh vie\u0302n"  # ê as e + combining circumflex
    write = record_change("personal-history", {**PERIOD, "activity": f"  {decomposed} "},
                          EMPLOYEE, CODES)
    assert write.table == "personal_history"
    assert write.record_id is None
    assert write.values == {"from_date": date(2003, 9, 5), "to_date": date(2007, 6, 30),
                            "activity": "Sinh viên", "place": "Trường Đại học Luật Hà Nội"}
    correction = record_change("personal-history", {**PERIOD, "entryId": 9, "toDate": None},
                               EMPLOYEE, CODES)
    assert (correction.record_id, correction.values["to_date"]) == (9, None)


# -- family --------------------------------------------------------------------------------------

def test_a_relative_passes_living_deceased_or_without_an_id() -> None:
    assert relative() == []
    assert relative(personalId=_ABSENT, occupation=_ABSENT, workplaceOrAddress=_ABSENT) == []
    # A blank optional cell (a child's occupation left empty) is an absent one.
    assert relative(deceased=True, deathYear=2020, occupation="", workplaceOrAddress=" ") == []
    assert relative(deceased=True, deathYear=2020, occupation=_ABSENT) == []
    assert relative(deceased=True) == []  # the year of death may be unknown
    assert relative(relation="child", fullName="Nguyễn Minh An", birthYear=2015,
                    personalId="001215000456", memberId=3) == []
    assert relative(relation="spouse", birthYear=1987, personalId="001187000789") == []


def test_every_relation_of_the_closed_list_is_known() -> None:
    assert set(FAMILY_RELATIONS) == {"father", "mother", "adoptive_father", "adoptive_mother",
                                     "spouse", "child", "sibling", "father_in_law",
                                     "mother_in_law", "sibling_in_law"}
    for relation, sex in FAMILY_RELATIONS.items():
        number = {"male": "001055000123", "female": "001155000123", None: None}[sex]
        found = relative(relation=relation, personalId=number or _ABSENT)
        assert found == ([] if relation != "child" else
                         [("DATE_ORDER", "change.birthYear")]), relation


@pytest.mark.parametrize(("changed", "expected"), [
    ({"relation": None}, ("REQUIRED", "change.relation")),
    ({"relation": "cousin"}, ("UNKNOWN_CODE", "change.relation")),
    ({"relation": "FATHER"}, ("UNKNOWN_CODE", "change.relation")),
    ({"relation": "father-in-law"}, ("UNKNOWN_CODE", "change.relation")),
    ({"relation": HUGE}, ("INVALID", "change.relation")),
    ({"fullName": None}, ("REQUIRED", "change.fullName")),
    ({"fullName": ""}, ("INVALID", "change.fullName")),
    ({"fullName": HUGE}, ("INVALID", "change.fullName")),
    ({"fullName": "Nguyễn\x00Văn Hùng"}, ("INVALID", "change.fullName")),
    ({"fullName": {"family": "Nguyễn"}}, ("INVALID", "change.fullName")),
    ({"occupation": "o" * 201}, ("INVALID", "change.occupation")),
    ({"workplaceOrAddress": "w" * 301}, ("INVALID", "change.workplaceOrAddress")),
    ({"workplaceOrAddress": "Số 1\tHà Nội"}, ("INVALID", "change.workplaceOrAddress")),
    ({"birthYear": None}, ("REQUIRED", "change.birthYear")),
    ({"birthYear": "1955"}, ("INVALID", "change.birthYear")),
    ({"birthYear": 1955.0}, ("INVALID", "change.birthYear")),
    ({"birthYear": True}, ("INVALID", "change.birthYear")),
    ({"birthYear": 0, "personalId": _ABSENT}, ("INVALID", "change.birthYear")),
    ({"birthYear": 1899, "personalId": _ABSENT}, ("INVALID", "change.birthYear")),
    ({"birthYear": 2027, "personalId": _ABSENT}, ("INVALID", "change.birthYear")),
    ({"birthYear": 1901, "personalId": _ABSENT}, ("INVALID", "change.birthYear")),  # alive at 125
    ({"birthYear": 1990, "personalId": _ABSENT}, ("DATE_ORDER", "change.birthYear")),
    ({"relation": "mother", "birthYear": 1985, "personalId": _ABSENT},
     ("DATE_ORDER", "change.birthYear")),
    ({"deceased": "yes"}, ("INVALID", "change.deceased")),
    ({"deceased": 1}, ("INVALID", "change.deceased")),
    ({"deathYear": 2020}, ("INVALID", "change.deathYear")),  # not declared deceased
    ({"deceased": False, "deathYear": 2020}, ("INVALID", "change.deathYear")),
    ({"deceased": True, "deathYear": 1950}, ("DATE_ORDER", "change.deathYear")),
    ({"deceased": True, "deathYear": 2027}, ("INVALID", "change.deathYear")),
    ({"deceased": True, "deathYear": "2020"}, ("INVALID", "change.deathYear")),
    ({"personalId": "00105500012"}, ("INVALID_PERSONAL_ID", "change.personalId")),
    ({"personalId": "0010550001234"}, ("INVALID_PERSONAL_ID", "change.personalId")),
    ({"personalId": "099055000123"}, ("INVALID_PERSONAL_ID", "change.personalId")),
    ({"personalId": "00105500012a"}, ("INVALID_PERSONAL_ID", "change.personalId")),
    ({"personalId": "００１０５５０００１２３"}, ("INVALID_PERSONAL_ID", "change.personalId")),
    ({"personalId": 1055000123}, ("INVALID_PERSONAL_ID", "change.personalId")),
    ({"personalId": "001056000123"}, ("INVALID_PERSONAL_ID", "change.personalId")),  # 1956
    ({"personalId": "001155000123"}, ("INVALID_PERSONAL_ID", "change.personalId")),  # a woman
    ({"personalId": "001085012345"}, ("INVALID_PERSONAL_ID", "change.personalId")),  # own ID
    ({"memberId": -1}, ("INVALID", "change.memberId")),
    ({"memberId": 1.5}, ("INVALID", "change.memberId")),
])
def test_a_malformed_relative_gets_a_precise_reason(changed: dict[str, Any],
                                                     expected: tuple[str, str]) -> None:
    assert relative(**changed) == [expected]


def test_a_relative_is_written_as_declared() -> None:
    write = record_change("family", {**FATHER, "fullName": " Nguyễn Văn Hùng ",
                                     "deceased": True, "deathYear": 2019}, EMPLOYEE, CODES)
    assert write.table == "family_member"
    assert write.record_id is None
    assert write.values == {"relation": "father", "full_name": "Nguyễn Văn Hùng",
                            "birth_year": 1955, "occupation": "Nghỉ hưu",
                            "workplace_or_address": "Xã Đông Anh, Hà Nội",
                            "personal_id": "001055000123", "deceased": True,
                            "death_year": 2019}
    bare = record_change("family", {"relation": "sibling", "fullName": "Nguyễn Thị Lan",
                                    "birthYear": 1988, "memberId": 5}, EMPLOYEE, CODES)
    assert bare.record_id == 5
    assert bare.values["personal_id"] is None
    assert (bare.values["deceased"], bare.values["death_year"]) == (False, None)
    assert (bare.values["occupation"], bare.values["workplace_or_address"]) == ("", "")


def test_not_an_object_and_an_employee_without_an_id() -> None:
    assert reasons("family", "father") == [("INVALID", "change")]
    assert reasons("personal-history", None) == [("INVALID", "change")]
    # Without a readable personal ID on file, the birth-year order is not checked.
    anonymous = {**EMPLOYEE, "personal_id": None}
    found = check_change("family", {**FATHER, "birthYear": 1999, "personalId": "001099000123"},
                         anonymous, CODES, TODAY)
    assert found == []


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
FIELDS = st.sampled_from(["entryId", "fromDate", "toDate", "activity", "place", "memberId",
                          "relation", "fullName", "birthYear", "occupation",
                          "workplaceOrAddress", "personalId", "deceased", "deathYear"])


@given(kind=st.sampled_from(["personal-history", "family"]),
       change=st.dictionaries(FIELDS, JSON, max_size=10))
def test_hostile_declarations_get_reasons_never_exceptions(kind: str,
                                                           change: dict[str, Any]) -> None:
    found = check_change(kind, change, EMPLOYEE, CODES, TODAY)
    for reason in found:
        assert reason.code.isupper()
        assert reason.path.startswith("change")
        assert reason.message
    if not found:  # what passes the checks can be written
        record_change(kind, change, EMPLOYEE, CODES)


# -- the same relative twice ---------------------------------------------------------------------

DECLARED = [{"id": 7, "relation": "father", "full_name": "Nguyễn Văn Hùng", "birth_year": 1955,
             "personal_id": "001055000123"},
            {"id": 8, "relation": "mother", "full_name": "Lê Thị Mai", "birth_year": 1958,
             "personal_id": None}]


def again(**changed: Any) -> list[tuple[str, str]]:
    change = {k: v for k, v in {**FATHER, **changed}.items() if v is not _ABSENT}
    return [(r.code, r.path) for r in check_change("family", change, EMPLOYEE, CODES, TODAY,
                                                   {"relatives": DECLARED})]


def test_a_relative_declared_twice_is_a_duplicate_naming_the_entry() -> None:
    assert again() == [("DUPLICATE", "change.personalId")]
    (reason,) = check_change("family", FATHER, EMPLOYEE, CODES, TODAY, {"relatives": DECLARED})
    assert "memberId 7" in reason.message
    # Without the ID: the same relation, birth year and name (composed or not, any case,
    # any spacing) is the same person.
    mother = {"relation": "mother", "fullName": "LÊ THI\u0323  MAI", "birthYear": 1958,
              "personalId": _ABSENT}
    assert again(**mother) == [("DUPLICATE", "change.fullName")]
    # Another mother's year, or a sibling of the same name, is someone else.
    assert again(**{**mother, "birthYear": 1959}) == []
    assert again(relation="sibling", fullName="Lê Thị Mai", birthYear=1988,
                 personalId=_ABSENT) == []


def test_correcting_an_entry_is_not_a_duplicate_of_itself_but_of_another() -> None:
    assert again(memberId=7) == []
    assert again(memberId=8) == [("DUPLICATE", "change.personalId")]
    # Nothing declared yet, or no facts read: nothing to repeat.
    assert relative() == []
