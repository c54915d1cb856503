"""Vendor code lists, cursors and input validation, without any service running."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.agency_graphql import codes as graphql_codes
from sandbox.agency_rest import codes as rest_codes
from sandbox.cursor import decode_cursor, encode_cursor
from sandbox.http import InvalidInput
from sandbox.inputs import iso_date, iso_datetime, personal_id

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "0002_code_list_data.sql"


def national_codes(table: str) -> set[str]:
    """The codes the national database's migration inserts into ``table``."""
    sql = MIGRATIONS.read_text("utf-8")
    block = sql.split(f"INSERT INTO {table} ")[1].split(";")[0]
    return set(re.findall(r"^ \('([^']+)'", block, flags=re.MULTILINE))


def test_rest_position_codes_cover_the_national_list_one_to_one() -> None:
    assert set(rest_codes.POSITION_CODES.values()) == national_codes("position")
    assert len(rest_codes.POSITION_CODES) == len(national_codes("position"))
    assert set(rest_codes.POSITION_LABELS) == set(rest_codes.POSITION_CODES)
    for vendor, national in rest_codes.POSITION_CODES.items():
        assert rest_codes.vendor_position_code(national) == vendor
        assert rest_codes.national_position_code(vendor) == national


def test_graphql_job_titles_cover_the_national_list_one_to_one() -> None:
    assert {n for n, _ in graphql_codes.JOB_TITLES.values()} == national_codes("position")
    assert len(graphql_codes.JOB_TITLES) == len(national_codes("position"))
    for vendor, (national, label) in graphql_codes.JOB_TITLES.items():
        assert graphql_codes.vendor_job_title_code(national) == vendor
        assert graphql_codes.national_position_code(vendor) == national
        assert graphql_codes.job_title_label(vendor) == label
    assert graphql_codes.job_title_label("UNLISTED") == "UNLISTED"


def test_rank_codes_round_trip_for_every_national_rank() -> None:
    ranks = national_codes("rank")
    assert "01.003" in ranks
    assert "V.07.01.03" in ranks
    for national in ranks:
        vendor = rest_codes.vendor_rank_code(national)
        assert "." not in vendor
        assert rest_codes.national_rank_code(vendor) == national
    assert rest_codes.vendor_rank_code("01.003") == "01003"
    assert rest_codes.vendor_rank_code("V.07.01.03") == "V070103"
    assert rest_codes.national_rank_code("15a201") == "15a.201"


@pytest.mark.parametrize("bad", ["", "01003", "1.003", "V.7.1.3", "V070103", "01.003 "])
def test_vendor_rank_code_refuses_non_national_codes(bad: str) -> None:
    with pytest.raises(ValueError, match="not a national rank code"):
        rest_codes.vendor_rank_code(bad)


@pytest.mark.parametrize("bad", ["", "01.003", "0100", "V07010", "X070103"])
def test_national_rank_code_refuses_non_vendor_codes(bad: str) -> None:
    with pytest.raises(ValueError, match="not a vendor rank code"):
        rest_codes.national_rank_code(bad)


def test_unknown_codes_raise_value_error() -> None:
    with pytest.raises(ValueError, match="no vendor position code"):
        rest_codes.vendor_position_code("THU_TUONG")
    with pytest.raises(ValueError, match="unknown vendor job title"):
        graphql_codes.national_position_code("PRESIDENT")


timestamps = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1),
                          timezones=st.sampled_from([UTC, timezone(timedelta(hours=7))]))


@given(timestamps, st.text(min_size=1, max_size=64))
def test_cursor_round_trip_with_text_keys(timestamp: datetime, key: str) -> None:
    assert decode_cursor(encode_cursor(timestamp, key), str, "c") == (timestamp, key)


@given(timestamps, st.integers(min_value=1, max_value=2**63 - 1))
def test_cursor_round_trip_with_integer_keys(timestamp: datetime, key: int) -> None:
    cursor = encode_cursor(timestamp, key)
    assert decode_cursor(cursor, int, "c") == (timestamp, key)
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, str, "c")  # another feed's cursor


@given(st.text(max_size=200))
def test_arbitrary_text_is_never_a_cursor_by_accident(text: str) -> None:
    try:
        timestamp, _ = decode_cursor(text, str, "c")
    except InvalidInput:
        return
    assert timestamp.tzinfo is not None  # only a well-formed cursor gets through


@given(st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.text())))
def test_personal_id_accepts_exactly_twelve_ascii_digits(value: object) -> None:
    valid = isinstance(value, str) and re.fullmatch(r"[0-9]{12}", value, re.ASCII) is not None
    try:
        assert personal_id(value, "id") == value
    except InvalidInput:
        assert not valid
    else:
        assert valid


def test_dates_and_datetimes() -> None:
    assert iso_date("2024-02-29", "d").day == 29
    for bad in ("2023-02-29", "20240101", "2024-1-1", "", "2024-01-01T00:00:00"):
        with pytest.raises(InvalidInput):
            iso_date(bad, "d")
    assert iso_datetime("2024-01-01T07:00:00+07:00", "t") == datetime(2024, 1, 1, tzinfo=UTC)
    assert iso_datetime("2024-01-01T00:00:00", "t").tzinfo == UTC
    with pytest.raises(InvalidInput, match="%2B"):
        iso_datetime("2024-01-01T00:00:00 07:00", "t")
