"""Per-request batching: one source call per source per level of a query.

Each loader collects the keys asked for while a level of the query resolves and fetches them
in one call (``= ANY($1)`` in PostgreSQL, one batch request to an HTTP source). Loaders are
created lazily, so a request pays only for the loaders its query uses.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Coroutine, Hashable, Sequence
from datetime import date
from functools import cached_property
from typing import Any

from aiodataloader import DataLoader

from adapters import (
    AGENCY_RECORD_COLUMNS,
    CITIZEN_COLUMNS,
    AgencySystem,
    HistoryWindow,
    RowFilter,
    SourceError,
    VersionWindow,
)
from resolvers.appointment.reads import AppointmentReads
from resolvers.code_lists import CodeLists
from resolvers.entities import ALWAYS_FETCHED
from resolvers.grants import UNRESTRICTED, Grants
from resolvers.shaping import (
    shape_access_event,
    shape_agency,
    shape_citizen,
    shape_discipline,
    shape_employee,
    shape_evaluation,
)
from resolvers.sources import Sources

__all__ = ["EMPLOYEE_RECORD_TABLES", "Loaders"]

Row = dict[str, Any]
Shaper = Callable[[Row], Row]

# Record tables that hang off an employee: table -> (one row per employee?, ordering column).
EMPLOYEE_RECORD_TABLES: dict[str, tuple[bool, str | None]] = {
    "allowance": (False, "since"),
    "work_history": (False, "from_date"),
    "qualification": (False, "awarded_on"),
    "training": (False, "from_date"),
    "award": (False, "decided_on"),
    "discipline": (False, "decided_on"),
    "evaluation": (False, "year"),
    "asset_declaration": (False, "year"),
    "personal_history": (False, "from_date"),
    # In the order declared (the form lists parents, spouse, children, siblings, in-laws).
    "family_member": (False, "id"),
    "party_membership": (True, None),
    "health_record": (True, None),
}


def _identity(row: Row) -> Row:
    return row


def _one_per_key(rows: list[Row], key: str, keys: Sequence[Hashable]) -> list[Row | None]:
    by_key = {row[key]: row for row in rows}
    return [by_key.get(k) for k in keys]


def _many_per_key(rows: list[Row], key: str, keys: Sequence[Hashable]) -> list[list[Row]]:
    grouped: dict[Hashable, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return [grouped.get(k, []) for k in keys]


Loader = DataLoader[Any, Any]


Batch = Callable[[list[Any]], Coroutine[Any, Any, list[Any]]]


class _Level:
    """Batching for the plan executor: one batch call per tick, results kept per request.
    A key whose fetch failed keeps its exception for the request, so a failing source is
    not asked again for it by every later level. ``values`` is shared with the DataLoader of
    the same batch function (see ``Loaders._loader``), so neither path fetches what the other
    already has."""

    def __init__(self, batch: Batch, values: dict[Hashable, Any],
                 prime: Callable[[Any, Any], Any]) -> None:
        self._batch = batch
        self._prime = prime
        self._values = values
        self._in_flight: dict[Hashable, asyncio.Future[None]] = {}
        self._queued: dict[Hashable, None] = {}
        self._next: asyncio.Future[None] | None = None
        self._running: set[asyncio.Task[None]] = set()  # keeps dispatched batches alive

    @property
    def values(self) -> dict[Hashable, Any]:
        return self._values

    async def load(self, keys: Sequence[Hashable]) -> dict[Hashable, Any]:
        for key in keys:
            if key not in self._values and key not in self._in_flight:
                if self._next is None:
                    loop = asyncio.get_running_loop()
                    self._next = loop.create_future()
                    loop.call_soon(self._dispatch)
                self._queued[key] = None
                self._in_flight[key] = self._next
        waits = {id(f): f for k in keys if (f := self._in_flight.get(k)) is not None}
        for future in waits.values():
            await asyncio.shield(future)
        values = self._values
        return {k: values[k] for k in keys}

    def _dispatch(self) -> None:
        keys, done = list(self._queued), self._next
        self._queued, self._next = {}, None
        assert done is not None
        task = asyncio.ensure_future(self._run(keys, done))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, keys: list[Hashable], done: asyncio.Future[None]) -> None:
        try:
            try:
                values = await self._batch(keys)
                if len(values) != len(keys):
                    raise RuntimeError("a batch function answered the wrong number of values")
            except Exception as error:  # the whole batch failed: every key carries it
                values = [error] * len(keys)
            self._values.update(zip(keys, values, strict=True))
            for key, value in zip(keys, values, strict=True):
                if not isinstance(value, Exception):
                    self._prime(key, value)  # resolvers' loader.load() finds it too
        finally:
            for key in keys:
                self._in_flight.pop(key, None)
            if not done.done():
                done.set_result(None)


class Loaders:
    def __init__(self, sources: Sources, code_lists: CodeLists, today: date,
                 grants: Grants = UNRESTRICTED) -> None:
        self._sources = sources
        self._code_lists = code_lists
        self._today = today
        # The caller's grants: columns that may be fetched, row filters pushed down into every
        # source query, masks applied once per row as it arrives.
        self._grants = grants
        self._finishers: dict[str, Shaper] = {}
        self._records: dict[str, Loader] = {}
        self._pages: dict[tuple[str, int, str | None], Loader] = {}
        self._histories: dict[HistoryWindow, Loader] = {}
        self._versions: dict[VersionWindow, Loader] = {}
        self._selected: dict[str, frozenset[str]] | None = None
        self._levels: dict[int, _Level] = {}

    async def load_level(self, loader: Loader, keys: Sequence[Hashable]
                         ) -> dict[Hashable, Any]:
        """Values (or the exception that stands for one) for many keys at once.

        The plan executor's path: like ``loader.load`` for every key — keys asked for in the
        same tick share one call of the batch function, values are kept for the request —
        but with one future per call instead of one per key."""
        return await self._levels[id(loader)].load(keys)

    def remember(self, loader: Loader, rows: Sequence[Row], key: str) -> None:
        """Rows fetched another way (a list query) that ``loader`` would fetch by ``key``:
        later look-ups of the same keys cost nothing."""
        values = self._levels[id(loader)].values
        for row in rows:
            values[row[key]] = row
            loader.prime(row[key], row)

    def release(self) -> None:
        """Let go of what this request fetched, once its answer is built. Each DataLoader and
        its level-at-a-time twin refer to each other through the batch function, a cycle
        that only the garbage collector could free, with every cached row and future in it
        (some 700 objects a request, and a collector running that much more often)."""
        for loaders in (self._records, self._pages, self._histories, self._versions):
            for loader in loaders.values():
                loader.clear_all()
            loaders.clear()
        for name, value in list(vars(self).items()):
            if isinstance(value, DataLoader):  # a cached_property's: built anew if asked
                value.clear_all()
                del self.__dict__[name]
        self._levels.clear()

    def _loader(self, batch: Batch) -> Loader:
        """A DataLoader for ``batch`` and its level-at-a-time twin, sharing what they fetch."""
        values: dict[Hashable, Any] = {}

        async def recording(keys: list[Any]) -> list[Any]:
            results = await batch(keys)
            for key, value in zip(keys, results, strict=False):
                if not isinstance(value, Exception):
                    values[key] = value
            return results

        loader: Loader = DataLoader(recording)
        self._levels[id(loader)] = _Level(batch, values, loader.prime)
        return loader

    def row_filter(self, entity: str) -> RowFilter:
        return self._grants.row_filters.get(entity, ())

    def finish(self, entity: str) -> Shaper:
        """Shape a row of ``entity`` into the object GraphQL reads, then mask what the
        caller's grants mask: one call per row, nothing per field."""
        finisher = self._finishers.get(entity)
        if finisher is not None:
            return finisher
        shape = self._shaper(entity)
        masks = self._grants.masks.get(entity, ())
        if not masks:
            finisher = shape
        else:
            def finisher(row: Row) -> Row:
                row = shape(row)
                for masked in masks:
                    row[masked.key] = masked.apply(row.get(masked.column))
                return row
        self._finishers[entity] = finisher
        return finisher

    def _shaper(self, entity: str) -> Shaper:
        code_lists, today = self._code_lists, self._today
        if entity == "employee":
            return lambda row: shape_employee(row, code_lists)
        if entity == "agency":
            return lambda row: shape_agency(row, code_lists)
        if entity == "discipline":
            return lambda row: shape_discipline(row, code_lists, today)
        if entity == "evaluation":
            return lambda row: shape_evaluation(row, code_lists)
        if entity == "citizen":
            return shape_citizen
        if entity == "access_event":
            return shape_access_event
        return _identity

    def select_columns(self, selected: dict[str, frozenset[str]]) -> None:
        """Fetch only these columns per entity (plus the keys always needed); an entity not
        named gets its keys only. Called before anything is fetched; without it, loaders
        fetch every column."""
        self._selected = selected

    def columns(self, entity: str) -> tuple[str, ...]:
        if entity == "citizen":
            available: tuple[str, ...] = CITIZEN_COLUMNS
        elif entity == "agency_record":
            available = AGENCY_RECORD_COLUMNS
        else:
            available = tuple(self._sources.national.columns[entity])
        granted = self._grants.columns
        if granted is not None:
            allowed = granted.get(entity, frozenset()).union(ALWAYS_FETCHED.get(entity, ()))
            available = tuple(c for c in available if c in allowed)
        if self._selected is None:
            return available
        wanted = self._selected.get(entity, frozenset()).union(ALWAYS_FETCHED.get(entity, ()))
        return tuple(c for c in available if c in wanted)

    # -- national database -------------------------------------------------------------------

    def _national_by_key(self, table: str, key: str) -> Loader:
        national = self._sources.national
        columns = self.columns(table)
        shaper = self.finish(table)

        async def batch(keys: list[Hashable]) -> list[Row | None]:
            rows = await national.fetch_many(table, key, keys, columns, self.row_filter(table))
            return _one_per_key([shaper(r) for r in rows], key, keys)

        return self._loader(batch)

    @cached_property
    def employee(self) -> Loader:
        return self._national_by_key("employee", "employee_code")

    @cached_property
    def employee_by_personal_id(self) -> Loader:
        return self._national_by_key("employee", "personal_id")

    @cached_property
    def agency(self) -> Loader:
        return self._national_by_key("agency", "code")

    @cached_property
    def agency_children(self) -> Loader:
        national = self._sources.national
        columns = self.columns("agency")

        async def batch(codes: list[str]) -> list[list[Row]]:
            rows = await national.fetch_many("agency", "parent_code", codes, columns,
                                             self.row_filter("agency"))
            rows.sort(key=lambda r: r["code"])
            finish = self.finish("agency")
            return _many_per_key([finish(r) for r in rows], "parent_code", codes)

        return self._loader(batch)

    @cached_property
    def headcount(self) -> Loader:
        national = self._sources.national

        async def batch(codes: list[str]) -> list[int]:
            counts = await national.count_by_key("employee", "agency_code", codes,
                                                 self.row_filter("employee"))
            return [counts.get(code, 0) for code in codes]

        return self._loader(batch)

    def records(self, table: str) -> Loader:
        """Rows of an employee record table, per employee code (a list, or one row or None)."""
        loader = self._records.get(table)
        if loader is not None:
            return loader
        single, order = EMPLOYEE_RECORD_TABLES[table]
        national = self._sources.national
        columns = self.columns(table)
        shaper = self.finish(table)

        async def batch(keys: list[str]) -> list[Any]:
            rows = await national.fetch_many(table, "employee_code", keys, columns,
                                             self.row_filter(table))
            rows = [shaper(r) for r in rows]
            if single:
                return _one_per_key(rows, "employee_code", keys)
            if order is not None:
                rows.sort(key=lambda r: r[order])
            return _many_per_key(rows, "employee_code", keys)

        loader = self._records[table] = self._loader(batch)
        return loader

    def employees_of_agency(self, first: int, after: str | None) -> Loader:
        """One page of employees for each of many agencies, in one query."""
        cache_key = ("employee", first, after)
        loader = self._pages.get(cache_key)
        if loader is not None:
            return loader
        national = self._sources.national
        columns = self.columns("employee")

        async def batch(codes: list[str]) -> list[list[Row]]:
            rows = await national.fetch_pages_by_key(
                "employee", "agency_code", codes, columns, self.row_filter("employee"),
                order_by="employee_code", after=after, limit=first + 1)
            finish = self.finish("employee")
            return _many_per_key([finish(r) for r in rows], "agency_code", codes)

        loader = self._pages[cache_key] = self._loader(batch)
        return loader

    def access_history(self, window: HistoryWindow) -> Loader:
        """A page of access events for each of many people, by personal ID, in one query
        (``window.limit`` events each, newest first)."""
        loader = self._histories.get(window)
        if loader is not None:
            return loader
        audit_log = self._sources.audit_log
        finish = self.finish("access_event")
        row_filter = self.row_filter("access_event")

        async def batch(ids: list[str]) -> list[list[Row]]:
            rows = await audit_log.events_of_many(ids, window, row_filter)
            return _many_per_key([finish(r) for r in rows], "subject", ids)

        loader = self._histories[window] = self._loader(batch)
        return loader

    def record_history(self, window: VersionWindow, visible: frozenset[str],
                       shape: Shaper) -> Loader:
        """A page of record versions for each of many personnel files, by employee code, in
        one query (``window.limit`` each, newest first). ``visible`` ("entity.column") and
        ``shape`` (a version row as the client may see it) are the request's own: the same
        for every window of one request."""
        loader = self._versions.get(window)
        if loader is not None:
            return loader
        reads = self._sources.submission_reads
        finish, finish_change = self.finish("record_version"), self.finish("field_change")
        row_filter = self.row_filter("record_version")
        change_filter = self.row_filter("field_change")

        async def batch(codes: list[str]) -> list[list[Row]]:
            rows = await reads.versions_of_many(codes, window, visible, row_filter)
            versions = []
            for row in rows:
                version = finish(shape(row))
                changes = [finish_change(c) for c in version["changes"]
                           if all(condition.matches(c) for condition in change_filter)]
                version["changes"] = changes
                version["changed_fields"] = [c["field"] for c in changes]
                versions.append(version)
            return _many_per_key(versions, "subject", codes)

        loader = self._versions[window] = self._loader(batch)
        return loader

    # -- population registry -----------------------------------------------------------------

    @cached_property
    def citizen(self) -> Loader:
        population = self._sources.population
        columns = self.columns("citizen")

        async def batch(ids: list[str]) -> list[Row | None]:
            rows = await population.fetch_many(ids, columns, self.row_filter("citizen"))
            finish = self.finish("citizen")
            return _one_per_key([finish(r) for r in rows], "personal_id", ids)

        return self._loader(batch)

    # -- appointment checks ------------------------------------------------------------------

    @cached_property
    def appointments(self) -> AppointmentReads:
        """What appointment checks read (resolvers/appointment): their own columns, whatever
        the client may read of the records; whom it may check held to its row scope on civil
        servants."""
        return AppointmentReads(self._sources.national, self._sources.agency_systems,
                                self.row_filter("employee"))

    # -- agency HR systems -------------------------------------------------------------------

    @cached_property
    def agency_record(self) -> Loader:
        """An agency system's own record of a person, keyed by (agency code, personal ID):
        routed to the system serving that agency, one call per system touched."""
        registry = self._sources.agency_systems
        row_filter = self.row_filter("agency_record")
        columns = self.columns("agency_record")

        finish = self.finish("agency_record")

        async def from_system(system: AgencySystem, ids: list[str]) -> dict[str, Row]:
            rows = await system.fetch_many(ids, columns, row_filter)
            for row in rows:
                row["system"] = system.name
            return {row["personal_id"]: finish(row) for row in rows}

        async def batch(keys: list[tuple[str, str]]) -> list[Row | Exception | None]:
            wanted: dict[AgencySystem, list[str]] = defaultdict(list)
            for agency_code, personal_id in keys:
                system = registry.system_for(agency_code)
                if system is not None:
                    wanted[system].append(personal_id)
            systems = list(wanted)
            answers = await asyncio.gather(
                *(from_system(s, list(dict.fromkeys(wanted[s]))) for s in systems),
                return_exceptions=True)
            by_system = dict(zip(systems, answers, strict=True))
            results: list[Row | Exception | None] = []
            for agency_code, personal_id in keys:
                system = registry.system_for(agency_code)
                answer = by_system.get(system) if system is not None else None
                if answer is None:
                    results.append(None)
                elif isinstance(answer, SourceError):
                    results.append(answer)
                elif isinstance(answer, BaseException):
                    raise answer
                else:
                    results.append(answer.get(personal_id))
            return results

        return self._loader(batch)
