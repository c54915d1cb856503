from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.context import QueryLimits
from resolvers.errors import BadUserInput
from resolvers.pagination import check_page_size, decode_cursor, encode_cursor, make_page


@given(st.text(alphabet=st.characters(categories=("L", "N", "P", "S")), max_size=40))
def test_cursors_round_trip(key: str) -> None:
    assert decode_cursor(encode_cursor(key)) == key


@given(st.text(max_size=200))
def test_foreign_cursors_are_refused_cleanly(text: str) -> None:
    outcome: object
    try:
        outcome = decode_cursor(text)
    except BadUserInput as error:
        outcome = error.extensions
    assert isinstance(outcome, str) or outcome == {"code": "BAD_USER_INPUT", "argument": "after"}


def test_page_size_bounds() -> None:
    limits = QueryLimits(max_page_size=100, default_page_size=20)
    assert check_page_size(None, limits) == 20
    assert check_page_size(0, limits) == 0
    assert check_page_size(100, limits) == 100
    for bad in (-1, 101):
        with pytest.raises(BadUserInput):
            check_page_size(bad, limits)


def test_page_knows_whether_more_follow() -> None:
    rows = [{"k": str(i)} for i in range(4)]
    page = make_page(rows, 3, "k")
    assert [e["node"] for e in page["edges"]] == rows[:3]
    assert page["page_info"] == {"has_next_page": True, "end_cursor": encode_cursor("2")}
    assert make_page(rows[:2], 3, "k")["page_info"]["has_next_page"] is False
    assert make_page([], 3, "k")["page_info"] == {"has_next_page": False, "end_cursor": None}
