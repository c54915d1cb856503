"""``hub quality report --format html``: one self-contained page (no script, nothing fetched)
with the summary table and a chart per dimension of each source's score over time.

The page is a Jinja template with autoescaping (agency names are Vietnamese text from the
directory, and may hold anything); the charts are leather's SVG, whose text the XML
serialiser escapes, set in the page as markup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any, Final

import jinja2
import leather
from markupsafe import Markup

from hub.quality.model import DIMENSIONS
from hub.quality.report import QualityReport, Series, printable

__all__ = ["html_report"]

_WIDTH: Final = 760
_HEIGHT: Final = 300
# One colour per source, in the order sources are listed (colour-blind safe, Okabe-Ito).
_COLOURS: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                   "#F0E442", "#000000")
_DASHES: Final = ("none", "8 4", "2 3", "12 3 2 3")


def _naive(value: datetime) -> datetime:
    """leather's time scale wants naive datetimes: UTC, said so on the page."""
    return value.astimezone(UTC).replace(tzinfo=None)


def _chart(series: list[Series]) -> Markup | None:
    points = {s.source: [(_naive(m["measured_at"]), float(m["score"])) for m in s.measures
                         if m["score"] is not None] for s in series}
    times = [t for line in points.values() for t, _ in line]
    if not times:
        return None
    first, last = min(times), max(times)
    if first == last:  # one run: give the axis some width around it
        first, last = first.replace(hour=0, minute=0, second=0, microsecond=0), \
            first.replace(hour=23, minute=59, second=59, microsecond=0)
    span = (last - first).total_seconds()
    # Ticks as fine as the runs are apart.
    ticks = ("%H:%M:%S" if span < 3_600 else "%d/%m %H:%M" if span < 3 * 86_400
             else "%d/%m/%Y")
    chart = leather.Chart("score by source (times in UTC)")
    chart.add_x_scale(first, last)
    chart.add_y_scale(0, 1)
    chart.add_x_axis(tick_formatter=lambda d, i, n: d.strftime(ticks))
    chart.add_y_axis(ticks=[0, 0.25, 0.5, 0.75, 1])
    for index, s in enumerate(series):
        line = points[s.source]
        if not line:
            continue
        colour = _COLOURS[index % len(_COLOURS)]
        if len(line) > 1:
            # Sources often score alike: each dashed its own way, so one line never hides
            # another. (No markers: leather would list them in the legend as series.)
            chart.add_line(line, name=s.source, stroke_color=colour, width=2,
                           stroke_dasharray=_DASHES[index % len(_DASHES)])
        else:
            chart.add_dots(line, name=s.source, fill_color=colour, radius=4)
    svg: str = chart.to_svg(width=_WIDTH, height=_HEIGHT)
    return Markup(svg)  # noqa: S704 - leather's XML serialiser escaped every text in it


def _row(series: Series) -> dict[str, Any]:
    latest = series.latest
    status = latest["status"]
    change = series.change
    return {"dimension": series.dimension, "source": series.source, "status": status,
            "score": ("not measured" if status == "not_measured" else
                      "empty" if status == "empty" else f"{latest['score']:.4f}"),
            "counts": ("" if latest["numerator"] is None
                       else f"{latest['numerator']:,} / {latest['denominator']:,}"),
            "change": "" if change is None else f"{change:+.4f}",
            "measured_at": latest["measured_at"].isoformat(timespec="minutes")}


def _when(value: datetime | None) -> str:
    return "…" if value is None else value.isoformat(timespec="minutes")


def html_report(report: QualityReport, *, generated: datetime | None = None) -> str:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string(
        resources.files("hub.quality").joinpath("report.html").read_text(encoding="utf-8"))
    charts = []
    for dimension in DIMENSIONS:
        series = [s for s in report.series if s.dimension == dimension]
        if not series:
            continue
        notes = [f"{s.source}, {m['measured_at'].isoformat(timespec='minutes')}: not "
                 f"measured: {m['reason']}" for s in series for m in s.measures
                 if m["status"] == "not_measured"]
        charts.append({"dimension": dimension, "svg": _chart(series),
                       "notes": notes})
    title = report.agency_code if report.agency_name is None else (
        f"{printable(report.agency_name)} ({report.agency_code})")
    return template.render(
        title=title,
        kind="reporting authority" if report.scope == "authority" else "agency",
        since=_when(report.since), until=_when(report.until), runs=report.runs,
        truncated=report.truncated,
        generated=(generated or datetime.now(UTC)).isoformat(timespec="seconds"),
        series=report.series, table=[_row(s) for s in report.series], charts=charts)
