"""Checking bearer tokens on the resource side: the hub's own and those of trusted issuers.

The order of the checks matters. The header's algorithm is checked against an allow-list
before any key is looked at (``alg: none`` and HS256-with-a-public-key die there); the key set
is chosen by the unverified ``iss`` and then the signature proves that choice right; claims are
read only after the signature holds. Each failure has its own message, so an integrator can
tell an expired token from one meant for another audience.

A verified token is remembered (bounded LRU, keyed by the token string): a repeated token costs
a dict read. Expiry and the client's revocation are still checked on every call.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyCurveError,
    InvalidKeyTypeError,
    JoseError,
    KeyParameterError,
    MissingClaimError,
)
from joserfc.jwk import Key
from joserfc.jwt import JWTClaimsRegistry
from joserfc.util import urlsafe_b64decode

from hub.auth.keys import SigningKeys
from hub.auth.minting import ACCESS_TOKEN_TYPE
from hub.auth.registry import ClientRegistry
from hub.auth.remote_keys import KeySetUnavailable, RemoteKeySet
from hub.auth.settings import SIGNING_ALGORITHMS, AuthSettings, TrustedIssuer

__all__ = ["AuthenticationError", "TokenVerifier", "VerifiedToken"]

# How often at most the signing-key file is looked at (a stat) for retired or added keys.
_KEY_FILE_CHECK_SECONDS = 1.0

_MAX_TOKEN_LENGTH = 8192
_ACCESS_TOKEN_TYPES = frozenset({ACCESS_TOKEN_TYPE, "application/" + ACCESS_TOKEN_TYPE})
# Unknown header parameters are ignored (RFC 7515 §4), except through "crit", which the
# registry checks; registered ones must have the registered types.
_JWS_REGISTRY = jws.JWSRegistry(algorithms=list(SIGNING_ALGORITHMS), strict_check_header=False)


class AuthenticationError(Exception):
    """A bearer token was missing or not acceptable; ``message`` says why, for the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    client_id: str
    issuer: str
    subject: str
    purpose: str | None
    expires_at: int
    token_id: str | None


@dataclass(frozen=True, slots=True)
class _Cached:
    token: VerifiedToken
    deadline: float  # exp + leeway
    must_be_registered: bool
    issued_at: float | None  # iat, when the token says


@dataclass(frozen=True, slots=True)
class _Issuer:
    name: str
    claims: JWTClaimsRegistry
    remote: RemoteKeySet | None  # None: the hub itself
    trusted: TrustedIssuer | None = None  # an external issuer's terms of trust


def _is_numeric_date(value: object) -> bool:
    # A JSON number, not NaN or infinite (an "exp" of NaN would never expire); math.isfinite
    # would overflow on a huge int, which is finite anyway.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(urlsafe_b64decode(segment.encode("ascii")))
    except (ValueError, RecursionError):  # binascii.Error and UnicodeError are ValueErrors
        raise AuthenticationError(f"malformed token: the {what} is not base64url-encoded "
                                  "JSON") from None
    if not isinstance(value, dict):
        raise AuthenticationError(f"malformed token: the {what} is not a JSON object")
    return value


def _bearer(authorization_header: str | None) -> str:
    if not authorization_header or not authorization_header.strip():
        raise AuthenticationError("no bearer token")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("no bearer token: send the header 'Authorization: Bearer "
                                  "<access token>'")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise AuthenticationError(f"malformed token: longer than {_MAX_TOKEN_LENGTH} characters")
    return token


class TokenVerifier:
    def __init__(self, settings: AuthSettings, keys: SigningKeys, registry: ClientRegistry,
                 http_client: httpx.AsyncClient, *, cache_size: int = 4096) -> None:
        self._settings = settings
        self._keys = keys
        self._registry = registry
        self._leeway = settings.leeway_seconds
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_size = cache_size
        self._key_generation = keys.generation
        self._last_local_reload = float("-inf")
        self._last_key_file_check = time.monotonic()
        self._issuers: dict[str, _Issuer] = {
            settings.issuer: _Issuer(settings.issuer,
                                     self._claims_registry(settings.issuer, settings.audience),
                                     None)}
        for trusted in settings.trusted_issuers:
            remote = RemoteKeySet(trusted.jwks_url, http_client,
                                  refresh_seconds=settings.jwks_refresh_seconds,
                                  on_change=self._cache.clear)
            self._issuers[trusted.issuer] = _Issuer(
                trusted.issuer, self._claims_registry(trusted.issuer, trusted.audience), remote,
                trusted)

    def _claims_registry(self, issuer: str, audience: str) -> JWTClaimsRegistry:
        return JWTClaimsRegistry(leeway=self._leeway, iss={"essential": True, "value": issuer},
                                 aud={"essential": True, "value": audience},
                                 exp={"essential": True})

    def remote_key_set(self, issuer: str) -> RemoteKeySet | None:
        """The key cache of a trusted issuer (diagnostics and tests)."""
        entry = self._issuers.get(issuer)
        return entry.remote if entry is not None else None

    async def verify(self, authorization_header: str | None) -> VerifiedToken:
        """The token of an ``Authorization: Bearer`` header, verified; AuthenticationError
        (and nothing else) when it is missing or not acceptable."""
        token = _bearer(authorization_header)
        now = time.monotonic()
        if now - self._last_key_file_check >= _KEY_FILE_CHECK_SECONDS:
            # A key removed from the file (retired after a leak) must stop verifying soon,
            # even if no request ever names an unknown kid: look at the file once a second.
            self._last_key_file_check = now
            self._keys.reload_if_changed()
        if self._keys.generation != self._key_generation:
            # The key file was re-read (a rotation, or a key retired): verify afresh.
            self._key_generation = self._keys.generation
            self._cache.clear()
        cached = self._cache.get(token)
        if cached is None:
            cached = await self._verify_uncached(token)
            self._cache[token] = cached
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(token)
        if cached.deadline <= time.time():
            self._cache.pop(token, None)
            raise AuthenticationError("token expired")
        self._check_client(cached)
        return cached.token

    def _check_client(self, cached: _Cached) -> None:
        """Against the registry as it is now (it follows revocations), on every request."""
        record = self._registry.get(cached.token.client_id)
        if record is None:
            if cached.must_be_registered:
                raise AuthenticationError("token of an unknown client")
        elif record.revoked_at is not None:
            raise AuthenticationError("client revoked")
        elif cached.issued_at is not None and (
                cached.issued_at < int(record.credentials_changed_at.timestamp())):
            # Whole seconds, as iat is: a token minted in the second of the change passes.
            raise AuthenticationError("token issued before the client's credentials changed")

    async def _verify_uncached(self, token: str) -> _Cached:
        segments = token.split(".")
        if len(segments) != 3:
            raise AuthenticationError("malformed token: a JWT has three dot-separated parts")
        header = _json_object(segments[0], "header")
        claims = _json_object(segments[1], "payload")
        try:
            urlsafe_b64decode(segments[2].encode("ascii"))
        except ValueError:
            raise AuthenticationError("malformed token: the signature is not "
                                      "base64url-encoded") from None

        algorithm = header.get("alg")
        if algorithm not in SIGNING_ALGORITHMS:
            raise AuthenticationError("unsupported token algorithm: accepted are "
                                      + ", ".join(SIGNING_ALGORITHMS))
        if "crit" in header or "b64" in header:
            # No JWS extension is in use here; an unencoded payload (RFC 7797) would be read
            # differently by the signature check and by the claims check below.
            raise AuthenticationError("malformed token: unsupported header parameter "
                                      "(crit or b64)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("malformed token: the header has no kid")
        issuer_name = claims.get("iss")
        if not isinstance(issuer_name, str):
            raise AuthenticationError("malformed token: no iss claim")
        issuer = self._issuers.get(issuer_name)
        if issuer is None:
            raise AuthenticationError("token from an untrusted issuer")

        key = await self._find_key(issuer, kid, algorithm)
        try:
            jws.deserialize_compact(token, key, registry=_JWS_REGISTRY)
        except BadSignatureError:
            raise AuthenticationError("bad token signature") from None
        except (InvalidKeyTypeError, InvalidKeyCurveError, KeyParameterError):
            raise AuthenticationError("token algorithm does not match its signing key") from None
        except (JoseError, ValueError, TypeError) as error:
            description = error.description if isinstance(error, JoseError) else None
            raise AuthenticationError(f"malformed token: {description or 'bad header'}"
                                      ) from None

        typ = header.get("typ")
        if issuer.remote is None and not (isinstance(typ, str)
                                          and typ.lower() in _ACCESS_TOKEN_TYPES):
            raise AuthenticationError(f"not an access token: typ must be {ACCESS_TOKEN_TYPE}")
        self._check_claims(issuer, claims)
        return self._accepted(issuer, claims)

    async def _find_key(self, issuer: _Issuer, kid: str, algorithm: str) -> Key:
        if issuer.remote is not None:
            try:
                remote_key = await issuer.remote.find(kid)
            except KeySetUnavailable:
                raise AuthenticationError("the signing keys of the token's issuer cannot be "
                                          "fetched") from None
            if remote_key is None:
                raise AuthenticationError("unknown signing key")
            return remote_key
        found = self._keys.find(kid)
        if found is None and self._may_reload_local_keys():
            # Another hub process may have rotated the key file since this one read it.
            self._keys.reload_if_changed()
            found = self._keys.find(kid)
        if found is None:
            raise AuthenticationError("unknown signing key")
        local_key, key_algorithm = found
        if key_algorithm != algorithm:
            raise AuthenticationError("token algorithm does not match its signing key")
        return local_key

    def _may_reload_local_keys(self) -> bool:
        now = time.monotonic()
        if now - self._last_local_reload < self._settings.jwks_refresh_seconds:
            return False
        self._last_local_reload = now
        return True

    def _check_claims(self, issuer: _Issuer, claims: dict[str, Any]) -> None:
        # Types first, so that a failure of the registry below means a wrong value.
        for name in ("exp", "nbf", "iat"):
            if name in claims and not _is_numeric_date(claims[name]):
                raise AuthenticationError(f"malformed token: {name} is not a NumericDate")
        try:
            issuer.claims.validate(claims)
        except ExpiredTokenError:
            raise AuthenticationError("token expired") from None
        except MissingClaimError as error:
            raise AuthenticationError(f"malformed token: missing claim {error.claim}") from None
        except ClaimError as error:
            raise AuthenticationError(_claim_message(error.claim)) from None

    def _accepted(self, issuer: _Issuer, claims: dict[str, Any]) -> _Cached:
        # An external issuer's token must name its client outright: its `sub` may be a person
        # (an ID token or a user's token), and a person is not a client.
        names = ("client_id", "azp") if issuer.trusted is not None else ("client_id", "azp",
                                                                         "sub")
        client_id = next((claims[name] for name in names
                          if isinstance(claims.get(name), str) and claims[name]), None)
        if client_id is None:
            raise AuthenticationError(f"malformed token: no {', '.join(names[:-1])} or "
                                      f"{names[-1]} claim")
        subject = claims.get("sub", client_id)
        purpose = claims.get("purpose")
        if not isinstance(subject, str) or not (purpose is None or isinstance(purpose, str)):
            raise AuthenticationError("malformed token: sub and purpose must be strings")
        if issuer.trusted is not None and not issuer.trusted.may_speak_for(client_id):
            raise AuthenticationError(f"issuer {issuer.name} may not issue tokens for client "
                                      f"{client_id}")
        expires_at = claims["exp"]
        issued_at = claims.get("iat")
        return _Cached(
            token=VerifiedToken(client_id=client_id, issuer=issuer.name, subject=subject,
                                purpose=purpose, expires_at=int(expires_at),
                                token_id=claims.get("jti")),
            deadline=expires_at + self._leeway,
            must_be_registered=issuer.remote is None,
            issued_at=float(issued_at) if issued_at is not None and _is_numeric_date(issued_at)
            else None)


def _claim_message(claim: str) -> str:
    return {
        "aud": "token issued for another audience",
        "nbf": "token not yet valid",
        "iat": "token issued in the future",
        "iss": "token from an untrusted issuer",
    }.get(claim, f"malformed token: invalid claim {claim}")

