"""Access history's arguments, cursors and field groups, without a database."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from graphql import GraphQLObjectType

from resolvers.access_history import (
    decode_event_cursor,
    encode_event_cursor,
    history_page,
    history_window,
)
from resolvers.context import QueryLimits
from resolvers.errors import BadUserInput
from resolvers.field_groups import FIELD_GROUPS, GROUPS, groups_of
from resolvers.schema import build_schema

LIMITS = QueryLimits(max_page_size=100, default_page_size=20)
AT = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_every_field_of_every_object_type_has_a_group() -> None:
    """A new field must say which group a citizen sees it under (or None: nothing about a
    person). Add it to resolvers/field_groups.py."""
    schema = build_schema()._schema
    names = {f"{type_name}.{field}" for type_name, t in schema.type_map.items()
             if isinstance(t, GraphQLObjectType) and not type_name.startswith("__")
             for field in t.fields}
    assert sorted(names - set(FIELD_GROUPS)) == [], "fields without a group"
    assert sorted(set(FIELD_GROUPS) - names) == [], "groups for fields that do not exist"
    assert {g for g in FIELD_GROUPS.values() if g is not None} <= set(GROUPS)


def test_groups_are_listed_once_in_reading_order() -> None:
    assert groups_of(["CivilServant.salaryStep", "CivilServant.fullName", "Allowance.kind",
                      "CivilServantConnection.nodes", "Person.religion"]) == [
        "identity", "ethnicity-religion", "salary"]
    assert groups_of(["Retired.field"]) == ["other"]
    # An agency is the person's workplace only when reached from their record.
    assert groups_of(["AccessEvent.agency", "Agency.name"]) == ["access-history"]
    assert groups_of(["CivilServant.agency", "Agency.name", "Province.name"]) == ["employment"]
    assert groups_of([]) == []


def test_a_cursor_round_trips_to_the_exact_event() -> None:
    chain = uuid4()
    key = decode_event_cursor(encode_event_cursor({"at": AT, "chain_id": chain, "seq": 7}))
    assert key is not None
    assert (key.at, key.chain_id, key.seq) == (AT, chain, 7)
    earlier = AT.astimezone(timezone(timedelta(hours=7)))
    again = decode_event_cursor(encode_event_cursor({"at": earlier, "chain_id": chain,
                                                     "seq": 7}))
    assert again == key
    assert decode_event_cursor(None) is None


@pytest.mark.parametrize("cursor", [
    "", "not base64!", _b64("cs:E0000001"), _b64("ah:1:2"), _b64("ah:x:" + str(uuid4()) + ":1"),
    _b64("ah:1:not-a-uuid:1"), _b64(f"ah:1:{uuid4()}:0"), _b64(f"ah:1:{uuid4()}:-3"),
    _b64(f"zz:1:{uuid4()}:1"), _b64(f"ah:{10**20}:{uuid4()}:1"), "A" * 500,
    _b64(f"ah:1:{uuid4()}:1:extra"), "é",
])
def test_a_malformed_cursor_is_bad_user_input(cursor: str) -> None:
    with pytest.raises(BadUserInput, match="access-history cursor") as raised:
        decode_event_cursor(cursor)
    assert raised.value.extensions == {"code": "BAD_USER_INPUT", "argument": "after"}


def test_window_checks_its_arguments() -> None:
    window, size = history_window(LIMITS, AT, AT + timedelta(days=1), 5, None)
    assert (window.since, window.until, window.after, window.limit, size) == (
        AT, AT + timedelta(days=1), None, 6, 5)
    assert history_window(LIMITS, None, None, None, None)[1] == 20
    cases = [((AT, AT, None), "earlier than `to`"), ((AT + timedelta(1), AT, None), "earlier"),
             ((None, None, 101), "between 0 and 100"), ((None, None, -1), "between"),
             ((datetime(2026, 1, 1), None, None), "`from` needs a UTC offset"),
             ((None, datetime(2026, 1, 1), None), "`to` needs a UTC offset")]
    for (since, until, first), message in cases:
        with pytest.raises(BadUserInput, match=message):
            history_window(LIMITS, since, until, first, None)


def test_a_page_tells_whether_another_follows() -> None:
    rows = [{"at": AT - timedelta(minutes=i), "chain_id": uuid4(), "seq": i + 1}
            for i in range(3)]
    page = history_page(rows, 2)
    assert page["events"] == rows[:2]
    assert page["page_info"]["has_next_page"]
    assert page["page_info"]["end_cursor"] == encode_event_cursor(rows[1])
    assert history_page(rows, 3)["page_info"]["has_next_page"] is False
    assert history_page([], 0)["page_info"] == {"has_next_page": False, "end_cursor": None}
