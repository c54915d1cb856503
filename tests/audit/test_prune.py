"""hub.audit.retention and ``hub audit prune``: old partitions go, a signed retention
checkpoint anchors the chains they held, and the log still verifies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from hub.audit.retention import cutoff_for, prune
from hub.audit.verify import verify_log
from hub.auth.keys import SigningKeys
from tests.audit.chains import LogWriter, as_superuser
from tests.audit.commands import Completed, hub_audit


def months_ago(months: int) -> datetime:
    """Noon on the 10th, ``months`` months before this one (UTC)."""
    now = datetime.now(UTC)
    index = now.year * 12 + now.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 10, 12, tzinfo=UTC)


def partition_of(moment: datetime) -> str:
    return f"audit_record_{moment:%Y_%m}"


async def write_old_and_new(log: LogWriter) -> tuple[UUID, UUID, UUID]:
    """``a`` spans an old month and this one; ``b`` lived and closed in the old month;
    ``c`` is new."""
    log.clock = months_ago(3)
    a, b = await log.open(), await log.open()
    await log.append(a, 4)
    await log.append(b, 3)
    await log.checkpoint()
    await log.append(b, 2)
    await log.close(b)
    await log.append(a, 2)
    log.clock = datetime.now(UTC) - timedelta(hours=1)
    await log.append(a, 3)
    c = await log.open()
    await log.append(c, 2)
    await log.checkpoint()
    return a, b, c


async def partitions(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT c.relname FROM pg_inherits i JOIN pg_class c"
                            " ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_record'::regclass")
    return {row[0] for row in rows}


def test_cutoff_keeps_whole_months() -> None:
    now = datetime(2025, 3, 15, 9, tzinfo=UTC)
    assert cutoff_for(now, 1) == datetime(2025, 2, 1, tzinfo=UTC)
    assert cutoff_for(now, 3) == datetime(2024, 12, 1, tzinfo=UTC)
    assert cutoff_for(now, 60) == datetime(2020, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="at least 1 month"):
        cutoff_for(now, 0)


async def test_prune_drops_anchors_and_still_verifies(conn: asyncpg.Connection,
                                                      writer: LogWriter,
                                                      keys: SigningKeys) -> None:
    a, b, _ = await write_old_and_new(writer)
    old = partition_of(months_ago(3))
    assert old in await partitions(conn)
    assert (await verify_log(conn, keys.find)).ok

    dry = await prune(conn, None, 2, dry_run=True)
    assert [p.name for p in dry.partitions] == [old]
    assert dry.records == 11
    assert dry.anchors == {str(a): (6, writer.records[a][5].hash),
                           str(b): (5, writer.records[b][4].hash)}
    assert old in await partitions(conn)
    assert dry.checkpoint is None

    done = await prune(conn, keys, 2)
    assert [p.name for p in done.partitions] == [old]
    assert old not in await partitions(conn)
    assert done.checkpoint == writer.checkpoints[-1] + 1
    row = await conn.fetchrow("SELECT kind, heads FROM audit_checkpoint WHERE id = $1",
                              done.checkpoint)
    assert row["kind"] == "retention"
    assert await conn.fetchval("SELECT count(*) FROM audit_record") == 5

    report = await verify_log(conn, keys.find)
    assert report.ok, [p.describe() for p in report.problems]
    assert report.records == 5
    # Nothing more to do, and the chains go on after the anchor.
    assert not (await prune(conn, keys, 2)).partitions
    writer.checkpoints.append(done.checkpoint)
    await writer.append(a, 2)
    await writer.checkpoint()
    assert (await verify_log(conn, keys.find)).ok

    # Without the retention checkpoint the dropped records are simply missing.
    await as_superuser(conn, "DELETE FROM audit_checkpoint WHERE id = $1", done.checkpoint)
    report = await verify_log(conn, keys.find)
    assert not report.ok
    first = report.first_problem
    assert first is not None
    assert first.kind == "checkpoint"  # the hole in the checkpoint chain it leaves
    assert any(p.kind == "deleted" and p.chain == str(a) and p.seq == 7
               and "seq 1 to 6" in p.detail for p in report.problems)


async def test_prune_refuses_a_chain_cut_in_the_middle(conn: asyncpg.Connection,
                                                       writer: LogWriter,
                                                       keys: SigningKeys) -> None:
    a, _, _ = await write_old_and_new(writer)
    # A record numbered before the old month's last one, yet kept (a clock gone backwards).
    early = writer.records[a][2]
    await as_superuser(conn, "UPDATE audit_record SET recorded_at = now() - interval '1 hour'"
                       " WHERE chain_id = $1 AND seq = $2", a, early.seq)
    from hub.audit.retention import PruneRefused

    with pytest.raises(PruneRefused, match="cut the chain in the middle"):
        await prune(conn, keys, 2)
    assert partition_of(months_ago(3)) in await partitions(conn)


async def test_prune_command(conn: asyncpg.Connection, writer: LogWriter,
                             cli_env: dict[str, str]) -> None:
    a, _, _ = await write_old_and_new(writer)
    old = partition_of(months_ago(3))

    async def hub(*arguments: str, **env: str) -> Completed:
        return await hub_audit({**cli_env, **env}, *arguments)

    dry = await hub("prune", "--keep-months", "2", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would drop 1 partition(s)" in dry.stdout
    assert old in dry.stdout
    assert old in await partitions(conn)

    for refused, message in [
            (await hub("prune", "--keep-months", "0"), "--keep-months must be at least 1"),
            (await hub("prune", HUB_AUDIT_RETENTION_MONTHS="soon"), "HUB_AUDIT_RETENTION_MONTHS"),
            (await hub("prune", HUB_AUDIT_KEY_FILE="/nonexistent/keys.jwks"), "no audit key")]:
        assert refused.returncode == 2, refused
        assert message in refused.stderr
        assert "Traceback" not in refused.stderr
    assert old in await partitions(conn)

    done = await hub("prune", HUB_AUDIT_RETENTION_MONTHS="2")
    assert done.returncode == 0, done.stderr
    assert "dropped 1 partition(s)" in done.stdout
    assert "anchors 2 chain(s)" in done.stdout
    assert old not in await partitions(conn)

    verified = await hub("verify")
    assert verified.returncode == 0, verified.stdout
    assert "the audit log is intact" in verified.stdout

    retention = await conn.fetchval("SELECT max(id) FROM audit_checkpoint")
    await as_superuser(conn, "DELETE FROM audit_checkpoint WHERE id = $1", retention)
    broken = await hub("verify")
    assert broken.returncode == 1, broken.stdout
    assert f"deleted: chain {a} seq 7" in broken.stdout


async def checkpoint_count(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM audit_checkpoint")
    return count


@pytest.mark.parametrize("tampering", ["alter", "delete the last", "rehash under a head"])
async def test_prune_refuses_to_anchor_records_that_do_not_verify(
        conn: asyncpg.Connection, writer: LogWriter, keys: SigningKeys, tampering: str) -> None:
    """A retention checkpoint would vouch for the records it drops, and the evidence would go
    with them: pruning verifies them first, and refuses, dropping and signing nothing."""
    _, b, _ = await write_old_and_new(writer)
    old = partition_of(months_ago(3))
    if tampering == "alter":
        await as_superuser(conn, "UPDATE audit_record SET entry = jsonb_set(entry, "
                           "'{client}', '\"someone-else\"') WHERE chain_id = $1 AND seq = 2", b)
        expected = f"altered: chain {b} seq 2"
    elif tampering == "delete the last":
        # b's close checkpoint states seq 5; the anchor would move to seq 4 unseen.
        await as_superuser(conn, "DELETE FROM audit_record WHERE chain_id = $1 AND seq = 5", b)
        expected = f"deleted: chain {b} seq 5"
    else:
        # Rewritten and re-hashed: its hash and links are right, the signed head is not.
        records = writer.records[b]
        rewritten = writer.seal(b, 3, records[1].hash, records[2].at)
        await as_superuser(conn, "DELETE FROM audit_record WHERE chain_id = $1 AND seq >= 3", b)
        later = [rewritten]
        for record in records[3:]:
            later.append(writer.seal(b, record.seq, later[-1].hash, record.at))
        await writer.insert(later)
        expected = f"altered: chain {b} seq 3"
    before = await checkpoint_count(conn)
    from hub.audit.retention import PruneRefused

    for dry_run in (True, False):
        with pytest.raises(PruneRefused, match="the records to drop do not verify") as refused:
            await prune(conn, keys, 2, dry_run=dry_run)
        assert expected in str(refused.value)
    assert old in await partitions(conn)
    assert await checkpoint_count(conn) == before
    # A dry run without the keys cannot verify: it only says what it would drop.
    assert [p.name for p in (await prune(conn, None, 2, dry_run=True)).partitions] == [old]


async def test_prune_does_not_verify_what_it_keeps(conn: asyncpg.Connection,
                                                   writer: LogWriter, keys: SigningKeys) -> None:
    """Only the records to drop (and the link to the first one kept) stand in its way: a
    problem among the months kept is for `hub audit verify` to name."""
    a, _, _ = await write_old_and_new(writer)
    await as_superuser(conn, "UPDATE audit_record SET client_id = 'someone-else'"
                       " WHERE chain_id = $1 AND seq = 8", a)
    done = await prune(conn, keys, 2)
    assert done.checkpoint is not None
    report = await verify_log(conn, keys.find)
    assert [(p.kind, p.seq) for p in report.problems] == [("altered", 8)]


async def test_prune_checks_the_link_to_the_first_record_kept(
        conn: asyncpg.Connection, writer: LogWriter, keys: SigningKeys) -> None:
    a, _, _ = await write_old_and_new(writer)
    # a's first record of this month (seq 7) is deleted: a checkpoint states seq 9.
    await as_superuser(conn, "DELETE FROM audit_record WHERE chain_id = $1 AND seq = 7", a)
    from hub.audit.retention import PruneRefused

    with pytest.raises(PruneRefused, match=f"deleted: chain {a} seq 7: checkpoint #[0-9]+ "
                       "states the chain reached seq 9, but its records end at seq 6: at least "
                       "seq 7 deleted"):
        await prune(conn, keys, 2)
    assert partition_of(months_ago(3)) in await partitions(conn)


async def test_prune_command_refuses_a_tampered_month(
        conn: asyncpg.Connection, writer: LogWriter, cli_env: dict[str, str]) -> None:
    _, b, _ = await write_old_and_new(writer)
    old = partition_of(months_ago(3))
    await as_superuser(conn, "UPDATE audit_record SET client_id = 'someone-else'"
                       " WHERE chain_id = $1 AND seq = 4", b)
    before = await checkpoint_count(conn)
    for arguments in (["--dry-run"], []):
        refused = await hub_audit(cli_env, "prune", "--keep-months", "2", *arguments)
        assert refused.returncode == 1, refused
        assert refused.stderr.startswith("hub audit prune: refused: the records to drop do not "
                                         "verify"), refused.stderr
        assert f"altered: chain {b} seq 4" in refused.stderr
    assert old in await partitions(conn)
    assert await checkpoint_count(conn) == before
