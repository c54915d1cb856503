"""OpenTelemetry end to end: a hub and sandbox exporting to the console, read back.

The hub and the sandbox systems run as their own processes with the standard ``OTEL_*``
variables (console exporters, written to a file each); the tests read the spans and metrics
they printed. One trace must run from the caller through the hub's phases and source calls
into the sandbox system, which continues it from the W3C ``traceparent`` the hub sent.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.databases import DatabaseSet
from hub.launcher import Ports, free_port, own_keys_env, start_hub, start_sandbox, stop
from tests.conftest import CONTROL, Tokens
from tests.e2e.audit_records import record

Span = dict[str, Any]
QUERY = """
query TracedPage($first: Int) {
  civilServants(first: $first) {
    edges { node { employeeCode personalId person { fullName alive }
                   agencyRecord { system fullName } } }
  }
}"""
OTEL = {
    "OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console",
    "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_METRIC_EXPORT_INTERVAL": "300",
}


@dataclass(frozen=True)
class TracedStack:
    url: str
    tokens: Tokens
    hub_output: Path
    sandbox_output: Path
    ports: Ports

    def post(self, body: dict[str, Any], *, client: str = "moha-personnel-db",
             purpose: str = "administration", traceparent: str | None = None
             ) -> httpx.Response:
        headers = {**self.tokens.headers(client, purpose),
                   "x-request-id": f"otel-{uuid.uuid4().hex}"}
        if traceparent is not None:
            headers["traceparent"] = traceparent
        return httpx.post(f"{self.url}/graphql", json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def traced(databases: DatabaseSet, client_secrets: dict[str, str],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[TracedStack]:
    folder = tmp_path_factory.mktemp("telemetry")
    hub_output, sandbox_output = folder / "hub.out", folder / "sandbox.out"
    ports = Ports()
    sandbox = start_sandbox(databases, ports, env=OTEL, stdout=sandbox_output)
    port = free_port()
    try:
        hub = start_hub(databases, ports, port, stdout=hub_output, env={
            **OTEL, "HUB_SOURCE_RETRIES": "0", "HUB_BREAKER_FAILURES": "1000000",
            "POPULATION_TIMEOUT_SECONDS": "1", **own_keys_env(port, folder)})
    except BaseException:
        stop(sandbox)
        raise
    url = f"http://127.0.0.1:{port}"
    try:
        yield TracedStack(url, Tokens(url, client_secrets), hub_output, sandbox_output, ports)
    finally:
        stop(hub, timeout=30)
        stop(sandbox)


def _documents(path: Path) -> list[dict[str, Any]]:
    """Every JSON document the console exporters wrote (one after another, indented)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    decoder, at = json.JSONDecoder(), 0
    found: list[dict[str, Any]] = []
    while True:
        start = text.find("{", at)
        if start < 0:
            return found
        try:
            document, at = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            at = start + 1
            continue
        if isinstance(document, dict):
            found.append(document)


def _spans(path: Path, trace_id: str) -> list[Span]:
    return [d for d in _documents(path)
            if d.get("context", {}).get("trace_id") == f"0x{trace_id}"]


def _wait_for(find: Callable[[], list[Span]], enough: Callable[[list[Span]], bool],
              seconds: float = 15.0) -> list[Span]:
    deadline = time.monotonic() + seconds
    while True:
        found = find()
        if enough(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _named(spans: list[Span], name: str) -> Span:
    matching = [s for s in spans if s["name"] == name]
    assert len(matching) == 1, (name, [s["name"] for s in spans])
    return matching[0]


def _new_trace() -> tuple[str, str, str]:
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, parent, f"00-{trace_id}-{parent}-01"


def test_one_trace_runs_from_the_caller_through_the_hub_into_the_sandbox(
        traced: TracedStack, databases: DatabaseSet) -> None:
    trace_id, caller_span, traceparent = _new_trace()
    answer = traced.post({"query": QUERY, "variables": {"first": 5}}, traceparent=traceparent)
    assert answer.status_code == 200, answer.text
    nodes = [e["node"] for e in answer.json()["data"]["civilServants"]["edges"]]
    assert len(nodes) == 5

    def complete(spans: list[Span]) -> bool:
        names = {s["name"] for s in spans}
        return {"POST /graphql", "query TracedPage", "audit.commit"} <= names

    hub_spans = _wait_for(lambda: _spans(traced.hub_output, trace_id), complete)
    by_id = {s["context"]["span_id"]: s for s in hub_spans}
    server = _named(hub_spans, "POST /graphql")
    assert server["kind"] == "SpanKind.SERVER"
    assert server["parent_id"] == f"0x{caller_span}", "the caller's trace is continued"
    assert server["attributes"]["http.route"] == "/graphql"
    assert server["attributes"]["http.response.status_code"] == 200
    operation = _named(hub_spans, "query TracedPage")
    assert operation["parent_id"] == server["context"]["span_id"]
    assert operation["attributes"]["hub.client"] == "moha-personnel-db"
    assert operation["attributes"]["hub.outcome"] == "allowed"
    assert operation["attributes"]["graphql.operation.type"] == "query"
    for phase in ("graphql.parse", "graphql.validate", "graphql.execute"):
        assert _named(hub_spans, phase)["parent_id"] == operation["context"]["span_id"]
    execute = _named(hub_spans, "graphql.execute")
    assert _named(hub_spans, "audit.commit")["parent_id"] == server["context"]["span_id"]

    # Each source call: a span under the execution, with its batch, rows and outcome.
    population = _named(hub_spans, "population lookup")
    assert population["attributes"]["hub.source.batch_size"] == 5
    assert population["attributes"]["hub.source.rows"] == 5
    assert population["attributes"]["hub.source.outcome"] == "ok"
    ancestors = []
    at = population
    while at["parent_id"] in by_id:
        at = by_id[at["parent_id"]]
        ancestors.append(at["name"])
    assert "graphql.execute" in ancestors
    national = [s for s in hub_spans if s["name"].startswith("national ")]
    assert national, "the national database's own calls"
    assert all(s["attributes"]["hub.source.outcome"] == "ok" for s in national)
    assert any(s["attributes"].get("db.system") == "postgresql" for s in hub_spans), \
        "asyncpg's own spans"
    # The HTTP call under the population lookup, and the registry's span under that call.
    (http_call,) = [s for s in hub_spans if s["parent_id"] == population["context"]["span_id"]
                    and s["kind"] == "SpanKind.CLIENT"]
    sandbox_spans = _wait_for(lambda: _spans(traced.sandbox_output, trace_id),
                              lambda spans: any(s["kind"] == "SpanKind.SERVER"
                                                for s in spans))
    continued = [s for s in sandbox_spans if s["kind"] == "SpanKind.SERVER"
                 and s["parent_id"] == http_call["context"]["span_id"]]
    assert continued, "the population registry continues the hub's trace"
    assert continued[0]["resource"]["attributes"]["service.name"] == "sandbox"
    assert execute["resource"]["attributes"]["service.name"] == "hub"

    # The audit record names the same trace.
    entry = record(databases.national, answer.headers["x-request-id"])
    assert entry["trace"] == trace_id

    # No personal data in any span: neither the IDs nor the names the answer disclosed.
    exported = traced.hub_output.read_text() + traced.sandbox_output.read_text()
    for node in nodes:
        assert node["personalId"] not in exported
        assert node["person"]["fullName"] not in exported


def test_audit_writes_are_traces_of_their_own_and_pool_housekeeping_is_not_traced(
        traced: TracedStack) -> None:
    trace_id, _, traceparent = _new_trace()
    answer = traced.post({"query": QUERY, "variables": {"first": 2}}, traceparent=traceparent)
    assert answer.status_code == 200, answer.text

    def statements(spans: list[Span]) -> list[str]:
        return [s["attributes"]["db.statement"] for s in spans
                if "db.statement" in s["attributes"]]

    # The request's own statements are traced (its spans are exported as they end).
    assert statements(_wait_for(lambda: _spans(traced.hub_output, trace_id),
                                lambda spans: bool(statements(spans))))

    def written(documents: list[Span]) -> bool:
        return any(d.get("name") == "audit.write" for d in documents)

    spans = [d for d in _wait_for(lambda: _documents(traced.hub_output), written)
             if "context" in d]
    by_id = {s["context"]["span_id"]: s for s in spans}
    writes = [s for s in spans if s["name"] == "audit.write"]
    assert writes, "each audit write is a span"
    assert all(w["parent_id"] is None and w["attributes"]["hub.audit.records"] >= 1
               for w in writes), "a trace of its own, outside the requests it records"
    inserts = [s for s in spans
               if s["attributes"].get("db.statement", "").startswith("INSERT INTO audit_record")]
    assert inserts
    assert all(by_id[s["parent_id"]]["name"] == "audit.write" for s in inserts if s["parent_id"]
               in by_id), "the statements of a write are its children"
    assert all(s["parent_id"] is not None for s in inserts), "no statement is a trace alone"
    # The pool's reset of every connection it takes back is not a span, in any trace.
    assert [s for s in statements(spans) if "pg_advisory_unlock_all" in s] == []


def test_a_trace_the_caller_sampled_out_gets_no_spans_but_keeps_its_id(
        traced: TracedStack, databases: DatabaseSet) -> None:
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    answer = traced.post({"query": QUERY, "variables": {"first": 2}},
                         traceparent=f"00-{trace_id}-{parent}-00")
    assert answer.status_code == 200
    # A sampled request after it: once its spans are out, the first one's would be too.
    later, _, traceparent = _new_trace()
    assert traced.post({"query": QUERY, "variables": {"first": 2}},
                       traceparent=traceparent).status_code == 200
    _wait_for(lambda: _spans(traced.hub_output, later),
              lambda found: any(s["name"] == "query TracedPage" for s in found))
    assert _spans(traced.hub_output, trace_id) == []
    assert _spans(traced.sandbox_output, trace_id) == []
    assert record(databases.national, answer.headers["x-request-id"])["trace"] == trace_id


def test_a_failing_source_is_an_error_span_and_counted(traced: TracedStack) -> None:
    control = f"http://127.0.0.1:{traced.ports.population}/_sandbox/switches"
    httpx.put(control, json={"outage": True}, headers=CONTROL).raise_for_status()
    try:
        trace_id, _, traceparent = _new_trace()
        answer = traced.post({"query": QUERY, "variables": {"first": 3}},
                             traceparent=traceparent)
    finally:
        httpx.put(control, json={"outage": False}, headers=CONTROL).raise_for_status()
    body = answer.json()
    assert answer.status_code == 200
    assert {e["extensions"]["code"] for e in body["errors"]} == {"SOURCE_UNAVAILABLE"}
    spans = _wait_for(lambda: _spans(traced.hub_output, trace_id),
                      lambda found: any(s["name"] == "query TracedPage" for s in found))
    lookup = _named(spans, "population lookup")
    assert lookup["status"]["status_code"] == "ERROR"
    assert lookup["attributes"]["hub.source.outcome"] == "SOURCE_UNAVAILABLE"
    operation = _named(spans, "query TracedPage")
    assert operation["attributes"]["hub.outcome"] == "partial"
    assert operation["attributes"]["hub.error_codes"] == ["SOURCE_UNAVAILABLE"]
    errors = _wait_for(lambda: _points(traced.hub_output, "hub.source.errors"),
                       lambda found: any(p["attributes"]["source"] == "population"
                                         for p in found))
    assert any(p["attributes"] == {"source": "population", "operation": "lookup",
                                   "outcome": "SOURCE_UNAVAILABLE"} and p["value"] >= 1
               for p in errors)


def _points(path: Path, metric: str) -> list[dict[str, Any]]:
    """The data points of ``metric`` in the latest export that has it."""
    latest: list[dict[str, Any]] = []
    for document in _documents(path):
        for resource in document.get("resource_metrics", []):
            for scope in resource.get("scope_metrics", []):
                for found in scope.get("metrics", []):
                    if found["name"] == metric:
                        latest = found["data"]["data_points"]
    return latest


def test_metrics_count_requests_denials_latency_sources_and_audit_lag(
        traced: TracedStack) -> None:
    assert traced.post({"query": QUERY, "variables": {"first": 2}}).status_code == 200
    # A field outside Hà Nội's grant: refused in validation, a policy denial.
    refused = traced.post({"query": "{ civilServants(first: 1) { edges { node {"
                                    " assetDeclarations { year } } } } }"},
                          client="hanoi-doha", purpose="personnel-management")
    assert refused.status_code == 400

    def has(metric: str, attributes: dict[str, str]) -> Callable[[], list[dict[str, Any]]]:
        def find() -> list[dict[str, Any]]:
            return [p for p in _points(traced.hub_output, metric)
                    if attributes.items() <= p["attributes"].items()]
        return find

    requests = _wait_for(has("hub.requests", {"client": "moha-personnel-db",
                                              "operation.name": "TracedPage"}), bool)
    assert requests
    assert requests[0]["value"] >= 1
    assert requests[0]["attributes"]["outcome"] in ("allowed", "partial")
    denials = _wait_for(has("hub.policy.denials", {"client": "hanoi-doha"}), bool)
    assert denials == [{**denials[0], "attributes": {"client": "hanoi-doha",
                                                     "reason": "FIELDS_OUTSIDE_GRANT"}}]
    latency = _wait_for(has("hub.request.duration", {"client": "moha-personnel-db"}), bool)
    assert latency
    assert latency[0]["count"] >= 1
    assert latency[0]["sum"] > 0
    sources = _wait_for(has("hub.source.duration", {"source": "population",
                                                    "outcome": "ok"}), bool)
    assert sources
    assert sources[0]["count"] >= 1
    lag = _wait_for(has("hub.audit.commit_lag", {"outcome": "committed"}), bool)
    assert lag
    assert lag[0]["count"] >= 2


def _serve_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", "serve", "--port", str(free_port())],
        env={**os.environ, "HUB_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", **env},
        capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("env", "message"), [
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "no exporter named 'zipkin'"),
    ({"OTEL_METRICS_EXPORTER": "console,none"}, "'none' cannot be combined"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
     "http/protobuf only"),
])
def test_a_setting_the_hub_cannot_honour_stops_it_with_a_clear_message(
        env: dict[str, str], message: str) -> None:
    finished = _serve_with(env)
    assert finished.returncode != 0
    assert message in finished.stderr
    assert "Traceback" not in finished.stderr
