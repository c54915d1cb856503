"""apply_schema: idempotent, and safe when the seeder and a service run it at the same time."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from sandbox import SYSTEMS
from sandbox.schemas import apply_schema, schema_sql
from tests.sandbox.sandbox_testkit import Services


async def test_apply_schema_is_idempotent_and_concurrency_safe(services: Services) -> None:
    # The national database of the test set is otherwise unused: start from nothing there.
    dsn = services.databases.national
    await asyncio.gather(*(apply_schema(dsn, system) for system in SYSTEMS for _ in range(3)))
    await apply_schema(dsn, "population")
    conn = await asyncpg.connect(dsn)
    try:
        tables = {r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()
    assert {"citizen", "nhan_su", "staff"} <= tables


def test_unknown_system_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown sandbox system"):
        schema_sql("national")  # type: ignore[arg-type]
