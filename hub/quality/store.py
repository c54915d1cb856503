"""Keeping measures over time (migration 0015): a run row when measuring starts, its measures
all at once when it ends (a run is stored whole or not at all), and the run's outcome."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from hub.quality.model import Measure

__all__ = ["begin_run", "end_run", "store_measures"]


async def begin_run(conn: asyncpg.Connection, run_id: UUID, started_at: datetime,
                    options: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO quality_run (id, started_at, status, options) "
        "VALUES ($1, $2, 'running', $3::jsonb)", run_id, started_at, json.dumps(options))


async def store_measures(conn: asyncpg.Connection, run_id: UUID, measured_at: datetime,
                         measures: Sequence[Measure]) -> None:
    """Every measure of the run in one transaction, set-wise (one statement)."""
    columns: dict[str, list[Any]] = {name: [] for name in (
        "scope", "agency_code", "authority", "source", "dimension", "status", "numerator",
        "denominator", "score", "details", "reason")}
    for m in measures:
        for name, value in (("scope", m.scope), ("agency_code", m.agency_code),
                            ("authority", m.authority), ("source", m.source),
                            ("dimension", m.dimension), ("status", m.status),
                            ("numerator", m.numerator), ("denominator", m.denominator),
                            ("score", m.score), ("reason", m.reason),
                            ("details", json.dumps([d.as_json() for d in m.details],
                                                   ensure_ascii=False))):
            columns[name].append(value)
    async with conn.transaction():
        await conn.execute(
            """INSERT INTO quality_measure (run_id, measured_at, scope, agency_code, authority,
                   source, dimension, status, numerator, denominator, score, details, reason)
               SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[],
                   $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::float8[],
                   $12::jsonb[], $13::text[])""",
            run_id, measured_at, columns["scope"], columns["agency_code"],
            columns["authority"], columns["source"], columns["dimension"], columns["status"],
            columns["numerator"], columns["denominator"], columns["score"],
            columns["details"], columns["reason"])


async def end_run(conn: asyncpg.Connection, run_id: UUID, *, status: str,
                  measures: int = 0, agencies: int = 0, error: str | None = None) -> None:
    await conn.execute(
        "UPDATE quality_run SET finished_at = clock_timestamp(), status = $2, measures = $3, "
        "agencies = $4, error = $5 WHERE id = $1", run_id, status, measures, agencies, error)
