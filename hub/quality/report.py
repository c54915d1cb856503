"""``hub quality report``: an agency's (or authority's) stored measures over a window, as a
text table (dimension × source: the latest score, its counts, the change over the window)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters import NationalDatabase
from adapters.quality_measures import QualityMeasures, QualityWindow
from hub.quality.model import DIMENSIONS

__all__ = ["NothingToReport", "QualityReport", "Series", "load_report", "printable",
           "text_report"]

Row = dict[str, Any]
_SOURCE_ORDER = {"national": 0, "population": 1}


@dataclass(frozen=True, slots=True)
class Series:
    """One dimension in one source: its measures over the window, oldest first."""

    dimension: str
    source: str
    measures: tuple[Row, ...]

    @property
    def latest(self) -> Row:
        return self.measures[-1]

    @property
    def change(self) -> float | None:
        """The latest score less the window's first one (None: fewer than two scores)."""
        scores = [m["score"] for m in self.measures if m["score"] is not None]
        return scores[-1] - scores[0] if len(scores) > 1 else None


@dataclass(frozen=True, slots=True)
class QualityReport:
    agency_code: str
    agency_name: str | None
    scope: str
    since: datetime | None
    until: datetime | None
    truncated: bool
    series: tuple[Series, ...]

    @property
    def runs(self) -> list[datetime]:
        return sorted({m["measured_at"] for s in self.series for m in s.measures})


class NothingToReport(LookupError):
    """The code names no agency or authority."""


async def load_report(database: NationalDatabase, code: str, since: datetime | None,
                      until: datetime | None, max_runs: int) -> QualityReport:
    measures = QualityMeasures(database)
    subject = await measures.subject(code)
    if subject is None:
        raise NothingToReport(f"no agency or authority {code} in the national database")
    rows, truncated = await measures.series(code, QualityWindow(since, until, max_runs))
    grouped: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        grouped.setdefault((row["dimension"], row["source"]), []).append(row)
    order = sorted(grouped, key=lambda k: (DIMENSIONS.index(k[0]) if k[0] in DIMENSIONS
                                           else len(DIMENSIONS),
                                           _SOURCE_ORDER.get(k[1], 2), k[1]))
    return QualityReport(code, subject["agency_name"], subject["scope"], since, until,
                         truncated, tuple(Series(d, s, tuple(grouped[(d, s)]))
                                          for d, s in order))


def printable(text: str) -> str:
    """Text safe to print on a terminal: control and format characters (an escape sequence
    in an agency's name) shown as U+FFFD instead of acted on."""
    return "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)


def _when(value: datetime | None) -> str:
    return "…" if value is None else value.isoformat(timespec="minutes")


def _score(measure: Row) -> str:
    if measure["status"] == "not_measured":
        return "not measured"
    if measure["status"] == "empty":
        return "empty"
    return f"{measure['score']:.4f}"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def text_report(report: QualityReport) -> str:
    title = report.agency_code if report.agency_name is None else (
        f"{report.agency_code} — {printable(report.agency_name)}")
    kind = "reporting authority" if report.scope == "authority" else "agency"
    lines = [f"Data quality of {kind} {title}",
             f"window: {_when(report.since)} to {_when(report.until)}"]
    runs = report.runs
    if not runs:
        lines.append("no measures in this window (run `hub quality measure`, or widen it)")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(runs)} run(s), the latest at {runs[-1].isoformat(timespec='minutes')}"
                 + (" (older runs left out: narrow the window)" if report.truncated else ""))
    lines.append("")
    rows = [("dimension", "source", "latest", "passed/checked", "change", "measured at")]
    notes: list[str] = []
    for series in report.series:
        latest = series.latest
        counts = ("" if latest["numerator"] is None
                  else f"{latest['numerator']}/{latest['denominator']}")
        change = series.change
        rows.append((series.dimension, printable(series.source), _score(latest), counts,
                     "" if change is None else f"{change:+.4f}",
                     latest["measured_at"].isoformat(timespec="minutes")))
        if latest["reason"]:
            notes.append(printable(f"{series.dimension} / {series.source}: "
                                   f"{latest['reason']}"))
    lines.extend(_table(rows))
    if notes:
        lines.append("")
        lines.append("not measured:")
        lines.extend(f"  {note}" for note in notes)
    return "\n".join(lines) + "\n"
