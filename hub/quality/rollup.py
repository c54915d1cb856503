"""Measures per reporting authority (a ministry, Gnn, or a province, Hpp: the last segment of
an agency code), rolled up from its agencies' measures of the same run: the counts add up, so
an authority's score is that of all its agencies' values together, not an average of
averages. If any of its agencies could not be measured in a source, neither can the
authority be.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from hub.quality.model import MAX_EXAMPLES, Detail, Dimension, Measure

__all__ = ["roll_up"]

# How a fact (``Detail.value``) of several agencies combines: counts add up, the age of the
# latest update is the youngest, every other fact (a time, a lag) is the greatest.
_SUMMED: Final = frozenset({"duplicate-groups", "records-in-duplicate-groups"})
_LEAST: Final = frozenset({"latest-update-age-days"})


def _combine(item: str, values: list[Any]) -> Any:
    if not values:
        return None
    if item in _SUMMED:
        return sum(values)
    return min(values) if item in _LEAST else max(values)


def _merged(details: Iterable[Detail]) -> tuple[Detail, ...]:
    by_item: dict[str, list[Detail]] = {}
    for detail in details:
        by_item.setdefault(detail.item, []).append(detail)
    merged = []
    for item, parts in by_item.items():
        passed = [p.passed for p in parts if p.passed is not None]
        checked = [p.checked for p in parts if p.checked is not None]
        examples = [code for p in parts for code in p.examples]
        merged.append(Detail(
            item, sum(passed) if passed else None, sum(checked) if checked else None,
            _combine(item, [p.value for p in parts if p.value is not None]),
            next((p.note for p in parts if p.note is not None), None),
            tuple(examples[:MAX_EXAMPLES])))
    return tuple(merged)


def roll_up(measures: Iterable[Measure]) -> list[Measure]:
    """One measure per (authority, source, dimension) from the agencies' measures."""
    groups: dict[tuple[str, str, Dimension], list[Measure]] = {}
    for measure in measures:
        if measure.scope == "agency":
            groups.setdefault((measure.authority, measure.source, measure.dimension),
                              []).append(measure)
    rolled = []
    for (authority, source, dimension), parts in sorted(groups.items()):
        parts.sort(key=lambda m: m.agency_code)
        failed = [m for m in parts if m.status == "not_measured"]
        if failed:
            first = failed[0]
            rolled.append(Measure.failed(
                authority, source, dimension, scope="authority",
                reason=f"not measured for {len(failed)} of {len(parts)} agencies "
                       f"({first.agency_code}: {first.reason})"))
            continue
        rolled.append(Measure.of(
            authority, source, dimension, sum(m.numerator or 0 for m in parts),
            sum(m.denominator or 0 for m in parts),
            _merged(d for m in parts for d in m.details), scope="authority"))
    return rolled
