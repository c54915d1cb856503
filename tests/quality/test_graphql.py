"""``dataQuality`` over a real hub on the fixture's databases: the series as counted, the
policies' row scopes (Hà Nội reads its own authority's agencies, never a ministry's), clients
without the grant, malformed arguments, and the audit record every operation leaves."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.auth.clients import register_with_new_secrets
from hub.launcher import free_port, own_keys_env, start_hub, stop
from hub.policy.load import load_policy_dir
from hub.quality import QualityRun
from tests.conftest import GraphQLClient, Tokens
from tests.e2e.audit_records import record
from tests.quality.conftest import QualityEnv
from tests.quality.fixture import A1, B1, B1_NAME, LATER

CLIENTS = ("moha-personnel-db", "hanoi-doha", "mof-payroll")
ADMIN = ("moha-personnel-db", "administration")
HANOI = ("hanoi-doha", "personnel-management")
WINDOW = {"from": "2026-06-29T00:00:00+00:00", "to": "2026-07-02T00:00:00+07:00"}
QUERY = """query DQ($code: String!, $from: DateTime, $to: DateTime) {
  dataQuality(agencyCode: $code, from: $from, to: $to) {
    agencyCode agencyName authority scope from to truncated
    latest { dimension source status score numerator denominator measuredAt reason }
    series { dimension source measures { measuredAt runId status numerator denominator score
      reason details { item passed checked value note examples } } } } }"""


@pytest.fixture(scope="module")
def hub(quality: QualityEnv, runs: tuple[QualityRun, QualityRun],
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphQLClient]:
    policies = load_policy_dir()
    secrets = asyncio.run(register_with_new_secrets(
        quality.databases.national, {c: policies.clients[c].name for c in CLIENTS}))
    port = free_port()
    keys: Path = tmp_path_factory.mktemp("quality-hub")
    process = start_hub(quality.databases, quality.sandbox.ports, port, env={
        **own_keys_env(port, keys), "HUB_AUDIT_KEY_FILE": str(keys / "audit.jwks"),
        "HUB_POLICY_WATCH": "0"})
    url = f"http://127.0.0.1:{port}"
    try:
        yield GraphQLClient(url, Tokens(url, secrets), *ADMIN)
    finally:
        stop(process)


def _ask(client: GraphQLClient, code: str, window: dict[str, str] | None = None,
         request: str | None = None) -> dict[str, Any]:
    response = client.post(QUERY, {"code": code, **(WINDOW if window is None else window)},
                           headers={"x-request-id": request} if request else {})
    assert response.status_code in (200, 400), response.text
    body: dict[str, Any] = response.json()
    return body


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def test_an_agency_as_counted(hub: GraphQLClient) -> None:
    body = _ask(hub, A1)
    assert "errors" not in body, body
    quality = body["data"]["dataQuality"]
    assert {k: quality[k] for k in ("agencyCode", "agencyName", "authority", "scope",
                                    "truncated")} == {
        "agencyCode": A1, "agencyName": "Vụ Tổ chức cán bộ", "authority": "G02",
        "scope": "AGENCY", "truncated": False}
    assert quality["from"] == "2026-06-29T00:00:00+00:00"
    series = {(s["dimension"], s["source"]): s["measures"] for s in quality["series"]}
    assert list(series) == [
        ("COMPLETENESS", "national"), ("COMPLETENESS", "mof-hrmis"),
        ("VALIDITY", "national"), ("VALIDITY", "mof-hrmis"),
        ("UNIQUENESS", "national"), ("UNIQUENESS", "mof-hrmis"),
        ("CONSISTENCY", "population"), ("CONSISTENCY", "mof-hrmis"),
        ("TIMELINESS", "national"), ("TIMELINESS", "mof-hrmis")]
    timeliness = series[("TIMELINESS", "national")]
    assert [(m["measuredAt"], m["numerator"], m["denominator"]) for m in timeliness] == [
        ("2026-06-30T00:00:00+00:00", 4, 6), ("2026-07-01T00:00:00+00:00", 3, 6)]
    assert timeliness[1]["score"] == pytest.approx(0.5)
    consistency = series[("CONSISTENCY", "mof-hrmis")][-1]
    assert (consistency["numerator"], consistency["denominator"]) == (42, 46)
    assert consistency["details"][0] == {"item": "record", "passed": 5, "checked": 6,
                                         "value": None, "note": None, "examples": ["QA0003"]}
    lag = {d["item"]: d for d in series[("TIMELINESS", "mof-hrmis")][-1]["details"]}
    assert lag["sync-lag-seconds"]["value"] == "1296000"
    latest = {(m["dimension"], m["source"]): m for m in quality["latest"]}
    assert set(latest) == set(series)
    assert all(m["measuredAt"] == "2026-07-01T00:00:00+00:00" for m in latest.values())
    assert latest[("UNIQUENESS", "national")]["score"] == pytest.approx(5 / 6)


def test_an_authority_rolled_up(hub: GraphQLClient) -> None:
    quality = _ask(hub, "G02")["data"]["dataQuality"]
    assert (quality["agencyCode"], quality["agencyName"], quality["scope"]) == (
        "G02", "Bộ Tài chính", "AUTHORITY")
    latest = {(m["dimension"], m["source"]): m for m in quality["latest"]}
    assert (latest[("VALIDITY", "national")]["numerator"],
            latest[("VALIDITY", "national")]["denominator"]) == (36, 40)


def test_empty_window(hub: GraphQLClient) -> None:
    quality = _ask(hub, A1, {"from": "2020-01-01T00:00:00Z",
                             "to": "2021-01-01T00:00:00Z"})["data"]["dataQuality"]
    assert (quality["series"], quality["latest"], quality["truncated"]) == ([], [], False)


def test_hanoi_reads_its_own_agencies_and_authority(hub: GraphQLClient) -> None:
    hanoi = hub.as_client(*HANOI)
    own = _ask(hanoi, B1)
    assert "errors" not in own, own
    assert own["data"]["dataQuality"]["agencyName"] == B1_NAME  # as stored: JSON escapes it
    timeliness = {(m["dimension"], m["source"]): m
                  for m in own["data"]["dataQuality"]["latest"]}[("TIMELINESS", "hanoi-hrm")]
    assert (timeliness["numerator"], timeliness["denominator"], timeliness["score"]) == (
        0, 2, 0.0)
    city = _ask(hanoi, "H01")
    assert city["data"]["dataQuality"]["scope"] == "AUTHORITY"


@pytest.mark.parametrize("code", [A1, "G02", "000.00.02.G02", "000.00.77.H01", "H77"])
def test_hanoi_cannot_read_a_ministry_or_what_does_not_exist(hub: GraphQLClient,
                                                             code: str) -> None:
    body = _ask(hub.as_client(*HANOI), code)
    assert body["data"] is None
    assert _codes(body) == ["NOT_FOUND"]
    # the same answer whether the agency exists or not: nothing learnt of the others
    assert body["errors"][0]["message"] == f"no data-quality measures of {code} to read"


@pytest.mark.parametrize("client", [("mof-payroll", "salary-budget"),
                                    ("moha-personnel-db", "statistics"),
                                    ("hanoi-doha", "recruitment")])
def test_absent_from_other_schemas(hub: GraphQLClient, client: tuple[str, str]) -> None:
    body = hub.as_client(*client).query(f'{{ dataQuality(agencyCode: "{A1}") {{ scope }} }}')
    assert _codes(body) == ["VALIDATION_FAILED"]
    assert "dataQuality" in body["errors"][0]["message"]
    assert "Did you mean" not in body["errors"][0]["message"]


@pytest.mark.parametrize(("variables", "argument"), [
    ({"code": "G2"}, "agencyCode"),
    ({"code": ""}, "agencyCode"),
    ({"code": "000.00.01.X02"}, "agencyCode"),
    ({"code": "000.00.01.G02 "}, "agencyCode"),
    ({"code": "' OR 1=1 --"}, "agencyCode"),
    ({"code": "G02\u0000"}, "agencyCode"),
    ({"code": "x" * 10_000}, "agencyCode"),
    ({"code": A1, "from": "2026-06-01T00:00:00"}, "from"),
    ({"code": A1, "to": "2026-06-01T00:00:00"}, "to"),
    ({"code": A1, "from": "2026-07-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"}, "to"),
    ({"code": A1, "from": "2026-07-02T00:00:00Z", "to": "2026-07-01T00:00:00Z"}, "to"),
])
def test_malformed_arguments(hub: GraphQLClient, variables: dict[str, str],
                             argument: str) -> None:
    body = _ask(hub, variables.pop("code"), variables)
    assert body["data"] is None, body
    assert _codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"].get("argument") == argument


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "", "1" * 200])
def test_unreadable_times(hub: GraphQLClient, value: str) -> None:
    body = _ask(hub, A1, {"from": value})
    assert "data" not in body or body["data"] is None
    assert _codes(body) == ["BAD_USER_INPUT"], body


def test_not_measured_is_shown_with_its_reason(hub: GraphQLClient,
                                               sources_up: QualityEnv) -> None:
    sources_up.sandbox.switch("population", outage=True)
    at = LATER + timedelta(days=20)
    sources_up.measure(agencies=[A1], now=at)
    window = {"from": at.isoformat(), "to": (at + timedelta(hours=1)).isoformat()}
    latest = {(m["dimension"], m["source"]): m
              for m in _ask(hub, A1, window)["data"]["dataQuality"]["latest"]}
    population = latest[("CONSISTENCY", "population")]
    assert (population["status"], population["score"], population["numerator"]) == (
        "NOT_MEASURED", None, None)
    assert population["reason"].startswith("SOURCE_UNAVAILABLE: ")
    assert latest[("CONSISTENCY", "mof-hrmis")]["status"] == "MEASURED"


def test_every_operation_is_audited(hub: GraphQLClient, quality: QualityEnv) -> None:
    answered, refused = f"dq-{uuid.uuid4().hex}", f"dq-{uuid.uuid4().hex}"
    _ask(hub.as_client(*HANOI), B1, request=answered)
    _ask(hub.as_client(*HANOI), A1, request=refused)
    kept = record(quality.databases.national, answered)
    assert kept.columns["client_id"] == "hanoi-doha"
    assert kept.columns["subject_ids"] in ([], None)  # about no person
    assert "DataQuality.agencyName" in kept.anonymous_fields
    denied = record(quality.databases.national, refused)
    assert denied["errors"] == ["NOT_FOUND"]
    assert denied.columns["client_id"] == "hanoi-doha"
