"""The submissions store against PostgreSQL: versioned writes with history, kept rejections,
stale versions, replays and retries."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
import pytest
import pytest_asyncio

from adapters.postgres import NationalDatabase
from adapters.submission_store import RecordChange, Submission, SubmissionStore
from tests.own_database import own_migrated_database

EMPLOYEE = "CB90000001"


@pytest.fixture(scope="module")
def store_db(server_url: str) -> str:
    dsn = own_migrated_database(server_url, "submission_store")

    async def prepare() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "INSERT INTO agency (code, name, kind, province_code, headcount_quota)"
                " VALUES ('000.00.00.H01', 'UBND Hà Nội', 'province', '01', 10)")
            await conn.execute(
                "INSERT INTO employee (employee_code, personal_id, family_name, given_name,"
                " birth_date, sex, category, status, agency_code, unit_name, position_code,"
                " rank_code, salary_step, salary_coefficient, hired_on) VALUES ($1,"
                " '001085000001', 'Nguyễn', 'An', '1985-01-01', 'male', 'civil_servant',"
                " 'active', '000.00.00.H01', 'Văn phòng', 'CHUYEN_VIEN', '01.003', 1, 2.34,"
                " '2010-01-01')", EMPLOYEE)
        finally:
            await conn.close()

    asyncio.run(prepare())
    return dsn


@pytest_asyncio.fixture
async def store(store_db: str) -> AsyncIterator[tuple[SubmissionStore, asyncpg.Connection]]:
    national = await NationalDatabase.open(store_db, min_size=1, max_size=4, role="hub_runtime")
    owner = await asyncpg.connect(store_db)
    try:
        yield SubmissionStore(national), owner
    finally:
        await owner.close()
        await national.close()


def submission(key: str, version: int | None, **extra: Any) -> Submission:
    fields: dict[str, Any] = {"client_id": "hanoi-doha", "idempotency_key": key,
                              "kind": "position-change", "agency_code": "000.00.01.H01",
                              "jti": f"jti-{key}", "employee_code": EMPLOYEE,
                              "base_version": version,
                              "payload": {"sourceSystem": "hanoi-hrm"}, "signatures": ["x.y.z"]}
    fields.update(extra)
    return Submission(**fields)


STEP_2 = RecordChange("employee", {"salary_step": 2, "salary_coefficient": Decimal("2.67")})


async def version_of(owner: asyncpg.Connection) -> int:
    value = await owner.fetchval("SELECT version FROM employee WHERE employee_code = $1",
                                 EMPLOYEE)
    assert isinstance(value, int)
    return value


async def test_an_accepted_change_writes_a_version_with_its_history(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    desk, owner = store
    before = await version_of(owner)
    decision = await desk.apply(submission(uuid.uuid4().hex, before), STEP_2)
    assert decision.status == "accepted", decision
    assert decision.result == {"version": before + 1, "record": EMPLOYEE}
    row = await owner.fetchrow("SELECT salary_step, salary_coefficient, version, updated_by"
                               " FROM employee WHERE employee_code = $1", EMPLOYEE)
    assert row is not None
    assert (row["salary_step"], row["version"], row["updated_by"]) == (2, before + 1,
                                                                        "hanoi-doha")
    history = await owner.fetchrow("SELECT * FROM record_version WHERE submission_id = $1",
                                   decision.submission_id)
    assert history is not None
    assert history["entity"] == "employee"
    assert orjson.loads(history["current"]) == {"salary_step": 2, "salary_coefficient": "2.67"}
    assert orjson.loads(history["previous"])["salary_step"] in (1, 2)
    assert history["source_system"] == "hanoi-hrm"


async def test_a_retry_gets_the_first_answer_and_changes_nothing(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    desk, owner = store
    key = uuid.uuid4().hex
    first = await desk.apply(submission(key, await version_of(owner)), STEP_2)
    version = await version_of(owner)
    again = await desk.apply(submission(key, version - 1), STEP_2)
    assert again.repeated
    assert (again.submission_id, again.status, again.result) == (
        first.submission_id, first.status, first.result)
    assert await version_of(owner) == version
    # Concurrent retries: one write, one answer for all.
    key = uuid.uuid4().hex
    base = await version_of(owner)
    decisions = await asyncio.gather(*(desk.apply(submission(key, base), STEP_2)
                                       for _ in range(5)))
    assert len({d.submission_id for d in decisions}) == 1
    assert await version_of(owner) == base + 1


async def test_a_stale_version_is_a_conflict_kept_in_the_inbox(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    desk, owner = store
    current = await version_of(owner)
    decision = await desk.apply(submission(uuid.uuid4().hex, current - 1), STEP_2)
    assert decision.status == "rejected"
    assert [r["code"] for r in decision.reasons] == ["CONFLICT"]
    assert decision.result == {"currentVersion": current}
    assert await version_of(owner) == current
    kept = await owner.fetchval("SELECT status FROM submission WHERE id = $1",
                                decision.submission_id)
    assert kept == "rejected"


async def test_a_signed_change_is_applied_once(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    desk, _owner = store
    first = await desk.apply(submission(uuid.uuid4().hex, None, jti="same-jti"), STEP_2)
    assert first.status == "accepted"
    replay = await desk.apply(submission(uuid.uuid4().hex, None, jti="same-jti"), STEP_2)
    assert replay.status == "rejected"
    assert [r["code"] for r in replay.reasons] == ["REPLAYED"]


async def test_records_are_added_and_updated_with_history(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    desk, owner = store
    decision = await desk.apply(submission(uuid.uuid4().hex, None, kind="discipline-decision"),
                                RecordChange("discipline", {
                                    "form_code": "reprimand", "decision_number": "1/QĐ",
                                    "decided_on": date(2026, 1, 5), "issuer": "UBND",
                                    "reason": "", "effective_from": date(2026, 1, 6),
                                    "effective_to": None}))
    assert decision.status == "accepted"
    assert decision.result is not None
    record_id = int(decision.result["record"])
    ended = await desk.apply(submission(uuid.uuid4().hex, None, kind="discipline-end"),
                             RecordChange("discipline", {"effective_to": date(2026, 7, 6)},
                                          record_id=record_id))
    assert ended.status == "accepted"
    versions = await owner.fetch("SELECT entity, record_key, previous, current FROM"
                                 " record_version WHERE entity = 'discipline' ORDER BY id")
    assert [v["record_key"] for v in versions] == [str(record_id)] * 2
    assert versions[0]["previous"] is None
    assert orjson.loads(versions[1]["previous"]) == {"effective_to": None}
    for year, grade in ((2024, "good"), (2024, "excellent")):
        graded = await desk.apply(submission(uuid.uuid4().hex, None, kind="evaluation"),
                                  RecordChange("evaluation", {"year": year, "grade_code": grade}))
        assert graded.status == "accepted", graded
    assert await owner.fetchval("SELECT grade_code FROM evaluation WHERE employee_code = $1"
                                " AND year = 2024", EMPLOYEE) == "excellent"


async def test_an_unknown_employee_is_rejected_and_kept(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    desk, _owner = store
    decision = await desk.apply(submission(uuid.uuid4().hex, 1, employee_code="CB99999999"),
                                STEP_2)
    assert decision.status == "rejected"
    assert [r["code"] for r in decision.reasons] == ["NOT_FOUND"]
