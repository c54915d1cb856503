"""The signer key registry (table ``signer_key``): who may sign submissions, with which key,
from when until when.

A registered key is public, asymmetric and strong enough to sign: an ES256 key on P-256, an
RS256 key of at least 2048 bits or an EdDSA key on Ed25519. Its algorithm follows from the key
type, so a token cannot choose a weaker one. Its ``kid`` is the JWK's own or, when it has none,
the RFC 7638 thumbprint, and is unique over the whole registry: a submission's ``kid`` names
exactly one key and therefore exactly one owner.

The hub reads the registry (``SignerKeys``); the Ministry's operators write it as the database
owner with ``hub signer`` (``add_signer_key``, ``revoke_signer_key``, ``list_signer_keys``).
Revoking keeps the row, so signatures made before the revocation can still be explained.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import asyncpg
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey, import_key

__all__ = ["ALGORITHMS", "DEFAULT_VALIDITY", "OWNER_KINDS", "KeyLookup", "OwnerKind",
           "SignerKey", "SignerKeys", "add_signer_key", "find_signer_key",
           "generate_signer_key", "list_signer_keys", "read_jwk_file", "revoke_signer_key",
           "signer_jwk"]

log = logging.getLogger(__name__)

OwnerKind = Literal["agency", "employee"]
OWNER_KINDS: tuple[OwnerKind, ...] = ("agency", "employee")
#: The signing algorithms a submission may use, each tied to one key type.
ALGORITHMS = ("ES256", "RS256", "EdDSA")
MIN_RSA_BITS = 2048
#: Larger RSA keys add nothing but verification time (and signature bytes) on every submission.
MAX_RSA_BITS = 8192
#: How long a key added without ``--valid-until`` may sign (a signing certificate's usual life).
DEFAULT_VALIDITY = timedelta(days=730)

# Members that hold private (or symmetric) key material, in any key type.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_COLUMNS = ("owner_kind, owner_id, kid, jwk::text AS jwk, valid_from, valid_until, revoked_at,"
            " created_at")


@dataclass(frozen=True, slots=True)
class SignerKey:
    """One registered key: whose it is, the public key and algorithm, when it may sign."""

    owner_kind: OwnerKind
    owner_id: str
    kid: str
    key: Key = field(repr=False)
    algorithm: str
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    jwk: dict[str, Any] = field(repr=False)
    created_at: datetime | None = None

    @property
    def owner(self) -> str:
        return f"{self.owner_kind} {self.owner_id}"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SignerKey:
        jwk = json.loads(row["jwk"])
        _, key, algorithm = signer_jwk(jwk)
        return cls(owner_kind=row["owner_kind"], owner_id=row["owner_id"], kid=row["kid"],
                   key=key, algorithm=algorithm, valid_from=row["valid_from"],
                   valid_until=row["valid_until"], revoked_at=row["revoked_at"], jwk=jwk,
                   created_at=row["created_at"])


class KeyLookup(Protocol):
    """What signature checking needs of a registry: the key a ``kid`` names, or None."""

    def find(self, kid: str) -> SignerKey | None: ...


class SignerKeys:
    """A snapshot of (part of) the registry in memory. Lookups are dict reads; load a new
    snapshot to see keys added or revoked since (a batch loads the kids it needs at once)."""

    def __init__(self, keys: Iterable[SignerKey] = ()) -> None:
        self._by_kid = {key.kid: key for key in keys}

    def __len__(self) -> int:
        return len(self._by_kid)

    def find(self, kid: str) -> SignerKey | None:
        return self._by_kid.get(kid)

    @classmethod
    async def load(cls, db: Any, *, kids: Iterable[str] | None = None) -> SignerKeys:
        """Read the registry through ``db`` (an asyncpg connection or pool): every key, or
        only those of ``kids``. A row whose key no longer passes the checks (the rules have
        tightened since it was added) is left out and logged: its signatures are refused as
        signed by an unknown key rather than accepted under a weaker rule."""
        if kids is None:
            rows = await db.fetch(f"SELECT {_COLUMNS} FROM signer_key")
        else:
            rows = await db.fetch(f"SELECT {_COLUMNS} FROM signer_key WHERE kid = ANY($1)",
                                  sorted(set(kids)))
        keys = []
        for row in rows:
            try:
                keys.append(SignerKey.from_row(row))
            except ValueError as error:
                log.error("signer key %s of %s %s is unusable and ignored: %s", row["kid"],
                          row["owner_kind"], row["owner_id"], error)
        return cls(keys)


async def find_signer_key(db: Any, kid: str) -> SignerKey | None:
    """One key, read now (sees a revocation made a moment ago)."""
    return (await SignerKeys.load(db, kids=[kid])).find(kid)


def _algorithm_for(key: Key) -> str:
    if isinstance(key, ECKey):
        if key.get("crv") != "P-256":
            raise ValueError(f"EC keys must be on P-256 (ES256), not {key.get('crv')}")
        return "ES256"
    if isinstance(key, RSAKey):
        bits = key.raw_value.key_size
        if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
            raise ValueError(f"RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits, "
                             f"not {bits}")
        return "RS256"
    if isinstance(key, OKPKey):
        if key.get("crv") != "Ed25519":
            raise ValueError(f"OKP keys must be Ed25519 (EdDSA), not {key.get('crv')}")
        return "EdDSA"
    raise ValueError(f"unsupported key type {key.key_type}")


def _check_rsa_size(modulus: Any) -> None:
    try:
        bits = int.from_bytes(base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4)),
                              "big").bit_length()
    except (TypeError, ValueError, binascii.Error):
        raise ValueError('the RSA key\'s "n" is not base64url') from None
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise ValueError(f"RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits, "
                         f"not {bits}")


def signer_jwk(jwk: Mapping[str, Any], *, public_only: bool = False
               ) -> tuple[dict[str, Any], Key, str]:
    """Check a JWK for the registry and return (public JWK to store, public key, algorithm).

    Refused: symmetric keys (anyone who can read the registry could sign with them), private
    keys unless ``public_only`` asks to take their public part (the hub must never hold a
    signer's private key, so this is never silent), unsupported types and curves, RSA under
    2048 bits, and an ``alg``, ``use`` or ``key_ops`` that says the key is for something else.
    The stored JWK carries ``kid`` (its own, else the RFC 7638 thumbprint), ``alg`` and
    ``use: sig``."""
    if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kty"), str):
        raise ValueError('a JWK is a JSON object with a "kty" member')
    if jwk["kty"] == "oct":
        raise ValueError("symmetric (oct) keys cannot be registered: signer keys are "
                         "asymmetric public keys")
    if jwk["kty"] not in {"EC", "RSA", "OKP"}:
        raise ValueError(f"unsupported key type {jwk['kty']!r}: register an EC P-256, "
                         "RSA (2048 bits or more) or Ed25519 public key")
    private = sorted(_PRIVATE_MEMBERS & jwk.keys())
    if private and not public_only:
        raise ValueError(f"the JWK holds private key material ({', '.join(private)}): "
                         "register the public key, or pass --public-only to take its "
                         "public part")
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or not 1 <= len(kid) <= 128):
        raise ValueError('"kid" must be a string of 1 to 128 characters')
    if jwk.get("use", "sig") != "sig":
        raise ValueError(f"the key is for {jwk.get('use')!r}, not for signatures")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise ValueError('"key_ops" does not allow "verify"')
    if jwk["kty"] == "RSA":
        _check_rsa_size(jwk.get("n"))  # before joserfc, which would only warn
    try:
        key = import_key(dict(jwk))
        public = import_key(key.as_dict(private=False))
    except (JoseError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise ValueError(f"the JWK cannot be read: {error}") from None
    algorithm = _algorithm_for(public)
    if jwk.get("alg", algorithm) != algorithm:
        raise ValueError(f"the JWK says alg {jwk.get('alg')!r} but a key of this type "
                         f"signs with {algorithm}")
    stored = {**public.as_dict(private=False), "kid": kid or public.thumbprint(),
              "alg": algorithm, "use": "sig"}
    return stored, import_key(stored), algorithm


def read_jwk_file(path: Path) -> dict[str, Any]:
    """The one JWK of a file holding a JWK or a JWK set with exactly one key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    except ValueError as error:
        raise ValueError(f"{path} is not JSON: {error}") from None
    if isinstance(data, dict) and "keys" in data and "kty" not in data:
        keys = data["keys"]
        if not isinstance(keys, list) or len(keys) != 1:
            count = len(keys) if isinstance(keys, list) else "no list of"
            raise ValueError(f"{path} holds a JWK set with {count} keys: register one key "
                             "at a time")
        data = keys[0]
    if not isinstance(data, dict) or "kty" not in data:
        raise ValueError(f"{path} holds no JWK")
    return data


def generate_signer_key(algorithm: str = "ES256") -> Key:
    """A new private key for an agency system or an employee (development and the demo), with
    ``kid`` (its thumbprint), ``alg`` and ``use``."""
    key: Key
    if algorithm == "ES256":
        key = ECKey.generate_key("P-256", private=True)
    elif algorithm == "RS256":
        key = RSAKey.generate_key(MIN_RSA_BITS, private=True)
    elif algorithm == "EdDSA":
        key = OKPKey.generate_key("Ed25519", private=True)
    else:
        raise ValueError(f"unsupported algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)}")
    return import_key({**key.as_dict(private=True), "kid": key.thumbprint(),
                       "alg": algorithm, "use": "sig"})


async def add_signer_key(conn: asyncpg.Connection, owner_kind: OwnerKind, owner_id: str,
                         jwk: Mapping[str, Any], *, valid_from: datetime | None = None,
                         valid_until: datetime | None = None,
                         public_only: bool = False) -> SignerKey:
    """Register a key for an agency or an employee (as the database owner). Validity defaults
    to now .. now + DEFAULT_VALIDITY. A kid already registered is refused, never replaced: a
    key's owner and validity are what past signatures were checked against."""
    if owner_kind not in OWNER_KINDS:
        raise ValueError(f"owner kind must be one of {', '.join(OWNER_KINDS)}")
    stored, _, _ = signer_jwk(jwk, public_only=public_only)
    start = valid_from or datetime.now(UTC)
    end = valid_until or start + DEFAULT_VALIDITY
    if end <= start:
        raise ValueError("the key's validity must end after it starts")
    try:
        row = await conn.fetchrow(
            "INSERT INTO signer_key (owner_kind, owner_id, kid, jwk, valid_from, valid_until)"
            f" VALUES ($1, $2, $3, $4::jsonb, $5, $6) RETURNING {_COLUMNS}",
            owner_kind, owner_id, stored["kid"], json.dumps(stored), start, end)
    except asyncpg.UniqueViolationError:
        existing = await find_signer_key(conn, stored["kid"])
        whose = f" (for {existing.owner})" if existing is not None else ""
        raise ValueError(f"key {stored['kid']} is already registered{whose}") from None
    except asyncpg.CheckViolationError:
        raise ValueError(f"invalid {owner_kind} code {owner_id!r}: 1-64 letters, digits, "
                         "'.', '_' and '-', starting with a letter or digit") from None
    return SignerKey.from_row(row)


async def revoke_signer_key(conn: asyncpg.Connection, kid: str, *,
                            at: datetime | None = None) -> SignerKey | None:
    """Revoke a key from ``at`` (default now): it signs nothing dated from then on. Idempotent:
    revoking again keeps the earliest revocation time, so a later run cannot reopen a window,
    while an earlier ``at`` (the compromise was found to be older) moves it back. None if the
    kid is unknown."""
    row = await conn.fetchrow(
        "UPDATE signer_key SET revoked_at = least(revoked_at, coalesce($2, now()))"
        f" WHERE kid = $1 RETURNING {_COLUMNS}", kid, at)
    return SignerKey.from_row(row) if row is not None else None


async def list_signer_keys(conn: asyncpg.Connection, *, owner_kind: OwnerKind | None = None,
                           owner_id: str | None = None) -> list[SignerKey]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM signer_key"
        " WHERE ($1::text IS NULL OR owner_kind = $1) AND ($2::text IS NULL OR owner_id = $2)"
        " ORDER BY owner_kind, owner_id, valid_from, kid", owner_kind, owner_id)
    return [SignerKey.from_row(row) for row in rows]
