"""The personal-ID rules: what ``make`` builds, ``problems`` accepts, and what it rejects."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers import personal_id as pid

LEGACY = sorted(pid.LEGACY_PROVINCE_CODES)
CURRENT = sorted(pid.CURRENT_PROVINCE_CODES)
sexes = st.sampled_from(["male", "female"])
serials = st.integers(0, 999_999)
births_before_merger = st.dates(date(1900, 1, 1), date(2025, 6, 30))
births_after_merger = st.dates(date(2025, 7, 1), date(2399, 12, 31))


def test_code_lists_are_the_migrations() -> None:
    assert len(pid.LEGACY_PROVINCE_CODES) == 63
    assert len(pid.CURRENT_PROVINCE_CODES) == 34
    assert pid.CURRENT_PROVINCE_CODES <= pid.LEGACY_PROVINCE_CODES


def test_known_number() -> None:
    # A woman born in Hà Nội in 1990, a man born in Hồ Chí Minh City in 2001.
    assert pid.make("01", date(1990, 5, 17), "female", 123) == "001190000123"
    assert pid.make("79", date(2001, 1, 2), "male", 999_999) == "079201999999"
    assert pid.problems("001190000123", date(1990, 5, 17), "female") == []


@given(st.sampled_from(LEGACY), births_before_merger, sexes, serials)
def test_made_numbers_are_valid_before_the_merger(code: str, birth: date, sex: str,
                                                  serial: int) -> None:
    number = pid.make(code, birth, sex, serial)
    assert pid.is_well_formed(number)
    assert pid.problems(number, birth, sex) == []
    assert pid.parse(number) == pid.Parts(code, sex, birth.year, serial)


@given(st.sampled_from(CURRENT), births_after_merger, sexes, serials)
def test_made_numbers_are_valid_after_the_merger(code: str, birth: date, sex: str,
                                                 serial: int) -> None:
    number = pid.make(code, birth, sex, serial)
    assert pid.problems(number, birth, sex) == []


@given(st.sampled_from(sorted(pid.LEGACY_PROVINCE_CODES - pid.CURRENT_PROVINCE_CODES)),
       births_after_merger, sexes)
def test_retired_codes_are_not_issued_after_the_merger(code: str, birth: date,
                                                       sex: str) -> None:
    with pytest.raises(ValueError, match="merged"):
        pid.make(code, birth, sex, 1)
    number = f"0{code}{pid.century_sex_digit(birth.year, sex)}{birth.year % 100:02d}000001"
    assert any("retired" in p for p in pid.problems(number, birth, sex))


@given(st.sampled_from(LEGACY), births_before_merger, sexes, serials)
def test_wrong_sex_year_or_century_is_reported(code: str, birth: date, sex: str,
                                               serial: int) -> None:
    number = pid.make(code, birth, sex, serial)
    other_sex = "female" if sex == "male" else "male"
    assert any("sex" in p for p in pid.problems(number, birth, other_sex))
    other_year = birth.replace(year=birth.year + 1 if birth.year < 2024 else birth.year - 1,
                               day=min(birth.day, 28))
    assert pid.problems(number, other_year, sex)
    if birth.year + 100 <= 2399 and birth.year >= 1900:
        century_later = date(birth.year + 100, 1, 1)
        assert any("century" in p for p in pid.problems(number, century_later, sex))


@given(st.text(max_size=14))
def test_arbitrary_text_never_crashes_the_validator(text: str) -> None:
    found = pid.problems(text, date(1980, 1, 1), "male")
    assert isinstance(found, list)
    if not (len(text) == 12 and text.isascii() and text.isdigit()):
        assert found == ["not 12 digits"]


@pytest.mark.parametrize("number", ["00119000012", "0011900001234", "00119000012a",
                                    "٠٠١١٩٠٠٠٠١٢٣", "003190000123", "101190000123"])
def test_malformed_numbers(number: str) -> None:
    assert not pid.is_well_formed(number)
    assert pid.parse(number) is None
    assert pid.problems(number, date(1990, 1, 1), "female")


def test_make_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="province"):
        pid.make("03", date(1990, 1, 1), "male", 1)
    with pytest.raises(ValueError, match="six digits"):
        pid.make("01", date(1990, 1, 1), "male", 1_000_000)
    with pytest.raises(ValueError, match="1900-2399"):
        pid.make("01", date(1899, 12, 31), "male", 1)
    with pytest.raises(ValueError, match="sex"):
        pid.make("01", date(1990, 1, 1), "other", 1)
