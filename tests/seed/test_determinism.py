"""Same (employees, seed) -> the same bytes, however the work is split and whatever the
database privileges; and re-seeding replaces rather than adds."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

import hub.seed.run
from hub.databases import DatabaseSet, create_databases, drop_databases
from hub.postgres_server import database_url
from hub.seed import seed_all
from tests.seed.conftest import SEED, SEED_DB, SEED_EMPLOYEES, Seeded

TABLES = {
    "national": ("agency", "employee", "allowance", "work_history", "qualification", "training",
                 "award", "discipline", "evaluation", "party_membership", "health_record",
                 "asset_declaration", "personal_history", "family_member", "seed_run"),
    "population": ("citizen",),
    "agency_rest": ("nhan_su", "ky_luat", "seed_drift"),
    "agency_graphql": ("staff", "staff_discipline", "seed_drift"),
    "agency_database": ("hr_employee", "hr_disciplinary_action", "seed_drift"),
    "agency_file_drop": ("ns_canbo", "ns_kyluat", "seed_drift"),
}


async def checksums(databases: DatabaseSet) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every seeded table's full contents (ids included)."""
    sums = {}
    for database, tables in TABLES.items():
        conn = await asyncpg.connect(getattr(databases, database))
        try:
            for table in tables:
                row = await conn.fetchrow(
                    f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, E'\\n'"
                    f" ORDER BY t::text), '')) AS digest FROM {table} t")
                sums[f"{database}.{table}"] = (row["n"], row["digest"])
        finally:
            await conn.close()
    sums.update(_exports(Path(databases.file_drops)))
    return sums


def _exports(directory: Path) -> dict[str, tuple[int, str]]:
    """The legacy system's dropped exports, by name: their bytes are seeded data too."""
    return {f"export.{path.name}": (1, hashlib.sha256(path.read_bytes()).hexdigest())
            for path in sorted(directory.iterdir())}


@pytest.fixture
async def scratch(seed_server: str) -> AsyncIterator[DatabaseSet]:
    databases = DatabaseSet.on_server(seed_server, f"{SEED_DB}_again")
    await create_databases(databases, recreate=True)
    yield databases
    await drop_databases(databases)


async def test_same_inputs_same_bytes_across_processes_and_batches(
        seeded: Seeded, scratch: DatabaseSet, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = await checksums(seeded.databases)
    # Another layout of the work: a worker process, one chunk per batch.
    monkeypatch.setattr(hub.seed.run, "_CHUNKS_PER_BATCH", 1)
    await seed_all(scratch, employees=SEED_EMPLOYEES, seed=SEED, workers=1)
    assert await checksums(scratch) == expected
    # Seeding again over existing data replaces it.
    await seed_all(scratch, employees=SEED_EMPLOYEES, seed=SEED, workers=0)
    assert await checksums(scratch) == expected
    # Another seed gives other data of the same shape.
    await seed_all(scratch, employees=SEED_EMPLOYEES, seed=SEED + 1, workers=0)
    other = await checksums(scratch)
    assert other["national.employee"] != expected["national.employee"]
    assert other["national.employee"][0] == SEED_EMPLOYEES


@pytest.fixture
async def unprivileged(seed_server: str) -> AsyncIterator[DatabaseSet]:
    """Databases owned by a role that may not switch off foreign-key checks."""
    role = "seedtest_owner"
    admin = await asyncpg.connect(database_url(seed_server, "postgres"))
    databases = DatabaseSet.on_server(seed_server, f"{SEED_DB}_owned")
    try:
        await drop_databases(databases)
        if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            await admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER")
        owned = DatabaseSet.on_server(seed_server.replace("postgres@", f"{role}@", 1),
                                      f"{SEED_DB}_owned")
        for url in databases.all():
            name = url.rsplit("/", 1)[1]
            await admin.execute(f'CREATE DATABASE "{name}" OWNER {role} TEMPLATE template0')
        yield owned
    finally:
        await drop_databases(databases)
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()


async def test_without_superuser_the_checked_path_gives_the_same_data(
        seeded: Seeded, unprivileged: DatabaseSet) -> None:
    if "postgres@" not in seeded.databases.national:
        pytest.skip("needs the server's postgres superuser to create a role")
    await seed_all(unprivileged, employees=SEED_EMPLOYEES, seed=SEED, workers=0)
    assert await checksums(unprivileged) == await checksums(seeded.databases)
