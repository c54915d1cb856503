"""What OpenTelemetry costs: the reference query with tracing, and metrics, on and off, in
one run.

Hub servers over the same databases and sandbox, identical but for ``OTEL_*``:

- **off**: no exporter configured (the default);
- **traced**: traces sampled at ``--ratio`` of new traces (``parentbased_traceidratio``),
  exported over OTLP/HTTP to a stand-in collector (bench/otlp_sink.py);
- **and metrics**: the same, and the metrics exported there too;
- **every trace** (with ``--all``): traces and metrics, sampling every trace, for scale.

Every round starts new servers, warms them, then measures each in short turns, the turn
rotating, so the servers of a round see the same moments of the machine. New servers each
round, because two processes of the same build differ here by a few per cent (where their
memory and hash tables fall): measured on one process each, that luck would be read as the
cost. A cost is the mean of the rounds' costs, with its 95% confidence interval; the target
is that sampled tracing costs at most 5% of throughput.

Prints req/s, p50, p99, server CPU per request and the ratio to "off", each round's costs,
and what the collector received.

    python -m bench.tracing [--employees 10000] [--seconds 8] [--rounds 8] [--ratio 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys

from bench.reference import Measured, _databases, _merge, _prepare
from bench.variants import fresh_rounds, mean_interval
from hub.environment import STATE_DIR
from hub.launcher import free_port, stop
from hub.postgres_server import ensure_server

__all__ = ["main"]


def _exporting(sink_port: int, ratio: float, *, measuring: bool) -> dict[str, str]:
    return {"OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": str(ratio),
            **({"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": "10000"}
               if measuring else {})}


def _print_table(merged: dict[str, Measured]) -> None:
    off = merged["off"]
    print(f"\n{'tracing':<14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
          f"{'CPU ms/req':>12}{'ratio':>8}")
    for name, m in merged.items():
        print(f"{name:<14}{m.load.rps:>10.1f}{m.load.p50:>10.1f}{m.load.percentile(99):>10.1f}"
              f"{m.load.errors:>8}{m.cpu_ms_per_request:>12.2f}"
              f"{m.load.rps / off.load.rps:>8.3f}")
    for name, m in merged.items():
        if m.load.failures:
            print(f"{name}: errors by status (0: connection lost): {m.load.failures}")
            for status, example in m.load.examples.items():
                print(f"  {status}: {example[:300]}")


def _print_cost(name: str, off: list[Measured], on: list[Measured]) -> None:
    costs = [100 * (1 - o.load.rps / b.load.rps) for b, o in zip(off, on, strict=True)]
    cpu = [o.cpu_ms_per_request - b.cpu_ms_per_request for b, o in zip(off, on, strict=True)]
    cost, cost_margin = mean_interval(costs)
    extra, extra_margin = mean_interval(cpu)
    print(f"{name}: {cost:.1f}% ± {cost_margin:.1f}% of throughput (95% interval over "
          f"{len(costs)} rounds; target ≤ 5%), {extra:+.2f} ± {extra_margin:.2f} ms server "
          f"CPU per request; rounds: {', '.join(f'{c:.1f}' for c in costs)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=8.0, help="per round and server")
    parser.add_argument("--rounds", type=int, default=8, help="each on new servers")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="processes per server")
    parser.add_argument("--ratio", type=float, default=0.1, help="share of traces sampled")
    parser.add_argument("--all", action="store_true", help="also a hub sampling every trace")
    args = parser.parse_args(argv)

    databases = _databases(ensure_server(STATE_DIR), args.employees)
    asyncio.run(_prepare(databases, args.employees, args.seed))
    sink_port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "bench.otlp_sink", "--port", str(sink_port)],
                            stdout=subprocess.DEVNULL)
    traced, measured = f"traced {args.ratio:g}", "and metrics"
    variants = {"off": {}, traced: _exporting(sink_port, args.ratio, measuring=False),
                measured: _exporting(sink_port, args.ratio, measuring=True)}
    if args.all:
        variants["every trace"] = _exporting(sink_port, 1.0, measuring=True)
    print(f"reference query, {args.employees:,} employees, concurrency {args.concurrency}, "
          f"{args.workers} worker(s) per server, {args.rounds} rounds on new servers, "
          f"{args.seconds:g} s each")
    try:
        rounds = fresh_rounds(databases, args, variants)
    finally:
        stop(sink)  # prints what it received
    _print_table({name: _merge(runs) for name, runs in rounds.items()})

    print()
    for name in (traced, measured):
        _print_cost(name, rounds["off"], rounds[name])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
