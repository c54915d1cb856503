"""``measure_quality``: one measuring run over the agencies asked for, stored whole.

The national database's own dimensions (set-wise SQL) and the pass over the employees that
looks them up in the other sources run side by side, on two connections of the pool given.
The pool must allow long statements (a grouped query over a million employees takes seconds):
give one without a short ``command_timeout``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import asyncpg

from adapters import AgencySystem, AgencySystemRegistry, PopulationRegistry
from hub.quality.model import DIMENSIONS, POPULATION, Measure
from hub.quality.national import national_measures
from hub.quality.records import SyncState
from hub.quality.rollup import roll_up
from hub.quality.store import begin_run, end_run, store_measures
from hub.quality.sweep import DEFAULT_PAGE_SIZE, Sweep, load_code_book, load_sync_states

__all__ = ["DEFAULT_WITHIN_DAYS", "QualityRun", "UnknownAgency", "count_employees",
           "measure_quality", "resolve_agencies"]

# A personnel file updated within the last year counts as fresh.
DEFAULT_WITHIN_DAYS: Final = 365


class UnknownAgency(ValueError):
    """An agency or authority code that names nothing in the national database."""


@dataclass(frozen=True, slots=True)
class QualityRun:
    run_id: uuid.UUID
    measured_at: datetime
    agencies: tuple[str, ...]
    measures: tuple[Measure, ...]
    elapsed_seconds: float


async def resolve_agencies(conn: asyncpg.Connection, codes: Sequence[str] | None
                           ) -> list[str]:
    """The agencies named: each code is an agency's, or an authority's (G02: every agency
    under the Ministry of Finance); None: every agency."""
    if codes is None:
        return [r["code"] for r in await conn.fetch("SELECT code FROM agency ORDER BY code")]
    rows = await conn.fetch(
        "SELECT code, authority FROM agency WHERE code = ANY($1::text[]) "
        "OR authority = ANY($1::text[]) ORDER BY code", list(codes))
    named = {r["code"] for r in rows} | {r["authority"] for r in rows}
    unknown = [c for c in codes if c not in named]
    if unknown:
        raise UnknownAgency(f"no agency or authority {', '.join(unknown)} in the national "
                            "database")
    return [r["code"] for r in rows]


async def whole_authorities(conn: asyncpg.Connection, agencies: Sequence[str]) -> set[str]:
    """The authorities every agency of which is among ``agencies``: only those are rolled
    up (a roll-up of some of an authority's agencies would read as the whole authority's)."""
    rows = await conn.fetch(
        "SELECT authority, count(*) AS total, count(*) FILTER (WHERE code = ANY($1::text[])) "
        "AS chosen FROM agency GROUP BY authority", list(agencies))
    return {r["authority"] for r in rows if r["total"] == r["chosen"]}


async def count_employees(conn: asyncpg.Connection, agencies: Sequence[str]) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM employee WHERE agency_code = ANY($1::text[])", list(agencies)))


def _empty_sources(agency: str, system: AgencySystem | None) -> list[Measure]:
    """An agency no employee of which went by: nothing to compare in any source."""
    measures = [Measure.of(agency, POPULATION, "consistency", 0, 0)]
    if system is not None:
        measures.extend(Measure.of(agency, system.name, d, 0, 0) for d in DIMENSIONS)
    return measures


def _failed_sources(agency: str, system: AgencySystem | None, reason: str) -> list[Measure]:
    measures = [Measure.failed(agency, POPULATION, "consistency", reason)]
    if system is not None:
        measures.extend(Measure.failed(agency, system.name, d, reason) for d in DIMENSIONS)
    return measures


async def _source_measures(pool: asyncpg.Pool, agencies: list[str], scope: list[str] | None,
                           population: PopulationRegistry, systems: Sequence[AgencySystem],
                           mapped: Mapping[str, Collection[str]], page_size: int,
                           progress: Callable[[int], None] | None) -> list[Measure]:
    registry = AgencySystemRegistry(systems)
    emitted: dict[str, list[Measure]] = {}
    problem: str | None = None
    async with pool.acquire() as conn:
        codes = await load_code_book(conn)
        sync: Mapping[str, SyncState] | str
        try:
            sync = await load_sync_states(conn)
        except asyncpg.PostgresError as error:
            sync = f"the synchronisation state could not be read: {type(error).__name__}"
        sweep = Sweep(conn, population, systems, mapped, codes, sync, page_size=page_size)

        def emit(agency_measures: list[Measure]) -> None:
            for measure in agency_measures:
                emitted.setdefault(measure.agency_code, []).append(measure)

        try:
            await sweep.run(scope, emit, progress)
        except (asyncpg.PostgresError, OSError, TimeoutError) as error:
            problem = ("the national database failed while employees were read: "
                       f"{type(error).__name__}")
    measures: list[Measure] = []
    for agency in agencies:
        system = registry.system_for(agency)
        if agency in emitted:
            measures.extend(emitted[agency])
        elif problem is not None:
            measures.extend(_failed_sources(agency, system, problem))
        else:
            measures.extend(_empty_sources(agency, system))
    return measures


async def measure_quality(pool: asyncpg.Pool, population: PopulationRegistry,
                          systems: Sequence[AgencySystem], *,
                          mapped: Mapping[str, Collection[str]] | None = None,
                          agencies: Sequence[str] | None = None,
                          within_days: int = DEFAULT_WITHIN_DAYS,
                          authorities: bool = True, now: datetime | None = None,
                          page_size: int = DEFAULT_PAGE_SIZE,
                          progress: Callable[[int], None] | None = None) -> QualityRun:
    """Measure the agencies named (agency or authority codes; None: all), store the run and
    return it. ``systems``: the agency HR systems, ``mapped``: the canonical fields each
    system's mapping maps, by system name (a system not named: every field). ``now``: the
    instant the run is measured at (the timeliness reference); ``authorities``: roll the
    agencies up per reporting authority too (each authority all of whose agencies are
    measured). A failing source is stored as not measured for
    the agencies it failed for; an unexpected error marks the run failed and is raised."""
    if within_days < 1:
        raise ValueError("within_days must be at least 1")
    started = time.monotonic()
    measured_at = now or datetime.now(UTC)
    run_id = uuid.uuid4()
    async with pool.acquire() as conn:
        chosen = await resolve_agencies(conn, agencies)
        scope = None if agencies is None else chosen
        whole = await whole_authorities(conn, chosen) if authorities else set()
        await begin_run(conn, run_id, measured_at, {
            "agencies": None if agencies is None else list(agencies),
            "withinDays": within_days, "authorities": authorities})
    try:
        async with pool.acquire() as conn:
            own, others = await asyncio.gather(
                national_measures(conn, chosen, scope, now=measured_at,
                                  within_days=within_days),
                _source_measures(pool, chosen, scope, population, systems, mapped or {},
                                 page_size, progress))
        measures = [*own, *others]
        measures.extend(roll_up(m for m in measures if m.authority in whole))
        async with pool.acquire() as conn:
            await store_measures(conn, run_id, measured_at, measures)
            await end_run(conn, run_id, status="completed", measures=len(measures),
                          agencies=len(chosen))
    except Exception as error:
        async with pool.acquire() as conn:
            await end_run(conn, run_id, status="failed", error=type(error).__name__)
        raise
    return QualityRun(run_id, measured_at, tuple(chosen), tuple(measures),
                      time.monotonic() - started)
