"""What an audit record takes from the HTTP request itself: request id, trace id, end user,
and a keyed digest of the variables.

Clients may name the request (``X-Request-Id``), continue a trace (W3C ``traceparent``) and
say which of their users asked (``X-End-User``, the accountable person behind a system's
call). Each is checked before it reaches the log: a value that is not well formed is replaced
(request and trace ids) or refused (the end user, which the client must get right).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["END_USER_HEADER", "REQUEST_ID_HEADER", "RequestMeta", "document_digest",
           "read_request_meta", "variables_digest", "variables_key"]

REQUEST_ID_HEADER = "x-request-id"
END_USER_HEADER = "x-end-user"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
_END_USER_MAX = 256


@dataclass(frozen=True, slots=True)
class RequestMeta:
    request_id: str
    trace_id: str
    end_user: str | None
    problem: str | None = None  # why the request must be refused, if it must


def _end_user(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    value = value.strip()
    if not value or len(value) > _END_USER_MAX or not value.isprintable():
        return None, (f"the {END_USER_HEADER} header must be 1 to {_END_USER_MAX} printable "
                      "characters naming the end user")
    return value, None


def read_request_meta(headers: Mapping[str, str]) -> RequestMeta:
    given_id = headers.get(REQUEST_ID_HEADER)
    request_id = (given_id if given_id is not None and _REQUEST_ID.fullmatch(given_id)
                  else secrets.token_hex(16))
    trace = _TRACEPARENT.fullmatch(headers.get("traceparent", "").strip().lower())
    trace_id = (trace.group(1) if trace is not None and trace.group(1) != "0" * 32
                else secrets.token_hex(16))
    end_user, problem = _end_user(headers.get(END_USER_HEADER))
    return RequestMeta(request_id, trace_id, end_user, problem)


def variables_key(secret: bytes) -> bytes:
    """The key of the document and variables digests, derived from the hub's mask secret:
    a digest can confirm which document and variables a logged operation had, yet a
    guessable value (a personal ID) cannot be recovered from the log by trying candidates
    without the secret."""
    return hmac.new(secret, b"hub-audit-variables-v1", hashlib.sha256).digest()


def document_digest(key: bytes, document_sha256: str | None) -> str | None:
    """The document's digest in the log: keyed like the variables, since a document may
    carry literals (a personal ID written inline) that an unkeyed hash would let anyone
    confirm by trying candidates. Equal documents still get equal digests."""
    if document_sha256 is None:
        return None
    return hmac.new(key, document_sha256.encode(), hashlib.sha256).hexdigest()


def variables_digest(key: bytes, variables: Mapping[str, Any] | None) -> str | None:
    if not variables:
        return None
    try:
        text = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # Nested deeper than orjson writes (254 levels; a request body may hold 1,024), or
        # not JSON at all: the same canonical text, written without recursion (repr, and
        # anything recursive, fails on such values: an internal error for a client's input).
        text = _canonical(variables)
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def _canonical(value: Any) -> bytes:
    """Compact JSON with sorted keys, as orjson writes it, at any depth (repr for values JSON
    cannot hold)."""
    parts: list[str] = []
    todo: list[tuple[Any, bool]] = [(value, False)]  # (value, or text to write as it is)
    while todo:
        item, is_text = todo.pop()
        if is_text:
            parts.append(item)
        elif isinstance(item, Mapping):
            entries = sorted(((str(k), v) for k, v in item.items()), key=lambda kv: kv[0])
            steps: list[tuple[Any, bool]] = [("{", True)]
            for index, (name, member) in enumerate(entries):
                steps += [(("," if index else "") + orjson.dumps(name).decode() + ":", True),
                          (member, False)]
            todo.extend(reversed([*steps, ("}", True)]))
        elif isinstance(item, list | tuple):
            steps = [("[", True)]
            for index, member in enumerate(item):
                steps += [(",", True)] if index else []
                steps.append((member, False))
            todo.extend(reversed([*steps, ("]", True)]))
        else:
            try:
                parts.append(orjson.dumps(item).decode())
            except (orjson.JSONEncodeError, TypeError):
                parts.append(repr(item))
    return "".join(parts).encode()
