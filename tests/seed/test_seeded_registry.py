"""The population registry after seeding: every employee present with the same identity, valid
and unique personal IDs, families that hold together."""

from __future__ import annotations

from datetime import date

import asyncpg

from resolvers import personal_id
from tests.seed.conftest import SEED_EMPLOYEES

AS_OF = date(2026, 11, 1)


async def test_every_employee_is_a_living_citizen_with_the_same_identity(
        national: asyncpg.Connection, population: asyncpg.Connection) -> None:
    employees = {r["personal_id"]: r for r in await national.fetch(
        "SELECT personal_id, full_name, birth_date, sex, ethnicity, religion FROM employee")}
    citizens = {r["personal_id"]: r for r in await population.fetch(
        "SELECT personal_id, full_name, birth_date, sex, ethnicity, religion, death_date"
        " FROM citizen WHERE personal_id = ANY($1::text[])", list(employees))}
    assert citizens.keys() == employees.keys()
    for pid, e in employees.items():
        c = citizens[pid]
        assert (c["full_name"], c["birth_date"], c["sex"], c["ethnicity"], c["religion"]) == \
            (e["full_name"], e["birth_date"], e["sex"], e["ethnicity"], e["religion"])
        assert c["death_date"] is None


async def test_every_personal_id_is_valid_and_unique(population: asyncpg.Connection) -> None:
    rows = await population.fetch("SELECT personal_id, birth_date, sex FROM citizen")
    assert 2.0 <= len(rows) / SEED_EMPLOYEES <= 3.0
    assert len({r["personal_id"] for r in rows}) == len(rows)
    for r in rows:
        assert personal_id.problems(r["personal_id"], r["birth_date"], r["sex"]) == [], r
    serials = {r["personal_id"][6:] for r in rows}
    assert len(serials) > 0.9 * len(rows)  # the six random digits look random


async def test_family_links_point_to_plausible_relatives(population: asyncpg.Connection) -> None:
    broken = await population.fetch(
        "SELECT c.personal_id FROM citizen c"
        " LEFT JOIN citizen f ON f.personal_id = c.father_id"
        " LEFT JOIN citizen m ON m.personal_id = c.mother_id"
        " LEFT JOIN citizen s ON s.personal_id = c.spouse_id"
        " WHERE (c.father_id IS NOT NULL AND (f.personal_id IS NULL OR f.sex <> 'male'"
        "        OR f.birth_date > c.birth_date - interval '18 years'))"
        "  OR (c.mother_id IS NOT NULL AND (m.personal_id IS NULL OR m.sex <> 'female'"
        "        OR m.birth_date > c.birth_date - interval '18 years'))"
        "  OR (c.spouse_id IS NOT NULL AND (s.personal_id IS NULL OR s.sex = c.sex"
        "        OR s.spouse_id IS DISTINCT FROM c.personal_id))")
    assert broken == []
    shares = await population.fetchrow(
        "SELECT avg((spouse_id IS NOT NULL)::int) AS married,"
        " count(*) FILTER (WHERE death_date IS NOT NULL) AS deceased,"
        " count(*) FILTER (WHERE father_id IS NOT NULL) AS with_father,"
        " count(*) FILTER (WHERE death_date > $1 OR death_date < birth_date) AS impossible"
        " FROM citizen", AS_OF)
    assert shares["deceased"] > 0
    assert shares["with_father"] > 0
    assert shares["impossible"] == 0


async def test_spouses_of_employees(national: asyncpg.Connection,
                                    population: asyncpg.Connection) -> None:
    employees = [r["personal_id"] for r in await national.fetch("SELECT personal_id FROM employee")]
    married = await population.fetchval(
        "SELECT avg((spouse_id IS NOT NULL)::int) FROM citizen WHERE personal_id = ANY($1::text[])",
        employees)
    assert 0.55 <= married <= 0.85


async def test_addresses_use_the_current_provinces(national: asyncpg.Connection,
                                                   population: asyncpg.Connection) -> None:
    provinces = [r["name"] for r in await national.fetch("SELECT name FROM province")]
    addresses = await population.fetch(
        "SELECT permanent_address, current_address, place_of_origin FROM citizen")
    for a in addresses:
        for field in ("permanent_address", "current_address", "place_of_origin"):
            assert a[field].endswith(tuple(provinces)), a[field]
    moved = sum(a["permanent_address"] != a["current_address"] for a in addresses)
    assert 0.05 <= moved / len(addresses) <= 0.4
