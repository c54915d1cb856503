"""What auditing costs: the reference query with the audit log on and off, in one run; and
how many records the audit store takes per second.

1. **Throughput.** Two hub servers over the same databases and sandbox, identical but for
   ``HUB_AUDIT``: one records every operation (hash chain, group commit, the answer held until
   its record is committed), the other records nothing. Rounds alternate between them, so
   drift on the machine hits both alike. Prints req/s, p50, p99, server CPU per request and
   the ratio on/off (target: auditing costs at most 15% of throughput, ratio ≥ 0.85).
2. **Insert rate.** An ``AuditWriter`` in this process, fed by many concurrent producers
   with records shaped like the reference query's (100 people, 25 fields each) and like a
   single-person lookup: records and personal IDs committed per second.
3. **CPU on the request path.** What one reference-shaped record costs the hub's process
   outside the database: noting 300 built objects, grouping them, sealing and hashing the
   entry (the reference benchmark's throughput is bounded by the simulated sources, so this
   is the cleaner measure of the hub's own work).

    python -m bench.audit [--employees 10000] [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import asyncpg

from bench.reference import (
    BENCH_CLIENT,
    _databases,
    _prepare,
)
from bench.variants import alternate, variant_hubs
from hub.audit.entry import AuditDraft
from hub.audit.writer import AuditWriter
from hub.auth.keys import SigningKeys
from hub.databases import DatabaseSet
from hub.environment import STATE_DIR
from hub.postgres_server import ensure_server

__all__ = ["main"]


async def _audit_rows(url: str) -> tuple[int, float]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, coalesce(avg(pg_column_size(entry)), 0) AS size"
            " FROM audit_record")
        assert row is not None
        return int(row["n"]), float(row["size"])
    finally:
        await conn.close()


def _throughput(databases: DatabaseSet, args: argparse.Namespace) -> None:
    rows_before, _ = asyncio.run(_audit_rows(databases.national))
    with variant_hubs(databases, args.workers,
                      {"on": {"HUB_AUDIT": "1"}, "off": {"HUB_AUDIT": "0"}}) as hubs:
        measured = alternate(hubs, args)
    rows_after, entry_bytes = asyncio.run(_audit_rows(databases.national))
    print(f"\n{'audit':<8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
          f"{'CPU ms/req':>12}")
    for name in ("on", "off"):
        m = measured[name]
        print(f"{name:<8}{m.load.rps:>10.1f}{m.load.p50:>10.1f}{m.load.percentile(99):>10.1f}"
              f"{m.load.errors:>8}{m.cpu_ms_per_request:>12.2f}")
    ratio = measured["on"].load.rps / measured["off"].load.rps
    print(f"\nratio on/off (req/s): {ratio:.3f}  — auditing costs {100 * (1 - ratio):.1f}% of "
          "throughput (target ≤ 15%)")
    print(f"server CPU per request: +{measured['on'].cpu_ms_per_request - measured['off'].cpu_ms_per_request:.2f} ms with auditing")  # noqa: E501
    print(f"audit records written: {rows_after - rows_before:,} "
          f"(average entry {entry_bytes / 1024:.1f} KiB stored, 100 people each)")


def _draft(index: int, people: int, fields: int) -> AuditDraft:
    subjects = [f"0010{(index * people + i) % 10**8:08d}" for i in range(people)]
    names = tuple(sorted(f"CivilServant.field{f}" for f in range(fields)))
    return AuditDraft(request_id=f"bench-{index}", trace_id="0" * 31 + "1",
                      client_id=BENCH_CLIENT[0], agency="000.00.00.G01",
                      purpose=BENCH_CLIENT[1], operation_type="query",
                      operation_name="Reference", document_hash="ab" * 32,
                      outcome="allowed", status=200, disclosed=[(names, subjects)],
                      sources={"national": 3, "population": 1}, latency_us=12_000)


async def _insert_rate(url: str, people: int, fields: int, seconds: float,
                       producers: int) -> tuple[float, float]:
    keys = SigningKeys.load_or_create(Path(tempfile.mkdtemp()) / "signing.jwks", "ES256")
    writer = AuditWriter(url, keys, role="hub_runtime", checkpoint_seconds=2)
    await writer.open()
    committed = 0
    deadline = time.perf_counter() + seconds

    async def producer(offset: int) -> None:
        nonlocal committed
        index = offset
        while time.perf_counter() < deadline:
            await writer.record(_draft(index, people, fields))
            committed += 1
            index += producers

    started = time.perf_counter()
    await asyncio.gather(*(producer(i) for i in range(producers)))
    elapsed = time.perf_counter() - started
    await writer.close()
    return committed / elapsed, committed * people / elapsed


def _request_path_cpu(repeat: int = 2_000) -> float:
    """Microseconds of CPU per reference-shaped record: notes, groups, seal, hash."""
    import uuid
    from datetime import UTC, datetime

    from hub.audit.chain import canonical, record_hash
    from hub.audit.entry import entry_subjects, seal_entry
    from resolvers.disclosures import Disclosures

    people = [f"0010{i:08d}" for i in range(100)]
    servant = frozenset(f"CivilServant.field{f}" for f in range(13))
    person = frozenset(f"Person.field{f}" for f in range(7))
    record = frozenset(f"AgencyRecord.field{f}" for f in range(5))
    chain, head, now = uuid.uuid4(), b"\0" * 32, datetime.now(UTC)
    started = time.process_time()
    for index in range(repeat):
        disclosures = Disclosures()
        for pid in people:
            disclosures.note(pid, servant)
            disclosures.note(pid, person)
            disclosures.note(pid, record)
        draft = _draft(index, 0, 0)
        draft.disclosed = disclosures.groups()
        entry = seal_entry(draft, chain, index + 1, now)
        canonical(entry)
        entry_subjects(entry)
        head = record_hash(head, entry)
    return (time.process_time() - started) / repeat * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0, help="per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="processes per hub")
    parser.add_argument("--producers", type=int, default=64,
                        help="concurrent producers in the insert-rate test")
    args = parser.parse_args(argv)

    databases = _databases(ensure_server(STATE_DIR), args.employees)
    print(f"auditing on and off: reference query, {args.employees:,} employees, concurrency "
          f"{args.concurrency}, {args.workers} worker(s) per hub, {args.rounds}×"
          f"{args.seconds:g} s each")
    asyncio.run(_prepare(databases, args.employees, args.seed))
    _throughput(databases, args)

    print(f"\nrequest-path CPU per reference-shaped record (notes, groups, seal, hash): "
          f"{_request_path_cpu():.0f} µs")
    print(f"\ninsert rate: one AuditWriter, {args.producers} concurrent producers, "
          f"{args.seconds:g} s per shape")
    for people, fields, label in ((100, 25, "reference-shaped (100 people × 25 fields)"),
                                  (1, 10, "one person × 10 fields")):
        records, subjects = asyncio.run(_insert_rate(databases.national, people, fields,
                                                     args.seconds, args.producers))
        print(f"  {label:<44} {records:>9,.0f} records/s {subjects:>11,.0f} people/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
