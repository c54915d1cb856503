"""Masks a policy can put on a value, and the GraphQL type a masked field is shown as.

A masked field changes type in the client's schema (a year is an Int, a partial personal ID
is a String), so what a client sees always matches what its schema says.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

__all__ = ["MASKABLE_TYPES", "MASKS", "MASK_RESULT_TYPES", "make_mask"]

REDACTED = "[redacted]"


def _last4(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    return "*" * max(len(text) - 4, 0) + text[-4:]


def _year_only(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.year
    return None


def _redact(value: Any) -> Any:
    return None if value is None else REDACTED


def _hasher(secret: bytes) -> Callable[[Any], Any]:
    # Keyed per client and purpose (the caller passes that key): the same value gives the
    # same token within those answers, so records can be linked, but tokens cannot be joined
    # across purposes or clients, or reversed by hashing guesses without the key.
    def hash_value(value: Any) -> Any:
        if value is None:
            return None
        return hmac.new(secret, str(value).encode(), hashlib.sha256).hexdigest()[:32]

    return hash_value


MASKS = ("last4", "year-only", "redact", "hash")

# mask -> the GraphQL named type a field masked so is shown as
MASK_RESULT_TYPES: dict[str, str] = {
    "last4": "String", "year-only": "Int", "redact": "String", "hash": "String"}

# mask -> the GraphQL named types it can apply to (None: any scalar or enum)
MASKABLE_TYPES: dict[str, frozenset[str] | None] = {
    "last4": frozenset({"String", "PersonalId", "ID"}),
    "year-only": frozenset({"Date", "DateTime"}),
    "redact": None,
    "hash": frozenset({"String", "PersonalId", "ID", "Int"}),
}


def make_mask(name: str, secret: bytes) -> Callable[[Any], Any]:
    if name == "last4":
        return _last4
    if name == "year-only":
        return _year_only
    if name == "redact":
        return _redact
    if name == "hash":
        return _hasher(secret)
    raise ValueError(f"unknown mask {name!r}")
