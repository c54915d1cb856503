"""Hostile documents and variables: never a 5xx, never a stack trace, always a known code."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CODES = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "SOURCE_UNAVAILABLE",
         "SOURCE_TIMEOUT", "RATE_LIMITED", "QUERY_TOO_COMPLEX", "CONFLICT", "VALIDATION_FAILED",
         "INTERNAL"}
FIXTURES = [HealthCheck.function_scoped_fixture]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12)
fragments = st.sampled_from([
    "{", "}", "civilServants", "(first: ", "100", ")", "{ edges { node { fullName } } }",
    "person", "agency", "$x", "query", "($x: Int)", "...", "on CivilServant", "__typename",
    "filter: {provinceCode: \"01\"}", "\"", "#", "@skip(if: true)", "mutation", "\\u0000",
    "agencyRecord { system }", "employees(first: 2)", "totalCount", "🙂", "0" * 40])
documents = st.lists(fragments, min_size=1, max_size=25).map(" ".join)


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    assert "Traceback" not in response.text
    for error in body.get("errors", []):
        assert error["extensions"]["code"] in CODES, error
        if error["extensions"]["code"] == "INTERNAL":
            raise AssertionError(f"internal error for hostile input: {error}")


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES)
@given(document=documents, variables=st.none() | st.dictionaries(
    st.sampled_from(["x", "id", "f", "first"]), json_values, max_size=3))
def test_hostile_documents(hub_url: str, admin_headers: dict[str, str], document: str,
                           variables: dict[str, Any] | None) -> None:
    _check(httpx.post(f"{hub_url}/graphql", json={"query": document, "variables": variables},
                      headers=admin_headers, timeout=30))


@settings(max_examples=100, deadline=None, suppress_health_check=FIXTURES)
@given(value=json_values)
def test_hostile_variable_values(hub_url: str, admin_headers: dict[str, str], value: Any) -> None:
    query = """query($id: PersonalId!, $f: CivilServantFilter, $n: Int, $c: String) {
      person(personalId: $id) { fullName }
      civilServants(filter: $f, first: $n, after: $c) { totalCount } }"""
    for name in ("id", "f", "n", "c"):
        variables = {"id": "001085012345", "f": None, "n": 1, "c": None, name: value}
        _check(httpx.post(f"{hub_url}/graphql", json={"query": query, "variables": variables},
                          headers=admin_headers, timeout=30))


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(body=st.binary(max_size=200))
def test_hostile_bodies(hub_url: str, admin_headers: dict[str, str], body: bytes) -> None:
    _check(httpx.post(f"{hub_url}/graphql", content=body,
                      headers={**admin_headers, "content-type": "application/json"}, timeout=30))
