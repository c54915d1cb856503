"""The agency HR systems after seeding: exactly the staff of their agencies (plus new hires),
in vendor terms, and every difference from the national record written down in seed_drift."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

import asyncpg
import pytest

from resolvers import personal_id
from sandbox.agency_graphql.codes import JOB_TITLES
from sandbox.agency_rest.codes import DISCIPLINE_FORMS, POSITION_CODES, national_rank_code
from tests.seed.agency_records import Decision, Held, drift_by_person, national_decisions


async def rest_rows(conn: asyncpg.Connection) -> list[Held]:
    decisions = defaultdict(list)
    for d in await conn.fetch("SELECT * FROM ky_luat ORDER BY ma_ky_luat"):
        decisions[d["ma_nhan_su"]].append(Decision(
            d["so_quyet_dinh"], d["ngay_quyet_dinh"], DISCIPLINE_FORMS[d["hinh_thuc"]],
            d["co_quan_ban_hanh"], d["ly_do"], d["hieu_luc_tu"], d["hieu_luc_den"]))
    rows = await conn.fetch("SELECT * FROM nhan_su")
    return [Held(r["so_cccd"], r["ho_va_ten"], r["ngay_sinh"],
                 {"Nam": "male", "Nữ": "female"}[r["gioi_tinh"]], r["ma_don_vi"],
                 r["ten_phong_ban"], POSITION_CODES.get(r["chuc_vu"]),
                 national_rank_code(r["ma_ngach"]), r["bac_luong"], r["he_so_luong"],
                 r["ky_luat_dang_xu_ly"], r["dia_chi_thuong_tru"], r["ngay_tuyen_dung"],
                 r["ngay_cap_nhat"], r["ma_nhan_su"], tuple(decisions[r["ma_nhan_su"]]))
            for r in rows]


async def graphql_rows(conn: asyncpg.Connection) -> list[Held]:
    decisions = defaultdict(list)
    for d in await conn.fetch("SELECT * FROM staff_discipline ORDER BY id"):
        decisions[d["citizen_id"]].append(Decision(
            d["decision_number"], d["decided_on"], d["form"], d["issuer"], d["reason"],
            d["effective_from"], d["effective_to"]))
    rows = await conn.fetch("SELECT * FROM staff")
    return [Held(r["citizen_id"], r["name"], r["dob"], {"M": "male", "F": "female"}[r["gender"]],
                 r["org_code"], r["department"],
                 JOB_TITLES[r["job_title_code"]][0] if r["job_title_code"] in JOB_TITLES
                 else None, r["grade"], r["pay_step"], r["pay_coefficient"],
                 r["pending_discipline"], r["address"], r["hired_on"], r["modified_at"],
                 str(r["staff_id"]), tuple(decisions[r["citizen_id"]]))
            for r in rows]


SYSTEMS = {"agency_rest": (".G02", rest_rows), "agency_graphql": (".H01", graphql_rows)}
AS_OF = date(2026, 11, 1)
NEW_KINDS = {"discipline_missing", "duplicate_person"}


@pytest.mark.parametrize("system", list(SYSTEMS))
async def test_agency_system_holds_its_staff_and_its_drift_is_recorded(
        system: str, national: asyncpg.Connection, population: asyncpg.Connection,
        agency_rest: asyncpg.Connection, agency_graphql: asyncpg.Connection) -> None:
    suffix, read = SYSTEMS[system]
    conn = agency_rest if system == "agency_rest" else agency_graphql
    held = await read(conn)
    drift = await drift_by_person(conn)

    employees = {r["personal_id"]: r for r in await national.fetch(
        "SELECT * FROM employee WHERE agency_code LIKE '%' || $1", suffix)}
    pids = [h.pid for h in held]
    assert len(set(pids)) == len(pids)
    citizens = {r["personal_id"]: r for r in await population.fetch(
        "SELECT * FROM citizen WHERE personal_id = ANY($1::text[])", pids)}
    ladder = {(r["rank_code"], r["step"]): r["coefficient"]
              for r in await national.fetch("SELECT * FROM salary_ladder")}
    duplicates = {pid for pid, kinds in drift.items() if "duplicate_person" in kinds}
    new_hires = {h.pid for h in held} - employees.keys() - duplicates
    assert {h.pid for h in held} - new_hires - duplicates == employees.keys()
    assert set(citizens) == {h.pid for h in held} - duplicates, \
        "everyone an agency holds is a citizen, but for the duplicates' mistyped numbers"
    decided = await national_decisions(national)

    observed_kinds: set[str] = set()
    for h in held:
        assert h.agency.endswith(suffix)
        if h.pid in duplicates:
            continue  # checked in test_duplicate_records
        citizen = citizens[h.pid]
        assert (h.birth, h.sex) == (citizen["birth_date"], citizen["sex"])
        if h.pid in new_hires:
            assert drift[h.pid].keys() == {"new_hire"}
            assert h.name == citizen["full_name"]
            assert h.address == citizen["permanent_address"]
            assert await national.fetchval(
                "SELECT count(*) FROM employee WHERE personal_id = $1", h.pid) == 0
            assert h.decisions == ()
            observed_kinds.add("new_hire")
            continue
        e = employees[h.pid]
        assert (h.birth, h.sex, h.agency, h.unit, h.rank, h.hired) == \
            (e["birth_date"], e["sex"], e["agency_code"], e["unit_name"], e["rank_code"],
             e["hired_on"])
        differences: set[str] = set()
        national_copies = list(h.decisions[:len(decided[h.pid])])
        assert national_copies == decided[h.pid], "every national decision, copied as it is"
        if h.decisions:  # recorded no earlier than decided
            assert h.modified.date() >= max(d.decided for d in h.decisions)
        if len(h.decisions) > len(decided[h.pid]):
            differences.add("discipline_missing")
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


async def all_held(agency_rest: asyncpg.Connection,
                   agency_graphql: asyncpg.Connection) -> dict[str, list[Held]]:
    return {"agency_rest": await rest_rows(agency_rest),
            "agency_graphql": await graphql_rows(agency_graphql)}


async def all_drift(agency_rest: asyncpg.Connection, agency_graphql: asyncpg.Connection,
                    kind: str) -> dict[str, dict[str, str]]:
    """system -> personal ID -> detail, of one kind of drift."""
    return {system: {r["personal_id"]: r["detail"] for r in await conn.fetch(
                "SELECT personal_id, detail FROM seed_drift WHERE kind = $1", kind)}
            for system, conn in (("agency_rest", agency_rest),
                                 ("agency_graphql", agency_graphql))}


async def test_missing_decisions(national: asyncpg.Connection,
                                 agency_rest: asyncpg.Connection,
                                 agency_graphql: asyncpg.Connection) -> None:
    """A decision only the agency system holds: absent from the national discipline table,
    recent (10-120 days before the data's day), in effect then, of a form the employee's
    category allows, numbered like a national one and unlike any other decision; the record's
    timestamp is after it, and seed_drift names it."""
    held = await all_held(agency_rest, agency_graphql)
    missing = await all_drift(agency_rest, agency_graphql, "discipline_missing")
    assert sum(map(len, missing.values())) >= 1, "the seed holds some"
    national_numbers = {r[0] for r in await national.fetch(
        "SELECT decision_number FROM discipline")}
    forms = {r["code"]: r for r in await national.fetch("SELECT * FROM discipline_form")}
    every_number = [d.number for records in held.values() for h in records for d in h.decisions]
    for system, details in missing.items():
        by_pid = {h.pid: h for h in held[system]}
        for pid, detail in details.items():
            h = by_pid[pid]
            employee = await national.fetchrow("SELECT * FROM employee WHERE personal_id = $1",
                                               pid)
            assert employee is not None
            assert employee["status"] == "active"
            extra = [d for d in h.decisions if d.number not in national_numbers]
            assert len(extra) == 1, pid
            decision = extra[0]
            assert re.fullmatch(r"\d+/QĐ-[A-ZĐ0-9]+", decision.number)
            assert every_number.count(decision.number) == 1
            assert await national.fetchval(
                "SELECT count(*) FROM discipline d JOIN employee e USING (employee_code)"
                " WHERE e.personal_id = $1 AND d.decision_number = $2",
                pid, decision.number) == 0
            assert 10 <= (AS_OF - decision.decided).days <= 120
            assert decision.effective_from <= AS_OF
            assert decision.effective_to is None or decision.effective_to >= AS_OF
            assert employee["category"] in forms[decision.form]["applies_to"]
            assert h.modified.date() >= decision.decided
            assert decision.number in detail
            assert decision.form in detail


async def test_duplicate_records(national: asyncpg.Connection, population: asyncpg.Connection,
                                 agency_rest: asyncpg.Connection,
                                 agency_graphql: asyncpg.Connection) -> None:
    """A second record of someone the system holds: another local id, the same name, birth
    date, sex, agency and post, under a personal ID one of whose last six digits differs,
    which still fits the birth date and sex and is in no other table anywhere."""
    held = await all_held(agency_rest, agency_graphql)
    duplicates = await all_drift(agency_rest, agency_graphql, "duplicate_person")
    assert sum(map(len, duplicates.values())) >= 1, "the seed holds some"
    others = {
        "citizen": {r[0] for r in await population.fetch("SELECT personal_id FROM citizen")},
        "employee": {r[0] for r in await national.fetch("SELECT personal_id FROM employee")},
        "family_member": {r[0] for r in await national.fetch(
            "SELECT personal_id FROM family_member WHERE personal_id IS NOT NULL")},
    }
    for system, details in duplicates.items():
        records = held[system]
        by_pid = {h.pid: h for h in records}
        elsewhere = {h.pid for other, hs in held.items() if other != system for h in hs}
        for pid, detail in details.items():
            second = by_pid[pid]
            originals = [h for h in records if h.pid != pid and h.pid[:6] == pid[:6]
                         and sum(a != b for a, b in zip(h.pid, pid, strict=True)) == 1]
            assert len(originals) == 1, pid
            first = originals[0]
            assert first.pid in detail
            assert pid in detail
            assert first.local_id != second.local_id
            assert (second.name, second.birth, second.sex, second.agency, second.position) == \
                (first.name, first.birth, first.sex, first.agency, first.position)
            assert personal_id.problems(pid, second.birth, second.sex) == []
            assert all(pid not in ids for ids in others.values())
            assert pid not in elsewhere
            assert second.decisions == ()
            assert second.pending is None


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
