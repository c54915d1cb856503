"""The Hà Nội provincial HR system over real HTTP: GraphQL queries, paging, errors, auth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.agency_graphql.codes import JOB_TITLES
from tests.sandbox.sandbox_testkit import (
    FEED_START,
    GRAPHQL_DECISIONS,
    GRAPHQL_STAFF,
    GRAPHQL_TOKEN,
    UNKNOWN_ID,
    Services,
    graphql,
)

DISCIPLINE_FIELDS = ("decisionNumber decidedOn form issuer reason effectiveFrom "
                     "effectiveTo")
STAFF_FIELDS = ("staffId citizenId name dob gender orgCode department jobTitle { code label } "
                "grade payStep payCoefficient pendingDiscipline address hiredOn "
                f"disciplines {{ {DISCIPLINE_FIELDS} }} modifiedAt")
BY_IDS = f"query($ids: [String!]!) {{ staffByCitizenIds(ids: $ids) {{ {STAFF_FIELDS} }} }}"
CHANGES = ("query($since: DateTime!, $first: Int, $after: String) { staffChanges(since: $since, "
           "first: $first, after: $after) { nodes { staffId citizenId modifiedAt } endCursor "
           "hasMore } }")
BY_CITIZEN = {row["citizen_id"]: row for row in GRAPHQL_STAFF}


def error_codes(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json()["errors"]]


async def test_staff_by_citizen_ids(agency_graphql: httpx.AsyncClient) -> None:
    wanted = [GRAPHQL_STAFF[0]["citizen_id"], GRAPHQL_STAFF[20]["citizen_id"], UNKNOWN_ID]
    response = await graphql(agency_graphql, BY_IDS, {"ids": wanted})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    staff = body["data"]["staffByCitizenIds"]
    assert {s["citizenId"] for s in staff} == set(wanted[:2])
    member = next(s for s in staff if s["citizenId"] == GRAPHQL_STAFF[20]["citizen_id"])
    row = GRAPHQL_STAFF[20]
    assert member["dob"] == row["dob"].isoformat()
    assert member["payCoefficient"] == float(row["pay_coefficient"])
    assert member["jobTitle"] == {"code": row["job_title_code"],
                                  "label": JOB_TITLES[row["job_title_code"]][1]}
    assert member["pendingDiscipline"] == "Khiển trách (đang xử lý)"
    assert isinstance(member["staffId"], str)
    assert member["modifiedAt"].startswith("2024-01-01T00:01:00")
    assert member["hiredOn"] == row["hired_on"].isoformat()
    assert member["disciplines"] == []


async def test_every_answer_carries_the_decisions(agency_graphql: httpx.AsyncClient) -> None:
    """staffByCitizenIds, staffMember and staffChanges all serve each member's decisions."""
    decision = GRAPHQL_DECISIONS[0]
    expected = [{"decisionNumber": decision["decision_number"],
                 "decidedOn": decision["decided_on"].isoformat(), "form": decision["form"],
                 "issuer": decision["issuer"], "reason": decision["reason"],
                 "effectiveFrom": decision["effective_from"].isoformat(),
                 "effectiveTo": decision["effective_to"].isoformat()}]
    held, other = decision["citizen_id"], GRAPHQL_STAFF[0]["citizen_id"]
    by_ids = (await graphql(agency_graphql, BY_IDS, {"ids": [held, other]})).json()["data"]
    one = (await graphql(agency_graphql, f'{{ staffMember(citizenId: "{held}") '
                                         f'{{ disciplines {{ {DISCIPLINE_FIELDS} }} }} }}')
           ).json()["data"]["staffMember"]
    changes = (await graphql(agency_graphql, '{ staffChanges(since: "2024-01-01T00:00:00Z", '
                                             f'first: 1000) {{ nodes {{ citizenId disciplines '
                                             f'{{ {DISCIPLINE_FIELDS} }} }} }} }}')
               ).json()["data"]["staffChanges"]["nodes"]
    assert one["disciplines"] == expected
    for nodes in (by_ids["staffByCitizenIds"], changes):
        for node in nodes:
            assert node["disciplines"] == (expected if node["citizenId"] == held else [])


async def test_inline_arguments_and_staff_member(agency_graphql: httpx.AsyncClient) -> None:
    citizen_id = GRAPHQL_STAFF[0]["citizen_id"]
    response = await graphql(agency_graphql, f'{{ staffMember(citizenId: "{citizen_id}") '
                                             f'{{ name gender }} missing: staffMember(citizenId: '
                                             f'"{UNKNOWN_ID}") {{ name }} }}')
    data = response.json()["data"]
    assert data["staffMember"]["name"] == BY_CITIZEN[citizen_id]["name"]
    assert data["missing"] is None


@pytest.mark.parametrize(("count", "ok"), [(1000, True), (1001, False)])
async def test_batch_cap(agency_graphql: httpx.AsyncClient, count: int, ok: bool) -> None:
    ids = [f"{n:012d}" for n in range(count)]
    response = await graphql(agency_graphql, "query($ids: [String!]!) { staffByCitizenIds("
                                             "ids: $ids) { citizenId } }", {"ids": ids})
    assert response.status_code == 200
    if ok:
        assert response.json()["data"]["staffByCitizenIds"] == []
    else:
        assert response.json()["data"] is None
        assert error_codes(response) == ["BATCH_TOO_LARGE"]
        assert response.json()["errors"][0]["extensions"]["maxBatch"] == 1000


@pytest.mark.parametrize("ids", [["12345"], ["' OR 1=1 --"], ["1" * 100_000], ["٠" * 12]],
                         ids=["short", "SQL", "huge", "non-ASCII digits"])
async def test_malformed_ids_are_user_input_errors(agency_graphql: httpx.AsyncClient,
                                                   ids: list[str]) -> None:
    response = await graphql(agency_graphql, BY_IDS, {"ids": ids})
    assert response.status_code == 200
    assert error_codes(response) == ["BAD_USER_INPUT"]
    assert len(response.content) < 600


async def read_changes(client: httpx.AsyncClient, first: int) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        response = await graphql(client, CHANGES, {"since": FEED_START.isoformat(),
                                                   "first": first, "after": after})
        page = response.json()["data"]["staffChanges"]
        nodes += page["nodes"]
        if not page["hasMore"]:
            assert page["endCursor"] is not None  # where to resume polling later
            return nodes
        after = page["endCursor"]
    raise AssertionError("the feed never ended")


@pytest.mark.parametrize("first", [1, 3, 4, 10, 1000])
async def test_changes_return_every_row_once_in_order(agency_graphql: httpx.AsyncClient,
                                                      first: int) -> None:
    nodes = await read_changes(agency_graphql, first)
    citizens = [n["citizenId"] for n in nodes]
    assert sorted(citizens) == sorted(BY_CITIZEN)
    keys = [(n["modifiedAt"], int(n["staffId"])) for n in nodes]
    assert keys == sorted(keys)


async def test_changes_default_page_and_since(agency_graphql: httpx.AsyncClient) -> None:
    response = await graphql(agency_graphql, '{ staffChanges(since: "2024-01-01T00:06:00Z") '
                                             "{ nodes { citizenId } hasMore } }")
    page = response.json()["data"]["staffChanges"]
    assert page == {"nodes": [{"citizenId": GRAPHQL_STAFF[0]["citizen_id"]}], "hasMore": False}
    empty = await graphql(agency_graphql, '{ staffChanges(since: "2030-01-01T00:00:00") '
                                          "{ nodes { citizenId } endCursor hasMore } }")
    assert empty.json()["data"]["staffChanges"] == {"nodes": [], "endCursor": None,
                                                    "hasMore": False}


@pytest.mark.parametrize("variables", [
    {"since": "2024-01-01T00:00:00Z", "first": 0},
    {"since": "2024-01-01T00:00:00Z", "first": 1001},
    {"since": "2024-01-01T00:00:00Z", "after": "garbage"},
    {"since": "2024-01-01T00:00:00Z", "after": "WyJ4IiwgMV0"},
    {"since": "yesterday"},
    {"since": 20240101},
    {"since": "2024-01-01T00:00:00Z", "first": "ten"},
], ids=["first 0", "first over cap", "bad cursor", "foreign cursor", "since words",
        "since number", "first text"])
async def test_changes_reject_malformed_arguments(agency_graphql: httpx.AsyncClient,
                                                  variables: dict[str, Any]) -> None:
    response = await graphql(agency_graphql, CHANGES, variables)
    assert response.status_code == 200
    assert response.json()["errors"]
    assert response.json().get("data") is None


@pytest.mark.parametrize(("body", "code"), [
    (b"{ staffMember }", "BAD_REQUEST"),
    (b"[]", "BAD_REQUEST"),
    (b"{}", "BAD_REQUEST"),
    (b'{"query": 42}', "BAD_REQUEST"),
    (b'{"query": ""}', "BAD_REQUEST"),
    (b'{"query": "{ __typename }", "variables": []}', "BAD_REQUEST"),
    (b'{"query": "{ __typename }", "operationName": 1}', "BAD_REQUEST"),
    (b'{"query": "{ staffMember(citizenId: ", "variables": {}}', "GRAPHQL_PARSE_FAILED"),
    (b'{"query": "{ salary }"}', "GRAPHQL_VALIDATION_FAILED"),
    (b'{"query": "mutation { dropTable }"}', "GRAPHQL_VALIDATION_FAILED"),
    (b'{"query": "{ staffMember { name } }"}', "GRAPHQL_VALIDATION_FAILED"),
    (b'{"query": "' + b"{ a " * 30_000 + b'"}', "GRAPHQL_PARSE_FAILED"),
], ids=["not JSON", "array", "no query", "query number", "empty query", "variables array",
        "operation number", "syntax", "unknown field", "mutation", "missing argument",
        "token flood"])
async def test_malformed_requests_are_400(agency_graphql: httpx.AsyncClient, body: bytes,
                                          code: str) -> None:
    response = await agency_graphql.post("/graphql", content=body)
    assert response.status_code == 400, response.text
    assert error_codes(response)[0] == code


async def test_introspection_matches_contract(agency_graphql: httpx.AsyncClient) -> None:
    response = await graphql(agency_graphql, '{ __type(name: "Query") { fields { name } } }')
    fields = {f["name"] for f in response.json()["data"]["__type"]["fields"]}
    assert fields == {"staffByCitizenIds", "staffMember", "staffChanges"}


@pytest.mark.parametrize("headers", [{}, {"X-Api-Token": "wrong"},
                                     {"Authorization": f"Bearer {GRAPHQL_TOKEN}"}],
                         ids=["none", "wrong", "bearer"])
async def test_token_required(anonymous: httpx.AsyncClient, services: Services,
                              headers: dict[str, str]) -> None:
    response = await anonymous.post(services.agency_graphql + "/graphql", headers=headers,
                                    json={"query": "{ __typename }"})
    assert response.status_code == 401
    assert error_codes(response) == ["UNAUTHENTICATED"]


async def test_get_is_not_allowed(agency_graphql: httpx.AsyncClient) -> None:
    response = await agency_graphql.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 405
    assert error_codes(response) == ["METHOD_NOT_ALLOWED"]
