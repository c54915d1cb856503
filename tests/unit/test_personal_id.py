from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers import personal_id

provinces = st.sampled_from(sorted(personal_id.LEGACY_PROVINCE_CODES))
births = st.dates(min_value=date(1800, 1, 1), max_value=date(2299, 12, 31))
sexes = st.sampled_from(["male", "female"])
serials = st.integers(min_value=0, max_value=999_999)


@given(provinces, births, sexes, serials)
def test_made_ids_are_valid_for_their_facts(province: str, born: date, sex: str,
                                            serial: int) -> None:
    pid = personal_id.make(province, born, sex, serial)
    assert personal_id.is_well_formed(pid)
    assert personal_id.problems(pid, born, sex) == []
    assert personal_id.century_and_sex(pid)[1] == sex


@given(provinces, births, sexes, serials)
def test_wrong_sex_or_year_is_reported(province: str, born: date, sex: str, serial: int) -> None:
    pid = personal_id.make(province, born, sex, serial)
    other_sex = "female" if sex == "male" else "male"
    assert personal_id.problems(pid, born, other_sex) == ["sex does not match the personal ID"]
    other_year = born.replace(year=born.year + 1) if born.year < 2299 and not (
        born.month == 2 and born.day == 29) else born.replace(year=born.year - 2, day=1)
    assert "birth year does not match the personal ID" in personal_id.problems(
        pid, other_year, sex)


@given(st.text(max_size=20))
def test_arbitrary_text_is_never_well_formed_unless_twelve_digits(text: str) -> None:
    if personal_id.is_well_formed(text):
        assert len(text) == 12
        assert text.isdigit()


@pytest.mark.parametrize("pid", ["", "00108501234", "0010850123456", "999085012345",
                                 "003085012345", "٠٠١٠٨٥٠١٢٣٤٥", "00108501234a"])
def test_malformed_ids(pid: str) -> None:
    assert not personal_id.is_well_formed(pid)
    assert personal_id.problems(pid, date(1985, 1, 1), "male")


def test_the_example_from_the_design_notes() -> None:
    # Hà Nội (001), a man born in the 20th century (0), in 1985 (85).
    assert personal_id.problems("001085012345", date(1985, 6, 1), "male") == []
    assert personal_id.century_and_sex("001385012345") == (2000, "female")
