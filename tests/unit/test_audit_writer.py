"""The audit writer against a real PostgreSQL: group commit, valid chains, fail closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import orjson
import pytest
import pytest_asyncio

from hub.audit.chain import genesis_hash, record_hash
from hub.audit.entry import AuditDraft
from hub.audit.writer import AuditUnavailable, AuditWriter
from hub.auth.keys import SigningKeys
from tests.own_database import own_migrated_database

ROLE = "hub_runtime"


@pytest.fixture(scope="module")
def audit_db(server_url: str) -> str:
    return own_migrated_database(server_url, "audit_writer")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    return SigningKeys.load_or_create(tmp_path_factory.mktemp("keys") / "signing.jwks", "ES256")


@pytest_asyncio.fixture
async def owner(audit_db: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(audit_db)
    try:
        yield conn
    finally:
        await conn.execute(f"GRANT INSERT ON audit_record TO {ROLE}")
        await conn.close()


def _draft(index: int, subjects: list[str] | None = None) -> AuditDraft:
    people = subjects if subjects is not None else [f"0010{index:08d}"]
    return AuditDraft(request_id=f"r{index}", trace_id="ab" * 16, client_id="test-client",
                      purpose="testing", outcome="allowed", status=200,
                      disclosed=[(("CivilServant.fullName",), people)], latency_us=10)


async def _chain_rows(conn: asyncpg.Connection, chain: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT seq, recorded_at, entry, prev_hash, hash, subject_ids FROM audit_record"
        " WHERE chain_id = $1 ORDER BY seq", chain)
    return rows


def _assert_linked(rows: list[asyncpg.Record], chain: str) -> None:
    import uuid

    previous = genesis_hash(uuid.UUID(chain))
    for expected_seq, row in enumerate(rows, start=1):
        assert row["seq"] == expected_seq
        assert bytes(row["prev_hash"]) == previous
        assert record_hash(previous, orjson.loads(row["entry"])) == bytes(row["hash"])
        previous = bytes(row["hash"])


async def test_concurrent_records_share_commits_and_form_one_chain(
        audit_db: str, keys: SigningKeys, owner: asyncpg.Connection) -> None:
    writer = AuditWriter(audit_db, keys, role=ROLE, checkpoint_seconds=3600)
    await writer.open()
    try:
        await asyncio.gather(*(writer.record(_draft(i)) for i in range(300)))
        chain = writer.status().chain
        assert chain is not None
    finally:
        await writer.close()
    rows = await _chain_rows(owner, chain)
    assert len(rows) == 300
    _assert_linked(rows, chain)
    # Records written in one transaction share its time: far fewer commits than records.
    commits = len({row["recorded_at"] for row in rows})
    assert commits < 100, f"{commits} commits for 300 concurrent records"
    kinds = await owner.fetch(
        "SELECT kind, heads FROM audit_checkpoint WHERE heads ? $1 ORDER BY id", chain)
    assert [k["kind"] for k in kinds] == ["open", "close"]
    assert orjson.loads(kinds[-1]["heads"])[chain][0] == 300


async def test_subject_column_matches_the_entry(audit_db: str, keys: SigningKeys,
                                                owner: asyncpg.Connection) -> None:
    writer = AuditWriter(audit_db, keys, role=ROLE)
    await writer.open()
    try:
        await writer.record(_draft(1, ["001000000003", "001000000002"]))
        chain = writer.status().chain
        assert chain is not None
    finally:
        await writer.close()
    (row,) = await _chain_rows(owner, chain)
    assert row["subject_ids"] == ["001000000002", "001000000003"]
    entry = orjson.loads(row["entry"])
    assert entry["disclosed"] == [{"fields": ["CivilServant.fullName"],
                                   "subjects": ["001000000003", "001000000002"]}]
    assert "value" not in row["entry"]


async def test_a_refused_write_fails_the_request_and_the_chain_goes_on(
        audit_db: str, keys: SigningKeys, owner: asyncpg.Connection) -> None:
    writer = AuditWriter(audit_db, keys, role=ROLE, timeout_seconds=2)
    await writer.open()
    try:
        await writer.record(_draft(1))
        chain = writer.status().chain
        await owner.execute(f"REVOKE INSERT ON audit_record FROM {ROLE}")
        with pytest.raises(AuditUnavailable):
            await writer.record(_draft(2))
        assert not writer.status().ok
        await owner.execute(f"GRANT INSERT ON audit_record TO {ROLE}")
        await writer.record(_draft(3))
        assert writer.status().ok
        # The refusal surely rolled back: the chain goes on where it was.
        assert writer.status().chain == chain
    finally:
        await writer.close()
    assert chain is not None
    rows = await _chain_rows(owner, chain)
    assert [orjson.loads(r["entry"])["request"] for r in rows] == ["r1", "r3"]
    _assert_linked(rows, chain)


async def test_one_record_the_database_refuses_fails_only_its_own_request(
        audit_db: str, keys: SigningKeys, owner: asyncpg.Connection) -> None:
    await owner.execute("ALTER TABLE audit_record ADD CONSTRAINT test_poison"
                        " CHECK (entry->'operation'->>'name' IS DISTINCT FROM 'poison')")
    writer = AuditWriter(audit_db, keys, role=ROLE)
    await writer.open()
    try:
        drafts = [_draft(i) for i in range(10)]
        drafts[4].operation_name = "poison"
        drafts[6].sources = {"national": "not a number"}  # type: ignore[dict-item]
        outcomes = await asyncio.gather(*(writer.record(d) for d in drafts),
                                        return_exceptions=True)
        chain = writer.status().chain
    finally:
        await writer.close()
        await owner.execute("ALTER TABLE audit_record DROP CONSTRAINT test_poison")
    failed = [i for i, o in enumerate(outcomes) if isinstance(o, AuditUnavailable)]
    assert failed == [4, 6]
    assert chain is not None
    rows = await _chain_rows(owner, chain)
    assert sorted(orjson.loads(r["entry"])["request"] for r in rows) == sorted(
        f"r{i}" for i in range(10) if i not in (4, 6))
    _assert_linked(rows, chain)


async def test_client_chosen_text_cannot_break_a_shared_commit(
        audit_db: str, keys: SigningKeys, owner: asyncpg.Connection) -> None:
    writer = AuditWriter(audit_db, keys, role=ROLE)
    await writer.open()
    try:
        drafts = [_draft(i) for i in range(5)]
        drafts[2].operation_name = "x\x00y\u2028" + "z" * 10_000  # jsonb holds no NUL
        drafts[3].end_user = "tab\there"
        await asyncio.gather(*(writer.record(d) for d in drafts))
        chain = writer.status().chain
    finally:
        await writer.close()
    assert chain is not None
    rows = await _chain_rows(owner, chain)
    entries = {e["request"]: e for e in (orjson.loads(r["entry"]) for r in rows)}
    name = entries["r2"]["operation"]["name"]
    assert name.startswith("x\ufffdy\ufffd")
    assert len(name) == 256
    assert entries["r3"]["endUser"] == "tab\ufffdhere"


async def test_a_write_of_unknown_outcome_closes_the_chain_where_it_really_ends(
        audit_db: str, keys: SigningKeys, owner: asyncpg.Connection) -> None:
    writer = AuditWriter(audit_db, keys, role=ROLE, timeout_seconds=1)
    await writer.open()
    try:
        await writer.record(_draft(1))
        first = writer.status().chain
        async with owner.transaction():  # the write hangs, then times out: outcome unknown
            await owner.execute("LOCK TABLE audit_record IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(AuditUnavailable):
                await writer.record(_draft(2))
        await writer.record(_draft(3))
        second = writer.status().chain
    finally:
        await writer.close()
    assert first is not None
    assert second is not None
    assert first != second
    closes = await owner.fetch("SELECT heads FROM audit_checkpoint WHERE kind = 'close'"
                               " AND heads ? $1", first)
    assert len(closes) == 1
    (seq, head), = orjson.loads(closes[0]["heads"]).values()
    rows = await _chain_rows(owner, first)
    assert (seq, head) == (rows[-1]["seq"], bytes(rows[-1]["hash"]).hex())


async def test_a_hanging_store_times_out(audit_db: str, keys: SigningKeys,
                                         owner: asyncpg.Connection) -> None:
    writer = AuditWriter(audit_db, keys, role=ROLE, timeout_seconds=1)
    await writer.open()
    try:
        async with owner.transaction():
            await owner.execute("LOCK TABLE audit_record IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(AuditUnavailable):
                await writer.record(_draft(1))
        await writer.record(_draft(2))
    finally:
        await writer.close()


async def test_a_backlog_over_the_limit_is_refused_at_once(audit_db: str, keys: SigningKeys,
                                                           owner: asyncpg.Connection) -> None:
    writer = AuditWriter(audit_db, keys, role=ROLE, max_pending=5, timeout_seconds=2)
    await writer.open()
    try:
        async with owner.transaction():
            await owner.execute("LOCK TABLE audit_record IN ACCESS EXCLUSIVE MODE")
            outcomes = await asyncio.gather(*(writer.record(_draft(i)) for i in range(20)),
                                            return_exceptions=True)
        assert all(isinstance(o, AuditUnavailable) for o in outcomes)
        messages = {str(o) for o in outcomes}
        assert "the audit log is not keeping up" in messages
    finally:
        await writer.close()


async def test_the_runtime_role_cannot_change_records(audit_db: str, keys: SigningKeys,
                                                      owner: asyncpg.Connection) -> None:
    writer = AuditWriter(audit_db, keys, role=ROLE)
    await writer.open()
    await writer.record(_draft(1))
    await writer.close()
    runtime = await asyncpg.connect(audit_db, server_settings={"role": ROLE})
    try:
        for statement in ("UPDATE audit_record SET client_id = 'x'", "DELETE FROM audit_record",
                          "TRUNCATE audit_record", "DELETE FROM audit_checkpoint",
                          "UPDATE audit_checkpoint SET kind = 'head'"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await runtime.execute(statement)
    finally:
        await runtime.close()
    # The owner is stopped by the triggers (only disabling them, which shows, gets past).
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await owner.execute("DELETE FROM audit_record")


async def test_after_close_nothing_is_accepted(audit_db: str, keys: SigningKeys) -> None:
    writer = AuditWriter(audit_db, keys, role=ROLE)
    await writer.open()
    await writer.close()
    with pytest.raises(AuditUnavailable):
        await writer.record(_draft(1))


async def test_a_store_that_cannot_be_reached_stops_the_start(keys: SigningKeys,
                                                              tmp_path: Path) -> None:
    writer = AuditWriter("postgresql://postgres@127.0.0.1:1/none", keys, role=ROLE)
    with pytest.raises(OSError):
        await writer.open()
