"""Retention: dropping whole monthly partitions of audit records once they are older than the
retention period, after a signed 'retention' checkpoint states where each chain stood in them.

Dropping a partition is the only way records leave the log (the triggers refuse DELETE and
TRUNCATE; DROP TABLE is the owner's and is not a row change). The checkpoint, written in the
same transaction as the drops, is what lets verification tell this from a deletion: a chain
whose first records were dropped resumes after the anchored seq and hash. Checkpoints are
never dropped: they are small, and the checkpoint chain must stay whole from its first link.

A retention checkpoint vouches for what it anchors, and the records under it then vanish: so
before signing one, the records to be dropped are verified (each chain they hold, up to its
anchor and the link to its first record kept: hashes, links, columns, the heads checkpoints
stated, and every checkpoint), and pruning is refused if anything is wrong: tampering found
after the drop could no longer be shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from hub.audit.checkpoints import append_checkpoint
from hub.audit.verify import verify_log
from hub.auth.keys import SigningKeys
from hub.config import env_int

__all__ = ["DEFAULT_KEEP_MONTHS", "Partition", "PrunePlan", "PruneRefused", "cutoff_for",
           "keep_months_from_env", "monthly_partitions", "plan_prune", "prune",
           "verify_before_prune"]

DEFAULT_KEEP_MONTHS = 60
_PARTITION = re.compile(r"audit_record_([0-9]{4})_([0-9]{2})")
_LOCK_TIMEOUT = "30s"  # behind a long export, give up rather than stall the hub's writes


class PruneRefused(Exception):
    """Pruning would leave a chain that verification cannot follow, or would anchor records
    that do not verify; nothing was dropped."""


def keep_months_from_env() -> int:
    return env_int("HUB_AUDIT_RETENTION_MONTHS", DEFAULT_KEEP_MONTHS, 1, 1200)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def cutoff_for(now: datetime, keep_months: int) -> datetime:
    """The start of the oldest month kept: the current month and the ``keep_months`` full
    months before it stay, so at least ``keep_months`` months of records are always kept."""
    if keep_months < 1:
        raise ValueError("keep at least 1 month of audit records")
    now = now.astimezone(UTC)
    year, month = _add_months(now.year, now.month, -keep_months)
    return datetime(year, month, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    start: datetime
    end: datetime  # exclusive


@dataclass(slots=True)
class PrunePlan:
    cutoff: datetime
    partitions: list[Partition] = field(default_factory=list)
    records: int = 0
    #: Per chain, its last record in the partitions to drop: (seq, hash).
    anchors: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    checkpoint: int | None = None  # the retention checkpoint written, once pruned


async def monthly_partitions(conn: asyncpg.Connection) -> list[Partition]:
    """The partitions of audit_record, oldest first."""
    names = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'audit_record'::regclass")
    partitions = []
    for (name,) in names:
        # Only the partitions audit_ensure_partitions makes, recognised by their exact name.
        match = _PARTITION.fullmatch(name)
        if match is None or not 1 <= int(match[2]) <= 12:
            continue
        start = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
        end_year, end_month = _add_months(start.year, start.month, 1)
        partitions.append(Partition(name, start, datetime(end_year, end_month, 1, tzinfo=UTC)))
    return sorted(partitions, key=lambda p: p.start)


async def plan_prune(conn: asyncpg.Connection, keep_months: int,
                     now: datetime | None = None) -> PrunePlan:
    """What pruning would drop and anchor. Run it in a transaction: it locks the partitions
    to drop against writes until that transaction ends, so the anchors stay true."""
    plan = PrunePlan(cutoff_for(now or datetime.now(UTC), keep_months))
    plan.partitions = [p for p in await monthly_partitions(conn) if p.end <= plan.cutoff]
    for partition in plan.partitions:
        table = f'"{partition.name}"'  # a name matched against _PARTITION: nothing to escape
        await conn.execute(f"LOCK TABLE {table} IN SHARE MODE")
        plan.records += await conn.fetchval(f"SELECT count(*) FROM {table}")
        for chain, seq, digest in await conn.fetch(
                f"SELECT DISTINCT ON (chain_id) chain_id, seq, hash FROM {table}"
                " ORDER BY chain_id, seq DESC"):
            known = plan.anchors.get(str(chain))
            if known is None or seq > known[0]:
                plan.anchors[str(chain)] = (seq, bytes(digest))
    if plan.anchors:
        await _refuse_records_behind_anchors(conn, plan)
    return plan


async def _refuse_records_behind_anchors(conn: asyncpg.Connection, plan: PrunePlan) -> None:
    # A record kept although an earlier-numbered one is dropped (a clock that went back over
    # a month's end) would sit before its chain's anchor, which verification reports.
    chains = list(plan.anchors)
    found = await conn.fetchrow(
        "SELECT r.chain_id, r.seq FROM unnest($1::uuid[], $2::bigint[]) AS a(chain_id, seq)"
        " JOIN audit_record r ON r.chain_id = a.chain_id AND r.seq <= a.seq"
        " WHERE r.recorded_at >= $3 LIMIT 1",
        chains, [plan.anchors[c][0] for c in chains], plan.cutoff)
    if found is not None:
        raise PruneRefused(
            f"chain {found['chain_id']} keeps record seq {found['seq']} after "
            f"{plan.cutoff:%Y-%m-%d} although a later-numbered record of it is older: "
            "pruning would cut the chain in the middle; keep more months")


async def verify_before_prune(conn: asyncpg.Connection, keys: SigningKeys,
                              plan: PrunePlan) -> None:
    """Refuse (PruneRefused) unless the records the plan drops verify: each chain they hold,
    up to its anchor, and the checkpoint chain."""
    if not plan.anchors:
        return
    report = await verify_log(conn, keys.find,
                              limits={chain: seq for chain, (seq, _) in plan.anchors.items()})
    # The verifier's cursors stay open until the transaction ends, and an open cursor over a
    # partition keeps it from being dropped: close them (this transaction opened no other).
    await conn.execute("CLOSE ALL")
    first = report.first_problem
    if first is None:
        return
    more = (f" (and {report.problem_count - 1:,} more problem(s))"
            if report.problem_count > 1 else "")
    raise PruneRefused(
        f"the records to drop do not verify, and a retention checkpoint must not vouch for "
        f"them: {first.describe()}{more}; see `hub audit verify`")


async def prune(conn: asyncpg.Connection, keys: SigningKeys | None, keep_months: int, *,
                dry_run: bool = False, now: datetime | None = None) -> PrunePlan:
    """Drop the partitions entirely older than the cutoff, after one signed 'retention'
    checkpoint anchoring each chain they held (all in one transaction: both happen or
    neither), once the records dropped verify. ``conn`` must be the owner's; ``keys`` may
    be None for a dry run (which then does not verify)."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
        plan = await plan_prune(conn, keep_months, now)
        if not plan.partitions:
            return plan
        if keys is not None:
            await verify_before_prune(conn, keys, plan)
        if dry_run:
            return plan
        if keys is None:
            raise ValueError("pruning writes a signed checkpoint: the signing keys are needed")
        if plan.anchors:
            plan.checkpoint = await append_checkpoint(conn, "retention", plan.anchors, keys)
        for partition in plan.partitions:
            await conn.execute(f'DROP TABLE "{partition.name}"')
    return plan
