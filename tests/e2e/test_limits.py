"""Limits end to end, on a hub of two worker processes sharing one Redis:

- rate limits hold each client to its allowance (its policy's ``limits``, else the hub's
  default), answering 429 ``RATE_LIMITED`` with ``Retry-After``, recorded in the audit log
  like any refusal;
- query limits refuse an operation too deep, with too many aliases or root fields, or
  estimated too costly (the hub's bound, or the client's own ``limits.cost``) with 400
  ``QUERY_TOO_COMPLEX`` before it runs: each at, and just over, its bound;
- introspection can be switched off (``HUB_INTROSPECTION=0``)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.databases import DatabaseSet
from hub.launcher import free_port, own_keys_env, start_hub, stop
from hub.policy.load import POLICY_DIR
from tests.conftest import Sandbox, Tokens
from tests.e2e.audit_records import record, request_id

QUERY = {"query": "{ ranks { code } }"}
BURST = 8          # the Ministry's own
DEFAULT_BURST = 3  # the hub's default, for clients without limits
INSPECTORATE_COST = 40
TOKEN_BURST = 4    # token requests per client id at once


@dataclass
class LimitedHub:
    url: str
    tokens: Tokens

    def post(self, client: str, purpose: str, body: Any = None,
             request: str | None = None) -> httpx.Response:
        return httpx.post(f"{self.url}/graphql", json=body or QUERY, timeout=30,
                          headers={**self.tokens.headers(client, purpose),
                                   "x-request-id": request or request_id("rate")})


@pytest.fixture(scope="module")
def limited(databases: DatabaseSet, sandbox_session: Sandbox, client_secrets: dict[str, str],
            redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LimitedHub]:
    folder = tmp_path_factory.mktemp("rate-limits")
    policies = folder / "policies"
    shutil.copytree(POLICY_DIR, policies)
    # The Ministry: a tight rate of its own. The inspectorate and Hà Nội: rates no test
    # reaches, the inspectorate with a cost budget of its own. The Ministry of Finance: no
    # limits of its own, so the hub's default.
    for client, limits in (("moha-personnel-db", f"requests_per_minute: 60\n  burst: {BURST}"),
                           ("gov-inspectorate", "requests_per_minute: 100000\n  burst: 10000\n"
                                                f"  cost: {INSPECTORATE_COST}"),
                           ("hanoi-doha", "requests_per_minute: 100000\n  burst: 10000")):
        path = policies / f"{client}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + f"\nlimits:\n  {limits}\n",
                        encoding="utf-8")
    port = free_port()
    process = start_hub(databases, sandbox_session.ports, port, workers=2, env={
        "HUB_REDIS_URL": redis_url, "HUB_REDIS_PREFIX": f"test-{uuid.uuid4().hex}:",
        "HUB_RATE_LIMIT_PER_MINUTE": "60", "HUB_RATE_LIMIT_BURST": str(DEFAULT_BURST),
        "HUB_POLICY_DIR": str(policies), "HUB_POLICY_WATCH": "0", "HUB_INTROSPECTION": "0",
        "HUB_MAX_QUERY_COST": "5000",
        "HUB_TOKEN_RATE_PER_MINUTE": "60", "HUB_TOKEN_RATE_BURST": str(TOKEN_BURST),
        **own_keys_env(port, folder)})
    url = f"http://127.0.0.1:{port}"
    try:
        yield LimitedHub(url, Tokens(url, client_secrets))
    finally:
        stop(process, timeout=30)


def test_two_processes_hold_a_client_to_one_allowance(limited: LimitedHub,
                                                      databases: DatabaseSet) -> None:
    limited.tokens.token("moha-personnel-db")  # the token endpoint is not what is counted
    with ThreadPoolExecutor(16) as pool:  # new connections: both workers take some
        answers = list(pool.map(lambda _: limited.post("moha-personnel-db", "administration"),
                                range(2 * BURST)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * BURST + [429] * BURST
    refused = next(a for a in answers if a.status_code == 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    (error,) = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "60 requests a minute" in error["message"]
    # Recorded like any refusal, under the client.
    entry = record(databases.national, refused.headers["x-request-id"])
    assert (entry["client"], entry["outcome"], entry["errors"], entry["status"]) == (
        "moha-personnel-db", "refused", ["RATE_LIMITED"], 429)
    assert entry["disclosed"] == []
    # Another client draws on its own allowance.
    assert limited.post("hanoi-doha", "personnel-management").status_code == 200
    readiness = httpx.get(f"{limited.url}/readyz", timeout=30).json()
    assert readiness["rateLimits"] == {"backend": "redis", "shared": True}


def test_a_client_without_limits_is_held_to_the_default_each_operation_counting(
        limited: LimitedHub) -> None:
    token = limited.tokens.headers("mof-payroll", "salary-budget")
    body = [{"query": "{ __typename }"}] * (DEFAULT_BURST + 2)
    answer = httpx.post(f"{limited.url}/graphql", json=body, headers=token, timeout=30)
    assert answer.status_code == 200
    codes = [(item.get("errors") or [{}])[0].get("extensions", {}).get("code")
             for item in answer.json()]
    assert codes.count("RATE_LIMITED") == 2  # each operation counts
    again = httpx.post(f"{limited.url}/graphql", json=body[:2], headers=token, timeout=30)
    assert again.status_code == 429
    assert "retry-after" in again.headers


def test_the_policy_files_limits_are_checked() -> None:
    from hub.policy.load import PolicyError, parse_policy

    text = (POLICY_DIR / "gov-inspectorate.yaml").read_text(encoding="utf-8")
    for bad in ("requests_per_minute: 0", "requests_per_minute: -5",
                "requests_per_minute: 60\n  burst: 0", "requests_per_minute: 60\n  per: hour",
                "burst: 5", "requests_per_minute: '60'"):
        with pytest.raises(PolicyError):
            parse_policy(text + f"\nlimits:\n  {bad}\n", Path("gov-inspectorate.yaml"))
    parsed = parse_policy(text + "\nlimits:\n  requests_per_minute: 600\n",
                          Path("gov-inspectorate.yaml"))
    assert parsed.limits is not None
    assert (parsed.limits.requests_per_minute, parsed.limits.burst) == (600, 100)


# -- query limits -------------------------------------------------------------------------------

def _code(answer: httpx.Response) -> str | None:
    errors = answer.json().get("errors") or [{}]
    code: str | None = errors[0].get("extensions", {}).get("code")
    return code


def _nested(levels: int) -> str:
    """An operation ``levels`` deep and cheap: an agency, its parent's parent..."""
    return ('{ agency(code: "000.00.00.H01") { ' + "parent { " * (levels - 2) + "code"
            + " }" * (levels - 1) + " }")


@pytest.mark.parametrize(("query", "allowed"), [
    (_nested(12), True),
    (_nested(13), False),
    ("{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }", True),
    ("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }", False),
    ("{ " + " ".join(f"r{i}: ranks {{ code }}" for i in range(20)) + " }", True),
    ("{ " + " ".join(f"r{i}: ranks {{ code }}" for i in range(21)) + " }", False),
])
def test_each_query_bound_at_and_just_over(limited: LimitedHub, databases: DatabaseSet,
                                           query: str, allowed: bool) -> None:
    request = request_id("limits")
    answer = limited.post("hanoi-doha", "personnel-management", {"query": query}, request)
    if allowed:
        assert answer.status_code == 200, answer.text
        assert "errors" not in answer.json()
        return
    assert answer.status_code == 400
    assert _code(answer) == "QUERY_TOO_COMPLEX"
    assert "over the limit" in answer.json()["errors"][0]["message"]
    entry = record(databases.national, request)
    assert (entry["outcome"], entry["errors"], entry["disclosed"]) == (
        "refused", ["QUERY_TOO_COMPLEX"], [])


def test_the_hubs_cost_bound_and_a_clients_own_budget(limited: LimitedHub) -> None:
    # The hub's bound here is 5,000. A page of 100 employees with 10 disciplines (assumed) of
    # 9 fields each (form's code too) is 1 + 1 + 100 x 2 + 100 x 10 x 9 = 9,202; a page of
    # one is 94.
    costly = ("{ civilServants(first: 100) { nodes { employeeCode disciplines { decisionNumber "
              "decidedOn issuer reason effectiveFrom effectiveTo inEffect form { code } } } } }")
    assert _code(limited.post("hanoi-doha", "personnel-management",
                              {"query": costly})) == "QUERY_TOO_COMPLEX"
    answer = limited.post("hanoi-doha", "personnel-management",
                          {"query": costly.replace("first: 100", "first: 1")})
    assert answer.status_code == 200, answer.text
    # The inspectorate's policy allows a cost of 40: a page of 38 codes (1 + 1 + 38 = 40)
    # passes where one of 39 (41) does not; a variable page is measured by its value.
    page = "query($n: Int) { civilServants(first: $n) { nodes { employeeCode } } }"
    assert limited.post("gov-inspectorate", "inspection",
                        {"query": page, "variables": {"n": 38}}).status_code == 200
    over = limited.post("gov-inspectorate", "inspection",
                        {"query": page, "variables": {"n": 39}})
    assert _code(over) == "QUERY_TOO_COMPLEX"
    assert "over the limit of 40" in over.json()["errors"][0]["message"]


def test_introspection_can_be_switched_off(limited: LimitedHub) -> None:
    answer = limited.post("hanoi-doha", "personnel-management",
                          {"query": "{ __schema { queryType { name } } }"})
    assert answer.status_code == 400
    assert "introspection" in answer.json()["errors"][0]["message"].lower()
    assert limited.post("hanoi-doha", "personnel-management",
                        {"query": "{ __typename }"}).status_code == 200


def test_the_token_endpoint_holds_each_claimed_client_id_to_an_allowance(
        limited: LimitedHub, client_secrets: dict[str, str]) -> None:
    """Guessing a client's secret is slowed to the allowance, across both processes; while it
    is spent even the right secret waits; another client is not held to it."""
    url = f"{limited.url}/oauth/token"

    def ask(client: str, secret: str) -> httpx.Response:
        return httpx.post(url, data={"grant_type": "client_credentials"},
                          auth=(client, secret), timeout=30)

    guesses = [ask("vss-insurance", f"guess-{n}") for n in range(TOKEN_BURST + 1)]
    assert [g.status_code for g in guesses[:TOKEN_BURST]] == [401] * TOKEN_BURST
    refused = guesses[-1]
    assert refused.status_code == 429
    assert refused.json()["error"] == "slow_down"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["cache-control"] == "no-store"
    assert ask("vss-insurance", client_secrets["vss-insurance"]).status_code == 429
    # the id named in the form counts as the same client as the one in HTTP Basic
    form = httpx.post(url, data={"grant_type": "client_credentials",
                                 "client_id": "vss-insurance", "client_secret": "x"},
                      timeout=30)
    assert form.status_code == 429
    assert ask("mps-identity", client_secrets["mps-identity"]).status_code == 200
