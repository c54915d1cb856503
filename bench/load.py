"""A bounded load test on loopback: mixed queries from several clients at high concurrency for
a fixed time, with faults injected into a source, watching for what must never happen.

Every worker loops until the deadline over a mix of requests, as each client really sends
them: the reference query (the Ministry), pages of the city's civil servants (Hà Nội), payroll
pages (Finance), disciplines (the Inspectorate), the identity service's trusted document by
id, and, a few percent of the time, an operation too costly and a malformed one (each must be
refused with its 400, never a 5xx). The population registry fails ``--fault-rate`` of its
calls meanwhile, so answers are partial with the registry named.

Prints requests, requests/s, the HTTP statuses, the GraphQL error codes, p50/p99 latency, and
the hub's resident memory sampled every ``--sample`` seconds (growth is measured after the
first samples, once caches are warm). Exits 1 on any 5xx, any error code beyond the expected
ones, or memory growing by more than ``--max-growth-mib`` after warm-up.

    python -m bench.load [--seconds 300] [--concurrency 64] [--fault-rate 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from bench.reference import REFERENCE_QUERY, _databases, _prepare, _tree
from hub.auth.clients import register_with_new_secrets
from hub.environment import STATE_DIR
from hub.launcher import Ports, free_port, own_keys_env, start_hub, start_sandbox, stop
from hub.policy.load import load_policy_dir
from hub.postgres_server import ensure_server

__all__ = ["main"]

# Error codes a request of the mix may meet: the injected source failures (partial answers),
# and the refusals the mix provokes on purpose.
EXPECTED = frozenset({"SOURCE_UNAVAILABLE", "SOURCE_TIMEOUT", "QUERY_TOO_COMPLEX",
                      "BAD_USER_INPUT", "NOT_FOUND", "VALIDATION_FAILED"})
PAGE = ("query($n: Int) { civilServants(first: $n) { nodes { employeeCode fullName "
        "rank { name } agency { name } person { fullName } } } }")
# Every agency's first 100 employees with their records: estimated far over the 50,000 bound.
COSTLY = ("{ agencies { employees(first: 100) { nodes { employeeCode disciplines { "
          "decisionNumber decidedOn issuer reason effectiveFrom effectiveTo inEffect "
          "form { code } } workHistory { fromDate toDate agencyName } evaluations { year } } } "
          "} }")


def _mix(identity_document: str | None, people: list[str]) -> list[tuple[int, str, str, Any]]:
    """(weight, client, purpose, body or a function giving one)."""
    mix: list[tuple[int, str, str, Any]] = [
        (30, "moha-personnel-db", "administration", {"query": REFERENCE_QUERY}),
        (25, "hanoi-doha", "personnel-management",
         lambda: {"query": PAGE, "variables": {"n": random.randint(1, 50)}}),
        (15, "mof-payroll", "salary-budget",
         {"query": "{ civilServants(first: 20) { nodes { employeeCode salaryCoefficient } } }"}),
        (10, "gov-inspectorate", "inspection",
         {"query": "{ civilServants(first: 20) { nodes { employeeCode disciplines { reason "
                   "inEffect } } } }"}),
        (3, "moha-personnel-db", "administration", {"query": COSTLY}),
        (2, "moha-personnel-db", "administration", {"query": "{ civilServants(first: "}),
    ]
    if identity_document is not None:
        mix.append((15, "mps-identity", "identity-verification",
                    lambda: {"documentId": identity_document,
                             "variables": {"personalId": random.choice(people)}}))
    return mix


async def _people(url: str) -> list[str]:
    """Personal IDs for the identity service to verify (employees, some in service)."""
    conn = await asyncpg.connect(url)
    try:
        return [row["personal_id"] for row in await conn.fetch(
            "SELECT personal_id FROM employee ORDER BY employee_code LIMIT 500")]
    finally:
        await conn.close()


def _rss_mib(pid: int) -> float:
    total = 0
    for each in _tree(pid):
        status = Path(f"/proc/{each}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


class Tally:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.codes: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.leaks = 0  # answers carrying a trace or a file path
        self.no_answer: Counter[str] = Counter()  # why a request got no answer


async def _worker(client: httpx.AsyncClient, url: str, headers: dict[str, dict[str, str]],
                  mix: list[tuple[int, str, str, Any]], deadline: float, tally: Tally) -> None:
    weights = [w for w, *_ in mix]
    while time.monotonic() < deadline:
        _, who, purpose, body = random.choices(mix, weights)[0]
        payload = body() if callable(body) else body
        started = time.perf_counter()
        try:
            answer = await client.post(url, content=orjson.dumps(payload),
                                       headers=headers[f"{who}/{purpose}"])
        except httpx.HTTPError as error:
            tally.statuses[0] += 1
            tally.no_answer[type(error).__name__] += 1
            continue
        tally.latencies.append((time.perf_counter() - started) * 1000)
        tally.statuses[answer.status_code] += 1
        if "Traceback" in answer.text or 'File "' in answer.text:
            tally.leaks += 1
        try:
            errors = orjson.loads(answer.content).get("errors") or []
        except (orjson.JSONDecodeError, AttributeError):
            continue
        for item in errors:
            tally.codes[str(item.get("extensions", {}).get("code"))] += 1


def _tokens(url: str, secrets: dict[str, str],
            pairs: set[tuple[str, str]]) -> dict[str, dict[str, str]]:
    headers = {}
    for who, purpose in pairs:
        response = httpx.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(who, secrets[who]), timeout=30)
        response.raise_for_status()
        headers[f"{who}/{purpose}"] = {
            "authorization": f"Bearer {response.json()['access_token']}",
            "x-purpose": purpose, "content-type": "application/json"}
    return headers


async def _run(url: str, headers: dict[str, dict[str, str]],
               mix: list[tuple[int, str, str, Any]], args: argparse.Namespace, pid: int
               ) -> tuple[Tally, list[float]]:
    tally = Tally()
    samples: list[float] = []
    deadline = time.monotonic() + args.seconds
    limits = httpx.Limits(max_connections=args.concurrency,
                          max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        workers = [asyncio.ensure_future(_worker(client, f"{url}/graphql", headers, mix,
                                                 deadline, tally))
                   for _ in range(args.concurrency)]
        while time.monotonic() < deadline:
            samples.append(_rss_mib(pid))
            await asyncio.sleep(min(args.sample, max(deadline - time.monotonic(), 0)))
        await asyncio.gather(*workers)
    samples.append(_rss_mib(pid))
    return tally, samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="hub processes")
    parser.add_argument("--fault-rate", type=float, default=0.02,
                        help="share of the population registry's calls that fail")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--max-growth-mib", type=float, default=64.0)
    args = parser.parse_args(argv)

    databases = _databases(ensure_server(STATE_DIR), args.employees)
    asyncio.run(_prepare(databases, args.employees, args.seed))
    policies = load_policy_dir()
    identity = policies.clients["mps-identity"]
    document = next(iter(identity.documents), None)
    pairs = {("moha-personnel-db", "administration"), ("hanoi-doha", "personnel-management"),
             ("mof-payroll", "salary-budget"), ("gov-inspectorate", "inspection"),
             ("mps-identity", "identity-verification")}
    secrets = asyncio.run(register_with_new_secrets(
        databases.national, {who: "load test" for who, _ in pairs}))
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-load-"))
    ports = Ports()
    sandbox = start_sandbox(databases, ports)
    port = free_port()
    hub = start_hub(databases, ports, port, workers=args.workers, env={
        "HUB_GRAPHIQL": "0", "HUB_POLICY_WATCH": "0", "HUB_TOKEN_LIFETIME_SECONDS": "3600",
        **own_keys_env(port, folder)})
    url = f"http://127.0.0.1:{port}"
    try:
        httpx.put(f"http://127.0.0.1:{ports.population}/_sandbox/switches",
                  json={"errorRate": args.fault_rate},
                  headers={"X-Sandbox-Control": "sandbox-control"}).raise_for_status()
        people = asyncio.run(_people(databases.national))
        headers = _tokens(url, secrets, pairs)
        print(f"load: {args.seconds:.0f} s, {args.concurrency} concurrent, {args.workers} hub "
              f"worker(s), population failing {args.fault_rate:.0%} of its calls")
        tally, samples = asyncio.run(_run(url, headers, _mix(document, people), args, hub.pid))
    finally:
        stop(hub)
        stop(sandbox)
    total = sum(tally.statuses.values())
    ordered = sorted(tally.latencies)
    p50 = ordered[len(ordered) // 2] if ordered else float("nan")
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")
    warm = samples[min(2, len(samples) - 1):]
    growth = warm[-1] - warm[0] if warm else 0.0
    print(f"requests {total:,} ({total / args.seconds:,.0f}/s); p50 {p50:.0f} ms, "
          f"p99 {p99:.0f} ms")
    print(f"HTTP statuses: {dict(sorted(tally.statuses.items()))}  (0: no answer: "
          f"{dict(tally.no_answer) or 'none'})")
    print(f"GraphQL error codes: {dict(tally.codes.most_common())}")
    print(f"hub memory (MiB, every {args.sample:g} s): "
          f"{', '.join(f'{s:.0f}' for s in samples)}; growth after warm-up {growth:+.0f}")
    unexpected = set(tally.codes) - EXPECTED
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500 or not status)
    failed = server_errors or unexpected or tally.leaks or growth > args.max_growth_mib
    print(f"5xx or no answer: {server_errors}; unexpected codes: {sorted(unexpected) or 'none'}; "
          f"answers with traces: {tally.leaks} -> {'FAILED' if failed else 'passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
