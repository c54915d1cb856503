"""One JSON call to an HTTP source, with every failure mapped to a SourceError.

The whole call, answer included, must finish within ``timeout`` seconds (httpx's own timeouts
bound each read, not their sum: a source dripping bytes would hold the call for ever), and
the answer may be at most ``max_bytes`` long (read as it arrives: a hostile or broken source
cannot make the hub hold a gigabyte).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
from opentelemetry import propagate

from adapters.call_log import record_call
from adapters.capped_read import read_capped
from adapters.errors import SourceTimeout, SourceUnavailable
from adapters.observe import tracing_configured
from adapters.resilience import retryable

__all__ = ["call_json"]


MAX_RESPONSE_BYTES = 16 * 1024 * 1024


async def call_json(client: httpx.AsyncClient, source: str, method: str, url: str, *,
                    body: Any = None, headers: dict[str, str] | None = None,
                    params: dict[str, str] | None = None, timeout: float,
                    max_bytes: int = MAX_RESPONSE_BYTES) -> Any:
    record_call(source)
    content = orjson.dumps(body) if body is not None else None
    all_headers = {"content-type": "application/json", **(headers or {})}
    if tracing_configured():
        # The W3C trace context of the work this call belongs to, sampled or not. The httpx
        # instrumentation writes its own span's over it when it records the call.
        propagate.inject(all_headers)
    try:
        async with asyncio.timeout(timeout):
            status, answer = await _exchange(client, source, method, url, content,
                                             all_headers, params, timeout, max_bytes)
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise SourceTimeout(source, f"did not answer within {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise retryable(SourceUnavailable(source, "is unreachable")) from exc
    if status in (401, 403):
        raise SourceUnavailable(source, "refused the hub's credentials")
    if status >= 500:
        raise retryable(SourceUnavailable(source, f"answered HTTP {status}"))
    if status >= 400:
        raise SourceUnavailable(source, f"answered HTTP {status}")
    try:
        return orjson.loads(answer)
    except orjson.JSONDecodeError as exc:
        raise SourceUnavailable(source, "answered with malformed JSON") from exc


async def _exchange(client: httpx.AsyncClient, source: str, method: str, url: str,
                    content: bytes | None, headers: dict[str, str],
                    params: dict[str, str] | None, timeout: float, max_bytes: int
                    ) -> tuple[int, bytes]:
    """The status and the body, read no further than ``max_bytes``."""
    async with client.stream(method, url, content=content, headers=headers, params=params,
                             timeout=timeout) as response:
        body = await read_capped(response.headers.get("content-length"),
                                 response.aiter_bytes(), max_bytes)
        if body is None:
            raise SourceUnavailable(source, f"answered more than {max_bytes} bytes")
        return response.status_code, body
