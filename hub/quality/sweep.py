"""One pass over the national database's employees, a page at a time in (agency, employee
code) order, looking each page up in the population registry and in the agency systems
serving its agencies: one batched call per source per page (the adapters split it into their
``max_batch`` and bound how many run at once), the next page read while this one is looked
up. An agency's state becomes measures as soon as its last employee has gone by, so memory
holds the agencies of one page, not the country.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, Final

import asyncpg

from adapters import AgencySystem, AgencySystemRegistry, PopulationRegistry, SourceError
from hub.quality.model import Measure
from hub.quality.records import (
    AGENCY_REQUIRED,
    CodeBook,
    PopulationCheck,
    SyncState,
    SystemCheck,
)

__all__ = ["DEFAULT_PAGE_SIZE", "Sweep", "load_code_book", "load_sync_states"]

Row = dict[str, Any]
DEFAULT_PAGE_SIZE: Final = 2_000

_PAGE: Final = """
SELECT employee_code, personal_id, agency_code, full_name, birth_date, sex, status,
       position_code, rank_code, salary_step, salary_coefficient::float8 AS salary_coefficient
FROM employee
WHERE ($1::text[] IS NULL OR agency_code = ANY($1::text[]))
  AND (agency_code, employee_code) > ($2, $3)
ORDER BY agency_code, employee_code
LIMIT $4"""
_CITIZEN_COLUMNS: Final = ("personal_id", "full_name", "birth_date", "sex", "death_date")
_RECORD_COLUMNS: Final = ("personal_id", *AGENCY_REQUIRED)


async def load_code_book(conn: asyncpg.Connection) -> CodeBook:
    ladder = await conn.fetch(
        "SELECT rank_code, step, coefficient::float8 AS coefficient FROM salary_ladder")
    return CodeBook(
        positions=frozenset(r["code"] for r in await conn.fetch("SELECT code FROM position")),
        ranks=frozenset(r["code"] for r in await conn.fetch("SELECT code FROM rank")),
        agencies=frozenset(r["code"] for r in await conn.fetch("SELECT code FROM agency")),
        ladder={(r["rank_code"], int(r["step"])): float(r["coefficient"]) for r in ladder})


async def load_sync_states(conn: asyncpg.Connection) -> dict[str, SyncState]:
    """Where synchronisation stands with each system (``sync_state``, migration 0014)."""
    rows = await conn.fetch("SELECT system, synced_through, last_success_at FROM sync_state")
    return {r["system"]: SyncState(r["synced_through"], r["last_success_at"]) for r in rows}


def _reason(error: SourceError) -> str:
    return f"{error.code}: {error.message}"


class Sweep:
    """The pass itself: ``run`` calls ``emit`` with each agency's measures of the population
    registry and of the system serving it, as the agency completes."""

    def __init__(self, conn: asyncpg.Connection, population: PopulationRegistry | None,
                 systems: Sequence[AgencySystem], mapped: Mapping[str, Collection[str]],
                 codes: CodeBook, sync: Mapping[str, SyncState] | str, *,
                 page_size: int = DEFAULT_PAGE_SIZE) -> None:
        """``sync``: the synchronisation state per system, or why it could not be read
        (every system's timeliness is then not measured, with that reason)."""
        self._conn = conn
        self._population = population
        self._registry = AgencySystemRegistry(systems)
        self._mapped = mapped
        self._codes = codes
        self._sync = sync
        self._page_size = page_size
        self._population_checks: dict[str, PopulationCheck] = {}
        self._system_checks: dict[str, SystemCheck] = {}

    async def run(self, scope: list[str] | None, emit: Callable[[list[Measure]], None],
                  progress: Callable[[int], None] | None = None) -> None:
        after = ("", "")
        page = await self._page(scope, after)
        while page:
            last = page[-1]
            following: Awaitable[list[Row]] | None = None
            if len(page) == self._page_size:
                following = asyncio.ensure_future(
                    self._page(scope, (last["agency_code"], last["employee_code"])))
            try:
                await self._look_up(page)
            except BaseException:
                if following is not None:
                    await asyncio.gather(following, return_exceptions=True)
                raise
            # Rows come grouped by agency: every agency but the page's last is complete.
            self._finish(emit, keep=last["agency_code"])
            if progress is not None:
                progress(len(page))
            page = await following if following is not None else []
        self._finish(emit, keep=None)

    async def _page(self, scope: list[str] | None, after: tuple[str, str]) -> list[Row]:
        rows = await self._conn.fetch(_PAGE, scope, after[0], after[1], self._page_size)
        return [dict(r) for r in rows]

    def _population_check(self, agency: str) -> PopulationCheck:
        check = self._population_checks.get(agency)
        if check is None:
            check = self._population_checks[agency] = PopulationCheck()
        return check

    def _system_check(self, agency: str, system: AgencySystem) -> SystemCheck:
        check = self._system_checks.get(agency)
        if check is None:
            check = self._system_checks[agency] = SystemCheck(
                system.name, self._mapped.get(system.name, AGENCY_REQUIRED), self._codes,
                None if isinstance(self._sync, str) else self._sync.get(system.name),
                sync_problem=self._sync if isinstance(self._sync, str) else None)
        return check

    async def _look_up(self, page: list[Row]) -> None:
        by_system: dict[AgencySystem, list[Row]] = {}
        for employee in page:
            system = self._registry.system_for(employee["agency_code"])
            if system is not None:
                by_system.setdefault(system, []).append(employee)
        calls: list[Awaitable[list[Row]]] = []
        if self._population is not None:
            calls.append(self._population.fetch_many(
                [e["personal_id"] for e in page], _CITIZEN_COLUMNS))
        systems = list(by_system)
        calls.extend(s.fetch_many([e["personal_id"] for e in by_system[s]], _RECORD_COLUMNS)
                     for s in systems)
        answers = await asyncio.gather(*calls, return_exceptions=True)
        for answer in answers:
            if isinstance(answer, BaseException) and not isinstance(answer, SourceError):
                raise answer
        if self._population is not None:
            self._tally_population(page, answers[0])
            answers = answers[1:]
        for system, answer in zip(systems, answers, strict=True):
            self._tally_system(system, by_system[system], answer)

    def _tally_population(self, page: list[Row], answer: Any) -> None:
        if isinstance(answer, SourceError):
            for employee in page:
                self._population_check(employee["agency_code"]).fail(_reason(answer))
            return
        citizens = {c["personal_id"]: c for c in answer}
        for employee in page:
            check = self._population_check(employee["agency_code"])
            if check.reason is None:
                check.add(employee, citizens.get(employee["personal_id"]))

    def _tally_system(self, system: AgencySystem, employees: list[Row], answer: Any) -> None:
        if isinstance(answer, SourceError):
            for employee in employees:
                self._system_check(employee["agency_code"], system).fail(_reason(answer))
            return
        records: dict[str, Row] = {}
        for record in answer:
            records.setdefault(str(record.get("personal_id")), record)
        for employee in employees:
            check = self._system_check(employee["agency_code"], system)
            if check.reason is None:
                check.add(employee, records.get(employee["personal_id"]))

    def _finish(self, emit: Callable[[list[Measure]], None], *, keep: str | None) -> None:
        done = sorted(a for a in {*self._population_checks, *self._system_checks}
                      if a != keep)
        for agency in done:
            measures: list[Measure] = []
            population = self._population_checks.pop(agency, None)
            if population is not None:
                measures.extend(population.measures(agency))
            system = self._system_checks.pop(agency, None)
            if system is not None:
                measures.extend(system.measures(agency))
            emit(measures)
