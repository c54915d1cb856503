"""A failing source nulls only the fields it owns, and says which source failed."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import GraphQLClient, Sandbox

QUERY = """{ civilServants(first: 40, filter: {provinceCode: "01"}) { edges { node {
  employeeCode fullName agencyCode person { fullName } agencyRecord { system positionCode }
} } } }"""


def _run(graphql: GraphQLClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    result = graphql.query(QUERY)
    nodes = [e["node"] for e in result["data"]["civilServants"]["edges"]]
    return nodes, result.get("errors", [])


def test_population_outage_nulls_only_person(graphql: GraphQLClient, sandbox: Sandbox) -> None:
    sandbox.switch("population", outage=True)
    nodes, errors = _run(graphql)
    assert len(nodes) == 40
    assert all(n["person"] is None and n["fullName"] for n in nodes)
    assert any(n["agencyRecord"] for n in nodes), "agency systems still answer"
    assert errors
    assert {e["extensions"]["code"] for e in errors} == {"SOURCE_UNAVAILABLE"}
    assert {e["extensions"]["source"] for e in errors} == {"population"}
    assert {e["path"][-1] for e in errors} == {"person"}


def test_agency_system_outage_nulls_only_its_records(graphql: GraphQLClient,
                                                     sandbox: Sandbox) -> None:
    sandbox.switch("agency_rest", outage=True)
    nodes, errors = _run(graphql)
    assert all(n["person"] for n in nodes)
    for node in nodes:
        if node["agencyCode"].endswith(".G02"):
            assert node["agencyRecord"] is None
    assert any(n["agencyRecord"] and n["agencyRecord"]["system"] == "hanoi-hrm" for n in nodes)
    assert {e["extensions"]["source"] for e in errors} == {"mof-hrmis"}


def test_slow_source_times_out(graphql: GraphQLClient, sandbox: Sandbox) -> None:
    sandbox.switch("population", latencyMs=1500)  # the test hub waits 0.5 s
    nodes, errors = _run(graphql)
    assert all(n["person"] is None for n in nodes)
    assert {e["extensions"]["code"] for e in errors} == {"SOURCE_TIMEOUT"}


def test_malformed_and_failing_answers(graphql: GraphQLClient, sandbox: Sandbox) -> None:
    for switches in ({"malformed": True}, {"errorRate": 1.0}):
        sandbox.switch("agency_graphql", **switches)
        _nodes, errors = _run(graphql)
        assert {e["extensions"]["source"] for e in errors} == {"hanoi-hrm"}
        assert {e["extensions"]["code"] for e in errors} == {"SOURCE_UNAVAILABLE"}
        for error in errors:
            assert "Traceback" not in str(error)
        sandbox.reset()


def test_readiness_names_the_failing_source(hub_url: str, sandbox: Sandbox) -> None:
    assert httpx.get(f"{hub_url}/readyz").status_code == 200
    sandbox.switch("population", outage=True)
    response = httpx.get(f"{hub_url}/readyz")
    assert response.status_code == 503
    sources = response.json()["sources"]
    assert sources["population"]["ok"] is False
    assert sources["national"]["ok"] is True
    assert httpx.get(f"{hub_url}/healthz").status_code == 200
