"""The audit log's tamper evidence: hash chains of records and signed checkpoints.

Each hub process writes its own chain (no lock shared between processes on a request's
path): record ``n`` stores ``hash = SHA-256(prev_hash || canonical(entry))`` where
``prev_hash`` is record ``n-1``'s hash, or the chain's genesis hash for the first record.
The entry names its chain and sequence number, so a record moved within or between chains
no longer matches its hash.

Checkpoints state chain heads (``{chain id: [seq, hash hex]}``) and are a hash chain of
their own, each one a compact JWS signed with the hub's audit key: someone who can write to
the database but does not hold the key can neither forge one nor rewrite a chain under one.

The writer (``hub/audit/writer.py``) and the verifier (``hub/audit/verify.py``) share every
byte-level rule here, so the two cannot drift apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key

__all__ = ["CHECKPOINT_GENESIS", "CHECKPOINT_TYPE", "ENTRY_VERSION", "CheckpointError",
           "canonical", "checkpoint_hash", "checkpoint_payload", "genesis_hash", "record_hash",
           "sign_checkpoint", "timestamp", "verify_checkpoint_jws"]

ENTRY_VERSION = 1
CHECKPOINT_TYPE = "hub-audit-checkpoint+jws"
# The hash before the first checkpoint, a constant so that a deleted first checkpoint shows.
CHECKPOINT_GENESIS = hashlib.sha256(b"hub-audit-checkpoints\x00v1").digest()


def canonical(value: Mapping[str, Any]) -> bytes:
    """The bytes a hash covers: JSON with sorted keys and no spaces. Entries hold only
    strings, integers, booleans, nulls, lists and objects, which PostgreSQL's jsonb gives
    back unchanged, so the bytes can be rebuilt from a stored entry."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def timestamp(moment: datetime) -> str:
    """An entry's time: UTC, to the microsecond (what timestamptz keeps)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def genesis_hash(chain_id: UUID) -> bytes:
    """The ``prev_hash`` of a chain's first record."""
    return hashlib.sha256(b"hub-audit-chain\x00v1\x00" + chain_id.bytes).digest()


def record_hash(prev_hash: bytes, entry: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(prev_hash + canonical(entry)).digest()


def checkpoint_payload(checkpoint_id: int, created_at: datetime, kind: str,
                       heads: Mapping[str, tuple[int, bytes] | list[Any]],
                       prev_hash: bytes) -> dict[str, Any]:
    """What a checkpoint states and signs. ``heads`` maps chain ids to (seq, hash)."""
    return {
        "id": checkpoint_id,
        "at": timestamp(created_at),
        "kind": kind,
        "heads": {chain: [int(seq), h.hex() if isinstance(h, bytes) else str(h)]
                  for chain, (seq, h) in heads.items()},
        "prev": prev_hash.hex(),
    }


def checkpoint_hash(payload: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(canonical(payload)).digest()


def sign_checkpoint(payload: Mapping[str, Any], key: Key, algorithm: str, kid: str) -> str:
    header = {"alg": algorithm, "kid": kid, "typ": CHECKPOINT_TYPE}
    return jws.serialize_compact(header, canonical(payload), key, algorithms=[algorithm])


class CheckpointError(Exception):
    """A checkpoint's signature does not verify, or its key is unknown."""


KeyFinder = Callable[[str], tuple[Key, str] | None]


def verify_checkpoint_jws(token: str, find_key: KeyFinder) -> dict[str, Any]:
    """The signed payload of a checkpoint, after checking its signature with the key its
    ``kid`` names (``find_key``: kid -> (public key, algorithm))."""
    try:
        header = jws.extract_compact(token.encode("ascii")).protected
    except (JoseError, ValueError, UnicodeEncodeError) as error:
        raise CheckpointError(f"not a compact JWS ({error})") from None
    kid = header.get("kid")
    if header.get("typ") != CHECKPOINT_TYPE or not isinstance(kid, str):
        raise CheckpointError("not a checkpoint signature (typ or kid missing)")
    found = find_key(kid)
    if found is None:
        raise CheckpointError(f"signed with an unknown key (kid {kid})")
    key, algorithm = found
    if header.get("alg") != algorithm:
        raise CheckpointError(f"signed with {header.get('alg')}, but key {kid} is {algorithm}")
    try:
        verified = jws.deserialize_compact(token, key, algorithms=[algorithm])
    except JoseError as error:
        raise CheckpointError(f"the signature does not verify ({error.error})") from None
    payload = orjson.loads(verified.payload)
    if not isinstance(payload, dict):
        raise CheckpointError("the signed payload is not an object")
    return payload
