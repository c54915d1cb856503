"""hub.audit.verify: a valid log verifies, and every kind of tampering is named."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from hub.audit.verify import VerifyReport, verify_log
from hub.auth.keys import SigningKeys
from tests.audit.chains import LogWriter, as_superuser
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
    # The two records after a's last checkpoint are two hours old: a warning, not a failure.
    assert len(report.warnings) == 1
    assert str(sample.a) in report.warnings[0]
    assert "2 record(s)" in report.warnings[0]
    # Within the grace period they are no news at all.
    assert not (await verify(conn, keys, grace=timedelta(days=1))).warnings


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
