"""HTTP plumbing shared by the three services: JSON responses, request errors, body reading.

Each simulated vendor reports errors in its own envelope (English ``error``/``code`` for the
population registry, Vietnamese ``loi``/``ma`` for the ministry system, GraphQL ``errors`` for
the province); an :class:`ErrorDialect` captures that so shared code can raise one
:class:`RequestError` and every service still answers in its own voice.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["MAX_BODY_BYTES", "ErrorDialect", "InvalidInput", "JSONResponse", "RequestError",
           "read_json_body", "secret_matches"]

# The largest legitimate body is a batch of 1000 ids (~17 KB); anything near this limit is
# hostile or a bug in the caller, and must not be buffered without bound.
MAX_BODY_BYTES = 1024 * 1024


class JSONResponse(Response):
    """A JSON response rendered with orjson (dates and datetimes as ISO 8601)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class RequestError(Exception):
    """A request the service refuses: becomes an error response in the service's dialect."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 extra: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


class InvalidInput(RequestError):
    """Malformed input (HTTP 400). Also caught by the GraphQL service as a user-input error."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


Envelope = Callable[[str, str, Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class ErrorDialect:
    """How one vendor shapes its error bodies: default code per HTTP status, and envelope."""

    codes: Mapping[int, str]
    envelope: Envelope  # (code, message, extra fields) -> JSON body

    def response(self, status: int, message: str, *, code: str | None = None,
                 extra: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> Response:
        chosen = code or self.codes.get(status, "ERROR")
        body = self.envelope(chosen, message, extra or {})
        return JSONResponse(body, status_code=status, headers=dict(headers or {}))

    def from_error(self, error: RequestError) -> Response:
        return self.response(error.status, error.message, code=error.code, extra=error.extra,
                             headers=error.headers)

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        """Starlette's own 404/405 (unknown path, wrong method), in this dialect."""
        if isinstance(exc, HTTPException):
            return self.response(exc.status_code, exc.detail, headers=exc.headers)
        return self.response(500, "internal error")


async def read_json_body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> object:
    """The request body parsed as JSON, refusing oversize bodies without buffering them."""
    body = bytearray()
    too_large = False
    # The rest of an oversize body is still drained (and dropped): answering before the client
    # has finished sending would make it see a reset connection instead of our 413.
    async for chunk in request.stream():
        if not too_large:
            body += chunk
            too_large = len(body) > max_bytes
    if too_large:
        raise RequestError(413, f"request body exceeds {max_bytes} bytes")
    if not body.strip():
        raise InvalidInput("request body is empty; expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"request body is not valid JSON ({exc})") from None


def secret_matches(given: str | None, accepted: Iterable[str]) -> bool:
    """Constant-time comparison against each accepted secret."""
    if not given:
        return False
    candidate = given.encode("utf-8", "surrogateescape")
    # No short-circuit: every accepted secret is compared, so timing reveals nothing.
    results = [hmac.compare_digest(candidate, secret.encode("utf-8")) for secret in accepted]
    return any(results)
