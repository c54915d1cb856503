"""Rate limits end to end: a hub of two worker processes sharing one Redis holds each client
to its allowance (its policy's ``limits``, else the hub's default), answering 429
``RATE_LIMITED`` with ``Retry-After``, recorded in the audit log like any refusal."""

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
from hub.launcher import free_port, start_hub, stop
from hub.policy.load import POLICY_DIR
from tests.conftest import Sandbox, Tokens
from tests.e2e.audit_records import record, request_id

QUERY = {"query": "{ ranks { code } }"}
DEFAULT_BURST = 8
INSPECTORATE_BURST = 3


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
    inspectorate = policies / "gov-inspectorate.yaml"
    inspectorate.write_text(inspectorate.read_text(encoding="utf-8") + (
        f"\nlimits:\n  requests_per_minute: 60\n  burst: {INSPECTORATE_BURST}\n"),
        encoding="utf-8")
    port = free_port()
    process = start_hub(databases, sandbox_session.ports, port, workers=2, env={
        "HUB_REDIS_URL": redis_url, "HUB_REDIS_PREFIX": f"test-{uuid.uuid4().hex}:",
        "HUB_RATE_LIMIT_PER_MINUTE": "60", "HUB_RATE_LIMIT_BURST": str(DEFAULT_BURST),
        "HUB_POLICY_DIR": str(policies), "HUB_POLICY_WATCH": "0",
        "HUB_AUTH_ISSUER": f"http://127.0.0.1:{port}",
        "HUB_SIGNING_KEY_FILE": str(folder / "signing.jwks"),
        "HUB_MASK_SECRET_FILE": str(folder / "mask.secret")})
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
                                range(2 * DEFAULT_BURST)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * DEFAULT_BURST + [429] * DEFAULT_BURST
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
    assert limited.post("mof-payroll", "salary-budget").status_code == 200
    readiness = httpx.get(f"{limited.url}/readyz", timeout=30).json()
    assert readiness["rateLimits"] == {"backend": "redis", "shared": True}


def test_a_policys_limits_replace_the_default(limited: LimitedHub) -> None:
    statuses = [limited.post("gov-inspectorate", "inspection",
                             {"query": "{ __typename }"}).status_code
                for _ in range(INSPECTORATE_BURST + 2)]
    assert statuses == [200] * INSPECTORATE_BURST + [429, 429]


def test_a_batch_over_the_limit_is_refused_whole(limited: LimitedHub) -> None:
    token = limited.tokens.headers("hanoi-doha", "personnel-management")
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
