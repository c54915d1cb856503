"""The generator's building blocks: binary encoding, names, serials, agencies, the plan."""

from __future__ import annotations

import random
import unicodedata
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.seed import binary
from hub.seed.agencies import build_agencies
from hub.seed.catalog import Catalog
from hub.seed.copy import copy_rows
from hub.seed.names import misspell
from hub.seed.plan import build_plan
from hub.seed.prepare import load_catalog
from hub.seed.serials import SerialAllocator, SerialSpaceExhausted
from hub.seed.tables import Table
from hub.seed.timeline import AS_OF_ORDINAL, ordinal
from resolvers import personal_id
from tests.seed.conftest import Seeded

NUMBERS = ["0", "0.00", "2.34", "10.5", "0.05", "-3.20", "12345.6789", "0.0001", "99.99",
           "100", "1.10"]


async def test_binary_fields_round_trip_through_postgres(seeded: Seeded) -> None:
    conn = await asyncpg.connect(seeded.databases.national)
    try:
        await conn.execute("CREATE TEMP TABLE probe (n numeric, d date, t timestamptz, s text,"
                           " i smallint, b bigint)")
        table = Table("national", "probe", ("n", "d", "t", "s", "i", "b"))
        rows = b"".join(
            b"".join((binary.field_count(6), binary.numeric(n), binary.date(ordinal(2024, 2, 29)),
                      binary.timestamp(86_400 * 9_000 + 3_661), binary.text("Nguyễn Thị Ánh"),
                      binary.int2(-7), binary.int8(12_345_678_901)))
            for n in NUMBERS)
        await copy_rows(conn, table, rows)
        back = await conn.fetch("SELECT n, d::text, t AT TIME ZONE 'UTC' AS t, s, i, b FROM probe")
    finally:
        await conn.close()
    assert [r["n"] for r in back] == [Decimal(n) for n in NUMBERS]
    assert {r["d"] for r in back} == {"2024-02-29"}
    assert {str(r["t"]) for r in back} == {"2024-08-22 01:01:01"}
    assert {r["s"] for r in back} == {"Nguyễn Thị Ánh"}
    assert {(r["i"], r["b"]) for r in back} == {(-7, 12_345_678_901)}


@given(st.sampled_from(["Nguyễn Văn An", "Đỗ Thị Lan", "Trần Hữu Đức", "Ksor Anh", "Lò Văn Tòng",
                        "Bùi Thị Hằng", "Phạm Quang Huy"]), st.integers(0, 2**32))
def test_a_misspelt_name_differs_by_one_small_slip(name: str, seed: int) -> None:
    slip = misspell(name, random.Random(seed))
    assert slip != name
    assert unicodedata.is_normalized("NFC", slip)
    assert len(slip) == len(name)
    plain = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
    plain_slip = "".join(c for c in unicodedata.normalize("NFD", slip)
                         if not unicodedata.combining(c))
    assert sorted(plain.replace("đ", "d").replace("Đ", "D")) == \
        sorted(plain_slip.replace("đ", "d").replace("Đ", "D"))


def test_serial_allocators_of_different_chunks_never_collide() -> None:
    issued: set[str] = set()
    birth = ordinal(1985, 3, 4)
    for chunk in range(50):
        allocator = SerialAllocator(chunk, block=40, offset=12_345)
        for _ in range(20):  # half a block: the other half is kept for look-alikes
            issued.add(allocator.allocate("01", birth, "female"))
        with pytest.raises(SerialSpaceExhausted):
            allocator.allocate("01", birth, "female")
    assert len(issued) == 50 * 20
    assert len({number[6:] for number in issued}) == 50 * 20


@settings(max_examples=40, deadline=None)
@given(block=st.sampled_from([40, 100, 250, 1000]), offset=st.integers(0, 999_999),
       chunks=st.integers(1, 12), per_chunk=st.integers(1, 20),
       province=st.sampled_from(["01", "79", "38", "96"]), sex=st.sampled_from(["male", "female"]),
       year=st.integers(1940, 2010))
def test_lookalikes_are_nobodys_number_and_nobody_elses(
        block: int, offset: int, chunks: int, per_chunk: int, province: str, sex: str,
        year: int) -> None:
    """A duplicate record's number: the same prefix (so still the birth year and sex), the
    last digit off, never a number any chunk hands out, never another number's look-alike."""
    birth = ordinal(year, 6, 15)
    issued, possible = _numbers(province, birth, sex, block, offset, range(chunks), per_chunk)
    lookalikes: dict[str, str] = {}
    for number in issued:
        lookalike = SerialAllocator(0, block=block, offset=offset).lookalike(number)
        if lookalike is None:
            continue
        assert lookalike[:11] == number[:11]
        assert lookalike[11] != number[11]
        assert personal_id.problems(lookalike, date.fromordinal(birth), sex) == []
        assert lookalike not in possible
        assert lookalikes.setdefault(lookalike, number) == number
    if block == 1000:
        assert len(lookalikes) == len(issued)


def _numbers(province: str, birth: int, sex: str, block: int, offset: int, chunks: range,
             per_chunk: int) -> tuple[list[str], set[str]]:
    """(the first ``per_chunk`` numbers each chunk hands out for a prefix, every number the
    chunks could ever hand out for it)."""
    issued: list[str] = []
    possible: set[str] = set()
    for chunk in chunks:
        allocator = SerialAllocator(chunk, block=block, offset=offset)
        numbers = [allocator.allocate(province, birth, sex) for _ in range(block // 2)]
        issued += numbers[:per_chunk]
        possible.update(numbers)
    return issued, possible


def test_lookalikes_of_a_whole_million_run() -> None:
    """The largest plan (1,000 chunks of 1,000): every chunk's first twenty numbers of a prefix
    have a look-alike, none of them a number any chunk may hand out, no two the same."""
    birth = ordinal(1986, 2, 1)
    issued, possible = _numbers("01", birth, "male", 1000, 424_242, range(1000), 20)
    allocator = SerialAllocator(0, block=1000, offset=424_242)
    lookalikes = [allocator.lookalike(number) for number in issued]
    assert None not in lookalikes
    assert len(set(lookalikes)) == len(lookalikes)
    assert not possible & set(lookalikes)


async def catalog_of(seeded: Seeded) -> Catalog:
    return await load_catalog(seeded.databases.national)


async def test_agency_structure(seeded: Seeded) -> None:
    agencies = build_agencies(await catalog_of(seeded))
    codes = [a.code for a in agencies]
    assert len(codes) == len(set(codes))
    assert 300 <= len(agencies) <= 1_100
    assert sum(a.weight for a in agencies) == pytest.approx(100)
    assert sum(a.weight for a in agencies if a.code.endswith(".G02")) == \
        pytest.approx(10)
    assert sum(a.weight for a in agencies if a.code.endswith(".H01")) == \
        pytest.approx(15)
    by_code = {a.code: a for a in agencies}
    for a in agencies:
        section, unit, suffix = a.code.split(".")[1:]
        if a.kind in ("ministry", "province"):
            assert (section, unit) == ("00", "00")
            assert a.parent_code is None
        else:
            parent = by_code[a.parent_code or ""]
            assert parent.code.endswith(suffix)
            assert codes.index(parent.code) < codes.index(a.code)
        if a.kind == "ministry":
            assert suffix.startswith("G")
            assert a.province_code == "01"
        if a.kind == "province":
            assert suffix == f"H{a.province_code}"


async def test_plan_is_a_function_of_its_inputs(seeded: Seeded) -> None:
    catalog = await catalog_of(seeded)
    first, second = build_plan(catalog, 3_500, 5), build_plan(catalog, 3_500, 5)
    assert first.designated == second.designated
    assert [first.assign_agencies(c) for c in range(first.chunks)] == \
        [second.assign_agencies(c) for c in range(second.chunks)]
    assert build_plan(catalog, 3_500, 6).designated != first.designated
    assert sum(first.headcounts()) == 3_500
    assert ordinal(2026, 11, 1) == AS_OF_ORDINAL
