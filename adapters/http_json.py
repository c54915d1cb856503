"""One JSON call to an HTTP source, with every failure mapped to a SourceError."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from adapters.call_log import record_call
from adapters.errors import SourceTimeout, SourceUnavailable
from adapters.resilience import retryable

__all__ = ["call_json"]


async def call_json(client: httpx.AsyncClient, source: str, method: str, url: str, *,
                    body: Any = None, headers: dict[str, str] | None = None,
                    params: dict[str, str] | None = None, timeout: float) -> Any:
    record_call(source)
    content = orjson.dumps(body) if body is not None else None
    all_headers = {"content-type": "application/json", **(headers or {})}
    try:
        response = await client.request(method, url, content=content, headers=all_headers,
                                        params=params, timeout=timeout)
    except httpx.TimeoutException as exc:
        raise SourceTimeout(source, f"did not answer within {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise retryable(SourceUnavailable(source, "is unreachable")) from exc
    status = response.status_code
    if status in (401, 403):
        raise SourceUnavailable(source, "refused the hub's credentials")
    if status >= 500:
        raise retryable(SourceUnavailable(source, f"answered HTTP {status}"))
    if status >= 400:
        raise SourceUnavailable(source, f"answered HTTP {status}")
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise SourceUnavailable(source, "answered with malformed JSON") from exc
