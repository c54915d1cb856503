"""Resilience per source, end to end with fault injection: a hub of its own (retries, a
breaker that opens after 3 failed calls for 2 s) in front of the sandbox's population
registry, switched to fail. Failed reads are tried again; a failing source opens its breaker,
after which the hub answers at once, without calling it, with the person fields null and the
source named, and ``/readyz`` says so; once the source is back, a probe closes the breaker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hub.databases import DatabaseSet
from hub.launcher import free_port, own_keys_env, start_hub, stop
from tests.conftest import Sandbox, Tokens

QUERY = {"query": "{ civilServants(first: 5) { nodes { employeeCode person { fullName } } } }"}
OPEN_SECONDS = 2.0


@dataclass
class GuardedHub:
    url: str
    tokens: Tokens

    def ask(self) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        answer = httpx.post(f"{self.url}/graphql", json=QUERY, timeout=30,
                            headers=self.tokens.headers("moha-personnel-db", "administration"))
        assert answer.status_code == 200, answer.text
        return time.perf_counter() - started, answer.json()

    def breaker(self) -> dict[str, Any]:
        ready = httpx.get(f"{self.url}/readyz", timeout=30).json()
        state: dict[str, Any] = ready["sources"]["population"]
        return state


@pytest.fixture
def guarded(databases: DatabaseSet, sandbox: Sandbox, client_secrets: dict[str, str],
            tmp_path: Any) -> Iterator[GuardedHub]:
    port = free_port()
    process = start_hub(databases, sandbox.ports, port, env={
        "HUB_SOURCE_RETRIES": "2", "HUB_SOURCE_BACKOFF_SECONDS": "0.01",
        "HUB_BREAKER_FAILURES": "3", "HUB_BREAKER_OPEN_SECONDS": str(OPEN_SECONDS),
        "POPULATION_TIMEOUT_SECONDS": "1.0",
        **own_keys_env(port, tmp_path)})
    url = f"http://127.0.0.1:{port}"
    try:
        yield GuardedHub(url, Tokens(url, client_secrets))
    finally:
        stop(process)
        sandbox.reset()


def _persons(body: dict[str, Any]) -> list[Any]:
    return [n["person"] for n in body["data"]["civilServants"]["nodes"]]


def test_a_failed_read_is_tried_again(guarded: GuardedHub, sandbox: Sandbox) -> None:
    guarded.tokens.token("moha-personnel-db")
    sandbox.reset()
    sandbox.switch("population", errorRate=1.0)
    _, body = guarded.ask()
    assert {e["extensions"]["source"] for e in body["errors"]} == {"population"}
    assert sandbox.stats("population")["requests"] == {"citizens.batch": 3}  # 1 + 2 retries


def test_a_failing_source_opens_its_breaker_then_a_probe_closes_it(
        guarded: GuardedHub, sandbox: Sandbox) -> None:
    guarded.tokens.token("moha-personnel-db")
    sandbox.reset()
    sandbox.switch("population", outage=True)
    for _ in range(3):  # three failed calls (each tried three times)
        _, body = guarded.ask()
        assert _persons(body) == [None] * 5
    reached = sandbox.stats("population")["requests"]
    breaker = guarded.breaker()
    assert breaker["ok"] is False
    assert breaker["breaker"]["state"] == "open"
    # Open: answered at once, the person fields null with the source named, and the
    # registry not called at all.
    elapsed, body = guarded.ask()
    assert _persons(body) == [None] * 5
    (error,) = {e["message"] for e in body["errors"]}
    assert "circuit open" in error
    assert elapsed < 0.5
    assert sandbox.stats("population")["requests"] == reached
    # The source comes back; after the pause one probe goes through and closes the breaker.
    sandbox.switch("population", outage=False)
    time.sleep(OPEN_SECONDS + 0.2)
    _, body = guarded.ask()
    assert "errors" not in body, body
    assert all(person is not None for person in _persons(body))
    assert guarded.breaker() == {"ok": True, "breaker": {"state": "closed",
                                                         "failuresInARow": 0}}


def test_a_slow_source_is_answered_within_the_budget(guarded: GuardedHub,
                                                     sandbox: Sandbox) -> None:
    guarded.tokens.token("moha-personnel-db")
    sandbox.reset()
    sandbox.switch("population", latencyMs=3000)
    elapsed, body = guarded.ask()
    assert _persons(body) == [None] * 5
    assert {e["extensions"]["code"] for e in body["errors"]} == {"SOURCE_TIMEOUT"}
    assert elapsed < 2.0  # the 1 s budget, not retried
    assert sandbox.stats("population")["requests"] == {"citizens.batch": 1}


@pytest.mark.parametrize(("switches", "message"), [
    ({"reset": True}, "is unreachable"),
    ({"oversizedBytes": 20 * 1024 * 1024}, "answered more than"),
])
def test_a_reset_or_an_oversized_answer_is_a_failed_source_not_a_failed_hub(
        guarded: GuardedHub, sandbox: Sandbox, switches: dict[str, Any], message: str) -> None:
    guarded.tokens.token("moha-personnel-db")
    sandbox.reset()
    sandbox.switch("population", **switches)
    elapsed, body = guarded.ask()
    assert _persons(body) == [None] * 5
    assert {e["extensions"]["source"] for e in body["errors"]} == {"population"}
    assert all(message in e["message"] for e in body["errors"]), body["errors"]
    assert elapsed < 5
    sandbox.switch("population", reset=False, oversizedBytes=0)
    _, body = guarded.ask()  # and the hub is fine afterwards
    assert "errors" not in body, body
