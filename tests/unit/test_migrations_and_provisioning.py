"""Migrations against a real PostgreSQL, and the private-cluster fallback."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import asyncpg
import pytest

from hub.databases import DatabaseSet, create_databases
from hub.environment import STATE_DIR
from hub.migrate import MIGRATIONS_DIR, apply_migrations
from hub.postgres_server import PRIVATE_CLUSTER_USER, _PrivateCluster, _server_binary
from tests.settings import TEST_DB_PREFIX


def test_migrations_apply_once_and_refuse_edits(server_url: str, tmp_path: Path) -> None:
    databases = DatabaseSet.on_server(server_url, f"{TEST_DB_PREFIX}_migrations")

    async def run() -> None:
        await create_databases(databases, recreate=True)
        first = await apply_migrations(databases.national)
        assert first == sorted(p.stem for p in MIGRATIONS_DIR.glob("*.sql"))
        assert await apply_migrations(databases.national) == []
        conn = await asyncpg.connect(databases.national)
        try:
            assert await conn.fetchval("SELECT count(*) FROM province") == 34
            assert await conn.fetchval("SELECT count(*) FROM legacy_province") == 63
            assert await conn.fetchval(
                "SELECT count(*) FROM salary_ladder WHERE rank_code = '01.003'") == 9
            # A coefficient off its rank's ladder cannot be stored.
            with pytest.raises(asyncpg.ForeignKeyViolationError):
                await conn.execute(
                    "INSERT INTO agency (code, name, kind, province_code, headcount_quota)"
                    " VALUES ('000.00.00.G99', 'x', 'ministry', '01', 1);"
                    "INSERT INTO employee (employee_code, personal_id, family_name, given_name,"
                    " birth_date, sex, category, status, agency_code, unit_name, position_code,"
                    " rank_code, salary_step, salary_coefficient, hired_on) VALUES"
                    " ('CB1', '001085012345', 'Lê', 'An', '1985-01-01', 'male', 'civil_servant',"
                    " 'active', '000.00.00.G99', 'x', 'CHUYEN_VIEN', '01.003', 2, 2.68,"
                    " '2010-01-01')")
        finally:
            await conn.close()

        edited = tmp_path / "migrations"
        shutil.copytree(MIGRATIONS_DIR, edited)
        first_file = sorted(edited.glob("*.sql"))[0]
        first_file.write_text(first_file.read_text() + "\n-- edited\n")
        with pytest.raises(RuntimeError, match="changed after it was applied"):
            await apply_migrations(databases.national, edited)

    asyncio.run(run())


def test_private_cluster_starts_from_the_server_binaries() -> None:
    # Under .hub/ rather than the system temp dir: as root the cluster runs as `postgres`,
    # which must be able to reach its directory.
    root = STATE_DIR / "test-private-cluster"
    shutil.rmtree(root, ignore_errors=True)
    cluster = _PrivateCluster(root)
    url = cluster.start()
    try:
        async def check() -> int:
            conn = await asyncpg.connect(url)
            try:
                return int(await conn.fetchval("SELECT 1"))
            finally:
                await conn.close()

        assert asyncio.run(check()) == 1
        assert cluster.start() == url, "a running cluster is reused"
        # Not trust: a local user without the password is refused.
        without_password = "postgresql://postgres@127.0.0.1:" + url.rsplit(":", 1)[1]
        refused = (asyncpg.InvalidPasswordError,
                   asyncpg.InvalidAuthorizationSpecificationError)
        with pytest.raises(refused):
            asyncio.run(asyncpg.connect(without_password))
    finally:
        command = [_server_binary("pg_ctl"), "-D", str(cluster.data), "-m", "fast", "stop"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PRIVATE_CLUSTER_USER, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(cluster.root, ignore_errors=True)
