"""The signer key registry in the database: adding, revoking, listing, loading for
verification, the key checks, and the hub's runtime role kept to reading."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from hub.updates.keys import (
    SignerKeys,
    add_signer_key,
    find_signer_key,
    generate_signer_key,
    list_signer_keys,
    revoke_signer_key,
    signer_jwk,
)
from hub.updates.signatures import (
    KEY_REVOKED,
    SignatureRejected,
    sign_submission,
    verify_submission,
)
from tests.updates.signers import b64, claims

_ids = itertools.count(1)


def new_code(prefix: str = "A") -> str:
    """An owner code no other test (or earlier run on this database) uses."""
    return f"{prefix}{next(_ids)}-{int(time.time() * 1000) % 10_000_000}"


def weak_rsa_jwk() -> dict[str, Any]:
    """A 1024-bit RSA public JWK (built by hand: joserfc warns on importing one)."""
    numbers = rsa.generate_private_key(65537, 1024).public_key().public_numbers()
    return {"kty": "RSA", "n": b64(numbers.n.to_bytes(128, "big")),
            "e": b64(numbers.e.to_bytes(3, "big"))}


@pytest.fixture
async def conn(signers_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(signers_dsn)
    try:
        yield connection
    finally:
        await connection.close()


# -- the key checks ---------------------------------------------------------------------------

@pytest.mark.parametrize(("algorithm", "kty"), [("ES256", "EC"), ("RS256", "RSA"),
                                                ("EdDSA", "OKP")])
def test_public_keys_of_each_allowed_kind_are_accepted(algorithm: str, kty: str) -> None:
    key = generate_signer_key(algorithm)
    bare = {k: v for k, v in key.as_dict(private=False).items() if k not in {"kid", "alg", "use"}}
    stored, public, alg = signer_jwk(bare)
    assert (alg, stored["kty"], stored["alg"], stored["use"]) == (algorithm, kty, algorithm, "sig")
    # Without a kid of its own, the key is named by its RFC 7638 thumbprint.
    assert stored["kid"] == public.thumbprint() == key.kid
    assert not public.is_private
    assert signer_jwk({**bare, "kid": "g01-2026"})[0]["kid"] == "g01-2026"


@pytest.mark.parametrize(("jwk", "message"), [
    (OctKey.generate_key(256).as_dict(), "symmetric"),
    (weak_rsa_jwk(), "2048 to 8192 bits, not 1024"),
    (ECKey.import_key(ec.generate_private_key(ec.SECP384R1()).public_key()).as_dict(),
     "P-256"),
    (OKPKey.import_key(x25519.X25519PrivateKey.generate().public_key()).as_dict(), "Ed25519"),
    (ECKey.generate_key("P-256", private=True).as_dict(private=True), "private key material"),
    (RSAKey.generate_key(2048, private=True).as_dict(private=True), "private key material"),
    ({**ECKey.generate_key("P-256").as_dict(private=False), "alg": "ES384"}, "ES384"),
    ({**ECKey.generate_key("P-256").as_dict(private=False), "use": "enc"}, "not for signat"),
    ({**ECKey.generate_key("P-256").as_dict(private=False), "key_ops": ["encrypt"]}, "verify"),
    ({**ECKey.generate_key("P-256").as_dict(private=False), "kid": ""}, "kid"),
    ({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}, "cannot be read"),
    ({"kty": "RSA", "n": 5, "e": "AQAB"}, "base64url"),
    ({"kty": "PGP"}, "unsupported key type"),
    ({"keys": []}, '"kty"'),
])
def test_keys_that_must_not_sign_are_refused(jwk: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        signer_jwk(jwk)


def test_a_private_key_gives_its_public_part_only_when_asked() -> None:
    key = generate_signer_key("ES256")
    stored, public, _ = signer_jwk(key.as_dict(private=True), public_only=True)
    assert "d" not in stored
    assert not public.is_private
    assert stored["kid"] == key.kid


# -- the table --------------------------------------------------------------------------------

async def test_add_list_load_and_verify(conn: asyncpg.Connection) -> None:
    agency = new_code("G")
    private = generate_signer_key("EdDSA")
    start = datetime.now(UTC) - timedelta(days=1)
    added = await add_signer_key(conn, "agency", agency, private.as_dict(private=False),
                                 valid_from=start)
    assert (added.owner_kind, added.owner_id, added.kid, added.algorithm) == (
        "agency", agency, private.kid, "EdDSA")
    assert added.valid_until == start + timedelta(days=730)
    assert added.revoked_at is None

    listed = await list_signer_keys(conn, owner_kind="agency", owner_id=agency)
    assert [k.kid for k in listed] == [private.kid]
    assert private.kid in {k.kid for k in await list_signer_keys(conn)}
    assert await list_signer_keys(conn, owner_kind="employee", owner_id=agency) == []

    keys = await SignerKeys.load(conn)
    assert keys.find(private.kid) is not None
    only = await SignerKeys.load(conn, kids=[private.kid, "no-such-kid"])
    assert len(only) == 1
    token = sign_submission(claims(iss=agency, iat=int(time.time())), private)
    verified = verify_submission(token, only, now=datetime.now(UTC), expected_issuer=agency)
    assert (verified.owner_kind, verified.owner_id) == ("agency", agency)


async def test_a_kid_is_registered_once_for_one_owner(conn: asyncpg.Connection) -> None:
    first, second = new_code("G"), new_code("G")
    key = generate_signer_key("ES256").as_dict(private=False)
    await add_signer_key(conn, "agency", first, key)
    with pytest.raises(ValueError, match=f"already registered \\(for agency {first}\\)"):
        await add_signer_key(conn, "employee", second, key)


async def test_owner_codes_and_validity_are_checked(conn: asyncpg.Connection) -> None:
    key = generate_signer_key("ES256").as_dict(private=False)
    with pytest.raises(ValueError, match="invalid agency code"):
        await add_signer_key(conn, "agency", "not a code!", key)
    now = datetime.now(UTC)
    with pytest.raises(ValueError, match="must end after it starts"):
        await add_signer_key(conn, "agency", new_code(), key, valid_from=now, valid_until=now)
    with pytest.raises(ValueError, match="owner kind"):
        await add_signer_key(conn, "person", new_code(), key)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="private key material"):
        await add_signer_key(conn, "agency", new_code(), generate_signer_key().as_dict(
            private=True))


async def test_revocation_is_idempotent_and_only_moves_back(conn: asyncpg.Connection) -> None:
    agency = new_code("G")
    private = generate_signer_key("ES256")
    added = await add_signer_key(conn, "agency", agency, private.as_dict(private=False),
                                 valid_from=datetime.now(UTC) - timedelta(days=10))
    kid = added.kid
    first = await revoke_signer_key(conn, kid)
    assert first is not None
    assert first.revoked_at is not None
    again = await revoke_signer_key(conn, kid)
    assert again is not None
    assert again.revoked_at == first.revoked_at
    later = await revoke_signer_key(conn, kid, at=first.revoked_at + timedelta(days=1))
    assert later is not None
    assert later.revoked_at == first.revoked_at
    compromise = first.revoked_at - timedelta(days=2)
    earlier = await revoke_signer_key(conn, kid, at=compromise)
    assert earlier is not None
    assert earlier.revoked_at == compromise
    assert await revoke_signer_key(conn, "no-such-kid") is None

    # What the thief signed, backdated to after the compromise, is refused.
    key = await find_signer_key(conn, kid)
    assert key is not None
    backdated = claims(iss=agency, iat=int((compromise + timedelta(hours=1)).timestamp()))
    with pytest.raises(SignatureRejected) as caught:
        verify_submission(sign_submission(backdated, private), SignerKeys([key]),
                          now=datetime.now(UTC))
    assert caught.value.code == KEY_REVOKED


async def test_an_unusable_row_is_left_out_of_the_snapshot(conn: asyncpg.Connection) -> None:
    # A key added under older rules (here: forced past the checks) is not trusted.
    kid = f"weak-{new_code()}"
    now = datetime.now(UTC)
    await conn.execute(
        "INSERT INTO signer_key (owner_kind, owner_id, kid, jwk, valid_from, valid_until)"
        " VALUES ('agency', $1, $2, $3::jsonb, $4, $5)", new_code("G"), kid,
        json.dumps({**weak_rsa_jwk(), "kid": kid}), now, now + timedelta(1))
    assert (await SignerKeys.load(conn, kids=[kid])).find(kid) is None


async def test_the_hub_runtime_role_only_reads_the_registry(conn: asyncpg.Connection) -> None:
    key = generate_signer_key("ES256")
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE hub_runtime")
        assert isinstance(await SignerKeys.load(conn), SignerKeys)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await add_signer_key(conn, "agency", new_code("G"), key.as_dict(private=False))
    async with conn.transaction():
        await conn.execute("SET LOCAL ROLE hub_runtime")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await revoke_signer_key(conn, key.kid or "")
