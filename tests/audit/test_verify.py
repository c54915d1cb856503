"""hub.audit.verify: a valid log verifies, and every kind of tampering is named."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from hub.audit.chain import record_hash
from hub.audit.verify import VerifyReport, verify_log
from hub.auth.keys import SigningKeys
from tests.audit.chains import COLUMNS, LogWriter, Record, as_superuser
from tests.audit.tampering import TAMPERINGS, Expected, Pick


@dataclass
class Sample:
    """Three chains interleaved in time: ``a`` open with a checkpointed head and a tail after
    it, ``b`` closed, ``c`` closed with no record after its last head."""

    a: UUID
    b: UUID
    c: UUID
    head_checkpoint: int


async def write_sample(log: LogWriter) -> Sample:
    a, b = await log.open(), await log.open()
    await log.append(a, 3)
    await log.append(b, 2)
    await log.append(a, 2)
    head = await log.checkpoint()
    c = await log.open()
    await log.append(c, 3)
    await log.append(b, 3)
    await log.close(b)
    await log.append(a, 2)
    await log.checkpoint()
    await log.append(c, 1)
    await log.close(c)
    await log.append(a, 2)  # not yet checkpointed
    return Sample(a, b, c, head)


async def verify(conn: asyncpg.Connection, keys: SigningKeys, **options: Any) -> VerifyReport:
    return await verify_log(conn, keys.find, **options)


async def test_a_valid_log_verifies(conn: asyncpg.Connection, writer: LogWriter,
                                    keys: SigningKeys) -> None:
    sample = await write_sample(writer)
    calls: list[int] = []
    report = await verify(conn, keys, progress=calls.append)
    assert report.ok, [p.describe() for p in report.problems]
    assert report.first_problem is None
    assert (report.records, report.chains, report.checkpoints) == (18, 3, 7)
    assert sum(calls) == 18
    assert report.last_checkpoint is not None
    assert report.last_checkpoint[0] == 7
    # The two records after a's last checkpoint are two hours old, and a was never closed:
    # an unclosed chain, not a failure.
    (unclosed,) = report.unclosed
    assert (unclosed.chain, unclosed.last_seq, unclosed.stated, unclosed.unprotected) == (
        str(sample.a), 9, 7, 2)
    assert unclosed.last_active == writer.records[sample.a][-1].at
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith(f"unclosed chain {sample.a}: never closed")
    assert "2 record(s) after its last checkpoint (seq 8 to 9) are UNPROTECTED" in (
        report.warnings[0])
    # Within the grace period they are no news at all.
    assert not (await verify(conn, keys, grace=timedelta(days=1))).unclosed


async def test_an_empty_log_verifies(conn: asyncpg.Connection, keys: SigningKeys) -> None:
    report = await verify(conn, keys)
    assert report.ok
    assert (report.records, report.chains, report.checkpoints) == (0, 0, 0)


def first_of(records: Sequence[Any]) -> Any:
    return records[0]


def second_of(records: Sequence[Any]) -> Any:
    return records[1]


@pytest.mark.parametrize("name", list(TAMPERINGS))
async def test_each_tampering_is_named(conn: asyncpg.Connection, writer: LogWriter,
                                       keys: SigningKeys, name: str) -> None:
    sample = await write_sample(writer)
    assert (await verify(conn, keys)).ok
    pick: Pick = first_of
    if name == "delete a checkpoint":
        # A head checkpoint in the middle (an 'open' one would also orphan its chain).
        pick = lambda _: sample.head_checkpoint  # noqa: E731
    elif name in ("delete a middle record", "swap two records' contents", "renumber seq"):
        pick = second_of
    expected = await TAMPERINGS[name](writer, pick)
    assert expected is not None
    report = await verify(conn, keys)
    assert not report.ok
    check_first(report, expected)


def check_first(report: VerifyReport, expected: Expected) -> None:
    first = report.first_problem
    assert first is not None
    described = first.describe()
    assert first.kind in expected.kinds, described
    if expected.checkpoint is not None:
        assert first.checkpoint == expected.checkpoint, described
        assert f"checkpoint #{expected.checkpoint}" in described
        return
    assert (first.chain, first.seq) == (str(expected.chain), expected.seq), described
    assert described.startswith(f"{first.kind}: chain {expected.chain} seq {expected.seq}")
    if first.recorded_at is not None:
        assert first.request is not None
        assert f"request {first.request}" in described


async def test_messages_read_well(conn: asyncpg.Connection, writer: LogWriter,
                                  keys: SigningKeys) -> None:
    sample = await write_sample(writer)
    record = writer.records[sample.a][3]
    await as_superuser(conn, "UPDATE audit_record SET entry = jsonb_set(entry, '{client}',"
                       " '\"mof-payroll-x\"') WHERE chain_id = $1 AND seq = 4", sample.a)
    first = (await verify(conn, keys)).first_problem
    assert first is not None
    assert first.describe() == (
        f"altered: chain {sample.a} seq 4 (recorded {record.entry['at']}, request "
        f"{record.request}): its hash does not match its content")


async def test_a_record_rewritten_and_rehashed_under_a_checkpoint(
        conn: asyncpg.Connection, writer: LogWriter, keys: SigningKeys) -> None:
    """Rewriting the record a checkpoint names, re-hashing it and the rest of its chain: only
    the signed head gives it away."""
    sample = await write_sample(writer)
    records = writer.records[sample.b]
    rewritten = writer.seal(sample.b, 5, records[3].hash, records[4].at)
    await as_superuser(conn, "DELETE FROM audit_record WHERE chain_id = $1 AND seq = 5",
                       sample.b)
    await writer.insert([rewritten])
    report = await verify(conn, keys)
    first = report.first_problem
    assert first is not None
    assert (first.kind, first.seq) == ("altered", 5)
    assert "signed another hash" in first.detail


async def test_chain_with_an_open_checkpoint_whose_records_are_gone(
        conn: asyncpg.Connection, writer: LogWriter, keys: SigningKeys) -> None:
    sample = await write_sample(writer)
    await as_superuser(conn, "DELETE FROM audit_record WHERE chain_id = $1", sample.c)
    first = (await verify(conn, keys)).first_problem
    assert first is not None
    assert first.kind == "deleted"
    assert first.chain == str(sample.c)
    assert "checkpoint #" in first.detail
    assert "reached seq 3" in first.detail


async def test_random_single_tamperings(conn: asyncpg.Connection, writer: LogWriter,
                                        keys: SigningKeys) -> None:
    """Each action against a random target of the sample log, a few times over."""
    rng = random.Random(4)
    for name, action in TAMPERINGS.items():
        for _ in range(2):
            await conn.execute("SET session_replication_role = replica")
            await conn.execute("TRUNCATE audit_record, audit_checkpoint")
            await conn.execute("RESET session_replication_role")
            log = LogWriter(conn, keys, seed=rng.randrange(1000))
            await write_sample(log)
            assert await action(log, rng.choice) is not None, name
            assert not (await verify(conn, keys)).ok, name


async def test_hub_runtime_cannot_change_the_log(conn: asyncpg.Connection, writer: LogWriter
                                                 ) -> None:
    await write_sample(writer)
    partition = await conn.fetchval(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'audit_record'::regclass ORDER BY 1 LIMIT 1")
    statements = [
        "UPDATE audit_record SET client_id = 'x'",
        "DELETE FROM audit_record",
        "TRUNCATE audit_record",
        f"TRUNCATE {partition}",
        "UPDATE audit_checkpoint SET kind = 'head'",
        "DELETE FROM audit_checkpoint",
        "TRUNCATE audit_checkpoint",
    ]
    for statement in statements:
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE hub_runtime")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(statement)
    # What it may do: read and append.
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE hub_runtime")
        assert await conn.fetchval("SELECT count(*) FROM audit_record") == 18
    # The owner (here a superuser) is stopped by the triggers unless it disables them.
    for statement in statements:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(statement)
    assert await conn.fetchval("SELECT count(*) FROM audit_record") == 18
    assert await conn.fetchval("SELECT count(*) FROM audit_checkpoint") == 7


# -- rows no hub writes --------------------------------------------------------------------------

DEEP = "[" * 300 + "]" * 300  # valid jsonb, but deeper than canonical JSON goes


@pytest.mark.parametrize(("entry", "message"), [
    ('{"n": 1e400}', "its entry cannot be read as JSON (number is infinity"),
    (f'{{"n": {DEEP}}}', "its entry is malformed (TypeError: Recursion limit reached)"),
    ("[1, 2]", "its hash does not match its content"),
    ('"text"', "its hash does not match its content"),
])
async def test_an_unreadable_entry_is_named_and_the_walk_goes_on(
        conn: asyncpg.Connection, writer: LogWriter, keys: SigningKeys, entry: str,
        message: str) -> None:
    """An entry PostgreSQL keeps but no hub writes, put in place of a checkpointed record's:
    that row is named as altered, and the rest of the log is still checked."""
    sample = await write_sample(writer)
    await as_superuser(conn, "UPDATE audit_record SET entry = $2::jsonb"
                       " WHERE chain_id = $1 AND seq = 2", sample.b, entry)
    # A second tampering further on: still found.
    await as_superuser(conn, "UPDATE audit_record SET client_id = 'someone-else'"
                       " WHERE chain_id = $1 AND seq = 3", sample.c)
    report = await verify(conn, keys)
    assert report.records == 18
    assert [(p.kind, p.chain, p.seq) for p in report.problems] == [
        ("altered", str(sample.b), 2), ("altered", str(sample.c), 3)], [
        p.describe() for p in report.problems]
    first = report.problems[0]
    assert message in first.detail, first.describe()
    assert first.describe().startswith(f"altered: chain {sample.b} seq 2 (recorded ")


async def insert_row(conn: asyncpg.Connection, chain: UUID, seq: int, prev: bytes,
                     entry: str, template: Record) -> None:
    """A row as anyone allowed to INSERT can add it (no trigger stops an insert)."""
    digest = hashlib.sha256(prev + entry.encode()).digest()
    await conn.execute(
        f"INSERT INTO audit_record ({', '.join(COLUMNS)}) VALUES ($1, $2, $3, $4, $5, $6, $7,"
        " $8::jsonb, $9, $10)", template.at + timedelta(milliseconds=1), chain, seq,
        template.client, None, "allowed", [], entry, prev, digest)


async def test_a_row_inserted_with_an_unreadable_entry_is_named(
        conn: asyncpg.Connection, writer: LogWriter, keys: SigningKeys) -> None:
    sample = await write_sample(writer)
    last = writer.records[sample.a][-1]
    await insert_row(conn, sample.a, last.seq + 1, last.hash, '{"n": 1e400}', last)
    report = await verify(conn, keys)
    first = report.first_problem
    assert first is not None
    assert report.problem_count == 1, [p.describe() for p in report.problems]
    assert (first.kind, first.chain, first.seq) == ("altered", str(sample.a), 10)
    assert "cannot be read as JSON" in first.detail
    assert "altered or inserted" in first.detail


@pytest.mark.parametrize("damage", ["no request", "an impossible time", "subjects of any type"])
async def test_a_forged_record_with_a_good_hash_but_a_malformed_entry(
        conn: asyncpg.Connection, writer: LogWriter, keys: SigningKeys, damage: str) -> None:
    """Hashes are not keyed: a forger can make one match any entry. An entry the hub would
    never write is named, not a crash."""
    sample = await write_sample(writer)
    last = writer.records[sample.a][-1]
    forged = writer.seal(sample.a, last.seq + 1, last.hash, last.at + timedelta(seconds=1))
    entry = dict(forged.entry)
    if damage == "no request":
        del entry["request"]
    elif damage == "an impossible time":
        entry["at"] = "2026-13-45T25:61:61.000000+00:00"
    else:
        entry["disclosed"] = [{"fields": ["Person.alive"], "subjects": [1, "0010900000001"]}]
    record = Record(forged.chain, forged.seq, forged.at, forged.client, forged.subjects,
                    forged.request, entry, forged.prev_hash, record_hash(forged.prev_hash, entry))
    await writer.insert([record])
    report = await verify(conn, keys)
    first = report.first_problem
    assert first is not None, damage
    assert report.problem_count == 1, [p.describe() for p in report.problems]
    assert (first.kind, first.chain, first.seq) == ("altered", str(sample.a), 10)


# -- unclosed chains and checkpoints kept elsewhere ---------------------------------------------

async def test_unclosed_chains_are_listed_apart(conn: asyncpg.Connection, writer: LogWriter,
                                                keys: SigningKeys) -> None:
    """A writer killed (SIGKILL) leaves its chain without a close: after its last checkpoint
    (d), after records it never checkpointed (a), or before it wrote anything (e)."""
    sample = await write_sample(writer)
    d = await writer.open()
    await writer.append(d, 2)
    stated = await writer.checkpoint(d)
    e = await writer.open()
    report = await verify(conn, keys, grace=timedelta(0))
    assert report.ok
    found = {u.chain: u for u in report.unclosed}
    assert set(found) == {str(sample.a), str(d), str(e)}  # b and c were closed
    assert (found[str(sample.a)].unprotected, found[str(d)].unprotected) == (2, 0)
    assert found[str(d)].last_checkpoint == stated
    assert "no record after its last checkpoint" in found[str(d)].describe()
    assert not found[str(e)].has_records
    assert "holds no record" in found[str(e)].describe()
    # Checkpoints are a moment old (the sample's records two hours): only a's tail is old.
    assert [u.chain for u in (await verify(conn, keys)).unclosed] == [str(sample.a)]


async def test_a_checkpoint_kept_elsewhere(conn: asyncpg.Connection, writer: LogWriter,
                                           keys: SigningKeys) -> None:
    sample = await write_sample(writer)
    report = await verify(conn, keys)
    assert report.last_checkpoint is not None
    newest, digest = report.last_checkpoint[0], bytes.fromhex(report.last_checkpoint[1])
    assert (await verify(conn, keys, expect={newest: digest})).ok

    wrong = await verify(conn, keys, expect={newest: bytes(32), 2: digest})
    assert [(p.kind, p.checkpoint) for p in wrong.problems] == [
        ("checkpoint", 2), ("checkpoint", newest)]
    assert "the copy kept outside the log says" in wrong.problems[1].detail

    # Cutting the newest checkpoint (c's close) off the end: the log alone cannot tell...
    await as_superuser(conn, "DELETE FROM audit_checkpoint WHERE id = $1", newest)
    alone = await verify(conn, keys, grace=timedelta(0))
    assert alone.ok
    assert str(sample.c) in {u.chain for u in alone.unclosed}  # its close is gone
    # ...the copy kept elsewhere can.
    cut = await verify(conn, keys, expect={newest: digest})
    first = cut.first_problem
    assert first is not None
    assert first.describe() == (
        f"checkpoint: checkpoint #{newest}: it is missing, but the copy kept outside the log "
        f"names it (hash {digest.hex()}): checkpoints were cut off the end of the checkpoint "
        f"chain (the newest left is #{newest - 1})")
