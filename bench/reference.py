"""The reference-query load benchmark: the hub beside a hand-written baseline, in one run.

A page of 100 civil servants with 12 own fields, their ``person`` (6 fields, population
registry) and their ``agencyRecord`` (4 fields, agency HR systems), at concurrency 32. Prints
requests/s, p50 and p99 for both, the ratio hub/baseline, source calls per query and peak
memory; with ``--scale`` also the hub's p50 at 1,000,000 employees beside 10,000.

    python -m bench.reference [--employees 10000] [--seconds 15] [--scale]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from bench.loadgen import LoadResult, run_load
from hub.auth.clients import register_with_new_secrets
from hub.databases import DatabaseSet
from hub.environment import STATE_DIR
from hub.launcher import (
    Ports,
    ProcessGroup,
    free_port,
    start_hub,
    start_sandbox,
    stop,
    wait_until_up,
)
from hub.postgres_server import ensure_server

REFERENCE_QUERY = """query Reference {
  civilServants(first: 100, filter: {provinceCode: "01"}) {
    edges { node {
      employeeCode personalId fullName birthDate sex category status agencyCode unitName
      salaryStep salaryCoefficient hiredOn
      person { fullName birthDate sex currentAddress permanentAddress nationality }
      agencyRecord { system positionCode rankCode pendingDiscipline }
    } }
  }
}"""


# The hub answers only authenticated clients: the benchmark queries as the Ministry of Home
# Affairs' administration system, whose policy grants every field of the reference query.
BENCH_CLIENT = ("moha-personnel-db", "administration")


@dataclass
class Servers:
    hub_url: str
    baseline_url: str
    hub: subprocess.Popen[bytes]
    baseline: subprocess.Popen[bytes]
    hub_headers: dict[str, str]


def _hub_headers(hub_url: str, secret: str) -> dict[str, str]:
    """A token from the hub's own token endpoint, and the purpose, as a client sends them."""
    response = httpx.post(f"{hub_url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(BENCH_CLIENT[0], secret))
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}",
            "X-Purpose": BENCH_CLIENT[1]}


async def _prepare(databases: DatabaseSet, employees: int, seed: int) -> None:
    from hub.seed import ensure_seeded

    summary = await ensure_seeded(databases, employees=employees, seed=seed)
    if summary is not None:
        print(f"  seeded {employees:,} employees in {summary.elapsed_seconds:.1f} s")


def _tree(pid: int) -> list[int]:
    """A process and its children (uvicorn's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process tree."""
    ticks = 0
    for each in _tree(pid):
        stat = Path(f"/proc/{each}/stat")
        if stat.exists():
            fields = stat.read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process and its children (uvicorn workers), in MiB."""
    total = 0
    for each in _tree(pid):
        status = Path(f"/proc/{each}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


@contextmanager
def _servers(databases: DatabaseSet, workers: int, plan_executor: bool = True
             ) -> Iterator[Servers]:
    ports = Ports()
    secret = asyncio.run(register_with_new_secrets(
        databases.national, {BENCH_CLIENT[0]: "benchmark client"}))[BENCH_CLIENT[0]]
    sandbox = start_sandbox(databases, ports)
    processes: list[subprocess.Popen[bytes] | ProcessGroup] = [sandbox]
    try:
        hub_port, baseline_port = free_port(), free_port()
        hub = start_hub(databases, ports, hub_port, workers=workers,
                        env={"HUB_EXPOSE_SOURCE_CALLS": "1", "HUB_GRAPHIQL": "0",
                             "HUB_PLAN_EXECUTOR": "1" if plan_executor else "0",
                             "HUB_AUTH_ISSUER": f"http://127.0.0.1:{hub_port}",
                             "HUB_TOKEN_LIFETIME_SECONDS": "3600"})
        processes.append(hub)
        baseline = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.baseline:app_from_env", "--factory",
             "--port", str(baseline_port), "--workers", str(workers), "--log-level", "warning",
             "--no-access-log"],
            env={**ports.source_env(), **databases.source_env(),
                 "HUB_DATABASE_URL": databases.national, "PATH": "/usr/bin:/bin"})
        processes.append(baseline)
        wait_until_up([f"http://127.0.0.1:{baseline_port}/healthz"], baseline)
        hub_url = f"http://127.0.0.1:{hub_port}"
        yield Servers(hub_url, f"http://127.0.0.1:{baseline_port}", hub, baseline,
                      _hub_headers(hub_url, secret))
    finally:
        for process in reversed(processes):
            stop(process)


def _check_same_answer(servers: Servers) -> dict[str, int]:
    hub = httpx.post(f"{servers.hub_url}/graphql", json={"query": REFERENCE_QUERY},
                     headers=servers.hub_headers).json()
    baseline = httpx.get(f"{servers.baseline_url}/reference").json()
    if "errors" in hub:
        raise SystemExit(f"the hub answered with errors: {hub['errors'][:2]}")
    if hub["data"] != baseline["data"]:
        raise SystemExit("the hub and the baseline disagree: the comparison would be unfair")
    calls: dict[str, int] = hub["extensions"]["sourceCalls"]
    return calls


@dataclass
class Measured:
    load: LoadResult
    cpu_ms_per_request: float


def _load(url: str, body: bytes | None, method: str, args: argparse.Namespace,
          pid: int, headers: dict[str, str] | None = None) -> Measured:
    cpu_before = _cpu_seconds(pid)
    result = asyncio.run(run_load(url, body=body, method=method, concurrency=args.concurrency,
                                  seconds=args.seconds, headers=headers))
    cpu = _cpu_seconds(pid) - cpu_before
    return Measured(result, cpu * 1000 / max(result.requests, 1))


def _measure(databases: DatabaseSet, args: argparse.Namespace) -> tuple[Measured, Measured,
                                                                         dict[str, int],
                                                                         float, float]:
    body = orjson.dumps({"query": REFERENCE_QUERY})
    with _servers(databases, args.workers, not args.graphql_core) as servers:
        calls = _check_same_answer(servers)
        hub_url, base_url = f"{servers.hub_url}/graphql", f"{servers.baseline_url}/reference"
        # Warm both (connection pools, caches, JIT-free CPython but warm allocators).
        asyncio.run(run_load(hub_url, body=body, concurrency=args.concurrency, seconds=2,
                             headers=servers.hub_headers))
        asyncio.run(run_load(base_url, method="GET", concurrency=args.concurrency, seconds=2))
        hub_runs, base_runs = [], []
        for _ in range(args.rounds):  # alternate, so drift on the machine hits both alike
            hub_runs.append(_load(hub_url, body, "POST", args, servers.hub.pid,
                                  servers.hub_headers))
            base_runs.append(_load(base_url, None, "GET", args, servers.baseline.pid))
        hub_memory = _peak_rss_mb(servers.hub.pid)
        base_memory = _peak_rss_mb(servers.baseline.pid)
    return _merge(hub_runs), _merge(base_runs), calls, hub_memory, base_memory


def _single_client_p50(databases: DatabaseSet, args: argparse.Namespace) -> float:
    """The hub's p50 with one client: the query's own latency, without queueing."""
    body = orjson.dumps({"query": REFERENCE_QUERY})
    with _servers(databases, args.workers) as servers:
        url = f"{servers.hub_url}/graphql"
        headers = servers.hub_headers
        asyncio.run(run_load(url, body=body, concurrency=1, seconds=2, headers=headers))
        return asyncio.run(run_load(url, body=body, concurrency=1, seconds=args.seconds,
                                    headers=headers)).p50


def _merge(runs: list[Measured]) -> Measured:
    loads = [r.load for r in runs]
    failures: Counter[int] = Counter()
    examples: dict[int, str] = {}
    for r in loads:
        failures.update(r.failures)
        examples = {**r.examples, **examples}
    merged = LoadResult(sum(r.requests for r in loads), sum(r.errors for r in loads),
                        sum(r.seconds for r in loads), [x for r in loads for x in r.latencies_ms],
                        dict(failures), examples)
    cpu = sum(r.cpu_ms_per_request * r.load.requests for r in runs) / max(merged.requests, 1)
    return Measured(merged, cpu)


def _databases(server_url: str, employees: int) -> DatabaseSet:
    return DatabaseSet.on_server(server_url, f"hubbench_{employees}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reference", description=__doc__)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--scale-employees", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0, help="per round and server")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="processes per server")
    parser.add_argument("--scale", action="store_true",
                        help="also measure the hub's p50 at --scale-employees")
    parser.add_argument("--graphql-core", action="store_true",
                        help="run the hub without its plan executor (graphql-core alone)")
    args = parser.parse_args(argv)

    server_url = ensure_server(STATE_DIR)
    databases = _databases(server_url, args.employees)
    print(f"reference query, {args.employees:,} employees, concurrency {args.concurrency}, "
          f"{args.workers} worker(s) per server, {args.rounds}×{args.seconds:g} s each"
          + (", hub on graphql-core alone" if args.graphql_core else ""))
    asyncio.run(_prepare(databases, args.employees, args.seed))
    hub, base, calls, hub_mb, base_mb = _measure(databases, args)

    print(f"\n{'server':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
          f"{'CPU ms/req':>12}{'peak MiB':>10}")
    for name, measured, memory in (("hub", hub, hub_mb), ("baseline", base, base_mb)):
        result = measured.load
        print(f"{name:<10}{result.rps:>10.1f}{result.p50:>10.1f}{result.percentile(99):>10.1f}"
              f"{result.errors:>8}{measured.cpu_ms_per_request:>12.2f}{memory:>10.0f}")
    for name, measured in (("hub", hub), ("baseline", base)):
        if measured.load.failures:
            print(f"{name} errors by status (0: connection lost): {measured.load.failures}")
            for status, example in measured.load.examples.items():
                print(f"  {status}: {example[:300]}")
    print(f"\nratio hub/baseline (req/s): {hub.load.rps / base.load.rps:.2f}   (target ≥ 0.5)")
    print(f"ratio baseline/hub (server CPU per request): "
          f"{base.cpu_ms_per_request / hub.cpu_ms_per_request:.2f}")
    print(f"source calls per query: {calls}")

    if args.scale:
        big = _databases(server_url, args.scale_employees)
        asyncio.run(_prepare(big, args.scale_employees, args.seed))
        big_hub, big_base, _, _, _ = _measure(big, args)
        print(f"\nat {args.scale_employees:,} employees: hub {big_hub.load.rps:.1f} req/s, "
              f"baseline {big_base.load.rps:.1f} req/s, "
              f"ratio {big_hub.load.rps / big_base.load.rps:.2f}")
        small_p50, big_p50 = hub.load.p50, big_hub.load.p50
        print(f"hub p50, concurrency {args.concurrency}: {small_p50:.1f} ms at "
              f"{args.employees:,}, {big_p50:.1f} ms at {args.scale_employees:,} "
              f"(ratio {big_p50 / small_p50:.2f}, target ≤ 2)")
        one_small = _single_client_p50(databases, args)
        one_big = _single_client_p50(big, args)
        print(f"hub p50, one client: {one_small:.1f} ms at {args.employees:,}, "
              f"{one_big:.1f} ms at {args.scale_employees:,} "
              f"(ratio {one_big / one_small:.2f}, target ≤ 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
