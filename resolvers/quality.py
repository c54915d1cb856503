"""``dataQuality(agencyCode, from, to)``: the stored data-quality measures of an agency, or of
a reporting authority's agencies rolled up, over a window of time.

Who may read which agencies is the policy's row scope on ``DataQuality`` (``authority``: a
provincial department reads its own province's agencies only). An agency that does not exist
and one outside the caller's rows are answered alike (NOT_FOUND), so the field tells nothing
of what the caller may not read.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from adapters.quality_measures import QualityMeasures, QualityWindow
from resolvers.errors import BadUserInput, NotFound
from resolvers.info import Info, Row

__all__ = ["MAX_RUNS", "data_quality"]

AGENCY_CODE: Final = re.compile(r"\d{3}\.\d{2}\.\d{2}\.[GH]\d{2}")
AUTHORITY_CODE: Final = re.compile(r"[GH]\d{2}")
# At most this many measuring runs per answer (a year of daily runs, and some), the newest.
MAX_RUNS: Final = 400
_DIMENSION_ORDER: Final = {d: i for i, d in enumerate(
    ("completeness", "validity", "uniqueness", "consistency", "timeliness"))}
_SOURCE_ORDER: Final = {"national": 0, "population": 1}


def _aware(value: datetime | None, argument: str) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise BadUserInput(f"`{argument}` needs a UTC offset, e.g. 2026-01-01T00:00:00+07:00",
                           argument=argument)
    return value


def quality_window(since: datetime | None, until: datetime | None) -> QualityWindow:
    since, until = _aware(since, "from"), _aware(until, "to")
    if since is not None and until is not None and not since < until:
        raise BadUserInput("`from` must be earlier than `to`", argument="to")
    return QualityWindow(since, until, MAX_RUNS)


def _value(value: Any) -> str | None:
    return None if value is None else str(value)


def _measure(row: Row) -> Row:
    return {
        "measured_at": row["measured_at"], "run_id": str(row["run_id"]),
        "dimension": row["dimension"], "source": row["source"], "status": row["status"],
        "numerator": row["numerator"], "denominator": row["denominator"],
        "score": row["score"], "reason": row["reason"],
        "details": [{"item": str(d.get("item")), "passed": d.get("passed"),
                     "checked": d.get("checked"), "value": _value(d.get("value")),
                     "note": d.get("note"), "examples": [str(c) for c in d.get("examples")
                                                         or ()]}
                    for d in row["details"] if isinstance(d, dict)],
    }


def _series(rows: list[Row]) -> list[Row]:
    grouped: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        grouped.setdefault((row["dimension"], row["source"]), []).append(_measure(row))
    keys = sorted(grouped, key=lambda k: (_DIMENSION_ORDER.get(k[0], len(_DIMENSION_ORDER)),
                                          _SOURCE_ORDER.get(k[1], len(_SOURCE_ORDER)), k[1]))
    return [{"dimension": d, "source": s, "measures": grouped[(d, s)]} for d, s in keys]


async def data_quality(info: Info, agency_code: str, since: datetime | None,
                       until: datetime | None) -> Row:
    if not (AGENCY_CODE.fullmatch(agency_code) or AUTHORITY_CODE.fullmatch(agency_code)):
        raise BadUserInput("`agencyCode` is an agency code (000.SS.MM.X) or a reporting "
                           "authority (X: Gnn for a ministry, Hpp for a province)",
                           argument="agencyCode")
    window = quality_window(since, until)
    measures = QualityMeasures(info.context.sources.national)
    subject = await measures.subject(agency_code)
    row_filter = info.context.loaders.row_filter("data_quality")
    if subject is None or not all(c.matches(subject) for c in row_filter):
        raise NotFound(f"no data-quality measures of {agency_code} to read")
    rows, truncated = await measures.series(agency_code, window)
    series = _series(rows)
    return {**subject, "from_": window.since, "to": window.until, "truncated": truncated,
            "series": series, "latest": [s["measures"][-1] for s in series]}
