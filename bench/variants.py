"""Hub servers that differ in one setting, over one sandbox and one database, measured in
alternating rounds (drift on the machine then hits each alike): what a feature costs.

Used by ``bench.audit`` (the audit log on and off) and ``bench.tracing`` (OpenTelemetry on
and off).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.loadgen import run_load
from bench.reference import BENCH_CLIENT, REFERENCE_QUERY, Measured, _hub_headers, _load, _merge
from hub.auth.clients import register_with_new_secrets
from hub.databases import DatabaseSet
from hub.launcher import (
    Ports,
    ProcessGroup,
    free_port,
    own_keys_env,
    start_hub,
    start_sandbox,
    stop,
)

__all__ = ["Hub", "alternate", "variant_hubs"]


@dataclass
class Hub:
    url: str
    pid: int
    headers: dict[str, str]


@contextmanager
def variant_hubs(databases: DatabaseSet, workers: int,
                 variants: Mapping[str, Mapping[str, str]]) -> Iterator[dict[str, Hub]]:
    """One hub per variant (its name -> the environment it adds), over one sandbox."""
    ports = Ports()
    secret = asyncio.run(register_with_new_secrets(
        databases.national, {BENCH_CLIENT[0]: "benchmark client"}))[BENCH_CLIENT[0]]
    sandbox = start_sandbox(databases, ports)
    processes: list[subprocess.Popen[bytes] | ProcessGroup] = [sandbox]
    keys = Path(tempfile.mkdtemp(prefix="hub-bench-variants-"))
    try:
        hubs = {}
        for index, (name, env) in enumerate(variants.items()):
            port = free_port()
            process = start_hub(databases, ports, port, workers=workers, env={
                "HUB_GRAPHIQL": "0", "HUB_POLICY_WATCH": "0",
                **own_keys_env(port, keys, signing_file=f"signing-{index}.jwks"),
                "HUB_TOKEN_LIFETIME_SECONDS": "3600", **env})
            processes.append(process)
            url = f"http://127.0.0.1:{port}"
            hubs[name] = Hub(url, process.pid, _hub_headers(url, secret))
        yield hubs
    finally:
        for each in reversed(processes):
            stop(each)


def alternate(hubs: Mapping[str, Hub], args: argparse.Namespace) -> dict[str, Measured]:
    """The reference query against each hub: warmed, then ``args.rounds`` rounds each, in
    turn, the turn rotating from round to round."""
    body = orjson.dumps({"query": REFERENCE_QUERY})
    for hub in hubs.values():  # warm: pools, caches, plans
        asyncio.run(run_load(f"{hub.url}/graphql", body=body, concurrency=args.concurrency,
                             seconds=2, headers=hub.headers))
    runs: dict[str, list[Measured]] = {name: [] for name in hubs}
    order = list(hubs.items())
    for number in range(args.rounds):
        # Each round starts one further along, so no server always runs in the same place of
        # the rotation (right after another, first after the pause): drift cannot favour one.
        shift = number % len(order)
        for name, hub in order[shift:] + order[:shift]:
            runs[name].append(_load(f"{hub.url}/graphql", body, "POST", args, hub.pid,
                                    hub.headers))
    return {name: _merge(r) for name, r in runs.items()}
