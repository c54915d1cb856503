"""A small national database, population registry and two agency systems, built by hand so
that every data-quality measure can be counted on paper (tests/quality/test_measures.py does).

Agencies:
- A1 ``000.00.01.G02`` (served by mof-hrmis, REST): six employees QA0001-QA0006, each
  carrying one problem or none (see EMPLOYEES);
- A2 ``000.00.02.G02``: no employees (everything empty);
- B1 ``000.00.01.H01`` (served by hanoi-hrm, GraphQL, never synchronised): QA0007, QA0008;
  its name is hostile text, for the report's and the answer's escaping;
- C1 ``000.00.01.G05`` (no agency system): QA0009.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from hub.databases import DatabaseSet, create_databases
from hub.migrate import apply_migrations
from resolvers.personal_id import make
from sandbox.schemas import apply_schema

__all__ = ["A1", "A2", "B1", "B1_NAME", "C1", "EMPLOYEES", "LATER", "NOW", "NOW2",
           "build"]

A1, A2, B1, C1 = "000.00.01.G02", "000.00.02.G02", "000.00.01.H01", "000.00.01.G05"
# Markup, quotes and a terminal escape sequence (clears the screen when printed raw).
B1_NAME = 'Sở <script>alert("x")</script> & \'Nội vụ\' </td><b>\x1b[2J'
# The runs are measured at these instants: 365 days back from NOW is 2025-06-30T00:00Z.
NOW = datetime(2026, 6, 30, tzinfo=UTC)
NOW2 = datetime(2026, 7, 1, tzinfo=UTC)
# Runs of the other tests (a source failing, some agencies only) are measured from here on,
# outside the window the report and GraphQL tests read.
LATER = datetime(2026, 8, 1, tzinfo=UTC)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Employee:
    code: str
    agency: str
    family: str
    middle: str
    given: str
    birth: date
    sex: str
    pid: str
    hired: date
    updated: datetime
    unit: str = "Phòng Tổng hợp"
    step: int = 3
    coefficient: str = "3.00"  # 01.003 at step 3 (2.34 + 2 × 0.33)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family, self.middle, self.given) if p)


def _pid(birth: date, sex: str, serial: int) -> str:
    return make("01", birth, sex, serial)


EMPLOYEES = (
    # QA0001: all well.
    Employee("QA0001", A1, "Nguyễn", "Văn", "An", date(1980, 5, 10), "male",
             _pid(date(1980, 5, 10), "male", 1), date(2005, 9, 1), _t("2026-06-01T00:00")),
    # QA0002: blank unit (completeness); stale file.
    Employee("QA0002", A1, "Trần", "Thị", "Bình", date(1985, 2, 14), "female",
             _pid(date(1985, 2, 14), "female", 2), date(2010, 3, 1), _t("2024-01-15T00:00"),
             unit="  ", step=2, coefficient="2.67"),
    # QA0003: personal ID says female (validity), hired at 15 (validity).
    Employee("QA0003", A1, "Lê", "Văn", "Cường", date(1990, 7, 1), "male",
             make("01", date(1990, 7, 1), "female", 3), date(2005, 7, 1),
             _t("2026-05-01T00:00")),
    # QA0004 and QA0005: one person under two personal IDs (uniqueness); QA0005's name has
    # two spaces and a decomposed given name, which normalise to QA0004's.
    Employee("QA0004", A1, "Phạm", "Minh", "Đức", date(1975, 3, 3), "male",
             _pid(date(1975, 3, 3), "male", 4), date(2000, 1, 1), _t("2026-06-29T12:00")),
    Employee("QA0005", A1, "Phạm", "Minh ", unicodedata.normalize("NFD", "Đức"),
             date(1975, 3, 3), "male", _pid(date(1975, 3, 3), "male", 5), date(2000, 1, 1),
             _t("2023-12-01T00:00")),
    # QA0006: updated exactly 365 days before NOW (fresh at NOW, stale a day later).
    Employee("QA0006", A1, "Hoàng", "Thị", "Em", date(1988, 11, 20), "female",
             _pid(date(1988, 11, 20), "female", 6), date(2012, 2, 1), _t("2025-06-30T00:00")),
    Employee("QA0007", B1, "Vũ", "Văn", "Giang", date(1970, 1, 1), "male",
             _pid(date(1970, 1, 1), "male", 7), date(1995, 1, 1), _t("2026-06-01T00:00")),
    Employee("QA0008", B1, "Đặng", "Thị", "Hoa", date(1995, 12, 31), "female",
             _pid(date(1995, 12, 31), "female", 8), date(2019, 1, 1), _t("2025-01-01T00:00")),
    Employee("QA0009", C1, "Bùi", "Văn", "Khoa", date(1982, 4, 4), "male",
             _pid(date(1982, 4, 4), "male", 9), date(2008, 8, 8), _t("2026-06-15T00:00")),
)
BY_CODE = {e.code: e for e in EMPLOYEES}

# Discipline decisions: QA0001's is decided after NOW (dates), QA0006's form applies to cadres
# only (form): (employee, form, decided, effective from, effective to).
DISCIPLINES = (
    ("QA0001", "reprimand", date(2026, 8, 1), date(2026, 8, 1), None),
    ("QA0006", "removal_from_office", date(2025, 1, 10), date(2025, 1, 15), date(2025, 7, 15)),
)

# The population registry: QA0002's birth date differs, QA0003 is unknown, QA0006 has died.
CITIZENS: dict[str, dict[str, Any] | None] = {
    "QA0002": {"birth_date": date(1985, 2, 15)},
    "QA0003": None,
    "QA0005": {"full_name": "Phạm Minh Đức"},
    "QA0006": {"death_date": date(2026, 1, 1)},
}

# mof-hrmis (nhan_su, vendor codes): QA0002's unit is blank and its post code XYZ is not in the
# mapping; QA0003 is missing; QA0004's coefficient is off the ladder; QA0006's name misspelt.
# Changes: synchronised through 2026-06-10T00:00Z; QA0005 changed exactly then.
MOF_SYNCED_THROUGH = _t("2026-06-10T00:00")
MOF_LAST_SUCCESS = _t("2026-06-10T00:05")
MOF_RECORDS: dict[str, dict[str, Any]] = {
    "QA0001": {"changed": _t("2026-06-01T00:00")},
    "QA0002": {"unit": "", "post": "XYZ", "changed": _t("2026-06-20T00:00")},
    "QA0004": {"coefficient": "3.10", "changed": _t("2026-05-01T00:00")},
    "QA0005": {"name": "Phạm Minh Đức", "changed": MOF_SYNCED_THROUGH},
    "QA0006": {"name": "Hoàng Thị Êm", "changed": _t("2026-06-25T00:00")},
}
# hanoi-hrm (staff): QA0008's job title is one the mapping does not know.
HANOI_RECORDS: dict[str, dict[str, Any]] = {
    "QA0007": {"post": "OFFICER", "changed": _t("2026-06-01T00:00")},
    "QA0008": {"post": "SENIOR_OFFICER", "changed": _t("2026-06-01T00:00")},
}


async def _national(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            "INSERT INTO agency (code, name, kind, province_code, headcount_quota) "
            "VALUES ($1, $2, $3, '01', 100)",
            [(A1, "Vụ Tổ chức cán bộ", "ministry_unit"), (A2, "Vụ Ngân sách nhà nước",
                                                          "ministry_unit"),
             (B1, B1_NAME, "province_department"), (C1, "Vụ Giám sát", "ministry_unit"),
             ("000.00.00.G02", "Bộ Tài chính", "ministry"),
             ("000.00.00.H01", "Ủy ban nhân dân thành phố Hà Nội", "province")])
        await conn.executemany(
            """INSERT INTO employee (employee_code, personal_id, family_name, middle_name,
                   given_name, birth_date, sex, category, status, agency_code, unit_name,
                   position_code, rank_code, salary_step, salary_coefficient, hired_on,
                   updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, 'civil_servant', 'active', $8, $9,
                       'CHUYEN_VIEN', '01.003', $10, $11, $12, $13)""",
            [(e.code, e.pid, e.family, e.middle, e.given, e.birth, e.sex, e.agency, e.unit,
              e.step, Decimal(e.coefficient), e.hired, e.updated) for e in EMPLOYEES])
        await conn.executemany(
            """INSERT INTO discipline (employee_code, form_code, decision_number, decided_on,
                   issuer, effective_from, effective_to)
               VALUES ($1, $2, 'QĐ-1', $3, 'Bộ trưởng', $4, $5)""", DISCIPLINES)
        await conn.execute(
            "INSERT INTO sync_state (system, synced_through, last_success_at) "
            "VALUES ('mof-hrmis', $1, $2)", MOF_SYNCED_THROUGH, MOF_LAST_SUCCESS)
    finally:
        await conn.close()


def _citizen(e: Employee) -> tuple[Any, ...] | None:
    changes = CITIZENS.get(e.code, {})
    if changes is None:
        return None
    return (e.pid, changes.get("full_name", e.full_name), changes.get("birth_date", e.birth),
            e.sex, changes.get("death_date"))


async def _population(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            """INSERT INTO citizen (personal_id, full_name, birth_date, sex, place_of_origin,
                   permanent_address, current_address, death_date)
               VALUES ($1, $2, $3, $4, 'Hà Nội', 'Hà Nội', 'Hà Nội', $5)""",
            [row for e in EMPLOYEES if (row := _citizen(e)) is not None])
    finally:
        await conn.close()


async def _mof(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        rows = []
        for code, changes in MOF_RECORDS.items():
            e = BY_CODE[code]
            rows.append((f"BTC{code}", e.pid, changes.get("name", e.full_name), e.birth,
                         "Nam" if e.sex == "male" else "Nữ", e.agency,
                         changes.get("unit", e.unit), changes.get("post", "CV"), "01003",
                         e.step, Decimal(changes.get("coefficient", e.coefficient)), e.hired,
                         changes["changed"]))
        await conn.executemany(
            """INSERT INTO nhan_su (ma_nhan_su, so_cccd, ho_va_ten, ngay_sinh, gioi_tinh,
                   ma_don_vi, ten_phong_ban, chuc_vu, ma_ngach, bac_luong, he_so_luong,
                   dia_chi_thuong_tru, ngay_tuyen_dung, ngay_cap_nhat)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'Hà Nội', $12, $13)""",
            rows)
    finally:
        await conn.close()


async def _hanoi(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        rows = []
        for code, changes in HANOI_RECORDS.items():
            e = BY_CODE[code]
            rows.append((e.pid, e.full_name, e.birth, "M" if e.sex == "male" else "F",
                         e.agency, e.unit, changes["post"], "01.003", e.step,
                         Decimal(e.coefficient), e.hired, changes["changed"]))
        await conn.executemany(
            """INSERT INTO staff (citizen_id, name, dob, gender, org_code, department,
                   job_title_code, grade, pay_step, pay_coefficient, address, hired_on,
                   modified_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'Hà Nội', $11, $12)""", rows)
    finally:
        await conn.close()


async def build(server_url: str, name: str) -> DatabaseSet:
    """Create (afresh) the fixture's databases named after ``name`` and fill them."""
    databases = DatabaseSet.on_server(server_url, name)
    await create_databases(databases, recreate=True)
    await apply_migrations(databases.national)
    for system, dsn in (("population", databases.population),
                        ("agency_rest", databases.agency_rest),
                        ("agency_graphql", databases.agency_graphql)):
        await apply_schema(dsn, system)  # type: ignore[arg-type]
    await _national(databases.national)
    await _population(databases.population)
    await _mof(databases.agency_rest)
    await _hanoi(databases.agency_graphql)
    return databases
