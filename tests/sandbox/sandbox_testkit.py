"""Shared by the sandbox tests: credentials, helpers, and the handful of rows the tests write
straight into the services' databases. (Named uniquely: test directories are not packages.)"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx

from hub.databases import DatabaseSet
from sandbox.agency_graphql.codes import JOB_TITLES
from sandbox.agency_rest.codes import POSITION_CODES, vendor_rank_code

__all__ = ["CITIZENS", "CONTROL_HEADERS", "FEED_START", "GRAPHQL_DECISIONS", "GRAPHQL_STAFF",
           "GRAPHQL_TOKEN", "POPULATION_KEY", "REST_DECISIONS", "REST_STAFF", "REST_TOKEN",
           "UNKNOWN_ID", "ServiceProcess", "Services",
           "graphql", "insert_rows", "service_env"]

POPULATION_KEY = "demo-population-key"
REST_TOKEN = "demo-mof-token"
GRAPHQL_TOKEN = "demo-hanoi-token"
CONTROL_HEADERS = {"X-Sandbox-Control": "sandbox-control"}

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 30.0
UNKNOWN_ID = "099999999999"

CITIZENS: list[dict[str, Any]] = [
    {"personal_id": "001085000001", "full_name": "Nguyễn Văn An", "birth_date": date(1985, 3, 12),
     "sex": "male", "place_of_origin": "Xã Phú Xuyên, Hà Nội",
     "permanent_address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội",
     "current_address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội",
     "father_id": "001055000011", "mother_id": "001158000012", "spouse_id": "001190000002",
     "death_date": None},
    {"personal_id": "001190000002", "full_name": "Trần Thị Bình", "birth_date": date(1990, 7, 1),
     "sex": "female", "place_of_origin": "Nam Định",
     "permanent_address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội",
     "current_address": "5 Lê Lợi, Quận 1, TP Hồ Chí Minh",
     "father_id": None, "mother_id": None, "spouse_id": "001085000001", "death_date": None},
    {"personal_id": "079075000003", "full_name": "Lê Văn Cường", "birth_date": date(1975, 1, 20),
     "sex": "male", "place_of_origin": "Huế", "permanent_address": "1 Lý Thường Kiệt, Huế",
     "current_address": "1 Lý Thường Kiệt, Huế", "father_id": None, "mother_id": None,
     "spouse_id": None, "death_date": date(2023, 5, 1)},
    {"personal_id": "038188000004", "full_name": "Phạm Thị Dung", "birth_date": date(1988, 11, 30),
     "sex": "female", "place_of_origin": "Thanh Hóa", "permanent_address": "Thanh Hóa",
     "current_address": "Thanh Hóa", "father_id": None, "mother_id": None, "spouse_id": None,
     "death_date": None},
]

# Change feed rows: timestamps in groups of four identical values, so pagination has to get
# ties right (a page boundary falls inside a group whatever the page size).
FEED_START = datetime(2024, 1, 1, tzinfo=UTC)
_STAFF_COUNT = 25
_NATIONAL_RANKS = ("01.003", "01.002", "06.031", "V.07.01.03", "V.08.01.03")


def _changed_at(i: int) -> datetime:
    return FEED_START + timedelta(minutes=i // 4, microseconds=1 if i == 7 else 0)


REST_STAFF: list[dict[str, Any]] = [
    {"ma_nhan_su": f"BTC-{i:04d}", "so_cccd": f"0010800001{i:02d}",
     "ho_va_ten": f"Nhân viên Tài chính {i}", "ngay_sinh": date(1980, 1, 1) + timedelta(days=i),
     "gioi_tinh": "Nam" if i % 2 else "Nữ", "ma_don_vi": "000.00.01.G02",
     "ten_phong_ban": "Vụ Ngân sách nhà nước", "chuc_vu": list(POSITION_CODES)[i % 21],
     "ma_ngach": vendor_rank_code(_NATIONAL_RANKS[i % 5]), "bac_luong": 1 + i % 9,
     "he_so_luong": Decimal("2.34") + Decimal("0.33") * (i % 9),
     "ky_luat_dang_xu_ly": "Đang xem xét kỷ luật" if i == 3 else None,
     "dia_chi_thuong_tru": "28 Trần Hưng Đạo, Hà Nội",
     "ngay_tuyen_dung": date(2005, 9, 1) + timedelta(days=i), "ngay_cap_nhat": _changed_at(i)}
    # Inserted in reverse so that the feed's order cannot come from insertion order.
    for i in reversed(range(_STAFF_COUNT))
]

GRAPHQL_STAFF: list[dict[str, Any]] = [
    {"citizen_id": f"0010900002{i:02d}", "name": f"Cán bộ Hà Nội {i}",
     "dob": date(1982, 6, 1) + timedelta(days=i), "gender": "M" if i % 2 else "F",
     "org_code": "000.00.05.H01", "department": "Phòng Tổ chức cán bộ",
     "job_title_code": list(JOB_TITLES)[i % 21], "grade": _NATIONAL_RANKS[i % 5],
     "pay_step": 1 + i % 9, "pay_coefficient": Decimal("2.34") + Decimal("0.33") * (i % 9),
     "pending_discipline": "Khiển trách (đang xử lý)" if i == 4 else None,
     "address": "Số 1 Tràng Tiền, Hà Nội", "hired_on": date(2008, 3, 1) + timedelta(days=i),
     "modified_at": _changed_at(i)}
    for i in reversed(range(_STAFF_COUNT))
]

# Discipline decisions: two for the REST system's employee 5 (listed in decision order,
# inserted in reverse), one for employee 6; one for the GraphQL system's staff member 5.
REST_DECISIONS: list[dict[str, Any]] = [
    {"ma_nhan_su": "BTC-0005", "so_quyet_dinh": "45/QĐ-BTC", "ngay_quyet_dinh": date(2025, 8, 8),
     "hinh_thuc": "CC", "co_quan_ban_hanh": "Bộ Tài chính",
     "ly_do": "Vi phạm quy chế làm việc của cơ quan", "hieu_luc_tu": date(2025, 8, 10),
     "hieu_luc_den": date(2026, 8, 10)},
    {"ma_nhan_su": "BTC-0005", "so_quyet_dinh": "12/QĐ-BTC", "ngay_quyet_dinh": date(2021, 3, 2),
     "hinh_thuc": "KT", "co_quan_ban_hanh": "Bộ Tài chính", "ly_do": "",
     "hieu_luc_tu": date(2021, 3, 2), "hieu_luc_den": date(2021, 9, 2)},
    {"ma_nhan_su": "BTC-0006", "so_quyet_dinh": "7/QĐ-BTC", "ngay_quyet_dinh": date(2024, 1, 15),
     "hinh_thuc": "BTV", "co_quan_ban_hanh": "Bộ Tài chính",
     "ly_do": "Vi phạm quy định về phòng, chống tham nhũng, tiêu cực",
     "hieu_luc_tu": date(2024, 1, 15), "hieu_luc_den": None},
]
GRAPHQL_DECISIONS: list[dict[str, Any]] = [
    {"citizen_id": "001090000205", "decision_number": "301/QĐ-UBND",
     "decided_on": date(2026, 5, 4), "form": "warning", "issuer": "UBND thành phố Hà Nội",
     "reason": "Chậm trễ, gây phiền hà trong giải quyết thủ tục hành chính",
     "effective_from": date(2026, 5, 5), "effective_to": date(2027, 5, 5)},
]


@dataclass(frozen=True, slots=True)
class Services:
    """Base URLs of the running services, and their databases."""

    population: str
    agency_rest: str
    agency_graphql: str
    databases: DatabaseSet


async def _insert(dsn: str, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
            [tuple(row[c] for c in columns) for row in rows])
    finally:
        await conn.close()


async def insert_rows(databases: DatabaseSet) -> None:
    await _insert(databases.population, "citizen", CITIZENS)
    await _insert(databases.agency_rest, "nhan_su", REST_STAFF)
    await _insert(databases.agency_rest, "ky_luat", REST_DECISIONS[::-1])
    await _insert(databases.agency_graphql, "staff", GRAPHQL_STAFF)
    await _insert(databases.agency_graphql, "staff_discipline", GRAPHQL_DECISIONS)


async def graphql(client: httpx.AsyncClient, query: str,
                  variables: dict[str, Any] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return await client.post("/graphql", json=body)


def service_env(**overrides: str) -> dict[str, str]:
    """The environment for a service process: defaults only, whatever the developer's shell
    says (a stray SANDBOX_OUTAGE=1 must not fail the suite)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    return {**env, **overrides}


class ServiceProcess:
    """A ``python -m sandbox ...`` subprocess and the URLs it printed when listening."""

    _LISTENING = re.compile(r"^(\w+) listening on (http://\S+)$")

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        # Closed in stop(): it must outlive this method, for the process to write into.
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", *args], cwd=REPO, env=env,
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.stderr_text = ""  # what the process wrote to stderr, once stopped
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_listening(self, count: int) -> dict[str, str]:
        urls: dict[str, str] = {}
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while len(urls) < count:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                status = self.stop()
                raise RuntimeError(f"sandbox did not start (exit status {status}):\n"
                                   f"{self.stderr_text}")
            if match := self._LISTENING.match(line):
                urls[match[1]] = match[2]
        for url in urls.values():
            _wait_healthy(url, deadline)
        return urls

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.stderr.closed:
            self.stderr.seek(0)
            self.stderr_text = self.stderr.read().decode("utf-8", "replace")
            self.stderr.close()
        return self.process.returncode


def _wait_healthy(url: str, deadline: float) -> None:
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}/healthz did not answer 200")
        time.sleep(0.05)
