"""The OAuth client registry in the national database: records and the admin operations.

Every write goes through the ``oauth_client`` table, whose trigger notifies every running hub
(see ``ClientRegistry``); nothing here touches a hub's memory directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hub.auth.secret_hash import generate_secret, hash_secret, verify_secret

__all__ = ["CLIENT_ID_PATTERN", "ClientRecord", "get_client", "list_clients",
           "public_key_set", "register_client", "register_with_new_secrets", "restore_client",
           "revoke_client", "set_secret"]

#: The same rule as the table's CHECK: ids travel in Basic credentials and log lines.
CLIENT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")

_COLUMNS = ("client_id, name, secret_hash, jwks::text AS jwks, created_at, updated_at, "
            "revoked_at, credentials_changed_at")


@dataclass(frozen=True, slots=True)
class ClientRecord:
    client_id: str
    name: str
    secret_hash: str | None = field(repr=False)
    jwks: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None
    credentials_changed_at: datetime

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def auth_methods(self) -> tuple[str, ...]:
        """The token-endpoint authentication methods this client can use."""
        methods = []
        if self.secret_hash is not None:
            methods.append("client_secret_basic")
        if self.jwks is not None:
            methods.append("private_key_jwt")
        return tuple(methods)

    def check_secret(self, secret: str) -> bool:
        return self.secret_hash is not None and verify_secret(secret, self.secret_hash)

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ClientRecord:
        return cls(client_id=row["client_id"], name=row["name"], secret_hash=row["secret_hash"],
                   jwks=json.loads(row["jwks"]) if row["jwks"] is not None else None,
                   created_at=row["created_at"], updated_at=row["updated_at"],
                   revoked_at=row["revoked_at"],
                   credentials_changed_at=row["credentials_changed_at"])


def public_key_set(jwks: dict[str, Any]) -> KeySet:
    """A client's registered JWK set, checked: asymmetric public keys only.

    A private key here would mean the hub holds a client's signing key; a symmetric ("oct") key
    would let the hub, or anyone who reads this table, forge the client's assertions."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValueError('a JWK set is an object with a non-empty "keys" list')
    for key in jwks["keys"]:
        if not isinstance(key, dict):
            raise ValueError("every entry of a JWK set's keys must be an object")
        if key.get("kty") not in {"EC", "RSA", "OKP"}:
            raise ValueError(f"unsupported key type {key.get('kty')!r}: register EC, RSA or "
                             "OKP public keys")
    try:
        key_set = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"the JWK set cannot be read: {error}") from None
    if any(key.is_private for key in key_set.keys):
        raise ValueError("the JWK set holds private key material: register public keys only")
    return key_set


def _check_client_id(client_id: str) -> None:
    if not CLIENT_ID_PATTERN.fullmatch(client_id):
        raise ValueError(f"invalid client id {client_id!r}: 3-64 characters of letters, digits, "
                         "'.', '_' and '-', starting with a letter or digit")


async def register_client(conn: asyncpg.Connection, client_id: str, name: str, *,
                          secret: str | None, jwks: dict[str, Any] | None) -> ClientRecord:
    """Create a client, or replace the name and credentials of an existing one (its revocation
    state is kept: re-registering does not silently restore a revoked client)."""
    _check_client_id(client_id)
    if not name.strip():
        raise ValueError("a client needs a name")
    if secret is None and jwks is None:
        raise ValueError("a client needs a secret or a JWK set to authenticate with")
    public_jwks = None
    if jwks is not None:
        public_jwks = public_key_set(jwks).as_dict(private=False)
    secret_hash = hash_secret(secret) if secret is not None else None
    row = await conn.fetchrow(
        "INSERT INTO oauth_client (client_id, name, secret_hash, jwks)"
        " VALUES ($1, $2, $3, $4::jsonb)"
        " ON CONFLICT (client_id) DO UPDATE SET name = EXCLUDED.name,"
        " secret_hash = EXCLUDED.secret_hash, jwks = EXCLUDED.jwks"
        f" RETURNING {_COLUMNS}",
        client_id, name.strip(), secret_hash,
        json.dumps(public_jwks) if public_jwks is not None else None)
    return ClientRecord.from_row(row)


async def register_with_new_secrets(dsn: str, names: Mapping[str, str]) -> dict[str, str]:
    """Register (or re-register) each client of ``names`` (client id -> name) with a secret
    made now, and return client id -> secret: for the demo, tests and benchmarks, which make
    their clients' credentials on every run."""
    issued = {client_id: generate_secret() for client_id in sorted(names)}
    conn = await asyncpg.connect(dsn)
    try:
        for client_id, secret in issued.items():
            await register_client(conn, client_id, names[client_id], secret=secret, jwks=None)
    finally:
        await conn.close()
    return issued


async def revoke_client(conn: asyncpg.Connection, client_id: str) -> bool:
    """Revoke a client: no new tokens, and its live tokens are refused. False if unknown."""
    status = await conn.execute(
        "UPDATE oauth_client SET revoked_at = coalesce(revoked_at, now()) WHERE client_id = $1",
        client_id)
    return bool(status != "UPDATE 0")


async def restore_client(conn: asyncpg.Connection, client_id: str) -> bool:
    """Lift a revocation. False if the client is unknown."""
    status = await conn.execute(
        "UPDATE oauth_client SET revoked_at = NULL WHERE client_id = $1", client_id)
    return bool(status != "UPDATE 0")


async def set_secret(conn: asyncpg.Connection, client_id: str, secret: str) -> bool:
    """Replace a client's secret (the old one stops working at once). False if unknown."""
    status = await conn.execute(
        "UPDATE oauth_client SET secret_hash = $2 WHERE client_id = $1",
        client_id, hash_secret(secret))
    return bool(status != "UPDATE 0")


async def get_client(conn: asyncpg.Connection, client_id: str) -> ClientRecord | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM oauth_client WHERE client_id = $1",
                              client_id)
    return ClientRecord.from_row(row) if row is not None else None


async def list_clients(conn: asyncpg.Connection) -> list[ClientRecord]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM oauth_client ORDER BY client_id")
    return [ClientRecord.from_row(row) for row in rows]
