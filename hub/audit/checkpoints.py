"""Appending a signed checkpoint to the checkpoint chain.

Checkpoints are rare (every few seconds per process, and at chain open, close and
retention), so they take a transaction-scoped advisory lock: the checkpoint chain stays one
sequence even with many writers, and no request ever waits for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import asyncpg
import orjson

from hub.audit.chain import (
    CHECKPOINT_GENESIS,
    checkpoint_hash,
    checkpoint_payload,
    sign_checkpoint,
)
from hub.auth.keys import SigningKeys

__all__ = ["CHECKPOINT_LOCK", "append_checkpoint"]

CHECKPOINT_LOCK = 0x6875625F61756474  # pg_advisory_xact_lock key ("hub_audt")
KINDS = frozenset({"open", "head", "close", "retention"})


async def append_checkpoint(conn: asyncpg.Connection, kind: str,
                            heads: Mapping[str, tuple[int, bytes]],
                            keys: SigningKeys) -> int:
    """Write one checkpoint stating ``heads`` (chain id -> (seq, hash)); returns its id.
    Runs in its own transaction on ``conn``."""
    if kind not in KINDS:
        raise ValueError(f"unknown checkpoint kind {kind!r}")
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", CHECKPOINT_LOCK)
        last = await conn.fetchrow(
            "SELECT id, hash FROM audit_checkpoint ORDER BY id DESC LIMIT 1")
        checkpoint_id = 1 if last is None else last["id"] + 1
        prev_hash = CHECKPOINT_GENESIS if last is None else bytes(last["hash"])
        created_at = datetime.now(UTC)
        payload = checkpoint_payload(checkpoint_id, created_at, kind, heads, prev_hash)
        key, algorithm, kid = keys.signer()
        await conn.execute(
            "INSERT INTO audit_checkpoint (id, created_at, kind, heads, prev_hash, hash, jws)"
            " VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)",
            checkpoint_id, created_at, kind, orjson.dumps(payload["heads"]).decode(),
            prev_hash, checkpoint_hash(payload), sign_checkpoint(payload, key, algorithm, kid))
    return checkpoint_id
