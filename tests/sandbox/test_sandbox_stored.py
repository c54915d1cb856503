"""The two sandbox systems without a service: their schemas, and the legacy system's export
job (``python -m sandbox export-drop``)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from openpyxl import load_workbook

from sandbox import SCHEMAS, SYSTEMS
from sandbox.agency_file_drop.codes import HEADERS
from sandbox.agency_file_drop.export import export_name, write_file
from sandbox.schemas import apply_schema
from tests.sandbox.sandbox_testkit import REPO, Services


async def tables_of(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {r[0] for r in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            " UNION SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()


async def test_stored_schemas_apply_idempotently(services: Services) -> None:
    databases = services.databases
    stored = [s for s in SCHEMAS if s not in SYSTEMS]
    assert stored == ["agency_database", "agency_file_drop"]
    await asyncio.gather(*(apply_schema(getattr(databases, system), system)
                           for system in stored for _ in range(3)))
    assert {"hr_employee", "hr_disciplinary_action", "hr_employee_last_modified_idx"} <= (
        await tables_of(databases.agency_database))
    assert {"ns_canbo", "ns_kyluat"} <= await tables_of(databases.agency_file_drop)


@pytest.fixture
async def legacy_rows(services: Services) -> str:
    """One employee with one decision in the legacy system's tables; its database URL."""
    dsn = services.databases.agency_file_drop
    await apply_schema(dsn, "agency_file_drop")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE ns_canbo CASCADE")
        await conn.execute(
            "INSERT INTO ns_canbo VALUES ('DN1', '048090000001', 'Lê Văn Tám', '1990-01-02',"
            " 'Nam', '000.00.01.H48', 'Văn phòng', 'Chuyên viên', '01.003', 3, 3.00, NULL,"
            " 'Đà Nẵng', '2015-09-01', '2026-10-30T01:02:03Z')")
        await conn.execute(
            "INSERT INTO ns_kyluat (ma_cb, so_qd, ngay_qd, hinh_thuc, nguoi_ky, ly_do, tu_ngay)"
            " VALUES ('DN1', '1/QĐ-UBND', '2026-01-05', 'Khiển trách', 'Chủ tịch UBND',"
            " 'lý do', '2026-01-06')")
    finally:
        await conn.close()
    return dsn


def test_the_export_job(legacy_rows: str, tmp_path: Path) -> None:
    dsn = legacy_rows
    run = subprocess.run(
        [sys.executable, "-m", "sandbox", "export-drop", "--dsn", dsn, "--directory",
         str(tmp_path), "--format", "xlsx", "--at", "2026-11-02T08:00:00+07:00"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    path = Path(run.stdout.strip())
    assert path == tmp_path / "nhansu_20261102T080000.xlsx"
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "nothing partial left"
    workbook = load_workbook(path, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert rows[0] == HEADERS
    assert rows[1][:4] == ("DN1", "048090000001", "Lê Văn Tám", datetime(1990, 1, 2))
    assert rows[1][14] == "1/QĐ-UBND | 05/01/2026 | Khiển trách | Chủ tịch UBND | 06/01/2026 |" \
                          "  | lý do"
    assert rows[1][15] == datetime(2026, 10, 30, 8, 2, 3), "local time"

    refused = subprocess.run(
        [sys.executable, "-m", "sandbox", "export-drop", "--dsn", dsn, "--directory",
         str(tmp_path), "--at", "2026-11-02T08:00:00"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2
    assert "zone" in refused.stderr


def test_export_names_and_atomic_files(tmp_path: Path) -> None:
    assert export_name(datetime(2026, 11, 1, 17, 0, 5, tzinfo=UTC), "csv") == \
        "nhansu_20261102T000005.csv"
    with pytest.raises(ValueError):
        export_name(datetime(2026, 11, 1), "csv")
    path = write_file(tmp_path / "new", "nhansu_20261102T000005.csv", b"x")
    assert path.read_bytes() == b"x"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
