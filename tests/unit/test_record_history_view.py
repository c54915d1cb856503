"""Record history and inbox arguments, cursors, and what a client sees of a change under the
repository's own policies, without a database."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema

from hub.policy.compile import ClientView, PolicyEngine
from hub.policy.load import load_policy_dir
from hub.policy.workspace import full_schema
from resolvers.context import QueryLimits
from resolvers.errors import BadUserInput
from resolvers.history import (
    decode_submission_cursor,
    decode_version_cursor,
    encode_submission_cursor,
    encode_version_cursor,
    history_view,
    inbox_window,
    shape_version,
    version_page,
    version_window,
)

LIMITS = QueryLimits(max_page_size=100, default_page_size=20)
AT = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)
POLICIES = Path(__file__).resolve().parents[2] / "policies"


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return full_schema()


@pytest.fixture(scope="module")
def engine(schema: GraphQLSchema) -> PolicyEngine:
    return PolicyEngine(load_policy_dir(POLICIES), schema, b"k" * 32)


def _version(entity: str, current: dict[str, Any], previous: dict[str, Any] | None = None,
             key: str = "E1") -> dict[str, Any]:
    return {"subject": "E1", "id": 7, "applied_at": AT, "version": 3, "entity": entity,
            "record_key": key, "employee_code": "E1", "submitted_by": "hanoi-doha",
            "agency_code": "000.00.01.H01", "source_system": "hanoi-hrm",
            "signer_keys": ["k1"], "submission_id": uuid.uuid4(), "current": current,
            "previous": previous}


def _sees(view: ClientView, row: dict[str, Any]) -> dict[str, Any]:
    return shape_version(row, history_view(view.schema, view.grants.row_filters))


# -- arguments and cursors -------------------------------------------------------------------

def test_cursors_round_trip() -> None:
    key = decode_version_cursor(encode_version_cursor({"applied_at": AT, "id": 42}))
    assert key is not None
    assert (key.applied_at, key.id) == (AT, 42)
    sid = uuid.uuid4()
    found = decode_submission_cursor(encode_submission_cursor({"received_at": AT, "id": sid}))
    assert found is not None
    assert (found.received_at, found.id) == (AT, sid)
    assert decode_version_cursor(None) is None
    assert decode_submission_cursor(None) is None


@pytest.mark.parametrize("cursor", [
    "", "!!!", "x" * 500, _b64("rv:1:2:3"), _b64("rv:abc:1"), _b64("rv:1:-1"), _b64("rv:1:0"),
    _b64("rv:1:²"), _b64("rv:1:99999999999999999999"), _b64("sb:1:1"), _b64("ah:1:1"),
    _b64("rv:99999999999999999999999:1"), "\u00e9\u00e9", base64.b64encode(b"\xff\xfe").decode()])
def test_a_malformed_history_cursor_is_bad_input(cursor: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        decode_version_cursor(cursor)
    assert caught.value.extensions == {"code": "BAD_USER_INPUT", "argument": "after"}


@pytest.mark.parametrize("cursor", [
    "", "!!!", _b64("sb:1:not-a-uuid"), _b64(f"rv:1:{uuid.uuid4()}"), _b64("sb:x:1"),
    _b64(f"sb:1:{uuid.uuid4()}:1")])
def test_a_malformed_inbox_cursor_is_bad_input(cursor: str) -> None:
    with pytest.raises(BadUserInput):
        decode_submission_cursor(cursor)


def test_time_bounds_need_an_offset_and_an_order() -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(BadUserInput) as caught:
        version_window(LIMITS, naive, None, None, None)
    assert (caught.value.extensions or {})["argument"] == "from"
    with pytest.raises(BadUserInput) as caught:
        inbox_window(LIMITS, None, None, naive, None, None)
    assert (caught.value.extensions or {})["argument"] == "to"
    with pytest.raises(BadUserInput):
        version_window(LIMITS, AT, AT, None, None)
    with pytest.raises(BadUserInput):
        inbox_window(LIMITS, None, AT + timedelta(hours=1), AT, None, None)
    hanoi = timezone(timedelta(hours=7))
    window, size = version_window(LIMITS, AT.astimezone(hanoi), None, 5, None)
    assert (window.since, window.limit, size) == (AT, 6, 5)
    for first in (-1, 101):
        with pytest.raises(BadUserInput):
            version_window(LIMITS, None, None, first, None)


def test_a_page_says_whether_another_follows() -> None:
    rows = [{"applied_at": AT, "id": n} for n in (5, 4, 3)]
    page = version_page(rows, 2)
    assert page["page_info"]["has_next_page"] is True
    assert decode_version_cursor(page["page_info"]["end_cursor"]) is not None
    assert version_page(rows[:2], 2)["page_info"]["has_next_page"] is False
    assert version_page([], 2)["page_info"] == {"has_next_page": False, "end_cursor": None}


# -- what a client sees of a change ------------------------------------------------------------

def test_the_administrator_sees_every_change_with_its_values(engine: PolicyEngine) -> None:
    view = engine.view("moha-personnel-db", "administration")
    seen = _sees(view, _version("employee", {"salary_step": 3, "rank_code": "01.002",
                                             "religion": "Phật giáo"},
                                {"salary_step": 2, "rank_code": "01.003", "religion": None}))
    assert seen["changes"] == [
        {"field": "salaryStep", "before": "2", "after": "3", "masked": False},
        {"field": "rank", "before": "01.003", "after": "01.002", "masked": False},
        {"field": "religion", "before": None, "after": "Phật giáo", "masked": False}]
    assert seen["changed_fields"] == ["salaryStep", "rank", "religion"]
    # the file's own key (the employee code) is not repeated; a record's is, without it
    assert seen["record_key"] is None
    evaluation = _sees(view, _version("evaluation", {"year": 2025, "grade_code": "good"},
                                      key="E1/2025"))
    assert evaluation["record_key"] == "2025"
    assert {c["field"] for c in evaluation["changes"]} == {"year", "grade"}


def test_an_ungranted_field_s_change_is_left_out_and_a_masked_one_s_values(
        engine: PolicyEngine) -> None:
    """The inspectorate reads no salary, and personal IDs only masked."""
    view = engine.view("gov-inspectorate", "inspection")
    seen = _sees(view, _version("employee", {"salary_step": 3, "salary_coefficient": "4.06",
                                             "personal_id": "001085000123",
                                             "position_code": "TP"},
                                {"salary_step": 2, "salary_coefficient": "3.73",
                                 "personal_id": "001085000999", "position_code": "PP"}))
    assert seen["changes"] == [
        {"field": "personalId", "before": None, "after": None, "masked": True},
        {"field": "position", "before": "PP", "after": "TP", "masked": False}]
    text = str(seen)
    for secret in ("4.06", "3.73", "001085000123", "001085000999", "salary"):
        assert secret not in text
    visible = history_view(view.schema, view.grants.row_filters).visible()
    assert "employee.salary_step" not in visible
    assert "employee.personal_id" in visible
    assert "asset_declaration.total_assets_vnd" not in visible
    # a derived field (inEffect) reveals less than its columns: granted alone, they stay out
    assert "discipline.effective_from" in visible  # granted itself


def test_a_record_group_the_client_cannot_reach_shows_no_version(
        engine: PolicyEngine) -> None:
    """Writing for the city, the department reads no disciplines: none of their versions."""
    view = engine.view("hanoi-doha", "personnel-updates")
    history = history_view(view.schema, view.grants.row_filters)
    # The declared entries it names in corrections, as far as it reads them; no disciplines.
    assert set(history.fields) == {"employee", "personal_history", "family_member"}
    assert set(history.fields["family_member"]) == {"id", "version", "relation", "birth_year"}
    assert _sees(view, _version("discipline", {"form_code": "KHIEN_TRACH"}))["changes"] == []
    managing = engine.view("hanoi-doha", "personnel-management")
    assert "discipline" in history_view(managing.schema, managing.grants.row_filters).fields
    assert "health_record" not in history_view(managing.schema,
                                               managing.grants.row_filters).fields


def test_a_record_group_under_a_row_filter_is_left_out(engine: PolicyEngine) -> None:
    from adapters import eq

    view = engine.view("moha-personnel-db", "administration")
    plain = history_view(view.schema, {})
    assert "discipline" in plain.fields
    filtered = history_view(view.schema, {"discipline": (eq("issuer", "x"),),
                                          "employee": (eq("status", "active"),)})
    assert "discipline" not in filtered.fields
    assert "employee" in filtered.fields


def test_only_history_clients_have_it(engine: PolicyEngine) -> None:
    def shows(client: str, purpose: str, type_name: str, field: str) -> bool:
        return engine.view(client, purpose).shows(type_name, field)

    assert shows("moha-personnel-db", "administration", "CivilServant", "history")
    assert shows("hanoi-doha", "personnel-management", "CivilServant", "history")
    assert shows("hanoi-doha", "personnel-updates", "CivilServant", "history")
    assert shows("gov-inspectorate", "inspection", "CivilServant", "history")
    assert not shows("mof-payroll", "salary-budget", "CivilServant", "history")
    assert shows("moha-personnel-db", "administration", "Query", "submissions")
    assert shows("hanoi-doha", "personnel-updates", "Query", "submissions")
    assert shows("hanoi-doha", "personnel-updates", "Submission", "reasons")
    for client, purpose in (("hanoi-doha", "personnel-management"),
                            ("gov-inspectorate", "inspection"),
                            ("mof-payroll", "salary-budget")):
        assert not shows(client, purpose, "Query", "submissions")
