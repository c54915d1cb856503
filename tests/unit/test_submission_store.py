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


# -- registrations, transfers and declarations ---------------------------------------------------

def new_file(code: str, personal_id: str, agency: str = "000.00.00.H01") -> RecordChange:
    return RecordChange("employee", {
        "employee_code": code, "personal_id": personal_id, "family_name": "Trần",
        "middle_name": "Thị", "given_name": "Bình", "birth_date": date(1992, 5, 6),
        "sex": "female", "ethnicity": "Kinh", "religion": "Không", "category": "civil_servant",
        "status": "active", "agency_code": agency, "unit_name": "Văn phòng",
        "position_code": "CHUYEN_VIEN", "rank_code": "01.003", "salary_step": 1,
        "salary_coefficient": Decimal("2.34"), "hired_on": date(2026, 1, 5)})


def first_post(agency: str = "000.00.00.H01") -> RecordChange:
    return RecordChange("work_history", {
        "from_date": date(2026, 1, 5), "to_date": None, "agency_code": agency,
        "agency_name": "UBND Hà Nội", "position_code": "CHUYEN_VIEN",
        "description": "registered"})


def registration(key: str, code: str, personal_id: str) -> Submission:
    return submission(key, None, kind="register-employee", employee_code=code,
                      personal_id=personal_id)


async def test_a_registration_creates_the_file_at_version_1_with_its_history(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    desk, owner = store
    decision = await desk.register(registration(uuid.uuid4().hex, "CB90000002", "001192000002"),
                                   new_file("CB90000002", "001192000002"), first_post())
    assert decision.status == "accepted", decision
    assert decision.result == {"version": 1, "record": "CB90000002"}
    row = await owner.fetchrow("SELECT full_name, version, updated_by, status FROM employee"
                               " WHERE employee_code = 'CB90000002'")
    assert row is not None
    assert tuple(row) == ("Trần Thị Bình", 1, "hanoi-doha", "active")
    history = await owner.fetch("SELECT entity, version, previous, current FROM record_version"
                                " WHERE submission_id = $1 ORDER BY id", decision.submission_id)
    assert [(h["entity"], h["version"], h["previous"]) for h in history] == [
        ("employee", 1, None), ("work_history", 1, None)]
    assert orjson.loads(history[0]["current"])["personal_id"] == "001192000002"
    # The same person (or code) again is a duplicate, kept as a rejection; nothing written.
    for code, pid, path in (("CB90000003", "001192000002", "employee.personalId"),
                            ("CB90000002", "001192000003", "change.employeeCode")):
        again = await desk.register(registration(uuid.uuid4().hex, code, pid),
                                    new_file(code, pid), first_post())
        assert again.status == "rejected"
        assert [(r["code"], r["path"]) for r in again.reasons] == [("DUPLICATE", path)]
    assert await owner.fetchval("SELECT count(*) FROM employee WHERE employee_code ="
                                " 'CB90000003' OR personal_id = '001192000003'") == 0


async def test_a_full_agency_takes_no_one(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    desk, owner = store
    await owner.execute("INSERT INTO agency (code, name, kind, province_code, headcount_quota)"
                        " VALUES ('000.00.09.H01', 'Sở đầy', 'province_department', '01', 0)"
                        " ON CONFLICT DO NOTHING")
    decision = await desk.register(
        registration(uuid.uuid4().hex, "CB90000009", "001192000009"),
        new_file("CB90000009", "001192000009", "000.00.09.H01"), first_post("000.00.09.H01"))
    assert decision.status == "rejected"
    assert [r["code"] for r in decision.reasons] == ["QUOTA_EXCEEDED"]
    assert await owner.fetchval("SELECT count(*) FROM employee WHERE employee_code ="
                                " 'CB90000009'") == 0


async def test_a_transfer_is_released_then_received_in_one_versioned_step(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    from adapters.submission_store import THIS_SUBMISSION

    desk, owner = store
    await owner.execute("INSERT INTO agency (code, name, kind, province_code, headcount_quota)"
                        " VALUES ('000.00.02.H01', 'Sở Tư pháp', 'province_department', '01',"
                        " 5) ON CONFLICT DO NOTHING")
    code = "CB90000004"
    await desk.register(registration(uuid.uuid4().hex, code, "001192000004"),
                        new_file(code, "001192000004"), first_post())
    release = RecordChange("transfer", {
        "from_agency": "000.00.00.H01", "to_agency": "000.00.02.H01",
        "effective_from": date(2026, 6, 1), "decision_number": "9/QĐ",
        "released_by": THIS_SUBMISSION, "status": "pending"})
    out = await desk.apply(submission(uuid.uuid4().hex, 1, kind="transfer-out",
                                      employee_code=code), release)
    assert out.status == "accepted", out
    assert out.result is not None
    assert out.result["version"] == 2
    transfer_id = int(out.result["record"])
    assert await owner.fetchval("SELECT released_by FROM transfer WHERE id = $1",
                                transfer_id) == out.submission_id
    # A second release while one is pending is refused by the database itself.
    twice = await desk.apply(submission(uuid.uuid4().hex, 2, kind="transfer-out",
                                        employee_code=code), release)
    assert [r["code"] for r in twice.reasons] == ["TRANSFER_PENDING"]
    entry = await owner.fetchval("SELECT id FROM work_history WHERE employee_code = $1"
                                 " AND to_date IS NULL", code)
    receive = [
        RecordChange("employee", {"agency_code": "000.00.02.H01", "unit_name": "Phòng 1",
                                  "position_code": "CHUYEN_VIEN"}),
        RecordChange("work_history", {"to_date": date(2026, 5, 31)}, record_id=entry,
                     expect={"to_date": None}),
        RecordChange("work_history", {"from_date": date(2026, 6, 1), "to_date": None,
                                      "agency_code": "000.00.02.H01", "agency_name": "Sở",
                                      "position_code": "CHUYEN_VIEN", "description": "in"}),
        RecordChange("transfer", {"status": "completed", "received_by": THIS_SUBMISSION,
                                  "received_on": date(2026, 6, 1)}, record_id=transfer_id,
                     expect={"status": "pending"})]
    received = await desk.apply(submission(uuid.uuid4().hex, None, kind="transfer-in",
                                           employee_code=code), receive,
                                quota_agency="000.00.02.H01")
    assert received.status == "accepted", received
    assert received.result == {"version": 3, "record": code}
    assert await owner.fetchval("SELECT agency_code FROM employee WHERE employee_code = $1",
                                code) == "000.00.02.H01"
    history = await owner.fetch("SELECT entity, version FROM record_version"
                                " WHERE submission_id = $1 ORDER BY id", received.submission_id)
    assert [(h["entity"], h["version"]) for h in history] == [
        ("employee", 3), ("work_history", 3), ("work_history", 3), ("transfer", 3)]
    row = await owner.fetchrow("SELECT status, received_by FROM transfer WHERE id = $1",
                               transfer_id)
    assert row is not None
    assert tuple(row) == ("completed", received.submission_id)
    # Receiving it again finds no pending transfer: refused, and nothing moves.
    again = await desk.apply(submission(uuid.uuid4().hex, None, kind="transfer-in",
                                        employee_code=code), receive)
    assert [r["code"] for r in again.reasons] == ["NOT_FOUND"]
    assert await version_of_code(owner, code) == 3


async def version_of_code(owner: asyncpg.Connection, code: str) -> int:
    value = await owner.fetchval("SELECT version FROM employee WHERE employee_code = $1", code)
    assert isinstance(value, int)
    return value


async def test_an_asset_declaration_is_replaced_per_year(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    desk, owner = store
    for total in (1_000_000, 2_000_000):
        declared = await desk.apply(
            submission(uuid.uuid4().hex, None, kind="asset-declaration"),
            RecordChange("asset_declaration", {
                "year": 2025, "declared_on": date(2026, 1, 10), "land_plots": 1, "houses": 0,
                "total_assets_vnd": total, "annual_income_vnd": 500_000}))
        assert declared.status == "accepted", declared
    rows = await owner.fetch("SELECT total_assets_vnd, version FROM asset_declaration"
                             " WHERE employee_code = $1 AND year = 2025", EMPLOYEE)
    assert [tuple(r) for r in rows] == [(2_000_000, 2)]


# -- a round decided together (apply_many) -------------------------------------------------------

async def _round_employees(owner: asyncpg.Connection, count: int) -> list[str]:
    """``count`` new files at version 1, for a round of their own."""
    codes = [f"RW{uuid.uuid4().hex[:8].upper()}" for _ in range(count)]
    for code in codes:
        await owner.execute(
            "INSERT INTO employee (employee_code, personal_id, family_name, given_name,"
            " birth_date, sex, category, status, agency_code, unit_name, position_code,"
            " rank_code, salary_step, salary_coefficient, hired_on) VALUES ($1, $2, 'Lê',"
            " 'Cúc', '1990-02-03', 'female', 'civil_servant', 'active', '000.00.00.H01',"
            " 'Văn phòng', 'CHUYEN_VIEN', '01.003', 1, 2.34, '2015-01-01')",
            code, f"0011900{uuid.uuid4().int % 10**5:05d}")
    return codes


def _round_item(code: str, version: int | None, kind: str, *changes: RecordChange,
                **extra: Any) -> tuple[Submission, list[RecordChange], tuple[()]]:
    return (submission(uuid.uuid4().hex, version, employee_code=code, kind=kind, **extra),
            list(changes), ())


async def _state(owner: asyncpg.Connection, codes: list[str]) -> list[Any]:
    """What the files, their records, the inbox and the history hold for ``codes``."""
    return [
        [tuple(r) for r in await owner.fetch(
            "SELECT employee_code, salary_step, version, updated_by FROM employee"
            " WHERE employee_code = ANY($1) ORDER BY array_position($1, employee_code)", codes)],
        [tuple(r) for r in await owner.fetch(
            "SELECT employee_code, form_code, effective_to, version FROM discipline"
            " WHERE employee_code = ANY($1) ORDER BY array_position($1, employee_code), 2", codes)],
        [tuple(r) for r in await owner.fetch(
            "SELECT employee_code, year, grade_code, version FROM evaluation"
            " WHERE employee_code = ANY($1) ORDER BY array_position($1, employee_code), 2", codes)],
        [tuple(r) for r in await owner.fetch(
            "SELECT employee_code, status, reasons::text, result - 'record' FROM submission"
            " WHERE employee_code = ANY($1) ORDER BY array_position($1, employee_code),"
            " received_at", codes)],
        [tuple(r) for r in await owner.fetch(
            "SELECT employee_code, entity, version, previous::text, current::text"
            " FROM record_version WHERE employee_code = ANY($1)"
            " ORDER BY array_position($1, employee_code), id", codes)],
    ]


DISCIPLINE = RecordChange("discipline", {
    "form_code": "reprimand", "decision_number": "9/QĐ", "decided_on": date(2026, 2, 1),
    "issuer": "UBND", "reason": "", "effective_from": date(2026, 2, 2), "effective_to": None})


async def _mixed_round(desk: SubmissionStore, owner: asyncpg.Connection
                       ) -> tuple[list[str], list[Any]]:
    """A round of every outcome a set-wise write decides: a file change, a record added, a
    year's record replaced and one new, a record ended by id, a stale version, a replay, an
    unknown file and a rejection decided before the write."""
    codes = await _round_employees(owner, 7)
    ended = await desk.apply(submission(uuid.uuid4().hex, 1, employee_code=codes[3],
                                        kind="discipline-decision"), DISCIPLINE)
    graded = await desk.apply(submission(uuid.uuid4().hex, 1, employee_code=codes[2],
                                         kind="evaluation"),
                              RecordChange("evaluation", {"year": 2025, "grade_code": "good"}))
    assert ended.result is not None
    assert graded.status == "accepted"
    record_id = int(ended.result["record"])
    items = [
        _round_item(codes[0], 1, "position-change", STEP_2, jti=f"round-{codes[0]}"),
        _round_item(codes[1], 1, "discipline-decision", DISCIPLINE),
        _round_item(codes[2], 2, "evaluation",
                    RecordChange("evaluation", {"year": 2025, "grade_code": "excellent"})),
        _round_item(codes[3], 2, "discipline-end",
                    RecordChange("discipline", {"effective_to": date(2026, 8, 1)},
                                 record_id=record_id, expect={"effective_to": None})),
        _round_item(codes[4], 7, "position-change", STEP_2),            # stale: at 1
        _round_item(codes[5], 1, "position-change", STEP_2,             # the same signed
                    jti=f"round-{codes[0]}"),                          # change again
        _round_item("RW-NOBODY", 1, "position-change", STEP_2),
        (submission(uuid.uuid4().hex, 1, employee_code=codes[6]), None,
         [{"code": "INVALID", "path": "change", "message": "no"}]),
    ]
    return codes, await desk.apply_many(items)


async def test_a_round_is_decided_and_written_together(
        store: tuple[SubmissionStore, asyncpg.Connection],
        caplog: pytest.LogCaptureFixture) -> None:
    desk, owner = store
    with caplog.at_level("INFO", logger="adapters.submission_store"):
        codes, decisions = await _mixed_round(desk, owner)
    assert "written again" not in caplog.text  # set-wise, no item-at-a-time fallback
    assert [d.status for d in decisions] == ["accepted"] * 4 + ["rejected"] * 4
    assert [[r["code"] for r in d.reasons] for d in decisions[4:]] == [
        ["CONFLICT"], ["REPLAYED"], ["NOT_FOUND"], ["INVALID"]]
    assert [d.result for d in decisions[:4]] == [
        {"version": 2, "record": codes[0]},
        {"version": 2, "record": decisions[1].result and decisions[1].result["record"]},
        {"version": 3, "record": f"{codes[2]}/2025"},
        {"version": 3, "record": decisions[3].result and decisions[3].result["record"]}]
    assert decisions[4].result == {"currentVersion": 1}
    assert len({d.received_at for d in decisions}) == 1
    stored = {row["id"]: row for row in await owner.fetch(
        "SELECT id, status, result, received_at FROM submission WHERE id = ANY($1)",
        [d.submission_id for d in decisions])}
    for decision in decisions:  # the answers are what the inbox keeps
        row = stored[decision.submission_id]
        assert row["status"] == decision.status
        assert (orjson.loads(row["result"]) if row["result"] else None) == decision.result
        assert row["received_at"] == decision.received_at
    state = await _state(owner, codes)
    assert (codes[0], 2, 2, "hanoi-doha") in state[0]
    assert (codes[2], 2025, "excellent", 2) in state[2]
    assert (codes[3], "reprimand", date(2026, 8, 1), 2) in state[1]
    history = [(code, entity, version, previous) for code, entity, version, previous, _
               in state[4]]
    assert (codes[2], "evaluation", 3, '{"year": 2025, "grade_code": "good"}') in history
    assert (codes[3], "discipline", 3, '{"effective_to": null}') in history
    assert (codes[0], "employee", 2, '{"salary_step": 1, "salary_coefficient": 2.34}') in \
        history or (codes[0], "employee", 2,
                    '{"salary_step": 1, "salary_coefficient": "2.34"}') in history


async def test_a_round_written_together_equals_the_same_round_item_by_item(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    """The set-wise write and the item-at-a-time one (forced by a round a set cannot take)
    leave the same database."""
    desk, owner = store
    codes, _ = await _mixed_round(desk, owner)
    together = await _state(owner, codes)
    original = desk.apply_many

    async def one_at_a_time(items: Any) -> Any:  # the fallback's own path
        return await desk._apply_many(items, savepoints=True)

    desk.apply_many = one_at_a_time  # type: ignore[method-assign]
    try:
        codes_alone, _ = await _mixed_round(desk, owner)
    finally:
        desk.apply_many = original  # type: ignore[method-assign]
    alone = await _state(owner, codes_alone)
    renamed = dict(zip(codes_alone, codes, strict=True))

    def same_names(value: Any) -> Any:
        if isinstance(value, list):
            return [same_names(v) for v in value]
        if isinstance(value, tuple):
            return tuple(same_names(v) for v in value)
        if isinstance(value, str):
            for alone_code, code in renamed.items():
                value = value.replace(alone_code, code)
        return value

    assert same_names(alone) == together


async def test_a_round_a_record_no_longer_fits_is_decided_item_by_item(
        store: tuple[SubmissionStore, asyncpg.Connection],
        caplog: pytest.LogCaptureFixture) -> None:
    """A record ended meanwhile makes its item NOT_FOUND; the rest of the round lands."""
    desk, owner = store
    codes = await _round_employees(owner, 2)
    added = await desk.apply(submission(uuid.uuid4().hex, 1, employee_code=codes[0],
                                        kind="discipline-decision"), DISCIPLINE)
    assert added.result is not None
    record_id = int(added.result["record"])
    await owner.execute("UPDATE discipline SET effective_to = '2026-03-01' WHERE id = $1",
                        record_id)
    with caplog.at_level("INFO", logger="adapters.submission_store"):
        decisions = await desk.apply_many([
            _round_item(codes[0], 2, "discipline-end",
                        RecordChange("discipline", {"effective_to": date(2026, 8, 1)},
                                     record_id=record_id, expect={"effective_to": None})),
            _round_item(codes[1], 1, "position-change", STEP_2)])
    assert "written again" in caplog.text
    assert [d.status for d in decisions] == ["rejected", "accepted"]
    assert [r["code"] for r in decisions[0].reasons] == ["NOT_FOUND"]
    assert await owner.fetchval("SELECT version FROM employee WHERE employee_code = $1",
                                codes[0]) == 2
    # Another employee's record is refused the same way.
    other = await desk.apply_many([_round_item(
        codes[1], 2, "discipline-end",
        RecordChange("discipline", {"effective_to": date(2026, 8, 1)}, record_id=record_id))])
    assert [r["code"] for r in other[0].reasons] == ["NOT_FOUND"]


async def test_two_items_for_one_employee_in_a_round_are_decided_one_after_the_other(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    """A round naming an employee twice (the desk never sends one; the store stays right if
    another caller does): the second item is decided on the file as the first left it."""
    desk, owner = store
    (code,) = await _round_employees(owner, 1)
    step_3 = RecordChange("employee", {"salary_step": 3, "salary_coefficient": Decimal("3.00")})
    decisions = await desk.apply_many([
        _round_item(code, 1, "position-change", STEP_2),
        _round_item(code, 1, "position-change", step_3),     # stale: the first made 2
        _round_item(code, 2, "position-change", step_3)])
    assert [d.status for d in decisions] == ["accepted", "rejected", "accepted"]
    assert decisions[1].result == {"currentVersion": 2}
    assert [d.result and d.result.get("version") for d in (decisions[0], decisions[2])] == [2, 3]
    assert await owner.fetchval("SELECT salary_step FROM employee WHERE employee_code = $1",
                                code) == 3
    history = await owner.fetch("SELECT version, previous FROM record_version"
                                " WHERE employee_code = $1 ORDER BY version", code)
    assert [(h["version"], orjson.loads(h["previous"])["salary_step"]) for h in history] == [
        (2, 1), (3, 2)]


async def test_a_relative_declared_twice_in_a_race_is_a_duplicate(
        store: tuple[SubmissionStore, asyncpg.Connection]) -> None:
    """Two declarations of one relative that both passed the checks (each before the other
    landed): the database's unique index refuses the second, kept as DUPLICATE."""
    desk, owner = store
    (code,) = await _round_employees(owner, 1)
    relative = RecordChange("family_member", {
        "relation": "sibling", "full_name": "Lê Văn Nam", "birth_year": 1991,
        "occupation": "", "workplace_or_address": "", "personal_id": "001091000321",
        "deceased": False, "death_year": None})
    first = await desk.apply(submission(uuid.uuid4().hex, None, employee_code=code,
                                        kind="family"), relative)
    second = await desk.apply(submission(uuid.uuid4().hex, None, employee_code=code,
                                         kind="family"), relative)
    assert first.status == "accepted", first
    assert (second.status, [(r["code"], r["path"]) for r in second.reasons]) == (
        "rejected", [("DUPLICATE", "change.personalId")])
    # In a round too: the item is refused, its neighbour lands.
    (other,) = await _round_employees(owner, 1)
    decisions = await desk.apply_many([
        _round_item(code, None, "family", relative),
        _round_item(other, None, "position-change", STEP_2)])
    assert [d.status for d in decisions] == ["rejected", "accepted"]
    assert [r["code"] for r in decisions[0].reasons] == ["DUPLICATE"]
