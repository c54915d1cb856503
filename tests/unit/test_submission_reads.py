"""Record history and the submissions inbox read back from PostgreSQL: newest first, keyset
pages without gaps or repeats, time bounds, one person's versions and one client's inbox
only, many files in one query, and only the changes the caller may see."""

from __future__ import annotations

import asyncio
import base64
import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import (
    InboxWindow,
    NationalDatabase,
    SubmissionKey,
    SubmissionReads,
    VersionKey,
    VersionWindow,
    eq,
    one_of,
    open_call_log,
    prefix,
)
from tests.own_database import own_migrated_database

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
_serial = itertools.count(1)


def _jws(kid: str) -> str:
    header = base64.urlsafe_b64encode(orjson.dumps({"alg": "ES256", "kid": kid})).decode()
    payload = base64.urlsafe_b64encode(b'{"secret": "payload"}').decode()
    return f"{header.rstrip('=')}.{payload.rstrip('=')}.c2ln"


class Db:
    """An owner connection that inserts rows directly, and the adapter under test."""

    def __init__(self, runner: asyncio.Runner, owner: asyncpg.Connection,
                 national: NationalDatabase) -> None:
        self.runner = runner
        self.owner = owner
        self.reads = SubmissionReads(national)

    def submission(self, client: str, at: datetime, *, status: str = "accepted",
                   reasons: list[dict[str, str]] | None = None, employee: str = "E1",
                   resubmission_of: uuid.UUID | None = None,
                   result: dict[str, Any] | None = None) -> uuid.UUID:
        sid = uuid.uuid4()
        self.runner.run(self.owner.execute(
            "INSERT INTO submission (id, client_id, agency_code, idempotency_key, kind,"
            " employee_code, status, reasons, result, resubmission_of, received_at,"
            " decided_at, signatures) VALUES ($1, $2, '000.00.01.H01', $3, 'position-change',"
            " $4, $5, $6::jsonb, $7::jsonb, $8, $9, $9, $10::jsonb)",
            sid, client, f"k{next(_serial)}", employee, status,
            orjson.dumps(reasons or []).decode(),
            None if result is None else orjson.dumps(result).decode(), resubmission_of, at,
            orjson.dumps([_jws("agency-key")]).decode()))
        return sid

    def version(self, employee: str, at: datetime, current: dict[str, Any], *,
                entity: str = "employee", previous: dict[str, Any] | None = None,
                record_key: str | None = None, client: str = "hanoi-doha") -> uuid.UUID:
        sid = self.submission(client, at, employee=employee)
        number = next(_serial)
        self.runner.run(self.owner.execute(
            "INSERT INTO record_version (entity, record_key, employee_code, version, previous,"
            " current, submission_id, client_id, agency_code, signed_by, source_system,"
            " applied_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8,"
            " '000.00.01.H01', $9::jsonb, 'hanoi-hrm', $10)",
            entity, record_key or f"{employee}/{number}", employee, number,
            None if previous is None else orjson.dumps(previous).decode(),
            orjson.dumps(current).decode(), sid, client,
            orjson.dumps([_jws("agency-key"), _jws("employee-key")]).decode(), at))
        return sid

    def versions(self, codes: list[str], window: VersionWindow, visible: Any = None,
                 row_filter: Any = ()) -> list[dict[str, Any]]:
        return self.runner.run(self.reads.versions_of_many(codes, window, visible, row_filter))

    def inbox(self, client: str, window: InboxWindow, row_filter: Any = ()
              ) -> list[dict[str, Any]]:
        return self.runner.run(self.reads.inbox(client, window, row_filter))


@pytest.fixture(scope="module")
def db(server_url: str) -> Iterator[Db]:
    dsn = own_migrated_database(server_url, "submission_reads")
    with asyncio.Runner() as runner:
        owner = runner.run(asyncpg.connect(dsn))
        national = runner.run(NationalDatabase.open(dsn, min_size=1, max_size=2,
                                                    role="hub_runtime"))
        try:
            yield Db(runner, owner, national)
        finally:
            runner.run(national.close())
            runner.run(owner.close())


def fresh(prefix_: str) -> str:
    return f"{prefix_}{next(_serial)}"


def vw(limit: int = 100, since: datetime | None = None, until: datetime | None = None,
       after: VersionKey | None = None) -> VersionWindow:
    return VersionWindow(since, until, after, limit)


def iw(limit: int = 100, status: str | None = None, since: datetime | None = None,
       until: datetime | None = None, after: SubmissionKey | None = None) -> InboxWindow:
    return InboxWindow(status, since, until, after, limit)


# -- history ---------------------------------------------------------------------------------

def test_a_file_s_versions_newest_first_and_only_its_own(db: Db) -> None:
    mine, other = fresh("H"), fresh("H")
    for minute in (1, 3, 2):
        db.version(mine, T0 + timedelta(minutes=minute), {"salary_step": minute},
                   previous={"salary_step": minute - 1})
    db.version(other, T0 + timedelta(minutes=5), {"salary_step": 9})
    rows = db.versions([mine], vw())
    assert [r["current"] for r in rows] == [{"salary_step": 3}, {"salary_step": 2},
                                            {"salary_step": 1}]
    assert {r["subject"] for r in rows} == {mine}
    assert {r["employee_code"] for r in rows} == {mine}
    first = rows[0]
    assert first["previous"] == {"salary_step": 2}
    assert first["submitted_by"] == "hanoi-doha"
    assert first["source_system"] == "hanoi-hrm"
    # the key ids of the signatures, never the signed tokens (they hold the whole payload)
    assert first["signer_keys"] == ["agency-key", "employee-key"]
    assert "signed_by" not in first
    assert "payload" not in str(first)


def test_many_files_in_one_query_each_its_own_page(db: Db) -> None:
    codes = [fresh("M") for _ in range(4)]
    for index, code in enumerate(codes):
        for n in range(index + 1):
            db.version(code, T0 + timedelta(seconds=n), {"salary_step": n})

    async def counted() -> tuple[Any, list[dict[str, Any]]]:
        calls = open_call_log()
        rows = await db.reads.versions_of_many([*codes, codes[0], fresh("NOBODY")], vw(limit=2))
        return calls, rows

    calls, rows = db.runner.run(counted())
    assert calls["national"] == 1
    by_code: dict[str, list[int]] = {}
    for row in rows:
        by_code.setdefault(row["subject"], []).append(row["current"]["salary_step"])
    assert by_code == {codes[0]: [0], codes[1]: [1, 0], codes[2]: [2, 1], codes[3]: [3, 2]}


def test_time_bounds_are_from_inclusive_to_exclusive(db: Db) -> None:
    code = fresh("T")
    for minute in range(5):
        db.version(code, T0 + timedelta(minutes=minute), {"salary_step": minute})
    rows = db.versions([code], vw(since=T0 + timedelta(minutes=1),
                                  until=T0 + timedelta(minutes=3)))
    assert [r["current"]["salary_step"] for r in rows] == [2, 1]


def test_only_versions_changing_a_visible_column_are_read(db: Db) -> None:
    code = fresh("V")
    db.version(code, T0, {"religion": "x"})
    db.version(code, T0 + timedelta(minutes=1), {"salary_step": 2, "salary_coefficient": "2.67"})
    db.version(code, T0 + timedelta(minutes=2), {"form_code": "KHIEN_TRACH"},
               entity="discipline", record_key="17")
    assert len(db.versions([code], vw())) == 3
    seen = db.versions([code], vw(), frozenset({"employee.salary_step", "evaluation.grade_code"}))
    assert [r["current"] for r in seen] == [{"salary_step": 2, "salary_coefficient": "2.67"}]
    assert db.versions([code], vw(), frozenset()) == []


def test_a_row_filter_is_pushed_down_and_one_it_cannot_check_excludes_all(db: Db) -> None:
    code = fresh("F")
    db.version(code, T0, {"salary_step": 1}, client="moha-personnel-db")
    db.version(code, T0 + timedelta(minutes=1), {"salary_step": 2})
    rows = db.versions([code], vw(), row_filter=(eq("submitted_by", "moha-personnel-db"),))
    assert [r["current"] for r in rows] == [{"salary_step": 1}]
    newest = db.versions([code], vw())[0]["version"]
    assert [r["version"] for r in db.versions(
        [code], vw(), row_filter=(one_of("version", [newest, -1]),))] == [newest]
    # a condition that cannot be checked here excludes every row
    assert db.versions([code], vw(), row_filter=(eq("current", "x"),)) == []
    assert db.versions([code], vw(), row_filter=(prefix("entity", "emp"),)) == []
    assert db.inbox("moha-personnel-db", iw(), (eq("payload", "x"),)) == []


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(times=st.lists(st.integers(0, 6), min_size=0, max_size=14), size=st.integers(1, 5))
def test_history_pages_have_no_gaps_or_repeats(db: Db, times: list[int], size: int) -> None:
    """Many versions share a time (one transaction writes several): the id breaks ties."""
    code = fresh("P")
    for t in times:
        db.version(code, T0 + timedelta(seconds=t), {"salary_step": t})
    everything = db.versions([code], vw(limit=1000))
    assert len(everything) == len(times)
    keys = [(r["applied_at"], r["id"]) for r in everything]
    assert keys == sorted(keys, reverse=True)
    seen: list[int] = []
    after: VersionKey | None = None
    while True:
        page = db.versions([code], vw(limit=size + 1, after=after))
        seen.extend(r["id"] for r in page[:size])
        if len(page) <= size:
            break
        after = VersionKey(page[size - 1]["applied_at"], page[size - 1]["id"])
    assert seen == [r["id"] for r in everything]


# -- inbox -----------------------------------------------------------------------------------

def test_the_inbox_holds_the_client_s_own_submissions_only(db: Db) -> None:
    me, other = fresh("client-"), fresh("client-")
    mine = db.submission(me, T0, status="rejected", reasons=[
        {"code": "OFF_LADDER", "path": "change.salaryStep", "message": "not on the ladder"}])
    theirs = db.submission(other, T0 + timedelta(seconds=1))
    rows = db.inbox(me, iw())
    assert [r["id"] for r in rows] == [mine]
    assert rows[0]["reasons"] == [{"code": "OFF_LADDER", "path": "change.salaryStep",
                                   "message": "not on the ladder"}]
    assert [r["id"] for r in db.inbox(other, iw())] == [theirs]
    assert db.inbox(fresh("nobody-"), iw()) == []


def test_resubmission_links_stay_within_the_client(db: Db) -> None:
    me, other = fresh("client-"), fresh("client-")
    rejected = db.submission(me, T0, status="rejected")
    corrected = db.submission(me, T0 + timedelta(minutes=1), resubmission_of=rejected,
                              result={"version": 4, "record": "E1"})
    # another client pointing at my submission, and mine pointing at theirs: neither shows
    theirs = db.submission(other, T0 + timedelta(minutes=2), resubmission_of=rejected)
    db.submission(me, T0 + timedelta(minutes=3), resubmission_of=theirs)
    rows = {r["id"]: r for r in db.inbox(me, iw())}
    assert rows[rejected]["resubmitted_by"] == corrected
    assert rows[corrected]["resubmission_of"] == rejected
    assert rows[corrected]["result"] == {"version": 4, "record": "E1"}
    assert all(r["resubmission_of"] != theirs for r in rows.values())
    assert all(r["resubmitted_by"] != theirs for r in rows.values())
    (their_row,) = db.inbox(other, iw())
    assert their_row["resubmission_of"] is None


def test_the_inbox_by_status_and_time(db: Db) -> None:
    me = fresh("client-")
    ids = [db.submission(me, T0 + timedelta(minutes=m),
                         status="rejected" if m % 2 else "accepted") for m in range(6)]
    assert [r["id"] for r in db.inbox(me, iw(status="rejected"))] == [ids[5], ids[3], ids[1]]
    window = iw(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
    assert [r["id"] for r in db.inbox(me, window)] == [ids[3], ids[2]]
    assert [r["id"] for r in db.inbox(me, iw(), (eq("status", "accepted"),))] == [
        ids[4], ids[2], ids[0]]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(times=st.lists(st.integers(0, 5), min_size=0, max_size=14), size=st.integers(1, 5),
       status=st.sampled_from([None, "accepted", "rejected"]))
def test_inbox_pages_have_no_gaps_or_repeats(db: Db, times: list[int], size: int,
                                             status: str | None) -> None:
    me = fresh("client-")
    for n, t in enumerate(times):
        db.submission(me, T0 + timedelta(seconds=t), status=("accepted", "rejected")[n % 2])
    everything = db.inbox(me, iw(limit=1000, status=status))
    keys = [(r["received_at"], r["id"]) for r in everything]
    assert keys == sorted(keys, reverse=True)
    seen: list[uuid.UUID] = []
    after: SubmissionKey | None = None
    while True:
        page = db.inbox(me, iw(limit=size + 1, status=status, after=after))
        seen.extend(r["id"] for r in page[:size])
        if len(page) <= size:
            break
        after = SubmissionKey(page[size - 1]["received_at"], page[size - 1]["id"])
    assert seen == [r["id"] for r in everything]
    assert len(seen) == len(set(seen))
