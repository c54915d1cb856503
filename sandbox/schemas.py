"""Create a simulated system's tables in its database.

The seeder calls this before writing rows and every service calls it at startup, so both may
run it at the same moment against the same database: an advisory lock serialises them, because
concurrent ``CREATE TABLE IF NOT EXISTS`` of the same table can still fail on the catalog's
unique indexes.
"""

from __future__ import annotations

from importlib import resources

import asyncpg

from sandbox import SCHEMAS, Schema

__all__ = ["apply_schema", "schema_sql"]

# Any constant works as long as every caller uses the same one per system.
_LOCK_NAMESPACE = "sandbox.schema:"


def schema_sql(system: Schema) -> str:
    """The DDL of one system, as shipped in ``sandbox/<system>/schema.sql``."""
    if system not in SCHEMAS:
        raise ValueError(f"unknown sandbox system {system!r}; expected one of {SCHEMAS}")
    return resources.files(f"sandbox.{system}").joinpath("schema.sql").read_text("utf-8")


async def apply_schema(dsn: str, system: Schema) -> None:
    """Run ``system``'s schema.sql against ``dsn``. Idempotent and safe to run concurrently."""
    sql = schema_sql(system)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                               _LOCK_NAMESPACE + system)
            await conn.execute(sql)
    finally:
        await conn.close()
