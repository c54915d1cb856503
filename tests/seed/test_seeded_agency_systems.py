"""The agency HR systems after seeding: exactly the staff of their agencies (plus new hires),
in vendor terms, and every difference from the national record written down in seed_drift."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import asyncpg
import pytest

from hub.seed.agency_systems import DRIFT_KINDS
from sandbox.agency_graphql.codes import JOB_TITLES
from sandbox.agency_rest.codes import POSITION_CODES, national_rank_code


@dataclass(frozen=True)
class Held:
    """An agency system's row in national terms (None where the vendor code is unknown)."""

    pid: str
    name: str
    birth: date
    sex: str
    agency: str
    unit: str
    position: str | None
    rank: str
    step: int
    coefficient: Decimal
    pending: str | None
    address: str
    modified: datetime


async def rest_rows(conn: asyncpg.Connection) -> list[Held]:
    rows = await conn.fetch("SELECT * FROM nhan_su")
    return [Held(r["so_cccd"], r["ho_va_ten"], r["ngay_sinh"],
                 {"Nam": "male", "Nữ": "female"}[r["gioi_tinh"]], r["ma_don_vi"],
                 r["ten_phong_ban"], POSITION_CODES.get(r["chuc_vu"]),
                 national_rank_code(r["ma_ngach"]), r["bac_luong"], r["he_so_luong"],
                 r["ky_luat_dang_xu_ly"], r["dia_chi_thuong_tru"], r["ngay_cap_nhat"])
            for r in rows]


async def graphql_rows(conn: asyncpg.Connection) -> list[Held]:
    rows = await conn.fetch("SELECT * FROM staff")
    return [Held(r["citizen_id"], r["name"], r["dob"], {"M": "male", "F": "female"}[r["gender"]],
                 r["org_code"], r["department"],
                 JOB_TITLES[r["job_title_code"]][0] if r["job_title_code"] in JOB_TITLES
                 else None, r["grade"], r["pay_step"], r["pay_coefficient"],
                 r["pending_discipline"], r["address"], r["modified_at"])
            for r in rows]


SYSTEMS = {"agency_rest": (".G02", rest_rows), "agency_graphql": (".H01", graphql_rows)}


@pytest.mark.parametrize("system", list(SYSTEMS))
async def test_agency_system_holds_its_staff_and_its_drift_is_recorded(
        system: str, national: asyncpg.Connection, population: asyncpg.Connection,
        agency_rest: asyncpg.Connection, agency_graphql: asyncpg.Connection) -> None:
    suffix, read = SYSTEMS[system]
    conn = agency_rest if system == "agency_rest" else agency_graphql
    held = await read(conn)
    drift: dict[str, dict[str, str]] = defaultdict(dict)
    for r in await conn.fetch("SELECT personal_id, kind, detail FROM seed_drift"):
        assert r["kind"] in DRIFT_KINDS
        assert r["kind"] not in drift[r["personal_id"]], "one record per person and kind"
        drift[r["personal_id"]][r["kind"]] = r["detail"]

    employees = {r["personal_id"]: r for r in await national.fetch(
        "SELECT * FROM employee WHERE agency_code LIKE '%' || $1", suffix)}
    pids = [h.pid for h in held]
    assert len(set(pids)) == len(pids)
    citizens = {r["personal_id"]: r for r in await population.fetch(
        "SELECT * FROM citizen WHERE personal_id = ANY($1::text[])", pids)}
    ladder = {(r["rank_code"], r["step"]): r["coefficient"]
              for r in await national.fetch("SELECT * FROM salary_ladder")}
    new_hires = {h.pid for h in held} - employees.keys()
    assert {h.pid for h in held} - new_hires == employees.keys()
    assert set(citizens) == {h.pid for h in held}, "everyone an agency holds is a citizen"

    observed_kinds: set[str] = set()
    for h in held:
        citizen = citizens[h.pid]
        assert (h.birth, h.sex) == (citizen["birth_date"], citizen["sex"])
        assert h.agency.endswith(suffix)
        if h.pid in new_hires:
            assert drift[h.pid].keys() == {"new_hire"}
            assert h.name == citizen["full_name"]
            assert h.address == citizen["permanent_address"]
            assert await national.fetchval(
                "SELECT count(*) FROM employee WHERE personal_id = $1", h.pid) == 0
            observed_kinds.add("new_hire")
            continue
        e = employees[h.pid]
        assert (h.birth, h.sex, h.agency, h.unit, h.rank) == \
            (e["birth_date"], e["sex"], e["agency_code"], e["unit_name"], e["rank_code"])
        differences: set[str] = set()
        if h.name != e["full_name"]:
            differences.add("misspelt_name")
            assert drift[h.pid].get("misspelt_name") == f"{e['full_name']} -> {h.name}"
        if h.position is None:
            differences.add("unknown_code")
        elif h.position != e["position_code"] or h.step != e["salary_step"]:
            differences.add("position_changed")
            assert h.modified > e["updated_at"], "the agency's change is the newer one"
        if h.coefficient != ladder[(h.rank, h.step)]:
            differences.add("invalid_coefficient")
        if h.pending is not None:
            differences.add("pending_discipline")
            assert drift[h.pid]["pending_discipline"] == h.pending
        if h.address != citizen["permanent_address"]:
            differences.add("stale_address")
        assert differences == drift[h.pid].keys(), h.pid
        observed_kinds |= differences

    drifted = sum(1 for h in held if drift[h.pid])
    assert 0.03 <= drifted / len(held) <= 0.2
    assert len(observed_kinds) >= 4
    assert set(drift) <= {h.pid for h in held}


async def test_vendor_vocabulary(agency_rest: asyncpg.Connection,
                                 agency_graphql: asyncpg.Connection) -> None:
    assert {r[0] for r in await agency_rest.fetch("SELECT DISTINCT gioi_tinh FROM nhan_su")} == \
        {"Nam", "Nữ"}
    assert {r[0] for r in await agency_graphql.fetch("SELECT DISTINCT gender FROM staff")} == \
        {"M", "F"}
    ranks = {r[0] for r in await agency_rest.fetch("SELECT DISTINCT ma_ngach FROM nhan_su")}
    assert ranks
    assert all("." not in rank for rank in ranks)
    for conn, table, column in ((agency_rest, "nhan_su", "ngay_cap_nhat"),
                                (agency_graphql, "staff", "modified_at")):
        outside = await conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE {column} < '2024-01-01'"
            f" OR {column} >= '2026-11-01'")
        assert outside == 0, table
    grades = {r[0] for r in await agency_graphql.fetch("SELECT DISTINCT grade FROM staff")}
    assert grades
    assert all("." in grade for grade in grades)
