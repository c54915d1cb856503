"""Reading the sources directly, as the ground truth the hub's answers are checked against."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg


def fetch(dsn: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(dsn)
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


def fetch_one(dsn: str, sql: str, *args: Any) -> dict[str, Any] | None:
    rows = fetch(dsn, sql, *args)
    return rows[0] if rows else None
