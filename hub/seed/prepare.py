"""Getting the four databases ready: schemas, emptied seeded tables, and the code lists."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import asyncpg

from hub.databases import DatabaseSet
from hub.migrate import apply_migrations
from hub.seed.catalog import Catalog, DisciplineForm, LegacyProvince, Position, Province, Rank
from hub.seed.layout import SANDBOX_DATABASES, outdated, seeded_tables
from hub.seed.tables import AGENCY_SYSTEM_TABLES, NATIONAL_TRUNCATE, SEED_DRIFT_DDL
from sandbox import Schema
from sandbox.schemas import apply_schema

__all__ = ["load_catalog", "prepare_databases"]


async def prepare_databases(databases: DatabaseSet) -> None:
    """Apply the national migrations and the sandbox schemas, then empty what the seeder
    writes (code lists stay: they belong to the migrations). A sandbox database whose tables
    an older seeder made (a column or table short) has them dropped and made afresh."""
    await asyncio.gather(
        apply_migrations(databases.national),
        *(_sandbox_schema(getattr(databases, system), system) for system in SANDBOX_DATABASES),
    )
    await asyncio.gather(
        _execute(databases.national,
                 f"TRUNCATE {', '.join(NATIONAL_TRUNCATE)} RESTART IDENTITY CASCADE"),
        _execute(databases.population, "TRUNCATE citizen"),
        *(_execute(getattr(databases, system), SEED_DRIFT_DDL
                   + f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY")
          for system, tables in AGENCY_SYSTEM_TABLES.items()),
    )


async def _sandbox_schema(url: str, system: Schema) -> None:
    tables = seeded_tables(system)
    if await outdated(url, tables):
        # Referring tables first; seed_drift goes too (SEED_DRIFT_DDL makes it again).
        await _execute(url, f"DROP TABLE IF EXISTS "
                            f"{', '.join(t.name for t in reversed(tables))} CASCADE")
    await apply_schema(url, system)


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def load_catalog(national_url: str) -> Catalog:
    conn = await asyncpg.connect(national_url)
    try:
        provinces = await conn.fetch("SELECT code, name FROM province ORDER BY code")
        legacy = await conn.fetch(
            "SELECT code, name, successor_code FROM legacy_province ORDER BY code")
        ranks = await conn.fetch(
            "SELECT r.code, r.name, r.category, r.pay_group,"
            " array_agg(l.coefficient ORDER BY l.step) AS ladder"
            " FROM rank r JOIN salary_ladder l ON l.rank_code = r.code"
            " GROUP BY r.code ORDER BY r.code")
        positions = await conn.fetch(
            "SELECT code, name, leadership, allowance_coefficient FROM position ORDER BY code")
        forms = await conn.fetch(
            "SELECT code, name, severity, applies_to, appointment_bar_months"
            " FROM discipline_form ORDER BY code")
        grades = await conn.fetch("SELECT code FROM evaluation_grade ORDER BY ordinal")
    finally:
        await conn.close()
    return Catalog(
        provinces=tuple(Province(r["code"], r["name"]) for r in provinces),
        legacy_provinces=tuple(LegacyProvince(r["code"], r["name"], r["successor_code"])
                               for r in legacy),
        ranks={r["code"]: Rank(r["code"], r["name"], r["category"], r["pay_group"],
                               tuple(Decimal(c) for c in r["ladder"])) for r in ranks},
        positions={r["code"]: Position(r["code"], r["name"], r["leadership"],
                                       Decimal(r["allowance_coefficient"])) for r in positions},
        discipline_forms={r["code"]: DisciplineForm(r["code"], r["name"], r["severity"],
                                                    frozenset(r["applies_to"]),
                                                    r["appointment_bar_months"])
                          for r in forms},
        evaluation_grades=tuple(r["code"] for r in grades),
    )
