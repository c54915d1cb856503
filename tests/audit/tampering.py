"""What a database superuser could do to the audit log behind the hub's back, one action each.

Every action works on a log written by :class:`tests.audit.chains.LogWriter`, picks its target
with ``pick`` (random, or drawn by Hypothesis), bypasses the append-only triggers and returns
what the verifier should name first, or None when the log offers no target for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import orjson

from hub.audit.chain import genesis_hash, sign_checkpoint
from hub.auth.keys import generate_signing_key
from tests.audit.chains import LogWriter, Record, as_superuser

__all__ = ["TAMPERINGS", "Expected", "Pick"]

T = TypeVar("T")
Pick = Callable[[Sequence[Any]], Any]


@dataclass(frozen=True)
class Expected:
    """The first problem the verifier must report."""

    kinds: tuple[str, ...]
    chain: UUID | None = None
    seq: int | None = None
    checkpoint: int | None = None


def _with_successor(log: LogWriter) -> list[Record]:
    return [r for rs in log.records.values() for r in rs[:-1]]


async def alter_entry(log: LogWriter, pick: Pick) -> Expected | None:
    records = log.all_records()
    if not records:
        return None
    target: Record = pick(records)
    await as_superuser(log.conn, "UPDATE audit_record SET entry = jsonb_set(entry, '{latencyUs}',"
                       " to_jsonb((entry->>'latencyUs')::bigint + 1))"
                       " WHERE chain_id = $1 AND seq = $2", target.chain, target.seq)
    return Expected(("altered",), target.chain, target.seq)


async def alter_client_column(log: LogWriter, pick: Pick) -> Expected | None:
    records = log.all_records()
    if not records:
        return None
    target: Record = pick(records)
    await as_superuser(log.conn, "UPDATE audit_record SET client_id = 'someone-else'"
                       " WHERE chain_id = $1 AND seq = $2", target.chain, target.seq)
    return Expected(("altered",), target.chain, target.seq)


async def alter_subjects_column(log: LogWriter, pick: Pick) -> Expected | None:
    records = log.all_records()
    if not records:
        return None
    target: Record = pick(records)
    # Hiding that a person's record was disclosed: the subject vanishes from the index.
    await as_superuser(log.conn, "UPDATE audit_record SET subject_ids = subject_ids[2:]"
                       " || ARRAY['999999999999'] WHERE chain_id = $1 AND seq = $2",
                       target.chain, target.seq)
    return Expected(("altered",), target.chain, target.seq)


async def delete_middle(log: LogWriter, pick: Pick) -> Expected | None:
    candidates = _with_successor(log)
    if not candidates:
        return None
    target: Record = pick(candidates)
    await as_superuser(log.conn, "DELETE FROM audit_record WHERE chain_id = $1 AND seq = $2",
                       target.chain, target.seq)
    return Expected(("deleted",), target.chain, target.seq + 1)


async def delete_last_checkpointed(log: LogWriter, pick: Pick) -> Expected | None:
    candidates = [rs[-1] for c, rs in log.records.items()
                  if rs and log.stated.get(c, 0) == rs[-1].seq]
    if not candidates:
        return None
    target: Record = pick(candidates)
    await as_superuser(log.conn, "DELETE FROM audit_record WHERE chain_id = $1 AND seq = $2",
                       target.chain, target.seq)
    return Expected(("deleted",), target.chain, target.seq)


async def insert_forged(log: LogWriter, pick: Pick) -> Expected | None:
    records = log.all_records()
    if not records:
        return None
    target: Record = pick(records)
    chain_records = log.records[target.chain]
    before = chain_records[target.seq - 2] if target.seq > 1 else None
    prev = before.hash if before else genesis_hash(target.chain)
    # A well-formed record squeezed in just before the real one: right seq, right link.
    at = target.at - (target.at - before.at) / 2 if before else target.at - timedelta(
        microseconds=500)
    forged = log.seal(target.chain, target.seq, prev, at)
    await log.insert([forged])
    return Expected(("inserted", "altered"), target.chain, target.seq)


async def append_after_close(log: LogWriter, pick: Pick) -> Expected | None:
    closed = [c for c in log.closed if log.records[c]]
    if not closed:
        return None
    chain: UUID = pick(sorted(closed))
    last = log.records[chain][-1]
    forged = log.seal(chain, last.seq + 1, last.hash, last.at + timedelta(microseconds=10))
    await log.insert([forged])
    return Expected(("inserted",), chain, last.seq + 1)


async def insert_chain(log: LogWriter, pick: Pick) -> Expected | None:
    chain = uuid4()
    at = log.all_records()[0].at if log.records and log.all_records() else log.clock
    first = log.seal(chain, 1, genesis_hash(chain), at - timedelta(seconds=1))
    second = log.seal(chain, 2, first.hash, at)
    await log.insert([first, second])
    return Expected(("inserted",), chain, 1)


async def swap_contents(log: LogWriter, pick: Pick) -> Expected | None:
    candidates = _with_successor(log)
    if not candidates:
        return None
    target: Record = pick(candidates)
    await as_superuser(
        log.conn,
        "UPDATE audit_record a SET entry = b.entry, prev_hash = b.prev_hash, hash = b.hash,"
        " client_id = b.client_id, purpose = b.purpose, outcome = b.outcome,"
        " subject_ids = b.subject_ids FROM audit_record b"
        " WHERE a.chain_id = $1 AND b.chain_id = $1"
        " AND ((a.seq = $2 AND b.seq = $2 + 1) OR (a.seq = $2 + 1 AND b.seq = $2))",
        target.chain, target.seq)
    return Expected(("reordered",), target.chain, target.seq)


async def renumber(log: LogWriter, pick: Pick) -> Expected | None:
    candidates = _with_successor(log)
    if not candidates:
        return None
    target: Record = pick(candidates)
    # Deleting a record and closing the gap behind it.
    await as_superuser(log.conn, "DELETE FROM audit_record WHERE chain_id = $1 AND seq = $2",
                       target.chain, target.seq)
    await as_superuser(log.conn, "UPDATE audit_record SET seq = seq - 1"
                       " WHERE chain_id = $1 AND seq > $2", target.chain, target.seq)
    return Expected(("reordered",), target.chain, target.seq)


async def _checkpoint_row(log: LogWriter, checkpoint_id: int) -> dict[str, Any]:
    row = await log.conn.fetchrow("SELECT * FROM audit_checkpoint WHERE id = $1", checkpoint_id)
    assert row is not None
    return dict(row)


async def corrupt_signature(log: LogWriter, pick: Pick) -> Expected | None:
    checkpoint_id: int = pick(log.checkpoints)
    token = (await _checkpoint_row(log, checkpoint_id))["jws"]
    head, payload, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    broken = f"{head}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1:]}"
    await as_superuser(log.conn, "UPDATE audit_checkpoint SET jws = $2 WHERE id = $1",
                       checkpoint_id, broken)
    return Expected(("checkpoint",), checkpoint=checkpoint_id)


async def _resign(log: LogWriter, checkpoint_id: int, *, own_kid: bool) -> None:
    """Sign the checkpoint's own payload again with a key that is not the hub's, naming the
    hub's kid (a forgery) or the new key's (an unknown key)."""
    token = (await _checkpoint_row(log, checkpoint_id))["jws"]
    from joserfc import jws

    payload = orjson.loads(jws.extract_compact(token.encode()).payload)
    key = generate_signing_key("ES256")
    kid = key.kid if own_kid else log.keys.kid
    assert kid is not None
    await as_superuser(log.conn, "UPDATE audit_checkpoint SET jws = $2 WHERE id = $1",
                       checkpoint_id, sign_checkpoint(payload, key, "ES256", kid))


async def forge_signature(log: LogWriter, pick: Pick) -> Expected | None:
    checkpoint_id: int = pick(log.checkpoints)
    await _resign(log, checkpoint_id, own_kid=False)
    return Expected(("checkpoint",), checkpoint=checkpoint_id)


async def unknown_key(log: LogWriter, pick: Pick) -> Expected | None:
    checkpoint_id: int = pick(log.checkpoints)
    await _resign(log, checkpoint_id, own_kid=True)
    return Expected(("checkpoint",), checkpoint=checkpoint_id)


async def delete_checkpoint(log: LogWriter, pick: Pick) -> Expected | None:
    # The last one is left alone: a cut-off end of the checkpoint chain shows only against a
    # copy of its newest checkpoint kept elsewhere (the report prints it for that).
    candidates = log.checkpoints[:-1]
    if not candidates:
        return None
    checkpoint_id: int = pick(candidates)
    await as_superuser(log.conn, "DELETE FROM audit_checkpoint WHERE id = $1", checkpoint_id)
    return Expected(("checkpoint", "inserted"), checkpoint=checkpoint_id + 1)


async def alter_checkpoint_heads(log: LogWriter, pick: Pick) -> Expected | None:
    checkpoint_id: int = pick(log.checkpoints)
    await as_superuser(log.conn, "UPDATE audit_checkpoint SET heads = '{}' WHERE id = $1",
                       checkpoint_id)
    return Expected(("checkpoint",), checkpoint=checkpoint_id)


TAMPERINGS: dict[str, Callable[[LogWriter, Pick], Awaitable[Expected | None]]] = {
    "alter an entry field": alter_entry,
    "alter the client_id column": alter_client_column,
    "alter the subject_ids column": alter_subjects_column,
    "delete a middle record": delete_middle,
    "delete the last checkpointed record": delete_last_checkpointed,
    "insert a forged record": insert_forged,
    "append after close": append_after_close,
    "insert a whole chain": insert_chain,
    "swap two records' contents": swap_contents,
    "renumber seq": renumber,
    "corrupt a checkpoint signature": corrupt_signature,
    "forge a checkpoint signature": forge_signature,
    "sign a checkpoint with an unknown key": unknown_key,
    "delete a checkpoint": delete_checkpoint,
    "alter a checkpoint's heads": alter_checkpoint_heads,
}
