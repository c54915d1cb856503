"""Hub servers that differ in one setting, over one sandbox and one database, measured in
alternating rounds (drift on the machine then hits each alike): what a feature costs.

Used by ``bench.audit`` (the audit log on and off) and ``bench.tracing`` (OpenTelemetry on
and off). ``fresh_rounds`` starts new servers for every round: two processes of the same
build differ on this machine by a few per cent, by where their memory and hash tables fall,
so a cost smaller than that is only seen as an average over many processes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
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

__all__ = ["Hub", "alternate", "fresh_rounds", "mean_interval", "variant_hubs"]


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


_BODY = orjson.dumps({"query": REFERENCE_QUERY})


def _warm(hubs: Mapping[str, Hub], args: argparse.Namespace) -> None:
    for hub in hubs.values():  # pools, caches, plans
        asyncio.run(run_load(f"{hub.url}/graphql", body=_BODY, concurrency=args.concurrency,
                             seconds=2, headers=hub.headers))


def _round(hubs: Mapping[str, Hub], args: argparse.Namespace, number: int
           ) -> dict[str, Measured]:
    # Each round starts one further along, so no server always runs in the same place of the
    # rotation (right after another, first after the pause): drift cannot favour one.
    order = list(hubs.items())
    shift = number % len(order)
    return {name: _load(f"{hub.url}/graphql", _BODY, "POST", args, hub.pid, hub.headers)
            for name, hub in order[shift:] + order[:shift]}


def alternate(hubs: Mapping[str, Hub], args: argparse.Namespace) -> dict[str, Measured]:
    """The reference query against each hub: warmed, then ``args.rounds`` rounds each, in
    turn, the turn rotating from round to round."""
    _warm(hubs, args)
    runs: dict[str, list[Measured]] = {name: [] for name in hubs}
    for number in range(args.rounds):
        for name, measured in _round(hubs, args, number).items():
            runs[name].append(measured)
    return {name: _merge(r) for name, r in runs.items()}


def fresh_rounds(databases: DatabaseSet, args: argparse.Namespace,
                 variants: Mapping[str, Mapping[str, str]], slices: int = 4
                 ) -> dict[str, list[Measured]]:
    """``args.rounds`` rounds, each on newly started servers (one per variant, warmed):
    each variant's figures, round by round. A round's ``args.seconds`` per server are
    measured in ``slices`` turns, so the servers of a round see the same moments of the
    machine."""
    runs: dict[str, list[Measured]] = {name: [] for name in variants}
    turn = argparse.Namespace(**{**vars(args), "seconds": args.seconds / slices})
    for number in range(args.rounds):
        with variant_hubs(databases, args.workers, variants) as hubs:
            _warm(hubs, args)
            parts: dict[str, list[Measured]] = {name: [] for name in variants}
            for part in range(slices):
                for name, measured in _round(hubs, turn, number + part).items():
                    parts[name].append(measured)
        for name, measured_parts in parts.items():
            runs[name].append(_merge(measured_parts))
    return runs


# Two-sided 95% quantiles of Student's t for 1 to 30 degrees of freedom.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def mean_interval(values: Sequence[float]) -> tuple[float, float]:
    """The mean of ``values`` and the half-width of its 95% confidence interval."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, float("inf")
    t = _T95[len(values) - 2] if len(values) - 1 <= len(_T95) else 1.96
    return mean, t * statistics.stdev(values) / len(values) ** 0.5
