"""Signing the hub's access tokens (RFC 9068 JWT profile)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jwt

from hub.auth.keys import SigningKeys
from hub.auth.settings import AuthSettings

__all__ = ["ACCESS_TOKEN_TYPE", "mint_token"]

#: RFC 9068 §2.1: the "typ" that tells an access token from any other JWT (an ID token, a
#: client assertion), so one can never be passed off as the other.
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a media type, not a password)


def mint_token(keys: SigningKeys, settings: AuthSettings, client_id: str, purpose: str | None,
               lifetime: int, *, now: int | None = None) -> str:
    """An access token for ``client_id``, valid ``lifetime`` seconds from ``now``, carrying the
    declared ``purpose`` when there is one. Signed with the newest key of the key file."""
    issued_at = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "sub": client_id,
        "client_id": client_id,
        "aud": settings.audience,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + lifetime,
        "jti": secrets.token_urlsafe(16),
    }
    if purpose is not None:
        claims["purpose"] = purpose
    key, algorithm, kid = keys.signer()
    header = {"alg": algorithm, "kid": kid, "typ": ACCESS_TOKEN_TYPE}
    return jwt.encode(header, claims, key, algorithms=[algorithm])
