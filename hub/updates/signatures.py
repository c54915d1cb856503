"""Checking a submission's signatures against the signer key registry.

``verify_submission`` takes the agency's compact JWS and returns the verified payload, or
raises ``SignatureRejected`` with one machine-readable code (``CODES``). The token is taken
apart here, strictly, before any cryptography: exactly three canonical base64url segments, a
protected header of ``alg``, ``kid`` and ``typ`` only, an algorithm from the registry's list
that must also be the algorithm of the key ``kid`` names (so neither ``none``, nor an HMAC
keyed with a public key, nor an RSA signature checked with an EC key can pass).

When a key may sign: at the moment the payload says it was signed (``iat``), which must lie
within the key's validity and before its revocation, and not more than the leeway ahead of
the hub's clock. A key that has expired since, or been revoked since, does not undo what it
signed while it was valid: an agency's decision signed before its certificate lapsed stays a
signed decision (a bulk file may be submitted days after it was signed). The flip side is that
``iat`` is the signer's word: whoever holds a stolen key can backdate. Revoke a compromised key
from when the compromise began (``hub signer revoke KID --at ...``), not from when it was found.
How long after signing a change may still be submitted is bounded (``max_age_seconds``; the
hub's ``HUB_SUBMISSION_MAX_AGE_DAYS``, default 30): an older one is SIGNATURE_TOO_OLD, and its
agency signs it again (``hub submit`` signs unsigned records afresh on every run). The bound
keeps a signed change that went astray from being played months later, and what a backdating
thief can reach within a window.

``verify_co_signature`` checks the employee's second JWS over the same payload.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key

from hub.updates.keys import ALGORITHMS, KeyLookup, SignerKey
from hub.updates.strict_json import strict_loads

__all__ = [
    "ALGORITHM_NOT_ALLOWED", "BAD_SIGNATURE", "CODES", "IAT_IN_FUTURE", "KEY_EXPIRED",
    "KEY_NOT_YET_VALID", "KEY_REVOKED", "MALFORMED", "MAX_PAYLOAD_BYTES", "MISSING_CLAIMS",
    "PAYLOAD_MISMATCH", "SIGNATURE_TOO_OLD", "SUBMISSION_TYPE", "UNKNOWN_KEY", "WRONG_SIGNER",
    "WRONG_TYPE",
    "SignatureRejected", "SignedSubmission", "canonical_json", "kid_of", "peek_employee",
    "sign_submission", "verify_co_signature", "verify_submission"]

SUBMISSION_TYPE = "hub-submission+jws"
MAX_PAYLOAD_BYTES = 256 * 1024

MALFORMED = "MALFORMED"                    # not a compact JWS, bad base64/JSON, oversized
UNKNOWN_KEY = "UNKNOWN_KEY"                # no registered key has this kid
WRONG_TYPE = "WRONG_TYPE"                  # typ is not hub-submission+jws
ALGORITHM_NOT_ALLOWED = "ALGORITHM_NOT_ALLOWED"  # none, HS*, or not the key's algorithm
BAD_SIGNATURE = "BAD_SIGNATURE"            # forged, or header/payload changed after signing
KEY_NOT_YET_VALID = "KEY_NOT_YET_VALID"    # iat before the key's valid_from
KEY_EXPIRED = "KEY_EXPIRED"                # iat at or after the key's valid_until
KEY_REVOKED = "KEY_REVOKED"                # iat at or after the key's revoked_at
IAT_IN_FUTURE = "IAT_IN_FUTURE"            # iat more than the leeway ahead of the hub's clock
SIGNATURE_TOO_OLD = "SIGNATURE_TOO_OLD"    # iat further back than the maximum age
WRONG_SIGNER = "WRONG_SIGNER"              # the key's owner is not who must sign
MISSING_CLAIMS = "MISSING_CLAIMS"          # a required claim absent or of the wrong type
PAYLOAD_MISMATCH = "PAYLOAD_MISMATCH"      # a co-signature over another payload
CODES = frozenset({MALFORMED, UNKNOWN_KEY, WRONG_TYPE, ALGORITHM_NOT_ALLOWED, BAD_SIGNATURE,
                   KEY_NOT_YET_VALID, KEY_EXPIRED, KEY_REVOKED, IAT_IN_FUTURE, WRONG_SIGNER,
                   MISSING_CLAIMS, PAYLOAD_MISMATCH, SIGNATURE_TOO_OLD})

_HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})
_MAX_HEADER_CHARS = 1024
_MAX_SIGNATURE_CHARS = 1400  # an RS256 signature by an 8192-bit key, base64url
_MAX_PAYLOAD_CHARS = -(-MAX_PAYLOAD_BYTES * 4 // 3)
MAX_TOKEN_CHARS = _MAX_HEADER_CHARS + _MAX_PAYLOAD_CHARS + _MAX_SIGNATURE_CHARS + 2
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# NUL cannot be stored in jsonb, and lone surrogates cannot be encoded to UTF-8: a payload
# holding either could not even be kept as a rejected submission. Nor one holding an integer
# beyond 64 bits: the inbox serialises payloads with orjson, which holds no more (and no
# field of any change is anywhere near that large).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_LARGEST_INTEGER = 2**63 - 1


class SignatureRejected(Exception):
    """A signature refused: ``code`` (one of CODES), a message for people and, for a claim,
    the payload ``field`` at fault."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class SignedSubmission:
    """A verified signature: the payload it covers and who signed it, when."""

    payload: dict[str, Any]
    kid: str
    owner_kind: str
    owner_id: str
    signed_at: datetime
    algorithm: str
    #: ``canonical_json(payload)``: what a co-signature must cover too.
    canonical: bytes = field(repr=False)


def _reject(code: str, message: str, field: str | None = None) -> NoReturn:
    raise SignatureRejected(code, message, field)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: two serialisations of the same JSON value give the same
    bytes (and 1, 1.0 and true stay different, as they are not the same JSON value)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _b64_bytes(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(segment: str, what: str) -> bytes:
    # Only the canonical unpadded encoding is accepted: otherwise several token strings (other
    # trailing bits, padding, whitespace) would carry one signature.
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        _reject(MALFORMED, f"the {what} is not base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        _reject(MALFORMED, f"the {what} is not base64url")
    if _b64_bytes(data) != segment:
        _reject(MALFORMED, f"the {what} is not canonical base64url")
    return data


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = strict_loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        _reject(MALFORMED, f"the {what} is not JSON: {error}")
    if not isinstance(value, dict):
        _reject(MALFORMED, f"the {what} is not a JSON object")
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and _UNSTORABLE.search(item):
            _reject(MALFORMED, f"the {what} holds a NUL character or a lone surrogate")
        elif isinstance(item, int) and not -_LARGEST_INTEGER - 1 <= item <= _LARGEST_INTEGER:
            _reject(MALFORMED, f"the {what} holds an integer beyond 64 bits")
    return value


@dataclass(frozen=True, slots=True)
class _Parts:
    alg: str
    kid: str
    payload: bytes
    signing_input: bytes
    signature: bytes


def _split(token: Any) -> _Parts:
    if not isinstance(token, str):
        _reject(MALFORMED, "a submission signature is a string (compact JWS)")
    if len(token) > MAX_TOKEN_CHARS:
        _reject(MALFORMED, f"the signed submission is oversized (over {MAX_PAYLOAD_BYTES} "
                           "bytes of payload)")
    segments = token.split(".")
    if len(segments) != 3:
        _reject(MALFORMED, "not a compact JWS (three base64url segments joined by '.')")
    header_segment, payload_segment, signature_segment = segments
    if len(header_segment) > _MAX_HEADER_CHARS:
        _reject(MALFORMED, "the protected header is oversized")
    if len(payload_segment) > _MAX_PAYLOAD_CHARS:
        _reject(MALFORMED, f"the payload is oversized (over {MAX_PAYLOAD_BYTES} bytes)")
    if len(signature_segment) > _MAX_SIGNATURE_CHARS:
        _reject(MALFORMED, "the signature is oversized")
    alg, kid = _header(header_segment)
    payload = _unb64(payload_segment, "payload")
    signature = _unb64(signature_segment, "signature")
    return _Parts(alg, kid, payload, f"{header_segment}.{payload_segment}".encode("ascii"),
                  signature)


@functools.lru_cache(maxsize=1024)
def _header(segment: str) -> tuple[str, str]:
    """The ``alg`` and ``kid`` of a protected header, checked. Every change a signer sends
    carries the same header: it is read once (an invalid one raises each time, uncached)."""
    header = _json_object(_unb64(segment, "protected header"), "protected header")
    alg = header.get("alg")
    if not isinstance(alg, str):
        _reject(MALFORMED, 'the protected header has no "alg"')
    if alg not in ALGORITHMS:
        _reject(ALGORITHM_NOT_ALLOWED, f"algorithm {alg[:32]!r} is not allowed: one of "
                                       f"{', '.join(ALGORITHMS)}")
    typ = header.get("typ")
    # RFC 7515 §4.1.9: media types compare case-insensitively, "application/" may be left out.
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != SUBMISSION_TYPE:
        _reject(WRONG_TYPE, f'typ must be "{SUBMISSION_TYPE}"')
    extra = sorted(header.keys() - _HEADER_MEMBERS)
    if extra:
        # Notably "crit" and "b64": extensions this check does not implement must not pass.
        _reject(MALFORMED, f"unsupported protected header member(s): {', '.join(extra)[:80]}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        _reject(MALFORMED, 'the protected header has no "kid"')
    return alg, kid


def kid_of(token: str) -> str | None:
    """The ``kid`` a submission names, unverified (to load just the keys a batch needs), or
    None if the token cannot be taken apart."""
    try:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            return None
        segments = token.split(".")
        if len(segments) != 3 or len(segments[0]) > _MAX_HEADER_CHARS:
            return None
        return _header(segments[0])[1]
    except SignatureRejected:
        return None


def peek_employee(token: str) -> str | None:
    """The employee code a compact JWS's payload names, read WITHOUT verifying it: only to
    group items that may be decided together (a payload whose signature holds names the
    same), never to decide anything. None if it cannot be read."""
    try:
        segment = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        code = payload["employee"]["employeeCode"]
    except Exception:  # unreadable: the item is decided alone
        return None
    return code if isinstance(code, str) and 1 <= len(code) <= 32 else None


def _check_signature(parts: _Parts, keys: KeyLookup) -> SignerKey:
    signer = keys.find(parts.kid)
    if signer is None:
        _reject(UNKNOWN_KEY, f"no registered key has kid {parts.kid[:128]!r}")
    if parts.alg != signer.algorithm:
        _reject(ALGORITHM_NOT_ALLOWED, f"signed with {parts.alg}, but key {signer.kid} is an "
                                       f"{signer.algorithm} key")
    algorithm = jws.JWSRegistry.algorithms[signer.algorithm]
    try:
        valid = algorithm.verify(parts.signing_input, parts.signature, signer.key)
    except (JoseError, ValueError, TypeError):
        valid = False
    if not valid:
        _reject(BAD_SIGNATURE, f"the signature does not verify with key {signer.kid}")
    return signer


def _string(payload: Mapping[str, Any], name: str, *, limit: int = 128,
            prefix: str = "") -> str:
    value = payload.get(name)
    if value is None:
        _reject(MISSING_CLAIMS, f'"{prefix}{name}" is missing', f"{prefix}{name}")
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        _reject(MISSING_CLAIMS, f'"{prefix}{name}" must be a string of 1 to {limit} '
                                "characters", f"{prefix}{name}")
    return value


def _signed_at(payload: Mapping[str, Any]) -> datetime:
    """Check the claims every submission carries (the desk checks the change itself) and
    return when it was signed."""
    _string(payload, "jti")
    iss = _string(payload, "iss", limit=64)
    if not _CODE.fullmatch(iss):
        _reject(MISSING_CLAIMS, '"iss" is not an agency code', "iss")
    _string(payload, "kind", limit=64)
    employee = payload.get("employee")
    if not isinstance(employee, dict):
        _reject(MISSING_CLAIMS, '"employee" must be an object naming the employee', "employee")
    present = [name for name in ("employeeCode", "personalId") if employee.get(name) is not None]
    if not present:
        _reject(MISSING_CLAIMS, '"employee" names neither employeeCode nor personalId',
                "employee")
    for name in present:
        _string(employee, name, limit=64, prefix="employee.")
    base_version = payload.get("baseVersion")
    if base_version is not None and (type(base_version) is not int or base_version < 1):
        _reject(MISSING_CLAIMS, '"baseVersion" must be a positive integer', "baseVersion")
    if payload.get("change") is not None and not isinstance(payload["change"], dict):
        _reject(MISSING_CLAIMS, '"change" must be an object', "change")
    if payload.get("sourceSystem") is not None:
        _string(payload, "sourceSystem")
    iat = payload.get("iat")
    if iat is None:
        _reject(MISSING_CLAIMS, '"iat" is missing', "iat")
    # bool is an int to Python, not to JSON.
    if type(iat) not in (int, float) or iat < 0:
        _reject(MISSING_CLAIMS, '"iat" must be seconds since the epoch', "iat")
    try:
        return datetime.fromtimestamp(iat, UTC)
    except (OverflowError, ValueError, OSError):
        _reject(MISSING_CLAIMS, '"iat" is out of range', "iat")


def _check_time(signer: SignerKey, signed_at: datetime, now: datetime,
                leeway_seconds: int, max_age_seconds: int | None) -> None:
    if signed_at > now + timedelta(seconds=leeway_seconds):
        _reject(IAT_IN_FUTURE, f"signed at {signed_at:%Y-%m-%dT%H:%M:%SZ}, ahead of the hub's "
                               f"clock by more than {leeway_seconds} s", "iat")
    if max_age_seconds is not None and signed_at < now - timedelta(seconds=max_age_seconds):
        _reject(SIGNATURE_TOO_OLD, f"signed at {signed_at:%Y-%m-%dT%H:%M:%SZ}, more than "
                                   f"{_age(max_age_seconds)} ago: sign it again and "
                                   "submit it under a new idempotency key", "iat")
    if signer.revoked_at is not None and signed_at >= signer.revoked_at:
        _reject(KEY_REVOKED, f"key {signer.kid} was revoked at "
                             f"{signer.revoked_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}, "
                             "before this was signed", "iat")
    if signed_at < signer.valid_from:
        _reject(KEY_NOT_YET_VALID, f"key {signer.kid} signs only from "
                                   f"{signer.valid_from.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
                "iat")
    if signed_at >= signer.valid_until:
        _reject(KEY_EXPIRED, f"key {signer.kid} expired at "
                             f"{signer.valid_until.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}, "
                             "before this was signed", "iat")


def _age(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    return f"{days} day(s)" if days and not rest else f"{seconds} s"


def _verified(parts: _Parts, signer: SignerKey, payload: dict[str, Any],
              signed_at: datetime, canonical: bytes) -> SignedSubmission:
    return SignedSubmission(payload=payload, kid=signer.kid, owner_kind=signer.owner_kind,
                            owner_id=signer.owner_id, signed_at=signed_at,
                            algorithm=signer.algorithm, canonical=canonical)


def verify_submission(token: str, keys: KeyLookup, *, now: datetime,
                      leeway_seconds: int = 60, max_age_seconds: int | None = None,
                      expected_issuer: str | None = None) -> SignedSubmission:
    """Verify an agency's signature over a submission. The signing key must be an agency's,
    that of the agency the payload's ``iss`` names, and ``iss`` must be ``expected_issuer``
    when given (the agency the submitting client acts for). Checks run in this order: form,
    algorithm, typ, key, signature, payload, claims, signer, time."""
    parts = _split(token)
    signer = _check_signature(parts, keys)
    payload = _json_object(parts.payload, "payload")
    signed_at = _signed_at(payload)
    iss = payload["iss"]
    if signer.owner_kind != "agency" or signer.owner_id != iss:
        _reject(WRONG_SIGNER, f"key {signer.kid} is not a key of agency {iss}",
                "iss")
    if expected_issuer is not None and iss != expected_issuer:
        _reject(WRONG_SIGNER, f"signed for agency {iss}, but the submitter acts for "
                              f"{expected_issuer}", "iss")
    _check_time(signer, signed_at, now, leeway_seconds, max_age_seconds)
    return _verified(parts, signer, payload, signed_at, canonical_json(payload))


def verify_co_signature(token: str, payload: Mapping[str, Any], keys: KeyLookup,
                        employee_code: str, *, now: datetime,
                        leeway_seconds: int = 60,
                        max_age_seconds: int | None = None) -> SignedSubmission:
    """Verify the employee's second signature: over the same payload as the agency's (equal
    as canonical JSON), by a key registered to the employee ``employee_code``, valid at the
    payload's ``iat`` (there is one ``iat``: the employee signs what the agency signed)."""
    parts = _split(token)
    signer = _check_signature(parts, keys)
    signed = _json_object(parts.payload, "payload")
    canonical = canonical_json(signed)
    if canonical != canonical_json(payload):
        _reject(PAYLOAD_MISMATCH, "the employee's signature covers another payload than the "
                                  "agency's")
    signed_at = _signed_at(signed)
    if signer.owner_kind != "employee" or signer.owner_id != employee_code:
        _reject(WRONG_SIGNER, f"key {signer.kid} is not a key of employee "
                              f"{employee_code}", "employee.employeeCode")
    _check_time(signer, signed_at, now, leeway_seconds, max_age_seconds)
    return _verified(parts, signer, signed, signed_at, canonical)


def sign_submission(payload: Mapping[str, Any] | bytes, key: Key, kid: str | None = None,
                    alg: str | None = None, *, typ: str = SUBMISSION_TYPE) -> str:
    """A compact JWS over ``payload`` (a mapping, serialised as canonical JSON, or the exact
    bytes to sign), for tests, benchmarks, the demo and agency-side tools. ``kid`` and ``alg``
    default to the key's own."""
    kid = kid or key.kid
    alg = alg or key.alg
    if not kid or alg not in ALGORITHMS:
        raise ValueError("a signing key needs a kid and one of the algorithms "
                         f"{', '.join(ALGORITHMS)}")
    header = canonical_json({"alg": alg, "kid": kid, "typ": typ})
    body = payload if isinstance(payload, bytes) else canonical_json(payload)
    signing_input = f"{_b64_bytes(header)}.{_b64_bytes(body)}".encode("ascii")
    # The algorithm's own signer, not jws.serialize_compact: joserfc warns on every EdDSA use
    # (RFC 9864 prefers "Ed25519"), while this format names EdDSA deliberately.
    signature = jws.JWSRegistry.algorithms[alg].sign(signing_input, key)
    return f"{signing_input.decode('ascii')}.{_b64_bytes(signature)}"
