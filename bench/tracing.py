"""What OpenTelemetry costs: the reference query with tracing and metrics on and off, in one
run.

Three hub servers over the same databases and sandbox, identical but for ``OTEL_*``:

- **off**: no exporter configured (the default);
- **sampled**: traces sampled at ``--ratio`` of new traces (``parentbased_traceidratio``)
  and metrics, both exported over OTLP/HTTP to a stand-in collector (bench/otlp_sink.py);
- **every trace** (with ``--all``): the same, sampling every trace, for scale;
- **off (again)**: a second server without tracing, merged into "off"; how far the two
  differ shows the noise of the machine in this run.

Rounds alternate between the servers, so drift on the machine hits each alike. Prints req/s,
p50, p99, server CPU per request and the ratio to "off" (target: sampled tracing costs at
most 5% of throughput), and what the collector received.

    python -m bench.tracing [--employees 10000] [--seconds 10] [--rounds 3] [--ratio 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys

from bench.reference import _databases, _merge, _prepare
from bench.variants import alternate, variant_hubs
from hub.environment import STATE_DIR
from hub.launcher import free_port, stop
from hub.postgres_server import ensure_server

__all__ = ["main"]


def _exporting(sink_port: int, ratio: float) -> dict[str, str]:
    return {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": str(ratio), "OTEL_METRIC_EXPORT_INTERVAL": "10000"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0, help="per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    # One each: three servers of two would outgrow a default PostgreSQL's 100 connections.
    parser.add_argument("--workers", type=int, default=1, help="processes per server")
    parser.add_argument("--ratio", type=float, default=0.1, help="share of traces sampled")
    parser.add_argument("--all", action="store_true", help="also a hub sampling every trace")
    args = parser.parse_args(argv)

    databases = _databases(ensure_server(STATE_DIR), args.employees)
    asyncio.run(_prepare(databases, args.employees, args.seed))
    sink_port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "bench.otlp_sink", "--port", str(sink_port)],
                            stdout=subprocess.DEVNULL)
    # The same "off" server twice: how far two identical servers differ on this machine in
    # this run, so the cost below can be read against it.
    variants = {"off": {}, f"sampled {args.ratio:g}": _exporting(sink_port, args.ratio),
                "off (again)": {}}
    if args.all:
        variants["every trace"] = _exporting(sink_port, 1.0)
    print(f"reference query, {args.employees:,} employees, concurrency {args.concurrency}, "
          f"{args.workers} worker(s) per server, {args.rounds}×{args.seconds:g} s each")
    try:
        with variant_hubs(databases, args.workers, variants) as hubs:
            measured = alternate(hubs, args)
    finally:
        stop(sink)  # prints what it received
    print(f"\n{'tracing':<14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
          f"{'CPU ms/req':>12}{'ratio':>8}")
    # "off" is both servers without tracing together: rounds of one hub in one position
    # of the rotation would otherwise carry that position's drift alone.
    first, again = measured.pop("off"), measured.pop("off (again)")
    off = _merge([first, again])
    noise = abs(first.load.rps - again.load.rps) / off.load.rps
    measured = {"off": off, **measured}
    for name, m in measured.items():
        print(f"{name:<14}{m.load.rps:>10.1f}{m.load.p50:>10.1f}{m.load.percentile(99):>10.1f}"
              f"{m.load.errors:>8}{m.cpu_ms_per_request:>12.2f}"
              f"{m.load.rps / off.load.rps:>8.3f}")
    for name, m in measured.items():
        if m.load.failures:
            print(f"{name}: errors by status (0: connection lost): {m.load.failures}")
            for status, example in m.load.examples.items():
                print(f"  {status}: {example[:300]}")
    sampled = measured[f"sampled {args.ratio:g}"]
    cost = 100 * (1 - sampled.load.rps / off.load.rps)
    print(f"\nthe two servers without tracing differed by {100 * noise:.1f}% in this run")
    print(f"sampled tracing and metrics cost {cost:.1f}% of throughput (target ≤ 5%); "
          f"+{sampled.cpu_ms_per_request - off.cpu_ms_per_request:.2f} ms server CPU per "
          "request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
