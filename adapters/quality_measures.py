"""Data-quality measures read back (``quality_measure``, migration 0015): one agency's (or
authority's) measures of the runs within a time window, through the national database's pool.

The measures are written by ``hub quality measure``; this side only reads them, for the
``dataQuality`` query and for ``hub quality report``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.postgres import NationalDatabase, Row

__all__ = ["QualityMeasures", "QualityWindow"]

# The newest runs of the window first (LIMIT), one more than asked to tell whether the window
# held more; then every measure of those runs, oldest first.
_SERIES = """
WITH runs AS (
    SELECT DISTINCT run_id, measured_at FROM quality_measure
    WHERE agency_code = $1
      AND ($2::timestamptz IS NULL OR measured_at >= $2::timestamptz)
      AND ($3::timestamptz IS NULL OR measured_at < $3::timestamptz)
    ORDER BY measured_at DESC, run_id DESC
    LIMIT $4)
SELECT m.run_id, m.measured_at, m.scope, m.agency_code, m.authority, m.source, m.dimension,
       m.status, m.numerator, m.denominator, m.score, m.details, m.reason
FROM quality_measure AS m JOIN runs AS r ON r.run_id = m.run_id
WHERE m.agency_code = $1
ORDER BY m.measured_at, m.run_id, m.dimension, m.source"""


@dataclass(frozen=True, slots=True)
class QualityWindow:
    """Runs measured in [since, until) (either open); at most ``max_runs``, the newest."""

    since: datetime | None
    until: datetime | None
    max_runs: int


class QualityMeasures:
    name = "quality"

    def __init__(self, database: NationalDatabase) -> None:
        self._database = database

    async def subject(self, code: str) -> Row | None:
        """What ``code`` names: an agency (its code has dots), or a reporting authority (G02)
        named after its head agency (the ministry, the provincial People's Committee); None
        when nothing in the agency directory answers to it."""
        if "." in code:
            rows = await self._database.read(
                "SELECT name, authority FROM agency WHERE code = $1", [code])
            if not rows:
                return None
            return {"agency_code": code, "agency_name": rows[0]["name"],
                    "authority": rows[0]["authority"], "scope": "agency"}
        rows = await self._database.read(
            "SELECT (SELECT name FROM agency WHERE code = '000.00.00.' || $1) AS name"
            " WHERE EXISTS (SELECT FROM agency WHERE authority = $1)", [code])
        if not rows:
            return None
        return {"agency_code": code, "agency_name": rows[0]["name"], "authority": code,
                "scope": "authority"}

    async def series(self, agency_code: str, window: QualityWindow) -> tuple[list[Row], bool]:
        """The measures of ``agency_code`` (an agency's code, or an authority's) in the
        window, oldest run first, each with its ``details`` decoded; and whether the window
        held more runs than ``max_runs`` (the oldest were left out)."""
        if window.max_runs < 1:
            raise ValueError("a window holds at least one run")
        rows = await self._database.read(
            _SERIES, [agency_code, window.since, window.until, window.max_runs + 1])
        runs = list(dict.fromkeys(r["run_id"] for r in rows))
        truncated = len(runs) > window.max_runs
        if truncated:
            oldest = runs[0]
            rows = [r for r in rows if r["run_id"] != oldest]
        for row in rows:
            row["details"] = _decoded(row["details"])
        return rows, truncated


def _decoded(value: Any) -> list[dict[str, Any]]:
    details = json.loads(value) if isinstance(value, str) else value
    return details if isinstance(details, list) else []
