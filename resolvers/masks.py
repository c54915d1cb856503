"""Masks a policy can put on a value: what each does, which types it applies to, and the
GraphQL type a masked field is shown as (a year is an Int, a partial personal ID a String),
so what a client sees always matches what its schema says.

``MASKS`` is the one list: the policy JSON Schema's enum is checked against it in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

__all__ = ["MASKS", "REDACTED", "Mask"]

REDACTED = "[redacted]"
MaskFunction = Callable[[Any], Any]


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


def _hasher(secret: bytes) -> MaskFunction:
    # Keyed per client and purpose (the caller passes that key): the same value gives the
    # same token within those answers, so records can be linked, but tokens cannot be joined
    # across purposes or clients, or reversed by hashing guesses without the key.
    def hash_value(value: Any) -> Any:
        if value is None:
            return None
        return hmac.new(secret, str(value).encode(), hashlib.sha256).hexdigest()[:32]

    return hash_value


@dataclass(frozen=True, slots=True)
class Mask:
    shown_as: str                       # the GraphQL scalar a masked field becomes
    applies_to: frozenset[str] | None   # GraphQL named types it can mask (None: any leaf)
    make: Callable[[bytes], MaskFunction]  # given the client's key for its purpose


MASKS: dict[str, Mask] = {
    "last4": Mask("String", frozenset({"String", "PersonalId", "ID"}), lambda _: _last4),
    "year-only": Mask("Int", frozenset({"Date", "DateTime"}), lambda _: _year_only),
    "redact": Mask("String", None, lambda _: _redact),
    "hash": Mask("String", frozenset({"String", "PersonalId", "ID", "Int"}), _hasher),
}
