"""How often a client may ask the token endpoint for a token (``HUB_TOKEN_RATE_PER_MINUTE``,
``HUB_TOKEN_RATE_BURST``): a limit per client id, before its credentials are checked, so
guessing a client's secret, or flooding the endpoint with signed assertions, is slowed down to
the limit whatever the answers are.

The client id is the one the request claims — in ``client_id``, HTTP Basic, or the ``sub`` of a
``client_assertion`` — read without trusting it: it only picks the allowance charged. Limits per
address before authentication are the load balancer's (the hub behind one sees its address).
The allowance is the same GCRA as the GraphQL endpoint's (``hub.rate_limits``), shared through
Redis when the hub has one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from urllib.parse import parse_qs, unquote_plus

__all__ = ["claimed_client"]

_MAX_ID_CHARS = 128
_UNKNOWN = "-"


def _usable(value: str | None) -> str | None:
    if value and len(value) <= _MAX_ID_CHARS and value.isprintable():
        return value
    return None


def _from_basic(authorization: str | None) -> str | None:
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client, sep, _ = decoded.partition(":")
    return unquote_plus(client) if sep else None


def _from_assertion(assertion: str | None) -> str | None:
    if not assertion or len(assertion) > 16_384:
        return None
    try:
        segment = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (IndexError, binascii.Error, UnicodeDecodeError, ValueError):
        return None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    return subject if isinstance(subject, str) else None


def claimed_client(headers: Mapping[str, str], body: bytes) -> str:
    """The client id a token request names (unverified), or ``-`` when it names none that
    could be one."""
    try:
        form = parse_qs(body.decode("utf-8"), max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        form = {}

    def field(name: str) -> str | None:
        values = form.get(name)
        return values[0] if values else None

    for candidate in (field("client_id"), _from_basic(headers.get("authorization")),
                      _from_assertion(field("client_assertion"))):
        usable = _usable(candidate)
        if usable is not None:
            return usable
    return _UNKNOWN
