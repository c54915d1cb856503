"""The audit-log adapter against a real PostgreSQL: a person's events, their fields only,
time bounds, keyset pages without gaps or repeats, many people in one query."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import (
    AuditLog,
    EventKey,
    HistoryWindow,
    NationalDatabase,
    eq,
    one_of,
    open_call_log,
    prefix,
)
from hub.audit.entry import AuditDraft, seal_entry
from hub.databases import DatabaseSet, create_databases
from hub.migrate import apply_migrations
from tests.settings import TEST_DB_PREFIX

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
_serial = itertools.count(1)


def fresh_id() -> str:
    """A personal ID no other test (or example) uses: the log cannot be emptied."""
    return f"0010{os.getpid() % 100:02d}{next(_serial):06d}"


class Log:
    """The test database: an owner connection that appends records, and the adapter."""

    def __init__(self, runner: asyncio.Runner, conn: asyncpg.Connection,
                 national: NationalDatabase) -> None:
        self.runner = runner
        self.conn = conn
        self.national = national
        self.audit = AuditLog(national)
        self.seqs = itertools.count(1)

    def add(self, at: datetime, subjects: dict[tuple[str, ...], list[str]], *,
            client: str = "mof-payroll", purpose: str | None = "salary-budget",
            chain: UUID | None = None, end_user: str | None = None,
            agency: str | None = "000.00.00.G02", outcome: str = "allowed") -> None:
        chain = chain or uuid4()
        seq = next(self.seqs)
        draft = AuditDraft(request_id=f"req-{seq}", trace_id="0" * 31 + "1", client_id=client,
                           agency=agency, end_user=end_user, purpose=purpose,
                           operation_type="query", operation_name="Q", outcome=outcome,
                           disclosed={tuple(sorted(f)): sorted(s) for f, s in subjects.items()})
        entry = seal_entry(draft, chain, seq, at)
        self.runner.run(self.conn.execute(
            "INSERT INTO audit_record (recorded_at, chain_id, seq, client_id, purpose, outcome,"
            " subject_ids, entry, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7,"
            " $8::jsonb, $9, $10)", at, chain, seq, client, purpose, outcome,
            draft.subjects(), orjson.dumps(entry).decode(), bytes(32), os.urandom(32)))

    def events(self, subject: str, window: HistoryWindow, row_filter: Any = ()
               ) -> list[dict[str, Any]]:
        return self.runner.run(self.audit.events(subject, window, row_filter))


def window(limit: int = 50, since: datetime | None = None, until: datetime | None = None,
           after: EventKey | None = None) -> HistoryWindow:
    return HistoryWindow(since, until, after, limit)


def key(row: dict[str, Any]) -> EventKey:
    return EventKey(row["at"], row["chain_id"], row["seq"])


@pytest.fixture(scope="module")
def log(server_url: str) -> Iterator[Log]:
    databases = DatabaseSet.on_server(server_url, f"{TEST_DB_PREFIX}_access_history")
    with asyncio.Runner() as runner:
        async def open_() -> tuple[asyncpg.Connection, NationalDatabase]:
            await create_databases(databases, recreate=True)
            await apply_migrations(databases.national)
            conn = await asyncpg.connect(databases.national)
            await conn.execute("SELECT audit_ensure_partitions('2025-01-01', 24)")
            return conn, await NationalDatabase.open(databases.national, min_size=1,
                                                     max_size=2)

        conn, national = runner.run(open_())
        try:
            yield Log(runner, conn, national)
        finally:
            runner.run(national.close())
            runner.run(conn.close())


def test_a_person_sees_the_records_naming_them_with_only_their_fields(log: Log) -> None:
    a, b, c = fresh_id(), fresh_id(), fresh_id()
    log.add(T0, {("CivilServant.fullName", "CivilServant.salaryStep"): [a, b],
                 ("Person.currentAddress",): [b], ("Agency.name",): []}, end_user="cb-01")
    log.add(T0 + timedelta(minutes=1), {("CivilServant.fullName",): [c]})
    (event,) = log.events(a, window())
    assert event["fields"] == ["CivilServant.fullName", "CivilServant.salaryStep"]
    assert (event["system"], event["purpose"], event["agency_code"], event["end_user"],
            event["operation_name"], event["outcome"]) == (
        "mof-payroll", "salary-budget", "000.00.00.G02", "cb-01", "Q", "allowed")
    assert event["at"] == T0
    assert event["request_id"].startswith("req-")
    assert set(event) == {"at", "chain_id", "seq", "system", "agency_code", "end_user",
                          "purpose", "operation_name", "outcome", "request_id", "fields"}
    # Nothing of another person's leaves the database with it.
    assert b not in repr(event)
    assert c not in repr(event)
    (event_b,) = log.events(b, window())
    assert event_b["fields"] == ["CivilServant.fullName", "CivilServant.salaryStep",
                                 "Person.currentAddress"]
    assert log.events(fresh_id(), window()) == []


def test_time_bounds_are_from_inclusive_to_exclusive(log: Log) -> None:
    a = fresh_id()
    times = [T0 + timedelta(hours=h) for h in range(4)]
    for at in times:
        log.add(at, {("CivilServant.fullName",): [a]})
    got = [e["at"] for e in log.events(a, window(since=times[1], until=times[3]))]
    assert got == [times[2], times[1]]
    assert [e["at"] for e in log.events(a, window())] == times[::-1]
    assert log.events(a, window(since=times[3] + timedelta(microseconds=1))) == []
    # Months apart: several partitions, one answer.
    log.add(datetime(2025, 2, 3, tzinfo=UTC), {("CivilServant.sex",): [a]})
    assert len(log.events(a, window(until=datetime(2025, 3, 1, tzinfo=UTC)))) == 1


def test_same_time_events_are_ordered_by_chain_and_position(log: Log) -> None:
    a = fresh_id()
    chains = sorted((uuid4(), uuid4()), key=str)
    for chain in chains:
        for _ in range(3):
            log.add(T0, {("CivilServant.fullName",): [a]}, chain=chain)
    pages, after = [], None
    while True:
        page = log.events(a, window(limit=2, after=after))
        pages.extend(page)
        if len(page) < 2:
            break
        after = key(page[-1])
    keys = [(e["chain_id"], e["seq"]) for e in pages]
    assert len(keys) == len(set(keys)) == 6
    assert keys == sorted(keys, key=lambda k: (str(k[0]), k[1]), reverse=True)


def test_many_people_in_one_query_each_with_their_own_page(log: Log) -> None:
    people = [fresh_id() for _ in range(5)]
    for minute in range(4):
        log.add(T0 + timedelta(minutes=minute), {("CivilServant.fullName",): people[:3]})
    async def fetch() -> tuple[list[dict[str, Any]], dict[str, int]]:
        calls = open_call_log()
        return await log.audit.events_of_many(people, window(limit=2)), dict(calls)

    rows, calls = log.runner.run(fetch())
    assert calls == {"national": 1}
    by_subject: dict[str, list[datetime]] = {}
    for row in rows:
        by_subject.setdefault(row["subject"], []).append(row["at"])
    assert by_subject == {p: [T0 + timedelta(minutes=3), T0 + timedelta(minutes=2)]
                          for p in people[:3]}


def test_row_filters_compare_whitelisted_event_columns(log: Log) -> None:
    a = fresh_id()
    log.add(T0, {("CivilServant.fullName",): [a]}, client="vss-insurance",
            purpose="social-insurance")
    log.add(T0 + timedelta(seconds=1), {("CivilServant.fullName",): [a]})
    assert [e["system"] for e in log.events(a, window(), (eq("system", "vss-insurance"),))] == [
        "vss-insurance"]
    assert len(log.events(a, window(), (one_of("purpose", ["salary-budget", "x"]),))) == 1
    assert log.events(a, window(), (eq("agency_code", "000.00.00.G99"),)) == []
    for bad in (eq("fields", "x"), eq("entry", "x"), prefix("system", "mof")):
        with pytest.raises(ValueError, match="cannot be filtered"):
            log.events(a, window(), (bad,))


def test_a_subject_id_cannot_inject_or_widen(log: Log) -> None:
    a = fresh_id()
    log.add(T0, {("CivilServant.fullName",): [a]})
    for hostile in ("", "%", "' OR 1=1 --", a + "x", a[:-1], "{" + a + "}", f"{a},{a}"):
        assert log.events(hostile, window()) == []


# -- property: paging through any log gives each event once, in order ---------------------------

EVENT = st.tuples(st.integers(0, 5),                       # time: few values, many ties
                  st.integers(0, 2),                       # chain
                  st.sets(st.integers(0, 2), max_size=3))  # which of three people


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(EVENT, max_size=25), page=st.integers(1, 6),
       since=st.none() | st.integers(0, 5), until=st.none() | st.integers(0, 6))
def test_pages_have_no_gaps_or_repeats(log: Log, events: list[tuple[int, int, set[int]]],
                                       page: int, since: int | None,
                                       until: int | None) -> None:
    people = [fresh_id() for _ in range(3)]
    chains = [uuid4() for _ in range(3)]
    expected: dict[str, list[tuple[datetime, str, int]]] = {p: [] for p in people}
    for minute, chain, who in events:
        at = T0 + timedelta(minutes=minute)
        seq = next(log.seqs) + 1  # the record added next takes this position
        named = [people[i] for i in sorted(who)]
        log.add(at, {("CivilServant.fullName",): named} if named else {("Agency.name",): []},
                chain=chains[chain])
        in_window = ((since is None or minute >= since) and (until is None or minute < until))
        for person in named:
            if in_window:
                expected[person].append((at, str(chains[chain]), seq))
    bounds = {"since": None if since is None else T0 + timedelta(minutes=since),
              "until": None if until is None else T0 + timedelta(minutes=until)}
    for person in people:
        seen: list[tuple[datetime, str, int]] = []
        after = None
        for _ in range(30):
            rows = log.events(person, window(limit=page, after=after, **bounds))
            assert len(rows) <= page
            seen.extend((r["at"], str(r["chain_id"]), r["seq"]) for r in rows)
            if len(rows) < page:
                break
            after = key(rows[-1])
        assert seen == sorted(expected[person], reverse=True)
