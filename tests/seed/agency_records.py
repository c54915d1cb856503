"""What the seeded agency systems hold, in national terms, for the tests of every kind of
system: a record, its decisions, the national decisions to compare them with, and the
system's own record of its drift."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from hub.seed.agency_systems import DRIFT_KINDS

__all__ = ["Decision", "Held", "drift_by_person", "national_decisions"]


@dataclass(frozen=True)
class Decision:
    """A decision in national terms (the form a national discipline_form code)."""

    number: str
    decided: date
    form: str
    issuer: str
    reason: str
    effective_from: date
    effective_to: date | None


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
    hired: date
    modified: datetime
    local_id: str
    decisions: tuple[Decision, ...]


async def national_decisions(national: asyncpg.Connection) -> dict[str, list[Decision]]:
    """Each employee's national decisions, by personal ID."""
    found: dict[str, list[Decision]] = defaultdict(list)
    for d in await national.fetch(
            "SELECT e.personal_id, d.* FROM discipline d"
            " JOIN employee e USING (employee_code) ORDER BY d.id"):
        found[d["personal_id"]].append(Decision(
            d["decision_number"], d["decided_on"], d["form_code"], d["issuer"], d["reason"],
            d["effective_from"], d["effective_to"]))
    return found


async def drift_by_person(conn: asyncpg.Connection) -> dict[str, dict[str, str]]:
    """A system's seed_drift: kind -> detail, by personal ID (one record per person and kind,
    of a kind the seed knows)."""
    drift: dict[str, dict[str, str]] = defaultdict(dict)
    for r in await conn.fetch("SELECT personal_id, kind, detail FROM seed_drift"):
        assert r["kind"] in DRIFT_KINDS
        assert r["kind"] not in drift[r["personal_id"]], "one record per person and kind"
        drift[r["personal_id"]][r["kind"]] = r["detail"]
    return drift
