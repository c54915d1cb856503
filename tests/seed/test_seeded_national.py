"""The national database after seeding: referential integrity, code-list consistency, dates."""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest

from resolvers import personal_id
from tests.seed.conftest import SEED_EMPLOYEES, Seeded

AS_OF = date(2026, 11, 1)


async def test_summary_matches_the_tables(seeded: Seeded, national: asyncpg.Connection,
                                          population: asyncpg.Connection,
                                          agency_rest: asyncpg.Connection,
                                          agency_graphql: asyncpg.Connection) -> None:
    connections = {"national": national, "population": population,
                   "agency_rest": agency_rest, "agency_graphql": agency_graphql}
    stored = {name: await asyncpg.connect(getattr(seeded.databases, name))
              for name in ("agency_database", "agency_file_drop")}
    try:
        for key, count in seeded.summary.rows.items():
            database, table = key.split(".")
            conn = connections.get(database) or stored[database]
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == count, key
    finally:
        for conn in stored.values():
            await conn.close()
    assert seeded.summary.rows["national.employee"] == SEED_EMPLOYEES
    record_rows = sum(count for key, count in seeded.summary.rows.items()
                      if key.startswith("national.") and key not in (
                          "national.employee", "national.agency", "national.seed_run"))
    # About ten rows of career records, and three or four of the employee's own declarations
    # (personal history, family).
    assert 11 <= record_rows / SEED_EMPLOYEES <= 16
    run = await national.fetchrow("SELECT employees, seed, seeded_at FROM seed_run")
    assert (run["employees"], run["seed"]) == (SEED_EMPLOYEES, seeded.summary.seed)


async def test_every_foreign_key_holds(national: asyncpg.Connection) -> None:
    """The seeder loads with foreign-key checks off: verify every reference afterwards."""
    constraints = await national.fetch(
        "SELECT conname, conrelid::regclass::text AS tbl, confrelid::regclass::text AS ref,"
        " array(SELECT a.attname FROM unnest(conkey) WITH ORDINALITY k(n, i)"
        "       JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k.n ORDER BY k.i)"
        "   AS cols,"
        " array(SELECT a.attname FROM unnest(confkey) WITH ORDINALITY k(n, i)"
        "       JOIN pg_attribute a ON a.attrelid = confrelid AND a.attnum = k.n ORDER BY k.i)"
        "   AS refcols"
        " FROM pg_constraint WHERE contype = 'f'")
    assert len(constraints) >= 15
    for c in constraints:
        present = " AND ".join(f"t.{col} IS NOT NULL" for col in c["cols"])
        match = " AND ".join(f"r.{rc} = t.{col}" for col, rc in zip(c["cols"], c["refcols"],
                                                                    strict=True))
        broken = await national.fetchval(
            f"SELECT count(*) FROM {c['tbl']} t WHERE {present}"
            f" AND NOT EXISTS (SELECT 1 FROM {c['ref']} r WHERE {match})")
        assert broken == 0, c["conname"]


async def test_every_coefficient_is_on_its_ladder(national: asyncpg.Connection) -> None:
    assert await national.fetchval(
        "SELECT count(*) FROM employee e JOIN rank r ON r.code = e.rank_code"
        " WHERE e.salary_step NOT BETWEEN 1 AND r.steps"
        "  OR e.salary_coefficient <> r.first_coefficient"
        "     + r.step_increment * (e.salary_step - 1)") == 0


async def test_identities_are_well_formed(national: asyncpg.Connection) -> None:
    rows = await national.fetch(
        "SELECT employee_code, personal_id, birth_date, sex, family_name, middle_name,"
        " given_name, full_name FROM employee ORDER BY employee_code")
    codes = [f"CB{i:08d}" for i in range(1, SEED_EMPLOYEES + 1)]
    assert [r["employee_code"] for r in rows] == codes
    for r in rows:
        assert personal_id.problems(r["personal_id"], r["birth_date"], r["sex"]) == [], r
        assert r["full_name"] == " ".join(
            p for p in (r["family_name"], r["middle_name"], r["given_name"]) if p)
    # Agencies are drawn at random: a page in employee_code order mixes many of them.
    first_page = await national.fetchval(
        "SELECT count(DISTINCT agency_code) FROM (SELECT agency_code FROM employee"
        " ORDER BY employee_code LIMIT 50) p")
    assert first_page >= 30


async def test_names_and_people_look_vietnamese(national: asyncpg.Connection) -> None:
    share = await national.fetchval(
        "SELECT avg((family_name = 'Nguyễn')::int) FROM employee WHERE ethnicity = 'Kinh'")
    assert 0.32 <= share <= 0.45
    middle = await national.fetch(
        "SELECT sex, avg((middle_name = 'Văn')::int) AS van, avg((middle_name = 'Thị')::int) AS thi"
        " FROM employee GROUP BY sex")
    by_sex = {r["sex"]: r for r in middle}
    assert by_sex["male"]["thi"] == 0
    assert by_sex["female"]["van"] == 0
    assert by_sex["female"]["thi"] > 0.2
    assert by_sex["male"]["van"] > 0.15
    kinh = await national.fetchval("SELECT avg((ethnicity = 'Kinh')::int) FROM employee")
    assert 0.8 <= kinh <= 0.97
    ages = await national.fetchrow(
        "SELECT min(age($1, birth_date)) AS youngest, max(age($1, birth_date)) AS oldest,"
        " min(age(hired_on, birth_date)) AS youngest_hire FROM employee", AS_OF)
    assert ages["youngest"].days // 365 >= 21
    assert ages["oldest"].days // 365 <= 63
    assert ages["youngest_hire"].days // 365 >= 19


async def test_shares_of_the_two_agency_systems(national: asyncpg.Connection) -> None:
    shares = await national.fetchrow(
        "SELECT avg((agency_code LIKE '%.G02')::int) AS finance,"
        " avg((agency_code LIKE '%.H01')::int) AS hanoi,"
        " avg((category = 'cadre')::int) AS cadres,"
        " avg((status = 'active')::int) AS active FROM employee")
    assert 0.07 <= shares["finance"] <= 0.13
    assert 0.12 <= shares["hanoi"] <= 0.18
    assert 0.03 <= shares["cadres"] <= 0.08
    assert shares["active"] >= 0.9
    quota = await national.fetchval(
        "SELECT count(*) FROM agency a WHERE headcount_quota <="
        " (SELECT count(*) FROM employee e WHERE e.agency_code = a.code)")
    assert quota == 0


async def test_category_rank_and_post_fit_the_agency(national: asyncpg.Connection) -> None:
    misfits = await national.fetch(
        "SELECT e.employee_code, e.category, r.category AS rank_category, a.kind,"
        " e.position_code FROM employee e"
        " JOIN rank r ON r.code = e.rank_code JOIN agency a ON a.code = e.agency_code"
        " WHERE (e.category = 'public_employee') <> (r.category = 'public_employee')"
        "  OR (e.category = 'public_employee') <> (a.kind = 'public_service_unit')"
        "  OR (e.category = 'cadre' AND a.kind NOT IN ('ministry', 'province'))"
        "  OR (e.position_code IN ('BO_TRUONG', 'THU_TRUONG') AND a.kind <> 'ministry')"
        "  OR (e.position_code IN ('CHU_TICH_UBND', 'PHO_CHU_TICH_UBND') AND a.kind <> 'province')"
        "  OR (e.position_code IN ('GIAM_DOC_SO', 'PHO_GIAM_DOC_SO')"
        "      AND a.kind <> 'province_department')"
        "  OR (e.position_code IN ('HIEU_TRUONG', 'GIAM_DOC_BENH_VIEN', 'GIAO_VIEN', 'BAC_SI',"
        "      'DIEU_DUONG', 'GIANG_VIEN') AND a.kind <> 'public_service_unit')")
    assert misfits == []
    # One-of-a-kind posts are held by one person per agency at most.
    duplicates = await national.fetchval(
        "SELECT count(*) FROM (SELECT agency_code, position_code FROM employee"
        " WHERE position_code IN ('BO_TRUONG', 'CHU_TICH_UBND', 'GIAM_DOC_SO', 'HIEU_TRUONG',"
        "  'GIAM_DOC_BENH_VIEN', 'CHANH_VAN_PHONG')"
        " GROUP BY 1, 2 HAVING count(*) > 1) d")
    assert duplicates == 0
    ministers = await national.fetchval(
        "SELECT count(*) FROM employee WHERE position_code = 'BO_TRUONG'")
    assert ministers == 14
    leaders = await national.fetchval(
        "SELECT avg(p.leadership::int) FROM employee e JOIN position p ON p.code = e.position_code")
    assert 0.05 <= leaders <= 0.25


async def test_work_history_is_a_continuous_career(national: asyncpg.Connection) -> None:
    histories = await national.fetch(
        "SELECT e.employee_code, e.hired_on, e.agency_code, e.position_code,"
        " array_agg(w.from_date ORDER BY w.from_date) AS starts,"
        " array_agg(w.to_date ORDER BY w.from_date) AS ends,"
        " array_agg(w.agency_code ORDER BY w.from_date) AS agencies,"
        " array_agg(w.position_code ORDER BY w.from_date) AS posts"
        " FROM employee e JOIN work_history w USING (employee_code)"
        " GROUP BY e.employee_code")
    assert len(histories) == SEED_EMPLOYEES
    for h in histories:
        starts, ends = h["starts"], h["ends"]
        assert 1 <= len(starts) <= 3
        assert starts[0] == h["hired_on"]
        assert ends[-1] is None
        assert None not in ends[:-1]
        assert (h["agencies"][-1], h["posts"][-1]) == (h["agency_code"], h["position_code"])
        for i in range(len(starts) - 1):
            assert starts[i] <= ends[i] < starts[i + 1], h["employee_code"]


async def test_record_dates_are_in_order(national: asyncpg.Connection) -> None:
    checks = {
        "hired before today and after 18": "SELECT count(*) FROM employee WHERE hired_on > $1"
        " OR hired_on < birth_date + interval '18 years'",
        "training": "SELECT count(*) FROM training t JOIN employee e USING (employee_code)"
        " WHERE t.to_date < t.from_date OR t.to_date > $1 OR t.from_date < e.hired_on",
        "qualification": "SELECT count(*) FROM qualification q JOIN employee e"
        " USING (employee_code) WHERE q.awarded_on > $1"
        " OR q.awarded_on < e.birth_date + interval '18 years'",
        "award": "SELECT count(*) FROM award a JOIN employee e USING (employee_code)"
        " WHERE a.decided_on > $1 OR a.decided_on < e.hired_on",
        "party": "SELECT count(*) FROM party_membership p JOIN employee e USING (employee_code)"
        " WHERE p.joined_on > $1 OR p.official_on > $1"
        " OR p.joined_on < e.birth_date + interval '18 years'"
        " OR (p.official_on IS NULL AND p.joined_on < $1 - 430)",
        "evaluation": "SELECT count(*) FROM evaluation v JOIN employee e USING (employee_code)"
        " WHERE v.year NOT BETWEEN 2023 AND 2025 OR make_date(v.year, 6, 30) < e.hired_on",
        "health": "SELECT count(*) FROM health_record WHERE checked_on > $1"
        " OR height_cm NOT BETWEEN 130 AND 200 OR weight_kg NOT BETWEEN 30 AND 130",
        "allowance": "SELECT count(*) FROM allowance a JOIN employee e USING (employee_code)"
        " WHERE a.since > $1 OR a.since < e.hired_on",
    }
    for name, sql in checks.items():
        args = (AS_OF,) if "$1" in sql else ()
        assert await national.fetchval(sql, *args) == 0, name
    for table in ("employee", "allowance", "work_history", "qualification", "training", "award",
                  "discipline", "evaluation", "party_membership", "health_record",
                  "asset_declaration", "personal_history", "family_member", "agency"):
        outside = await national.fetchval(
            f"SELECT count(*) FROM {table} WHERE updated_at < '2024-01-01'"
            " OR updated_at >= '2026-11-01'")
        assert outside == 0, table


async def test_discipline_is_lawful_and_leaves_traces(national: asyncpg.Connection) -> None:
    rows = await national.fetch(
        "SELECT d.*, e.category, e.status, e.salary_step, p.leadership, f.applies_to,"
        " f.appointment_bar_months, v.grade_code"
        " FROM discipline d JOIN employee e USING (employee_code)"
        " JOIN discipline_form f ON f.code = d.form_code"
        " JOIN position p ON p.code = e.position_code"
        " LEFT JOIN evaluation v ON v.employee_code = d.employee_code"
        "  AND v.year = extract(year FROM d.decided_on)")
    assert 0.01 * SEED_EMPLOYEES <= len(rows) <= 0.06 * SEED_EMPLOYEES
    in_effect = 0
    for d in rows:
        assert d["category"] in d["applies_to"]
        assert d["decided_on"] <= d["effective_from"] <= AS_OF
        if d["appointment_bar_months"] is None:
            assert d["effective_to"] is None
        else:
            assert d["effective_to"] > d["effective_from"]
        if d["effective_to"] is None or d["effective_to"] > AS_OF:
            in_effect += 1
        if d["form_code"] in ("forced_resignation", "removal_from_office"):
            assert d["status"] == "resigned"
        if d["form_code"] in ("demotion", "dismissal_from_post"):
            assert d["form_code"] == "demotion" or not d["leadership"]
        if d["grade_code"] is not None:  # evaluated in the year of the discipline
            assert d["grade_code"] in ("complete", "incomplete")
    assert in_effect > 0


async def test_qualifications_match_ranks(national: asyncpg.Connection) -> None:
    missing_management = await national.fetchval(
        "SELECT count(*) FROM employee e JOIN rank r ON r.code = e.rank_code"
        " WHERE e.category <> 'public_employee' AND r.pay_group ~ '^A[23]'"
        " AND NOT EXISTS (SELECT 1 FROM qualification q WHERE q.employee_code = e.employee_code"
        "  AND q.kind = 'state_management')")
    assert missing_management == 0
    degrees = await national.fetchval(
        "SELECT count(*) FROM employee e WHERE (SELECT count(*) FROM qualification q"
        " WHERE q.employee_code = e.employee_code AND q.kind = 'degree') <> 1")
    assert degrees == 0
    levels = {r["level"] for r in await national.fetch(
        "SELECT DISTINCT level FROM qualification WHERE kind = 'degree'")}
    assert {"bachelor", "master", "doctor"} <= levels


async def test_leaders_declare_assets_and_draw_position_allowances(
        national: asyncpg.Connection) -> None:
    wrong = await national.fetchval(
        "SELECT count(*) FROM asset_declaration a JOIN employee e USING (employee_code)"
        " JOIN position p ON p.code = e.position_code"
        " WHERE NOT p.leadership OR a.year NOT IN (2024, 2025)"
        " OR a.declared_on NOT BETWEEN make_date(a.year, 12, 1) AND make_date(a.year, 12, 31)")
    assert wrong == 0
    allowances = await national.fetchval(
        "SELECT count(*) FROM allowance a JOIN employee e USING (employee_code)"
        " JOIN position p ON p.code = e.position_code"
        " WHERE a.kind = 'position' AND (NOT p.leadership"
        "  OR a.coefficient <> p.allowance_coefficient)")
    assert allowances == 0
    seniority = await national.fetchval(
        "SELECT count(*) FROM allowance a JOIN employee e USING (employee_code)"
        " WHERE a.kind = 'seniority' AND (a.percent < 5 OR a.coefficient IS NOT NULL"
        "  OR a.since < e.hired_on + interval '5 years')")
    assert seniority == 0


async def test_declared_families_are_the_registrys(national: asyncpg.Connection,
                                                   population: asyncpg.Connection) -> None:
    """Each relative an employee declares is the registry's: same person (name, birth year,
    death), linked to the employee as the relation says."""
    declared = await national.fetch(
        "SELECT f.*, e.personal_id AS employee_id FROM family_member f"
        " JOIN employee e USING (employee_code)")
    assert 1.2 * SEED_EMPLOYEES <= len(declared) <= 2.5 * SEED_EMPLOYEES
    citizens = {row["personal_id"]: row for row in await population.fetch(
        "SELECT personal_id, full_name, birth_date, death_date, father_id, mother_id,"
        " spouse_id FROM citizen WHERE personal_id = ANY($1)",
        list({r["personal_id"] for r in declared} | {r["employee_id"] for r in declared}))}
    links = {"father": "father_id", "mother": "mother_id", "spouse": "spouse_id"}
    for row in declared:
        relative, employee = citizens[row["personal_id"]], citizens[row["employee_id"]]
        assert row["full_name"] == relative["full_name"]
        assert row["birth_year"] == relative["birth_date"].year
        assert row["deceased"] == (relative["death_date"] is not None)
        assert row["death_year"] == (relative["death_date"] and relative["death_date"].year)
        if row["relation"] == "child":
            assert row["employee_id"] in (relative["father_id"], relative["mother_id"])
        else:
            assert employee[links[row["relation"]]] == row["personal_id"]
    relations = {r["relation"] for r in declared}
    assert relations == {"father", "mother", "spouse", "child"}


async def test_personal_histories_end_before_the_service(national: asyncpg.Connection) -> None:
    wrong = await national.fetchval(
        "SELECT count(*) FROM personal_history h JOIN employee e USING (employee_code)"
        " WHERE h.to_date IS NULL OR h.to_date >= e.hired_on"
        " OR h.from_date < e.birth_date + interval '17 years' OR h.to_date < h.from_date")
    assert wrong == 0
    overlapping = await national.fetchval(
        "SELECT count(*) FROM personal_history a JOIN personal_history b"
        " ON a.employee_code = b.employee_code AND a.id < b.id"
        " AND a.from_date <= b.to_date AND b.from_date <= a.to_date")
    assert overlapping == 0
    covered = await national.fetchval("SELECT count(DISTINCT employee_code) FROM personal_history")
    assert covered >= 0.85 * SEED_EMPLOYEES


@pytest.mark.parametrize(("table", "low", "high"), [
    ("award", 0.25, 0.45), ("party_membership", 0.45, 0.65), ("health_record", 0.9, 1.0),
    ("training", 0.2, 0.4), ("evaluation", 2.5, 3.0), ("work_history", 1.3, 2.2)])
async def test_record_volumes_are_realistic(national: asyncpg.Connection, table: str,
                                            low: float, high: float) -> None:
    rows = await national.fetchval(f"SELECT count(*) FROM {table}")
    assert low <= rows / SEED_EMPLOYEES <= high
