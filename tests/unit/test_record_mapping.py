from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import RecordMapping

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
