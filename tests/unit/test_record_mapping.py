from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import RecordMapping
from adapters.record_mapping import ListField

MAPPING = RecordMapping(
    fields={"personal_id": "so_cccd", "birth_date": "ngay_sinh", "position_code": "chuc.ma",
            "salary_step": "bac"},
    types={"birth_date": "date", "salary_step": "int"},
    codes={"position_code": {"TP": "TRUONG_PHONG"}},
)


def test_fields_paths_types_and_codes() -> None:
    record = {"so_cccd": "001085012345", "ngay_sinh": "1985-06-01", "chuc": {"ma": "TP"},
              "bac": "3", "extra": "not asked for"}
    assert MAPPING.to_canonical(record, ["personal_id", "birth_date", "position_code",
                                         "salary_step"]) == {
        "personal_id": "001085012345", "birth_date": date(1985, 6, 1),
        "position_code": "TRUONG_PHONG", "salary_step": 3}


def test_only_asked_columns_leave_the_adapter() -> None:
    assert MAPPING.to_canonical({"so_cccd": "x", "ngay_sinh": "1985-06-01"},
                                ["personal_id"]) == {"personal_id": "x"}


def test_unknown_codes_pass_through_and_bad_values_become_null() -> None:
    record = {"chuc": {"ma": "XYZ"}, "ngay_sinh": "not a date", "bac": "three"}
    assert MAPPING.to_canonical(record, ["position_code", "birth_date", "salary_step"]) == {
        "position_code": "XYZ", "birth_date": None, "salary_step": None}


def test_missing_and_unmapped_fields_are_null() -> None:
    assert MAPPING.to_canonical({}, ["personal_id", "not_mapped"]) == {
        "personal_id": None, "not_mapped": None}


def test_bad_mappings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown field types"):
        RecordMapping(fields={"a": "b"}, types={"a": "money"})
    with pytest.raises(ValueError, match="unmapped"):
        RecordMapping(fields={"a": "b"}, codes={"c": {}})


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                           max_leaves=10)


@given(st.dictionaries(st.text(), json_values))
def test_hostile_vendor_records_never_raise(record: dict[str, object]) -> None:
    out = MAPPING.to_canonical(record, list(MAPPING.fields))
    assert set(out) == set(MAPPING.fields)


# -- list fields (a person's discipline decisions) ------------------------------------------

DECISIONS = RecordMapping(
    fields={"personal_id": "so_cccd", "hired_on": "ngay_tuyen_dung"},
    types={"hired_on": "date"},
    lists={"disciplines": ListField("ho_so.ky_luat", RecordMapping(
        fields={"decision_number": "so", "decided_on": "ngay", "form_code": "hinh_thuc",
                "effective_to": "den"},
        types={"decided_on": "date", "effective_to": "date"},
        codes={"form_code": {"KT": "reprimand", "CC": "warning"}}))},
)


def test_list_fields_map_each_item() -> None:
    record = {"so_cccd": "001085012345", "ngay_tuyen_dung": "2010-09-01",
              "ho_so": {"ky_luat": [
                  {"so": "12/QĐ-BTC", "ngay": "2024-01-15", "hinh_thuc": "CC", "den": None},
                  {"so": "3/QĐ-BTC", "ngay": "bad", "hinh_thuc": "XX", "den": "2025-01-01",
                   "extra": 1}]}}
    assert DECISIONS.to_canonical(record, ["personal_id", "hired_on", "disciplines"]) == {
        "personal_id": "001085012345", "hired_on": date(2010, 9, 1),
        "disciplines": [
            {"decision_number": "12/QĐ-BTC", "decided_on": date(2024, 1, 15),
             "form_code": "warning", "effective_to": None},
            {"decision_number": "3/QĐ-BTC", "decided_on": None, "form_code": "XX",
             "effective_to": date(2025, 1, 1)}]}
    assert DECISIONS.to_canonical({"ho_so": {"ky_luat": []}}, ["disciplines"]) == {
        "disciplines": []}


@pytest.mark.parametrize("value", [None, "12/QĐ-BTC", {"so": "1"}, [{"so": "1"}, "garbled"],
                                   [None], 7], ids=["absent", "text", "object", "one garbled",
                                                    "null item", "number"])
def test_a_list_not_sent_as_objects_is_unknown_not_shorter(value: object) -> None:
    """A decision must never vanish: a list with anything but objects in it reads as None."""
    assert DECISIONS.to_canonical({"ho_so": {"ky_luat": value}}, ["disciplines"]) == {
        "disciplines": None}


def test_vendor_paths_name_each_item_field_of_a_list() -> None:
    assert DECISIONS.vendor_paths(["personal_id", "disciplines", "unmapped"]) == [
        "so_cccd", "ho_so.ky_luat.so", "ho_so.ky_luat.ngay", "ho_so.ky_luat.hinh_thuc",
        "ho_so.ky_luat.den"]
    assert DECISIONS.maps("disciplines")
    assert DECISIONS.maps("hired_on")
    assert not DECISIONS.maps("address")


def test_a_field_is_a_value_or_a_list_not_both() -> None:
    with pytest.raises(ValueError, match="both"):
        RecordMapping(fields={"a": "b"}, lists={"a": ListField("c", RecordMapping(fields={}))})


@given(st.dictionaries(st.text(), json_values), json_values)
def test_hostile_vendor_lists_never_raise(record: dict[str, object], items: object) -> None:
    record = {**record, "ho_so": {"ky_luat": items}}
    out = DECISIONS.to_canonical(record, ["personal_id", "disciplines"])
    decisions = out["disciplines"]
    assert decisions is None or (isinstance(items, list) and len(decisions) == len(items))
