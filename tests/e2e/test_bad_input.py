"""Bad input gets a clear error with a code from DESIGN.md §8, and never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import GraphQLClient


def _codes(result: dict[str, Any]) -> set[str]:
    errors = result.get("errors")
    assert isinstance(errors, list), result
    assert errors, result
    return {e["extensions"]["code"] for e in errors}


@pytest.mark.parametrize("personal_id", ["123", "0010850123456", "abcdefghijkl", "",
                                         "001085O12345", "999085012345", "００１０８５０１２３４５",
                                         "001085012345' OR '1'='1"])
def test_malformed_personal_id(graphql: GraphQLClient, personal_id: str) -> None:
    quoted = personal_id.replace('"', "")
    literal = graphql.query(f'{{ person(personalId: "{quoted}") {{ fullName }} }}')
    assert _codes(literal) == {"BAD_USER_INPUT"}
    variable = graphql.query("query($id: PersonalId!) { person(personalId: $id) { fullName } }",
                             {"id": personal_id})
    assert _codes(variable) == {"BAD_USER_INPUT"}
    assert "12 digits" in variable["errors"][0]["message"]


def test_unknown_but_well_formed_personal_id_is_not_found(graphql: GraphQLClient) -> None:
    result = graphql.query('{ person(personalId: "001085999999") { fullName } }')
    assert _codes(result) == {"NOT_FOUND"}
    assert result["data"] == {"person": None}


@pytest.mark.parametrize("first", [101, 10_000, -1, 2**31 - 1])
def test_page_size_out_of_bounds(graphql: GraphQLClient, first: int) -> None:
    result = graphql.query("query($n: Int) { civilServants(first: $n) { totalCount } }",
                           {"n": first})
    assert _codes(result) == {"BAD_USER_INPUT"}
    assert "between 0 and 100" in result["errors"][0]["message"]


def test_page_size_at_bounds(graphql: GraphQLClient) -> None:
    for first, expected in ((0, 0), (100, 100)):
        data = graphql.data("query($n: Int) { civilServants(first: $n) { edges { cursor } } }",
                            {"n": first})
        assert len(data["civilServants"]["edges"]) == expected


def test_unknown_agency(graphql: GraphQLClient) -> None:
    assert _codes(graphql.query('{ agency(code: "000.00.00.G99") { name } }')) == {"NOT_FOUND"}
    assert _codes(graphql.query('{ agency(code: "ministry of magic") { name } }')) == {
        "BAD_USER_INPUT"}
    result = graphql.query('{ civilServants(filter: {agencyCode: "000.00.00.G99"}) '
                           '{ totalCount } }')
    assert _codes(result) == {"BAD_USER_INPUT"}
    assert "unknown agency" in result["errors"][0]["message"]


@pytest.mark.parametrize("filter_", ['{provinceCode: "63"}', '{rankCode: "99.999"}',
                                     '{namePrefix: ""}'])
def test_unknown_codes_in_filters(graphql: GraphQLClient, filter_: str) -> None:
    result = graphql.query(f"{{ civilServants(filter: {filter_}) {{ totalCount }} }}")
    assert _codes(result) == {"BAD_USER_INPUT"}


def test_name_prefix_wildcards_are_literal(graphql: GraphQLClient) -> None:
    for prefix in ("%", "_", "\\", "Nguyễn%"):
        data = graphql.data("query($p: String) { civilServants(filter: {namePrefix: $p}) "
                            "{ totalCount } }", {"p": prefix})
        assert data["civilServants"]["totalCount"] == 0, prefix


@pytest.mark.parametrize("cursor", ["nope", "Y3M6", "!!!", "x" * 10_000, "Y3M6J09SIDE9MQ=="])
def test_malformed_or_foreign_cursor(graphql: GraphQLClient, cursor: str) -> None:
    result = graphql.query("query($c: String) { civilServants(after: $c) { totalCount } }",
                           {"c": cursor})
    codes = _codes(result) if result.get("errors") else set()
    # A cursor either decodes to a key (and pages from there) or is refused as BAD_USER_INPUT.
    assert codes <= {"BAD_USER_INPUT"}


@pytest.mark.parametrize("document", ["{", "{ civilServants(first: ) { totalCount } }",
                                      "query { ...F }", "}{", "mutation { x }",
                                      "{ civilServant(employeeCode: 1) { fullName } }",
                                      '{ civilServants(first: "ten") { totalCount } }',
                                      "{ civilServants { edges { node { salary } } } }"])
def test_malformed_graphql(graphql: GraphQLClient, document: str) -> None:
    response = graphql.post(document)
    assert response.status_code == 400
    result = response.json()
    assert _codes(result) <= {"BAD_USER_INPUT", "VALIDATION_FAILED"}
    assert "data" not in result or result["data"] is None


def test_no_field_suggestions_leak(graphql: GraphQLClient) -> None:
    result = graphql.query("{ civilServants { edges { node { fullNam } } } }")
    assert "Did you mean" not in result["errors"][0]["message"]


def test_wrong_variable_types(graphql: GraphQLClient) -> None:
    result = graphql.query("query($n: Int) { civilServants(first: $n) { totalCount } }",
                           {"n": "ten"})
    assert _codes(result) == {"BAD_USER_INPUT"}
    result = graphql.query("query($f: CivilServantFilter) { civilServants(filter: $f) "
                           "{ totalCount } }", {"f": {"category": "WIZARD"}})
    assert _codes(result) == {"BAD_USER_INPUT"}


@pytest.mark.parametrize(("body", "content_type"), [
    (b"not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'{"query": 5}', "application/json"),
    (b'{"query": "{ ranks { code } }", "variables": [1]}', "application/json"),
    (b'{"query": "{ ranks { code } }", "operationName": 7}', "application/json"),
    (b'{"query": "   "}', "application/json"),
    (b"query=%7B%7D", "application/x-www-form-urlencoded"),
])
def test_malformed_http_requests(hub_url: str, body: bytes, content_type: str) -> None:
    response = httpx.post(f"{hub_url}/graphql", content=body,
                          headers={"content-type": content_type})
    assert 400 <= response.status_code < 500
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_oversized_documents_are_refused(graphql: GraphQLClient, hub_url: str) -> None:
    many_fields = "{ ranks { " + " ".join(["code"] * 20_000) + " } }"
    assert _codes(graphql.query(many_fields)) == {"BAD_USER_INPUT"}
    huge = httpx.post(f"{hub_url}/graphql", content=b'{"query": "' + b"x" * 2_000_000 + b'"}',
                      headers={"content-type": "application/json"})
    assert huge.status_code == 413


def test_get_is_for_queries(hub_url: str, admin_headers: dict[str, str]) -> None:
    ok = httpx.get(f"{hub_url}/graphql", params={"query": "{ ranks { code } }"},
                   headers=admin_headers)
    assert ok.status_code == 200
    assert ok.json()["data"]["ranks"]
    bad_variables = httpx.get(f"{hub_url}/graphql",
                              params={"query": "{ ranks { code } }", "variables": "{"},
                              headers=admin_headers)
    assert bad_variables.status_code == 400


def test_bad_directive_values_are_client_errors(graphql: GraphQLClient) -> None:
    # A nullable variable with a default may stand for a non-null argument; sent as null,
    # it is the client's mistake (found as the field would run, past validation).
    for query in ("query($s: Boolean = false) { provinces @skip(if: $s) { code } }",
                  "query($s: Boolean = false) { civilServants(first: 2) { edges { node { "
                  "fullName @include(if: $s) } } } }",
                  "query($s: String = \"x\") { civilServant(employeeCode: $s) { fullName } }",
                  "query($s: String = \"x\") { ...F } fragment F on Query { agency(code: $s) "
                  "{ name } }"):
        response = graphql.post(query, {"s": None})
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/json")
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (query, response.text)
        assert "variable $s is null where" in error["message"]
    # Null where null is allowed still runs.
    allowed = graphql.post("query($n: Int) { civilServants(first: $n) { totalCount } }",
                           {"n": None})
    assert allowed.status_code == 200, allowed.text


@pytest.mark.parametrize("query", [
    'query($p: String) { civilServants(filter: {namePrefix: $p}) { totalCount } }',
    'query($p: String) { agencies(filter: {provinceCode: $p}) { code } }',
])
def test_nul_characters_are_refused_as_input(graphql: GraphQLClient, query: str) -> None:
    result = graphql.query(query, {"p": "Nguy\u0000"})
    assert _codes(result) == {"BAD_USER_INPUT"}


def test_cursor_with_control_characters(graphql: GraphQLClient) -> None:
    import base64
    cursor = base64.urlsafe_b64encode(b"cs:CB\x0000").decode()
    result = graphql.query("query($c: String) { civilServants(after: $c) { totalCount } }",
                           {"c": cursor})
    assert _codes(result) == {"BAD_USER_INPUT"}


def test_streamed_oversized_body_is_refused(hub_url: str) -> None:
    def chunks() -> Any:
        for _ in range(300):
            yield b"x" * 10_000

    response = httpx.post(f"{hub_url}/graphql", content=chunks(),
                          headers={"content-type": "application/json"})
    assert response.status_code == 413
