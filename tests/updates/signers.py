"""Signers for the tests: real keys of every allowed algorithm, registry entries for them, and
tokens built by hand (to forge what ``sign_submission`` would never make)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from joserfc.jwk import Key

from hub.updates.keys import OwnerKind, SignerKey, generate_signer_key, signer_jwk

__all__ = ["NOW", "Signer", "b64", "claims", "private_key", "raw_token", "signer"]

#: The hub's clock in these tests.
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@cache
def private_key(algorithm: str, index: int = 0) -> Key:
    """A private key per (algorithm, index), made once per run (RSA takes a while)."""
    return generate_signer_key(algorithm)


@dataclass(frozen=True)
class Signer:
    private: Key
    record: SignerKey

    @property
    def kid(self) -> str:
        return self.record.kid

    def with_validity(self, **changes: Any) -> Signer:
        return Signer(self.private, replace(self.record, **changes))


def signer(algorithm: str = "ES256", *, owner_kind: OwnerKind = "agency",
           owner_id: str = "G01", index: int = 0, valid_from: datetime = NOW - timedelta(days=365),
           valid_until: datetime = NOW + timedelta(days=365),
           revoked_at: datetime | None = None) -> Signer:
    key = private_key(algorithm, index)
    stored, public, alg = signer_jwk(key.as_dict(private=False))
    return Signer(key, SignerKey(owner_kind=owner_kind, owner_id=owner_id, kid=stored["kid"],
                                 key=public, algorithm=alg, valid_from=valid_from,
                                 valid_until=valid_until, revoked_at=revoked_at, jwk=stored))


def claims(**overrides: Any) -> dict[str, Any]:
    """A well-formed payload from agency G01, signed a minute before NOW."""
    payload: dict[str, Any] = {
        "jti": "g01-change-0001",
        "iat": int((NOW - timedelta(minutes=1)).timestamp()),
        "iss": "G01",
        "kind": "position-change",
        "employee": {"employeeCode": "CB0000001", "personalId": "001090012345"},
        "baseVersion": 3,
        "change": {"positionCode": "P-07", "effectiveFrom": "2026-03-01"},
        "sourceSystem": "g01-hrm",
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not ...}


def b64(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def raw_token(header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes,
              signature: bytes = b"") -> str:
    """header.payload.signature, each part exactly as given (dicts as JSON)."""
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return f"{b64(head)}.{b64(body)}.{b64(signature)}"
