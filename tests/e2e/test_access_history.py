"""Access history through the running hub: a read is recorded, then shown to the person's
administrators, auditors and (through the portal) the person, each as their policy allows."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from hub.access_history_http import AccessHistoryEndpoint
from hub.app import HubRuntime
from hub.config import Settings
from hub.databases import DatabaseSet
from tests.conftest import GraphQLClient, HubAuthFiles, Sandbox
from tests.e2e.audit_records import request_id
from tests.e2e.oracle import fetch

PAYROLL = ("mof-payroll", "salary-budget")
PORTAL = ("national-portal", "data-subject-access")
HANOI = ("hanoi-doha", "personnel-management")
INSPECTION = ("gov-inspectorate", "inspection")
EVENT = ("at system agencyCode agency { name } endUser purpose operationName fieldGroups "
         "fields outcome requestId")
HISTORY = ("query($id: PersonalId!, $first: Int, $after: String) { accessHistory("
           "personalId: $id, first: $first, after: $after) { events { " + EVENT + " } "
           "pageInfo { hasNextPage endCursor } } }")


def _employee(databases: DatabaseSet, where: str) -> dict[str, Any]:
    (row,) = fetch(databases.national,
                   "SELECT employee_code, personal_id FROM employee WHERE status = 'active' "
                   f"AND {where} ORDER BY employee_code LIMIT 1")
    return row


@pytest.fixture(scope="module")
def payroll_read(graphql: GraphQLClient, databases: DatabaseSet) -> dict[str, Any]:
    """mof-payroll reads one civil servant's salary: the event every test looks for."""
    employee = _employee(databases, "agency_code LIKE '%.G02'")
    request_id = f"payroll-{uuid.uuid4().hex}"
    response = graphql.as_client(*PAYROLL).post(
        "query PayrollCheck($code: String!) { civilServant(employeeCode: $code) { "
        "employeeCode salaryCoefficient rank { code } } }", {"code": employee["employee_code"]},
        headers={"x-request-id": request_id})
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    return {**employee, "request_id": request_id}


def _history(client: GraphQLClient, personal_id: str, **variables: Any) -> dict[str, Any]:
    history: dict[str, Any] = client.data(HISTORY, {"id": personal_id, **variables})[
        "accessHistory"]
    return history


def _codes(result: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


def test_an_administrator_sees_who_read_a_person_and_why(
        graphql: GraphQLClient, payroll_read: dict[str, Any]) -> None:
    history = _history(graphql, payroll_read["personal_id"], first=50)
    (event,) = [e for e in history["events"] if e["requestId"] == payroll_read["request_id"]]
    assert (event["system"], event["agencyCode"], event["agency"]["name"], event["purpose"],
            event["outcome"], event["endUser"]) == (
        "mof-payroll", "000.00.00.G02", "Bộ Tài chính", "salary-budget", "allowed", None)
    assert event["operationName"] in (None, "PayrollCheck")  # named when the client names it
    assert event["fieldGroups"] == ["identity", "salary"]
    assert {"CivilServant.employeeCode", "CivilServant.salaryCoefficient", "Rank.code"} <= set(
        event["fields"])
    assert all(not f.startswith("Query.access") for f in event["fields"])


def test_reading_the_history_is_itself_recorded(graphql: GraphQLClient,
                                                payroll_read: dict[str, Any]) -> None:
    _history(graphql, payroll_read["personal_id"])
    events = _history(graphql, payroll_read["personal_id"], first=1)["events"]
    (latest,) = events
    assert latest["system"] == "moha-personnel-db"
    assert latest["fieldGroups"] == ["access-history"]
    assert "Query.accessHistory" in latest["fields"]


def test_pages_follow_each_other_without_repeats(graphql: GraphQLClient,
                                                 payroll_read: dict[str, Any]) -> None:
    for _ in range(3):
        _history(graphql, payroll_read["personal_id"])  # each adds an event
    whole = _history(graphql, payroll_read["personal_id"], first=100)["events"]
    seen: list[str] = []
    after = None
    while True:
        page = _history(graphql, payroll_read["personal_id"], first=2, after=after)
        seen.extend(e["requestId"] for e in page["events"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # Paging added events at the head (each page is read too): the older ones stay in order.
    assert len(seen) == len(set(seen))
    assert [r for r in seen if r in {e["requestId"] for e in whole}] == [
        e["requestId"] for e in whole]


def test_a_list_of_civil_servants_costs_one_audit_query(graphql: GraphQLClient) -> None:
    result = graphql.query("{ civilServants(first: 30) { nodes { employeeCode "
                           "accessHistory(first: 3) { events { at system } "
                           "pageInfo { hasNextPage } } } } }")
    assert "errors" not in result, result
    nodes = result["data"]["civilServants"]["nodes"]
    assert len(nodes) == 30
    # One query for the page, one for thirty histories.
    assert result["extensions"]["sourceCalls"] == {"national": 2}


def test_the_portal_sees_only_what_a_citizen_is_told(graphql: GraphQLClient,
                                                     payroll_read: dict[str, Any]) -> None:
    portal = graphql.as_client(*PORTAL)
    data = portal.data("query($id: PersonalId!) { accessHistory(personalId: $id, first: 50) {"
                       " events { at agency { code name } agencyCode system purpose "
                       "fieldGroups outcome } } }", {"id": payroll_read["personal_id"]})
    events = data["accessHistory"]["events"]
    payroll = [e for e in events if e["system"] == "mof-payroll"]
    assert payroll
    assert payroll[0]["fieldGroups"] == ["identity", "salary"]
    assert payroll[0]["agency"] == {"code": "000.00.00.G02", "name": "Bộ Tài chính"}
    for field in ("endUser", "fields", "requestId", "operationName"):
        result = portal.query("query($id: PersonalId!) { accessHistory(personalId: $id) { "
                              f"events {{ {field} }} }} }}", {"id": payroll_read["personal_id"]})
        assert _codes(result) == ["VALIDATION_FAILED"], field
    result = portal.query('{ civilServants(first: 1) { nodes { fullName } } }')
    assert _codes(result) == ["VALIDATION_FAILED"]


def test_hanoi_sees_histories_of_its_own_civil_servants_only(
        graphql: GraphQLClient, databases: DatabaseSet, payroll_read: dict[str, Any]) -> None:
    hanoi = graphql.as_client(*HANOI)
    own = _employee(databases, "agency_code LIKE '%.H01'")
    data = hanoi.data("query($c: String!) { civilServant(employeeCode: $c) { accessHistory {"
                      " events { at system fieldGroups fields } } } }",
                      {"c": own["employee_code"]})
    assert isinstance(data["civilServant"]["accessHistory"]["events"], list)
    # A ministry's civil servant is not the city's: neither the record nor its history.
    result = hanoi.query("query($c: String!) { civilServant(employeeCode: $c) { "
                         "accessHistory { events { at } } } }",
                         {"c": payroll_read["employee_code"]})
    assert result["data"] == {"civilServant": None}
    assert _codes(result) == ["NOT_FOUND"]
    result = hanoi.query(HISTORY, {"id": payroll_read["personal_id"]})
    assert set(_codes(result)) == {"VALIDATION_FAILED"}
    result = hanoi.query("{ civilServants(first: 1) { nodes { accessHistory { events { "
                         "endUser } } } } }")
    assert _codes(result) == ["VALIDATION_FAILED"]


def test_the_inspectorate_reads_histories_but_not_by_personal_id(
        graphql: GraphQLClient, payroll_read: dict[str, Any]) -> None:
    inspection = graphql.as_client(*INSPECTION)
    data = inspection.data("query($c: String!) { civilServant(employeeCode: $c) { "
                           "accessHistory(first: 50) { events { system endUser requestId "
                           "fields } } } }", {"c": payroll_read["employee_code"]})
    request_ids = {e["requestId"] for e in data["civilServant"]["accessHistory"]["events"]}
    assert payroll_read["request_id"] in request_ids
    result = inspection.query(HISTORY, {"id": payroll_read["personal_id"]})
    assert set(_codes(result)) == {"VALIDATION_FAILED"}


@pytest.mark.parametrize(("variables", "message"), [
    ({"id": "123"}, "personal ID is 12 digits"),
    ({"id": "001080012345", "first": 1000}, "`first` must be between 0 and"),
    ({"id": "001080012345", "after": "bm90LWEtY3Vyc29y"}, "not an access-history cursor"),
    ({"id": "001080012345", "from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
     "`from` must be earlier than `to`"),
    ({"id": "001080012345", "from": "2026-02-01T00:00:00"}, "`from` needs a UTC offset"),
    ({"id": "001080012345", "from": "yesterday"}, ""),
])
def test_bad_arguments_are_bad_user_input(graphql: GraphQLClient, variables: dict[str, Any],
                                          message: str) -> None:
    result = graphql.query("query($id: PersonalId!, $first: Int, $after: String, "
                           "$from: DateTime, $to: DateTime) { accessHistory(personalId: $id, "
                           "first: $first, after: $after, from: $from, to: $to) { "
                           "events { at } } }", variables)
    assert _codes(result) == ["BAD_USER_INPUT"], result
    assert message in result["errors"][0]["message"]


# -- the portal's JSON endpoint ---------------------------------------------------------------

@pytest.fixture(scope="module")
async def portal_http(databases: DatabaseSet, sandbox_session: Sandbox, hub_auth: HubAuthFiles,
                      hub_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The endpoint in an app of its own (the hub's app adds the route), over the same
    databases, keys and issuer as the running hub, so its tokens are accepted here."""
    env = {"HUB_DATABASE_URL": databases.national, **databases.source_env(),
           **sandbox_session.ports.source_env(),
           **hub_auth.env, "HUB_POLICY_WATCH": "0"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        hub = HubRuntime(Settings.from_env())
    await hub.open()
    try:
        endpoint = AccessHistoryEndpoint(hub.runner, hub.access, hub.context, audit=hub.audit,
                                         variables_key=hub.variables_key)
        app = Starlette(routes=[Route("/access-history/{personal_id}", endpoint.handle)])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://hub") as client:
            yield client
    finally:
        await hub.close()


async def test_the_portal_endpoint_answers_plain_json(
        portal_http: httpx.AsyncClient, graphql: GraphQLClient,
        payroll_read: dict[str, Any]) -> None:
    headers = graphql.as_client(*PORTAL).headers()
    url = f"/access-history/{payroll_read['personal_id']}"
    response = await portal_http.get(url, params={"first": "1"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["personalId"] == payroll_read["personal_id"]
    (event,) = body["events"]
    assert set(event) == {"at", "agencyCode", "agency", "system", "purpose", "fieldGroups",
                          "outcome"}
    assert body["nextCursor"]
    following = await portal_http.get(url, params={"first": "50", "after": body["nextCursor"]},
                                      headers=headers)
    assert following.status_code == 200, following.text
    assert any(e["system"] == "mof-payroll" and e["fieldGroups"] == ["identity", "salary"]
               for e in following.json()["events"])
    # The portal's own read was recorded like any operation, and shows in the history.
    again = (await portal_http.get(url, params={"first": "1"}, headers=headers)).json()
    assert again["events"][0]["system"] == "national-portal"
    assert again["events"][0]["fieldGroups"] == ["access-history"]


@pytest.mark.parametrize(("client", "path", "params", "status", "code"), [
    (PORTAL, "001080012345", {"after": "bad"}, 400, "BAD_USER_INPUT"),
    (PORTAL, "001080012345", {"first": "many"}, 400, "BAD_USER_INPUT"),
    (PORTAL, "001080012345", {"first": "1000"}, 400, "BAD_USER_INPUT"),
    (PORTAL, "001080012345", {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
     400, "BAD_USER_INPUT"),
    (PORTAL, "12345", {}, 400, "BAD_USER_INPUT"),
    (INSPECTION, "001080012345", {}, 403, "FORBIDDEN"),
    (("national-portal", "administration"), "001080012345", {}, 403, "FORBIDDEN"),
    (None, "001080012345", {}, 401, "UNAUTHENTICATED"),
])
async def test_the_portal_endpoint_refuses_plainly(
        portal_http: httpx.AsyncClient, graphql: GraphQLClient, client: tuple[str, str] | None,
        path: str, params: dict[str, str], status: int, code: str) -> None:
    headers = graphql.as_client(*client).headers() if client else {
        "x-purpose": "data-subject-access"}
    response = await portal_http.get(f"/access-history/{path}", params=params, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("client", "denied_at"), [
    (INSPECTION, "the document"),  # admitted; its schema shows no accessHistory(personalId)
    (("national-portal", "administration"), "admission"),  # a purpose the client lacks
])
async def test_a_refusal_is_recorded_as_answered(
        portal_http: httpx.AsyncClient, graphql: GraphQLClient, databases: DatabaseSet,
        client: tuple[str, str], denied_at: str) -> None:
    """The record of a 403 says 403, names the client and the purpose it declared, and
    discloses nothing."""
    request = request_id("portal-refused")
    headers = {**graphql.as_client(*client).headers(), "x-request-id": request}
    response = await portal_http.get("/access-history/001080012345", headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "FORBIDDEN"
    conn = await asyncpg.connect(databases.national)
    try:
        rows = await conn.fetch("SELECT entry::text AS entry, client_id, purpose, outcome"
                                " FROM audit_record WHERE entry->>'request' = $1", request)
    finally:
        await conn.close()
    assert len(rows) == 1, rows
    entry = json.loads(rows[0]["entry"])
    assert (entry["client"], entry["purpose"], entry["status"], entry["outcome"]) == (
        client[0], client[1], 403, "refused"), entry
    assert (rows[0]["client_id"], rows[0]["purpose"], rows[0]["outcome"]) == (
        client[0], client[1], "refused")
    assert "FORBIDDEN" in entry["errors"]
    assert entry["denied"] is not None, entry
    assert entry["denied"]["reason"], entry
    assert entry["disclosed"] == [], entry
    if denied_at == "the document":
        assert entry["operation"]["name"] == "AccessHistoryEndpoint"


def test_a_civil_servants_history_takes_the_same_arguments(graphql: GraphQLClient,
                                                           payroll_read: dict[str, Any]) -> None:
    query = ("query($c: String!, $from: DateTime, $to: DateTime) { civilServant(employeeCode: "
             "$c) { accessHistory(from: $from, to: $to, first: 50) { events { requestId } } } }")
    code = payroll_read["employee_code"]
    result = graphql.query(query, {"c": code, "from": "2026-02-01T00:00:00Z",
                                   "to": "2026-01-01T00:00:00Z"})
    assert _codes(result) == ["BAD_USER_INPUT"]
    future = graphql.data(query, {"c": code, "from": "2100-01-01T00:00:00+07:00"})
    assert future["civilServant"]["accessHistory"]["events"] == []
    since_ever = graphql.data(query, {"c": code, "to": "2100-01-01T00:00:00+07:00"})
    assert payroll_read["request_id"] in {
        e["requestId"] for e in since_ever["civilServant"]["accessHistory"]["events"]}
