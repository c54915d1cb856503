"""The two stored agency systems after seeding — the Ministry of Health's database and Đà
Nẵng's legacy system with its export — hold exactly their agencies' staff (plus new hires and
second records), in vendor terms, with every difference from the national record written down
in their seed_drift."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from hub.seed.file_drop import SEED_EXPORTED_AT
from resolvers import personal_id
from sandbox.agency_database.codes import ACTION_CODES, JOB_CODES, SEX_CODES
from sandbox.agency_file_drop.codes import FORM_LABELS, HEADERS, POSITION_LABELS
from sandbox.agency_file_drop.export import export_name
from tests.seed.agency_records import Decision, Held, drift_by_person, national_decisions
from tests.seed.conftest import Seeded


@pytest.fixture(scope="session")
async def agency_database(seeded: Seeded) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(seeded.databases.agency_database)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def agency_file_drop(seeded: Seeded) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(seeded.databases.agency_file_drop)
    yield conn
    await conn.close()


async def database_rows(conn: asyncpg.Connection) -> list[Held]:
    decisions = defaultdict(list)
    for d in await conn.fetch("SELECT * FROM hr_disciplinary_action ORDER BY action_id"):
        decisions[d["emp_id"]].append(Decision(
            d["decision_no"], d["decision_dt"], ACTION_CODES[d["action_cd"]], d["issued_by"],
            d["reason_txt"], d["eff_from_dt"], d["eff_to_dt"]))
    return [Held(r["national_id_no"], r["full_nm"], r["birth_dt"], SEX_CODES[r["sex_cd"]],
                 r["org_cd"], r["dept_nm"], JOB_CODES.get(r["job_cd"]), r["grade_cd"],
                 r["sal_step"], r["sal_coef"], r["disc_pending"], r["home_addr"], r["hire_dt"],
                 r["last_modified"], str(r["emp_id"]), tuple(decisions[r["emp_id"]]))
            for r in await conn.fetch("SELECT * FROM hr_employee")]


async def legacy_rows(conn: asyncpg.Connection) -> list[Held]:
    decisions = defaultdict(list)
    for d in await conn.fetch("SELECT * FROM ns_kyluat ORDER BY id"):
        decisions[d["ma_cb"]].append(Decision(
            d["so_qd"], d["ngay_qd"], FORM_LABELS[d["hinh_thuc"]], d["nguoi_ky"], d["ly_do"],
            d["tu_ngay"], d["den_ngay"]))
    return [Held(r["so_cccd"], r["ho_ten"], r["ngay_sinh"],
                 {"Nam": "male", "Nữ": "female"}[r["gioi_tinh"]], r["ma_dv"], r["phong_ban"],
                 POSITION_LABELS.get(r["chuc_vu"]), r["ngach"], r["bac"], r["he_so"],
                 r["ky_luat_cho"], r["dia_chi"], r["ngay_tuyen"], r["cap_nhat"], r["ma_cb"],
                 tuple(decisions[r["ma_cb"]]))
            for r in await conn.fetch("SELECT * FROM ns_canbo")]


Reader = Callable[[asyncpg.Connection], Awaitable[list[Held]]]
SYSTEMS: dict[str, tuple[str, Reader]] = {"agency_database": (".G04", database_rows),
                                          "agency_file_drop": (".H48", legacy_rows)}


@pytest.mark.parametrize("system", list(SYSTEMS))
async def test_stored_system_holds_its_staff_and_its_drift_is_recorded(
        system: str, national: asyncpg.Connection, population: asyncpg.Connection,
        agency_database: asyncpg.Connection, agency_file_drop: asyncpg.Connection) -> None:
    suffix, read = SYSTEMS[system]
    conn = agency_database if system == "agency_database" else agency_file_drop
    held = await read(conn)
    drift = await drift_by_person(conn)
    employees = {r["personal_id"]: r for r in await national.fetch(
        "SELECT * FROM employee WHERE agency_code LIKE '%' || $1", suffix)}
    assert employees, "the seed gives the system people to hold"
    pids = [h.pid for h in held]
    assert len(set(pids)) == len(pids)
    assert len({h.local_id for h in held}) == len(held)
    duplicates = {pid for pid, kinds in drift.items() if "duplicate_person" in kinds}
    new_hires = set(pids) - employees.keys() - duplicates
    assert set(pids) - new_hires - duplicates == employees.keys()
    citizens = {r["personal_id"]: r for r in await population.fetch(
        "SELECT * FROM citizen WHERE personal_id = ANY($1::text[])", pids)}
    assert set(citizens) == set(pids) - duplicates
    ladder = {(r["rank_code"], r["step"]): r["coefficient"]
              for r in await national.fetch("SELECT * FROM salary_ladder")}
    decided = await national_decisions(national)
    by_pid = {h.pid: h for h in held}
    for h in held:
        assert h.agency.endswith(suffix)
        assert datetime(2024, 1, 1, tzinfo=UTC) <= h.modified < datetime(2026, 11, 1,
                                                                          tzinfo=UTC)
        if h.pid in duplicates:
            [first] = [o for o in held if o.pid != h.pid and o.pid[:6] == h.pid[:6]
                       and sum(a != b for a, b in zip(o.pid, h.pid, strict=True)) == 1]
            assert first.pid in drift[h.pid]["duplicate_person"]
            assert (h.name, h.birth, h.sex, h.agency, h.position) == (
                employees[first.pid]["full_name"], first.birth, first.sex, first.agency,
                first.position)
            assert personal_id.problems(h.pid, h.birth, h.sex) == []
            assert h.decisions == ()
            assert h.pending is None
            assert not drift[first.pid], "the first record is otherwise as the national one"
            continue
        citizen = citizens[h.pid]
        assert (h.birth, h.sex) == (citizen["birth_date"], citizen["sex"])
        if h.pid in new_hires:
            assert drift[h.pid].keys() == {"new_hire"}
            assert (h.name, h.address) == (citizen["full_name"], citizen["permanent_address"])
            assert h.decisions == ()
            continue
        e = employees[h.pid]
        assert (h.birth, h.sex, h.agency, h.unit, h.rank, h.hired) == (
            e["birth_date"], e["sex"], e["agency_code"], e["unit_name"], e["rank_code"],
            e["hired_on"])
        assert list(h.decisions[:len(decided[h.pid])]) == decided[h.pid], \
            "every national decision, copied as it is"
        differences: set[str] = set()
        if len(h.decisions) > len(decided[h.pid]):
            differences.add("discipline_missing")
            assert h.decisions[-1].number in drift[h.pid]["discipline_missing"]
        if h.decisions:
            assert h.modified.date() >= max(d.decided for d in h.decisions)
        if h.name != e["full_name"]:
            differences.add("misspelt_name")
            assert drift[h.pid]["misspelt_name"] == f"{e['full_name']} -> {h.name}"
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
    assert set(drift) <= set(by_pid)
    assert drift, "some records drift"


async def test_vendor_vocabulary(agency_database: asyncpg.Connection,
                                 agency_file_drop: asyncpg.Connection) -> None:
    assert {r[0] for r in await agency_database.fetch(
        "SELECT DISTINCT sex_cd FROM hr_employee")} == {"1", "2"}
    assert {r[0] for r in await agency_file_drop.fetch(
        "SELECT DISTINCT gioi_tinh FROM ns_canbo")} == {"Nam", "Nữ"}
    jobs = {r[0] for r in await agency_database.fetch("SELECT DISTINCT job_cd FROM hr_employee")}
    assert jobs
    assert all(j.isdigit() and len(j) == 4 for j in jobs)
    labels = {r[0] for r in await agency_file_drop.fetch("SELECT DISTINCT chuc_vu FROM ns_canbo")}
    assert labels & set(POSITION_LABELS)
    assert {r[0] for r in await agency_database.fetch(
        "SELECT DISTINCT action_cd FROM hr_disciplinary_action")} <= set(ACTION_CODES)


async def test_the_seed_drops_an_export_of_the_legacy_system(
        seeded: Seeded, agency_file_drop: asyncpg.Connection) -> None:
    name = export_name(SEED_EXPORTED_AT, "csv")
    assert name == "nhansu_20261101T180000.csv"
    names, data = _drops(Path(seeded.databases.file_drops), name)
    assert names == [name]
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == HEADERS
    held = {r["ma_cb"]: r for r in await agency_file_drop.fetch("SELECT * FROM ns_canbo")}
    assert [r[0] for r in rows[1:]] == sorted(held)
    for row in rows[1:]:
        record = held[row[0]]
        assert row[1] == record["so_cccd"]
        assert row[3] == record["ngay_sinh"].strftime("%d/%m/%Y")
        assert row[10] == f"{record['he_so']:.2f}".replace(".", ",")


def _drops(directory: Path, name: str) -> tuple[list[str], bytes]:
    return sorted(p.name for p in directory.iterdir()), (directory / name).read_bytes()
