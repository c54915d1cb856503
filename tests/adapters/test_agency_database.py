"""The Ministry of Health's HR database read directly: lookups in canonical terms, only the
columns asked read, row filters, read-only sessions with a time budget, and configuration
that cannot smuggle SQL."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from adapters import AGENCY_RECORD_COLUMNS, SourceTimeout, SourceUnavailable, eq, one_of, prefix
from adapters.agency_database import (
    DatabaseAgencySystem,
    DatabaseAgencySystemConfig,
    DisciplineTable,
)
from adapters.filters import related
from adapters.record_mapping import RecordMapping
from hub.databases import DatabaseSet
from hub.launcher import free_port
from hub.postgres_server import database_url
from hub.source_config import load_source_config
from sandbox.agency_database.codes import ACTION_CODES, JOB_CODES


@pytest.fixture
async def moh(moh_config: DatabaseAgencySystemConfig) -> AsyncIterator[DatabaseAgencySystem]:
    system = await DatabaseAgencySystem.open(moh_config)
    yield system
    await system.close()


async def rows_of(dsn: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def test_lookup_answers_in_canonical_terms(moh: DatabaseAgencySystem,
                                                 stored: DatabaseSet) -> None:
    held = await rows_of(stored.agency_database, "SELECT * FROM hr_employee ORDER BY emp_id")
    assert len(held) > 20
    wanted = [r["national_id_no"] for r in held] + ["000000000000"]
    records = await moh.fetch_many(wanted, AGENCY_RECORD_COLUMNS)
    assert len(records) == len(held), "nobody unknown, nobody twice"
    by_id = {r["local_id"]: r for r in records}
    for row in held:
        record = by_id[str(row["emp_id"])]
        assert set(record) == set(AGENCY_RECORD_COLUMNS)
        assert record["personal_id"] == row["national_id_no"]
        assert record["full_name"] == row["full_nm"]
        assert record["birth_date"] == row["birth_dt"]
        assert record["sex"] == {"1": "male", "2": "female"}[row["sex_cd"]]
        assert record["agency_code"] == row["org_cd"]
        assert record["position_code"] == JOB_CODES.get(row["job_cd"], row["job_cd"])
        assert record["rank_code"] == row["grade_cd"]
        assert record["salary_step"] == row["sal_step"]
        assert record["salary_coefficient"] == float(row["sal_coef"])
        assert isinstance(record["salary_coefficient"], float)
        assert record["pending_discipline"] == row["disc_pending"]
        assert record["address"] == row["home_addr"]
        assert record["updated_at"] == row["last_modified"]
    assert await moh.fetch_many([], AGENCY_RECORD_COLUMNS) == []


async def test_batches_of_the_configured_size(moh_config: DatabaseAgencySystemConfig,
                                              stored: DatabaseSet) -> None:
    held = await rows_of(stored.agency_database, "SELECT national_id_no FROM hr_employee")
    system = await DatabaseAgencySystem.open(dataclasses.replace(moh_config, max_batch=3))
    try:
        ids = [r["national_id_no"] for r in held]
        records = await system.fetch_many([*ids, *ids[:5]], ("personal_id", "full_name"))
    finally:
        await system.close()
    assert sorted(r["personal_id"] for r in records) == sorted(ids)


async def test_discipline_decisions_and_hire_date(moh_config: DatabaseAgencySystemConfig,
                                                  scratch_moh: str) -> None:
    person = (await rows_of(scratch_moh, "SELECT * FROM hr_employee ORDER BY emp_id LIMIT 1"))[0]
    conn = await asyncpg.connect(scratch_moh)
    try:
        await conn.execute(
            "INSERT INTO hr_disciplinary_action (emp_id, decision_no, decision_dt, action_cd,"
            " issued_by, reason_txt, eff_from_dt, eff_to_dt) VALUES"
            " ($1, '12/QĐ-BYT', '2025-03-04', 'WRN', 'Bộ trưởng Bộ Y tế', 'lý do', '2025-03-05',"
            " '2026-03-05'), ($1, '7/QĐ-BYT', '2024-01-02', 'XYZ', 'Bộ trưởng Bộ Y tế', 'khác',"
            " '2024-01-02', NULL)", person["emp_id"])
    finally:
        await conn.close()
    system = await DatabaseAgencySystem.open(dataclasses.replace(moh_config, dsn=scratch_moh))
    try:
        [record] = await system.fetch_many([person["national_id_no"]],
                                           ("personal_id", "hired_on", "disciplines"))
        [plain] = await system.fetch_many([person["national_id_no"]], ("personal_id",))
    finally:
        await system.close()
    assert record["hired_on"] == person["hire_dt"]
    assert [d["decision_number"] for d in record["disciplines"]] == ["7/QĐ-BYT", "12/QĐ-BYT"]
    older, newer = record["disciplines"]
    assert newer["form_code"] == ACTION_CODES["WRN"] == "warning"
    assert older["form_code"] == "XYZ", "an unknown vendor code passes through as held"
    assert str(newer["decided_on"]) == "2025-03-04"
    assert older["effective_to"] is None
    assert plain == {"personal_id": person["national_id_no"]}


async def test_row_filters_hold(moh: DatabaseAgencySystem, stored: DatabaseSet) -> None:
    held = await rows_of(stored.agency_database, "SELECT * FROM hr_employee")
    ids = [r["national_id_no"] for r in held]
    agency = held[0]["org_cd"]
    columns = ("personal_id", "agency_code", "sex", "unit_name")
    # Pushed into the query (a plain text column) ...
    same_agency = await moh.fetch_many(ids, columns, (eq("agency_code", agency),))
    assert {r["personal_id"] for r in same_agency} == {
        r["national_id_no"] for r in held if r["org_cd"] == agency}
    # ... or checked on arrival (a coded column): either way only matching rows leave.
    women = await moh.fetch_many(ids, columns, (eq("sex", "female"),))
    assert {r["personal_id"] for r in women} == {
        r["national_id_no"] for r in held if r["sex_cd"] == "2"}
    several = await moh.fetch_many(ids, ("personal_id",),
                                   (one_of("agency_code", [agency, "none"]),
                                    prefix("unit_name", held[0]["dept_nm"][:3])))
    assert {r["personal_id"] for r in several} == {
        r["national_id_no"] for r in held
        if r["org_cd"] == agency and r["dept_nm"].startswith(held[0]["dept_nm"][:3])}
    assert all("agency_code" in r for r in several), "filter columns come along"
    # A prefix with LIKE's wildcards matches literally.
    assert await moh.fetch_many(ids, columns, (prefix("unit_name", "%"),)) == []
    # A condition only a database of ours could follow lets nothing through.
    assert await moh.fetch_many(ids, columns, (related("agency_code", "agency", "code", ()),
                                               )) == []


async def test_only_the_columns_asked_are_read(moh_config: DatabaseAgencySystemConfig,
                                               scratch_moh: str) -> None:
    """A view whose address and pending-case columns fail when read: a lookup that does not
    ask for them succeeds, so the query never selected them."""
    conn = await asyncpg.connect(scratch_moh)
    try:
        await conn.execute("""
            CREATE FUNCTION probe_read(col text) RETURNS text LANGUAGE plpgsql STABLE AS
            $$ BEGIN RAISE EXCEPTION 'column % was read', col; END $$;
            CREATE VIEW hr_employee_probe AS SELECT emp_id, national_id_no, full_nm, birth_dt,
              sex_cd, org_cd, dept_nm, job_cd, grade_cd, sal_step, sal_coef,
              probe_read('disc_pending') AS disc_pending, probe_read('home_addr') AS home_addr,
              hire_dt, last_modified FROM hr_employee""")
        pid = await conn.fetchval("SELECT national_id_no FROM hr_employee LIMIT 1")
    finally:
        await conn.close()
    system = await DatabaseAgencySystem.open(dataclasses.replace(
        moh_config, dsn=scratch_moh, table="hr_employee_probe"))
    try:
        [record] = await system.fetch_many([pid], ("personal_id", "full_name", "rank_code"))
        assert set(record) == {"personal_id", "full_name", "rank_code"}
        with pytest.raises(SourceUnavailable) as failure:
            await system.fetch_many([pid], ("personal_id", "address"))
        assert "was read" not in failure.value.message, "no database text reaches a client"
    finally:
        await system.close()


async def test_sessions_are_read_only_and_bounded(moh: DatabaseAgencySystem,
                                                  moh_config: DatabaseAgencySystemConfig) -> None:
    async with moh._snapshot() as connection:
        assert await connection.fetchval("SHOW default_transaction_read_only") == "on"
        assert moh_config.timeout_seconds == 2.0
        assert await connection.fetchval("SHOW statement_timeout") == "2s"
    with pytest.raises(SourceUnavailable):
        async with moh._snapshot() as connection:
            await connection.execute("DELETE FROM hr_employee")
    # A transaction of its own does not escape it either.
    async with moh._pool.acquire() as connection:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await connection.execute("UPDATE hr_employee SET full_nm = 'x'")


async def test_a_slow_database_times_out(moh_config: DatabaseAgencySystemConfig,
                                         scratch_moh: str) -> None:
    conn = await asyncpg.connect(scratch_moh)
    try:
        await conn.execute("""
            CREATE FUNCTION slow_text(t text) RETURNS text LANGUAGE plpgsql STABLE AS
            $$ BEGIN PERFORM pg_sleep(5); RETURN t; END $$;
            CREATE VIEW hr_employee_slow AS SELECT emp_id, national_id_no,
              slow_text(full_nm) AS full_nm, birth_dt, sex_cd, org_cd, dept_nm, job_cd,
              grade_cd, sal_step, sal_coef, disc_pending, home_addr, hire_dt, last_modified
              FROM hr_employee""")
        pid = await conn.fetchval("SELECT national_id_no FROM hr_employee LIMIT 1")
    finally:
        await conn.close()
    system = await DatabaseAgencySystem.open(dataclasses.replace(
        moh_config, dsn=scratch_moh, table="hr_employee_slow", timeout_seconds=0.3))
    try:
        started = time.monotonic()
        with pytest.raises(SourceTimeout):
            await system.fetch_many([pid], ("personal_id", "full_name"))
        assert time.monotonic() - started < 3
        # The pool is still good for what is quick.
        assert await system.fetch_many([pid], ("personal_id",)) == [{"personal_id": pid}]
    finally:
        await system.close()


async def test_an_unreachable_database_is_a_source_failure(
        moh_config: DatabaseAgencySystemConfig, stored_server: str) -> None:
    for dsn in (f"postgresql://postgres@127.0.0.1:{free_port()}/nothing",
                database_url(stored_server, "no_such_database_hubtest")):
        system = await DatabaseAgencySystem.open(dataclasses.replace(moh_config, dsn=dsn))
        try:
            with pytest.raises(SourceUnavailable):
                await system.fetch_many(["001089012345"], AGENCY_RECORD_COLUMNS)
            with pytest.raises(SourceUnavailable):
                await system.ping()
        finally:
            await system.close()


async def test_a_misnamed_column_fails_as_the_source(moh_config: DatabaseAgencySystemConfig
                                                     ) -> None:
    fields = {**moh_config.mapping.fields, "address": "home_address"}
    system = await DatabaseAgencySystem.open(dataclasses.replace(
        moh_config, mapping=RecordMapping(fields=fields)))
    try:
        with pytest.raises(SourceUnavailable, match="misconfigured") as failure:
            await system.fetch_many(["001089012345"], ("personal_id",))
        assert "home_address" not in str(failure.value)
        with pytest.raises(SourceUnavailable, match="misconfigured"):
            await system.ping()
    finally:
        await system.close()


@pytest.mark.parametrize("change", [
    {"table": 'hr_employee"; DROP TABLE hr_employee; --'},
    {"table": "HR_Employee"},
    {"schema": "public.x"},
    {"key_column": "emp_id, pg_sleep(10)"},
    {"modified_column": ""},
    {"mapping": RecordMapping(fields={"personal_id": "national_id_no",
                                      "full_name": 'full_nm" FROM pg_authid --'})},
    {"mapping": RecordMapping(fields={"full_name": "full_nm"})},  # no personal_id
    {"mapping": RecordMapping(fields={"personal_id": "national_id_no",
                                      "disciplines": "x"})},
    {"disciplines": DisciplineTable("hr_disciplinary_action", "emp id",
                                    RecordMapping(fields={}))},
    {"disciplines": DisciplineTable("hr_disciplinary_action", "emp_id",
                                    RecordMapping(fields={"verdict": "action_cd"}))},
    {"timeout_seconds": 0}, {"max_batch": 0}, {"pool_max": 0}, {"settle_seconds": -1},
])
def test_hostile_or_malformed_configuration_is_refused(
        moh_config: DatabaseAgencySystemConfig, change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(moh_config, **change)  # type: ignore[arg-type]


@pytest.mark.parametrize("entry", [
    "{name: x, kind: database, serves: ['*.G04'], dsn: 'postgresql://h/d', table: t,"
    " key_column: id, modified_column: m, fields: {personal_id: pid}, tabel: t}",
    "{name: x, kind: database, serves: ['*.G04'], dsn: 'postgresql://h/d', table: 'a b',"
    " key_column: id, modified_column: m, fields: {personal_id: pid}}",
    "{name: x, kind: database, serves: ['*.G04'], table: t, key_column: id,"
    " modified_column: m, fields: {personal_id: pid}}",
    "{name: x, kind: database, serves: ['*.G04'], dsn: 'postgresql://h/d', table: t,"
    " key_column: id, modified_column: m, fields: {personal_id: pid},"
    " disciplines: {table: d, parent_column: id, fields: {}, order: x}}",
    "{name: x, kind: database, serves: ['*.G04'], dsn: 'postgresql://h/d', table: t,"
    " key_column: id, modified_column: m, fields: [personal_id]}",
])
def test_registry_entries_are_checked(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(f"population: {{base_url: x, api_key: k}}\nagency_systems:\n  - {entry}\n")
    with pytest.raises(ValueError, match="invalid source registry"):
        load_source_config(path)


def test_the_shipped_entry(moh_config: DatabaseAgencySystemConfig, stored: DatabaseSet) -> None:
    assert moh_config.dsn == stored.agency_database
    assert moh_config.serves == ("*.G04",)
    assert moh_config.disciplines is not None
    assert set(moh_config.mapping.codes["position_code"].values()) == set(JOB_CODES.values())
    assert moh_config.disciplines.mapping.codes["form_code"] == ACTION_CODES
