"""The national side's rules run in SQL, the other sources' in Python: the two must agree
value for value. Generated inputs, checked by the real PostgreSQL against the Python of
resolvers/personal_id.py and hub/quality/model.py."""

from __future__ import annotations

import asyncio
import string
from datetime import date
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.quality.model import NOT_BLANK, WHITESPACE, normalised_name, present
from hub.quality.national import NAME_SQL, NATIONAL_REQUIRED, NATIONAL_RULES
from resolvers.personal_id import (
    CURRENT_PROVINCE_CODES,
    LEGACY_PROVINCE_CODES,
    MERGER_DATE,
    make,
    problems,
)
from tests.quality.conftest import QualityEnv

_PERSONAL_ID_SQL = dict(NATIONAL_RULES)["personal-id"]


def _query(dsn: str, sql: str, *args: Any) -> list[Any]:
    async def run() -> list[Any]:
        conn = await asyncpg.connect(dsn)
        try:
            return [r[0] for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


births = st.dates(min_value=date(1890, 1, 1), max_value=date(2120, 12, 31))
sexes = st.sampled_from(["male", "female"])


@st.composite
def personal_ids(draw: st.DrawFn) -> str:
    """Well-formed numbers of someone (often another birth year or sex than the one they
    are checked against), near misses, and plain digit strings."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
        province = draw(st.sampled_from(sorted(CURRENT_PROVINCE_CODES if birth >= MERGER_DATE
                                               else LEGACY_PROVINCE_CODES)))
        return make(province, birth, draw(sexes), draw(st.integers(0, 999_999)))
    if kind == 1:
        return draw(st.text(alphabet=string.digits, min_size=12, max_size=12))
    return "0" + draw(st.sampled_from(sorted(LEGACY_PROVINCE_CODES))) + draw(
        st.text(alphabet=string.digits, min_size=9, max_size=9))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(st.tuples(personal_ids(), births, sexes), min_size=1, max_size=60))
def test_personal_id_rule_matches_python(quality: QualityEnv,
                                         cases: list[tuple[str, date, str]]) -> None:
    sql = (f"SELECT {_PERSONAL_ID_SQL} FROM unnest($1::text[], $5::date[], $6::text[]) "
           "WITH ORDINALITY AS e(personal_id, birth_date, sex, i) ORDER BY i")
    found = _query(quality.databases.national, sql, [c[0] for c in cases],
                   sorted(LEGACY_PROVINCE_CODES), sorted(CURRENT_PROVINCE_CODES), MERGER_DATE,
                   [c[1] for c in cases], [c[2] for c in cases])
    assert found == [not problems(*case) for case in cases], cases


names = st.text(alphabet=st.one_of(
    st.sampled_from(" \t\n\r\f\v\u00a0Nguyễn Văn Đức Thị Ê\u0301\u0323"),
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00")), max_size=30)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(names, min_size=1, max_size=40))
def test_name_normalisation_and_presence_match_python(quality: QualityEnv,
                                                      values: list[str]) -> None:
    normalised = _query(
        quality.databases.national,
        f"SELECT {NAME_SQL} FROM unnest($1::text[]) WITH ORDINALITY AS e(full_name, i) "
        "ORDER BY i", values, WHITESPACE)
    assert normalised == [normalised_name(v) for v in values]
    shown = _query(
        quality.databases.national,
        f"SELECT {dict(NATIONAL_REQUIRED)['unit_name']} "
        "FROM unnest($1::text[]) WITH ORDINALITY AS e(unit_name, i) ORDER BY i", values,
        NOT_BLANK)
    assert shown == [present(v) for v in values]
