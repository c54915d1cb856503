"""The national database's own measures, set-wise: one grouped query per dimension over every
agency asked for (never a round trip per employee), the failing employee codes picked by the
database itself (the first few in code order).

Every query takes ``$1``: the agency codes to measure (null: all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

import asyncpg

from hub.quality.model import (
    MAX_EXAMPLES,
    NATIONAL,
    NOT_BLANK,
    WHITESPACE,
    Detail,
    Dimension,
    Measure,
)
from resolvers.personal_id import CURRENT_PROVINCE_CODES, LEGACY_PROVINCE_CODES, MERGER_DATE

__all__ = ["NAME_SQL", "NATIONAL_REQUIRED", "NATIONAL_RULES", "national_measures"]

# The employee's required fields (name parts: the family and given names; a middle name may
# rightly be empty), and what "present" means for each in SQL: text with something besides
# white space ($2 is NOT_BLANK), anything else not null.
_TEXT: Final = "coalesce(e.{0} ~ $2, false)"
_VALUE: Final = "e.{0} IS NOT NULL"
NATIONAL_REQUIRED: Final[tuple[tuple[str, str], ...]] = tuple(
    (name, (_TEXT if kind == "text" else _VALUE).format(name)) for name, kind in (
        ("family_name", "text"), ("given_name", "text"), ("birth_date", "value"),
        ("sex", "text"), ("agency_code", "text"), ("unit_name", "text"),
        ("position_code", "text"), ("rank_code", "text"), ("salary_step", "value"),
        ("salary_coefficient", "value"), ("hired_on", "value")))

# The personal ID's structure (resolvers/personal_id.py) in SQL, so a million IDs are checked
# where they lie: $2 the 63 pre-merger province codes, $3 the 34 current ones, $4 the merger
# date. The CASE keeps the digit casts away from an ID that is not twelve digits.
_PERSONAL_ID: Final = """coalesce(CASE WHEN e.personal_id ~ '^0[0-9]{11}$'
                              AND substr(e.personal_id, 2, 2) = ANY($2::text[])
    THEN (e.birth_date < $4::date OR substr(e.personal_id, 2, 2) = ANY($3::text[]))
     AND substr(e.personal_id, 4, 1)::int / 2
         = extract(year FROM e.birth_date)::int / 100 - 19
     AND substr(e.personal_id, 5, 2)::int = extract(year FROM e.birth_date)::int % 100
     AND CASE WHEN substr(e.personal_id, 4, 1)::int % 2 = 1 THEN 'female' ELSE 'male' END
         = e.sex
    ELSE false END, false)"""
# Born on or before today, hired on or before today and at 18 or older (the minimum age of
# recruitment: Law on Cadres and Civil Servants art. 36, Law on Public Employees art. 22).
# $5 is today.
_DATES: Final = """coalesce(e.birth_date <= $5::date AND e.hired_on <= $5::date
    AND e.hired_on >= (e.birth_date + interval '18 years')::date, false)"""

# Validity rules over each employee, with the joins they need.
NATIONAL_RULES: Final[tuple[tuple[str, str], ...]] = (
    ("position-known", "p.code IS NOT NULL"),
    ("rank-known", "r.code IS NOT NULL"),
    ("agency-known", "a.code IS NOT NULL"),
    ("coefficient-on-ladder", "coalesce(l.coefficient = e.salary_coefficient, false)"),
    ("personal-id", _PERSONAL_ID),
    ("dates-in-order", _DATES),
)
# ... and over each discipline decision of an agency's employees: a form in the code list
# that applies to the employee's category; decided, then in effect, then ended (if it has),
# and not decided in the future.
_DISCIPLINE_RULES: Final[tuple[tuple[str, str], ...]] = (
    ("discipline-form", "coalesce(e.category = ANY(f.applies_to), false)"),
    ("discipline-dates", """coalesce(d.decided_on <= d.effective_from
        AND (d.effective_to IS NULL OR d.effective_to >= d.effective_from)
        AND d.decided_on <= $2::date, false)"""),
)

_SCOPE: Final = "($1::text[] IS NULL OR e.agency_code = ANY($1::text[]))"


def _counted(rules: Sequence[tuple[str, str]]) -> str:
    """Per rule: how many passed, and the first few employee codes that did not."""
    parts = []
    for i, (_, predicate) in enumerate(rules):
        parts.append(f"count(*) FILTER (WHERE {predicate}) AS p{i}")
        parts.append(f"(array_agg(e.employee_code ORDER BY e.employee_code) "
                     f"FILTER (WHERE NOT ({predicate})))[1:{MAX_EXAMPLES}] AS x{i}")
    return ",\n       ".join(parts)


_COMPLETENESS: Final = f"""
SELECT e.agency_code, count(*) AS records,
       {_counted(NATIONAL_REQUIRED)}
FROM employee AS e WHERE {_SCOPE} GROUP BY e.agency_code"""

_VALIDITY: Final = f"""
SELECT e.agency_code, count(*) AS records,
       {_counted(NATIONAL_RULES)}
FROM employee AS e
LEFT JOIN position AS p ON p.code = e.position_code
LEFT JOIN rank AS r ON r.code = e.rank_code
LEFT JOIN agency AS a ON a.code = e.agency_code
LEFT JOIN salary_ladder AS l ON l.rank_code = e.rank_code AND l.step = e.salary_step
WHERE {_SCOPE} GROUP BY e.agency_code"""

_DISCIPLINE: Final = f"""
SELECT e.agency_code, count(*) AS records,
       {_counted(_DISCIPLINE_RULES)}
FROM discipline AS d
JOIN employee AS e ON e.employee_code = d.employee_code
LEFT JOIN discipline_form AS f ON f.code = d.form_code
WHERE {_SCOPE} GROUP BY e.agency_code"""

# A name as hub/quality/model.py normalised_name has it (NFC, white space collapsed; $2 is
# WHITESPACE).
NAME_SQL: Final = "btrim(regexp_replace(normalize(e.full_name, NFC), $2, ' ', 'g'), ' ')"
# One person is a normalised name with a birth date and sex; a group of records of one person
# under more than one personal ID holds duplicates, one record per ID beyond the first.
_UNIQUENESS: Final = f"""
WITH keyed AS (
    SELECT e.agency_code, e.employee_code, e.personal_id, e.birth_date, e.sex,
           {NAME_SQL} AS name
    FROM employee AS e WHERE {_SCOPE}),
persons AS (
    SELECT agency_code, count(*) AS records, count(DISTINCT personal_id) AS ids,
           min(employee_code) AS first_code, max(employee_code) AS last_code
    FROM keyed WHERE name <> '' AND birth_date IS NOT NULL AND sex IS NOT NULL
    GROUP BY agency_code, name, birth_date, sex)
SELECT agency_code, sum(records)::bigint AS records,
       coalesce(sum(ids - 1) FILTER (WHERE ids > 1), 0)::bigint AS surplus,
       count(*) FILTER (WHERE ids > 1) AS groups,
       coalesce(sum(records) FILTER (WHERE ids > 1), 0)::bigint AS involved,
       (array_agg(ARRAY[first_code, last_code] ORDER BY first_code)
            FILTER (WHERE ids > 1))[1:{MAX_EXAMPLES // 2}] AS examples
FROM persons GROUP BY agency_code"""

# $2: files updated at or after this instant are fresh.
_TIMELINESS: Final = f"""
SELECT e.agency_code, count(*) AS records, max(e.updated_at) AS latest,
       count(*) FILTER (WHERE e.updated_at >= $2) AS fresh,
       (array_agg(e.employee_code ORDER BY e.updated_at, e.employee_code)
            FILTER (WHERE e.updated_at IS NULL OR e.updated_at < $2))[1:{MAX_EXAMPLES}]
            AS stale
FROM employee AS e WHERE {_SCOPE} GROUP BY e.agency_code"""


def _rule_details(row: asyncpg.Record | None, rules: Sequence[tuple[str, str]]
                  ) -> list[Detail]:
    records = 0 if row is None else int(row["records"])
    return [Detail(name, 0 if row is None else int(row[f"p{i}"]), records,
                   examples=tuple(() if row is None else row[f"x{i}"] or ()))
            for i, (name, _) in enumerate(rules)]


def _from_details(agency: str, dimension: Dimension, details: Sequence[Detail]) -> Measure:
    return Measure.of(agency, NATIONAL, dimension, sum(d.passed or 0 for d in details),
                      sum(d.checked or 0 for d in details), details)


async def _completeness(conn: asyncpg.Connection, agencies: Sequence[str],
                        scope: list[str] | None) -> list[Measure]:
    rows = {r["agency_code"]: r for r in await conn.fetch(_COMPLETENESS, scope, NOT_BLANK)}
    return [_from_details(a, "completeness", _rule_details(rows.get(a), NATIONAL_REQUIRED))
            for a in agencies]


async def _validity(conn: asyncpg.Connection, agencies: Sequence[str],
                    scope: list[str] | None, today: date) -> list[Measure]:
    employees = {r["agency_code"]: r for r in await conn.fetch(
        _VALIDITY, scope, sorted(LEGACY_PROVINCE_CODES),
        sorted(CURRENT_PROVINCE_CODES), MERGER_DATE, today)}
    decisions = {r["agency_code"]: r for r in await conn.fetch(_DISCIPLINE, scope, today)}
    return [_from_details(a, "validity", [
        *_rule_details(employees.get(a), NATIONAL_RULES),
        *_rule_details(decisions.get(a), _DISCIPLINE_RULES)]) for a in agencies]


async def _uniqueness(conn: asyncpg.Connection, agencies: Sequence[str],
                      scope: list[str] | None) -> list[Measure]:
    rows = {r["agency_code"]: r for r in await conn.fetch(_UNIQUENESS, scope, WHITESPACE)}
    measures = []
    for agency in agencies:
        row = rows.get(agency)
        records = 0 if row is None else int(row["records"])
        surplus = 0 if row is None else int(row["surplus"])
        groups = 0 if row is None else int(row["groups"])
        involved = 0 if row is None else int(row["involved"])
        examples = tuple(code for pair in (row["examples"] if row is not None else None) or ()
                         for code in pair)
        measures.append(Measure.of(agency, NATIONAL, "uniqueness", records - surplus, records, (
            Detail("distinct-records", records - surplus, records),
            Detail("duplicate-groups", value=groups, examples=examples),
            Detail("records-in-duplicate-groups", value=involved))))
    return measures


async def _timeliness(conn: asyncpg.Connection, agencies: Sequence[str],
                      scope: list[str] | None, now: datetime, within_days: int
                      ) -> list[Measure]:
    rows = {r["agency_code"]: r for r in await conn.fetch(
        _TIMELINESS, scope, now - timedelta(days=within_days))}
    measures = []
    for agency in agencies:
        row = rows.get(agency)
        records = 0 if row is None else int(row["records"])
        fresh = 0 if row is None else int(row["fresh"])
        details = [Detail(f"updated-within-{within_days}-days", fresh, records,
                          examples=tuple(row["stale"] or ()) if row is not None else ())]
        latest: datetime | None = None if row is None else row["latest"]
        if latest is not None:
            details.append(Detail("latest-update", value=latest.isoformat()))
            details.append(Detail("latest-update-age-days",
                                  value=round((now - latest).total_seconds() / 86_400, 2)))
        measures.append(Measure.of(agency, NATIONAL, "timeliness", fresh, records, details))
    return measures


async def national_measures(conn: asyncpg.Connection, agencies: Sequence[str],
                            scope: list[str] | None, *, now: datetime, within_days: int
                            ) -> list[Measure]:
    """Completeness, validity, uniqueness and timeliness of each agency's files in the
    national database. A dimension whose query fails is stored as not measured, with the
    database's reason, for every agency; the others stand."""
    runs: list[tuple[Dimension, Any]] = [
        ("completeness", lambda: _completeness(conn, agencies, scope)),
        ("validity", lambda: _validity(conn, agencies, scope, now.date())),
        ("uniqueness", lambda: _uniqueness(conn, agencies, scope)),
        ("timeliness", lambda: _timeliness(conn, agencies, scope, now, within_days)),
    ]
    measures: list[Measure] = []
    for dimension, run in runs:
        try:
            measures.extend(await run())
        except (asyncpg.PostgresError, OSError, TimeoutError) as error:
            reason = f"the national database failed to answer: {type(error).__name__}"
            measures.extend(Measure.failed(a, NATIONAL, dimension, reason) for a in agencies)
    return measures
