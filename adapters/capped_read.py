"""Reading a body with a size limit, refusing an oversized one without reading it all: the
declared Content-Length first, then the chunks as they arrive. Shared by the hub's requests
(hub/http_body.py) and the sources' answers (adapters/http_json.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

__all__ = ["read_capped"]


async def read_capped(declared_length: str | None, chunks: AsyncIterator[bytes],
                      limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit`` bytes."""
    if declared_length is not None and declared_length.isdigit() \
            and int(declared_length) > limit:
        return None
    kept: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        kept.append(chunk)
    return b"".join(kept)
