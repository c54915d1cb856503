"""Seeding only when needed: the demo and the benchmarks keep their data between runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import asyncpg

from hub.databases import DatabaseSet, create_databases
from hub.migrate import apply_migrations
from hub.seed.file_drop import ensure_seed_export
from hub.seed.layout import SANDBOX_DATABASES, outdated, seeded_tables
from hub.seed.run import SeedSummary, seed_all

__all__ = ["ensure_seeded"]


async def ensure_seeded(databases: DatabaseSet, *, employees: int, seed: int,
                        report: Callable[[str], None] | None = None) -> SeedSummary | None:
    """Create and migrate the databases, then seed them unless they already hold exactly
    this (employees, seed) data set, written in the layout of this seeder. Returns the summary
    of a seed run, None if skipped."""
    await create_databases(databases)
    await apply_migrations(databases.national)
    conn = await asyncpg.connect(databases.national)
    try:
        last = await conn.fetchrow("SELECT employees, seed FROM seed_run")
    finally:
        await conn.close()
    if last is not None and (last["employees"], last["seed"]) == (employees, seed) \
            and not await _older_layout(databases):
        # The data are there; the legacy system's export may have been cleared away.
        await ensure_seed_export(databases.agency_file_drop, Path(databases.file_drops))
        return None
    return await seed_all(databases, employees=employees, seed=seed, report=report)


async def _older_layout(databases: DatabaseSet) -> bool:
    """Was the data set written by a seeder whose sandbox tables lacked some of today's?"""
    for system in SANDBOX_DATABASES:
        if await outdated(getattr(databases, system), seeded_tables(system)):
            return True
    return False
