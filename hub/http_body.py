"""Reading a request body with a size limit, refusing an oversized one without reading it all
(the declared Content-Length first, then as the chunks arrive)."""

from __future__ import annotations

from starlette.requests import Request

from adapters.capped_read import read_capped

__all__ = ["read_body"]


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit`` bytes."""
    return await read_capped(request.headers.get("content-length"), request.stream(), limit)
