"""``seed_all``: (re)create every database's content from (employees, seed).

The work splits three ways and overlaps: worker processes generate batches of chunks (pure
Python, the dominant cost), the event loop hands each finished batch to the table writers,
and PostgreSQL ingests all tables at once on separate connections. Batches are consumed in
order, so the result does not depend on the number of workers.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import asyncpg

from hub.databases import DatabaseSet
from hub.seed import binary
from hub.seed.career import GRADES
from hub.seed.chunks import Batch, generate_batch, generate_installed, install_plan
from hub.seed.copy import TableWriter, copy_rows, open_writer_connection, writers_for
from hub.seed.employees import DISCIPLINE_WEIGHTS
from hub.seed.file_drop import write_seed_export
from hub.seed.plan import Plan, build_plan
from hub.seed.prepare import load_catalog, prepare_databases
from hub.seed.roles import codes_used
from hub.seed.tables import AGENCY, CHUNK_TABLES, NATIONAL_TRUNCATE
from hub.seed.timeline import AS_OF, AS_OF_ORDINAL, UPDATES_FROM_ORDINAL, moment

__all__ = ["SeedSummary", "seed_all"]

_CHUNKS_PER_BATCH: Final = 5  # 5,000 employees: ~10 MB of COPY data per batch
_IN_PROCESS_BELOW: Final = 20_000  # smaller runs are generated without worker processes


@dataclass(frozen=True, slots=True)
class SeedSummary:
    employees: int
    seed: int
    rows: Mapping[str, int] = field(default_factory=dict)  # 'database.table' -> rows written
    elapsed_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def lines(self) -> list[str]:
        width = max(map(len, self.rows), default=0)
        return [f"{key:<{width}}  {count:>12,}" for key, count in self.rows.items()]


async def seed_all(databases: DatabaseSet, *, employees: int, seed: int = 1,
                   report: Callable[[str], None] | None = None,
                   workers: int | None = None) -> SeedSummary:
    """Fill the national database, the population registry and the four agency HR systems,
    and drop the legacy system's export into ``databases.file_drops``.

    ``workers``: generator processes (default: one per CPU for large runs, none for small
    ones, whose data is generated in this process). The data never depends on it.
    """
    if employees < 1:
        raise ValueError("seed at least one employee")
    say = report or (lambda _line: None)
    started = time.perf_counter()
    say("preparing databases (migrations, sandbox schemas, emptying seeded tables)")
    await prepare_databases(databases)
    catalog = await load_catalog(databases.national)
    ranks, positions = codes_used()
    catalog.require(ranks=ranks, positions=positions, discipline_forms=DISCIPLINE_WEIGHTS,
                    grades=GRADES)
    plan = build_plan(catalog, employees, seed)

    counts = plan.headcounts()
    await _write_agencies(databases.national, plan, counts)
    say(f"{len(plan.agencies):,} agencies; generating {employees:,} employees "
        f"in {plan.chunks:,} chunks")

    urls = {"national": databases.national, "population": databases.population,
            "agency_rest": databases.agency_rest, "agency_graphql": databases.agency_graphql,
            "agency_database": databases.agency_database,
            "agency_file_drop": databases.agency_file_drop}
    writers = writers_for(CHUNK_TABLES, urls)
    if workers is None:
        workers = 0 if employees < _IN_PROCESS_BELOW else max(1, os.cpu_count() or 1)
    async with asyncio.TaskGroup() as group:
        for writer in writers:
            group.create_task(writer.run())
        group.create_task(_generate(plan, workers, writers, say, started))

    rows = {AGENCY.key: len(plan.agencies)}
    rows.update((w.table.key, w.rows) for w in writers)
    say("analysing tables")
    await _finish(databases, plan)
    rows["national.seed_run"] = 1
    export = await write_seed_export(databases.agency_file_drop, Path(databases.file_drops))
    say(f"Đà Nẵng's legacy system dropped {export}")
    summary = SeedSummary(employees, seed, rows, time.perf_counter() - started)
    for line in summary.lines():
        say(f"  {line}")
    say(f"wrote {summary.total_rows:,} rows in {summary.elapsed_seconds:.1f} s")
    return summary


async def _generate(plan: Plan, workers: int, writers: list[TableWriter],
                    say: Callable[[str], None], started: float) -> None:
    """Generate batches and hand each table's share to its writer, in batch order."""
    batches = [range(first, min(first + _CHUNKS_PER_BATCH, plan.chunks))
               for first in range(0, plan.chunks, _CHUNKS_PER_BATCH)]
    executor: Executor | None = None
    if workers > 0:
        # 'spawn': a clean interpreter per worker, whatever state the caller's process holds
        # (an event loop, open connections); workers get the plan once, by initializer.
        executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=install_plan, initargs=(plan,))

    def submit(span: range) -> asyncio.Future[Batch]:
        if executor is None:  # one thread beside the event loop, which drives the COPYs
            return asyncio.ensure_future(asyncio.to_thread(generate_batch, plan, span))
        return asyncio.get_running_loop().run_in_executor(
            executor, generate_installed, span.start, span.stop)

    # Keep every worker busy plus one batch ready, and no more: memory stays bounded.
    window = workers + 1 if workers else 1
    try:
        pending: deque[asyncio.Future[Batch]] = deque()
        upcoming = iter(batches)
        generated = 0
        while True:
            while len(pending) < window and (span := next(upcoming, None)) is not None:
                pending.append(submit(span))
            if not pending:
                break
            batch = await pending.popleft()
            for writer in writers:
                key = writer.table.key
                await writer.put(batch.payloads[key], batch.counts[key])
            before, generated = generated, generated + batch.counts["national.employee"]
            if len(batches) > 1 and _crossed_tenth(before, generated, plan.employees):
                say(f"  {generated:,} / {plan.employees:,} employees generated "
                    f"({time.perf_counter() - started:.1f} s)")
        for writer in writers:
            await writer.close()
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)


def _crossed_tenth(before: int, after: int, total: int) -> bool:
    return math.floor(before * 10 / total) != math.floor(after * 10 / total)


async def _write_agencies(url: str, plan: Plan, headcounts: list[int]) -> None:
    """Agencies with a headcount quota a little above their seeded headcount."""
    rng = random.Random(f"hub-seed/{plan.seed}/agencies")
    fields = binary.field_count(len(AGENCY.columns))
    rows = []
    for agency, count in zip(plan.agencies, headcounts, strict=True):
        quota = count + max(3, round(count * rng.uniform(0.03, 0.15)))
        rows.append(b"".join((
            fields, binary.text(agency.code), binary.text(agency.name), binary.text(agency.kind),
            binary.NULL if agency.parent_code is None else binary.text(agency.parent_code),
            binary.text(agency.province_code), binary.int4(quota),
            binary.timestamp(moment(rng, UPDATES_FROM_ORDINAL, AS_OF_ORDINAL - 1)))))
    conn, _ = await open_writer_connection(url)
    try:
        await copy_rows(conn, AGENCY, b"".join(rows))
    finally:
        await conn.close()


async def _finish(databases: DatabaseSet, plan: Plan) -> None:
    """Record the run and refresh planner statistics (the hub's queries need them at once)."""
    # The day the data describe, not the wall clock: reseeding gives identical bytes.
    seeded_at = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC)
    conn = await asyncpg.connect(databases.national)
    try:
        await conn.execute("INSERT INTO seed_run (employees, seed, seeded_at) VALUES ($1, $2, $3)",
                           plan.employees, plan.seed, seeded_at)
    finally:
        await conn.close()
    targets: list[tuple[str, list[str]]] = [
        (databases.national, [t for t in NATIONAL_TRUNCATE if t != "seed_run"]),
        (databases.population, ["citizen"]),
        (databases.agency_rest, ["nhan_su", "ky_luat", "seed_drift"]),
        (databases.agency_graphql, ["staff", "staff_discipline", "seed_drift"]),
        (databases.agency_database, ["hr_employee", "hr_disciplinary_action", "seed_drift"]),
        (databases.agency_file_drop, ["ns_canbo", "ns_kyluat", "seed_drift"]),
    ]
    await asyncio.gather(*(_analyse(url, table) for url, tables in targets for table in tables))


async def _analyse(url: str, table: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"ANALYZE {table}")
    finally:
        await conn.close()
