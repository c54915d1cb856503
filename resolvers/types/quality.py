"""Data-quality measures as GraphQL reads them: per agency (or reporting authority), a series
per dimension and source over a window of time, and the latest measure of each.

The measures describe an agency's data, not a person: nothing in them is personal data
beyond the few employee codes a detail gives as examples of what failed.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

__all__ = ["DataQuality", "MeasureStatus", "QualityDetail", "QualityDimension",
           "QualityMeasure", "QualityScope", "QualitySeries"]


@strawberry.enum(description="The DAMA dimensions of data quality the hub measures.")
class QualityDimension(Enum):
    COMPLETENESS = "completeness"
    VALIDITY = "validity"
    UNIQUENESS = "uniqueness"
    CONSISTENCY = "consistency"
    TIMELINESS = "timeliness"


@strawberry.enum(description="MEASURED: a score; EMPTY: nothing to measure (no employees, no "
                             "records); NOT_MEASURED: the source could not be read (see "
                             "reason): no score, rather than a false one.")
class MeasureStatus(Enum):
    MEASURED = "measured"
    EMPTY = "empty"
    NOT_MEASURED = "not_measured"


@strawberry.enum(description="An agency's own measures, or those of every agency under a "
                             "reporting authority (a ministry Gnn or a province Hpp) added "
                             "up.")
class QualityScope(Enum):
    AGENCY = "agency"
    AUTHORITY = "authority"


@strawberry.type(description="One field or rule behind a measure: how many of the values "
                             "checked passed, or a fact (a time, a number of seconds), a "
                             "remark, and a few employee codes of values that failed.")
class QualityDetail:
    item: str = strawberry.field(description="The field (birth_date) or rule "
                                             "(coefficient-on-ladder).")
    passed: int | None
    checked: int | None
    value: str | None
    note: str | None
    examples: list[str] = strawberry.field(
        description="Employee codes of some values that failed (at most five).")


@strawberry.type(description="One dimension of an agency's data in one source, at one "
                             "time: numerator / denominator = score, in [0, 1].")
class QualityMeasure:
    measured_at: datetime
    run_id: str
    dimension: QualityDimension
    source: str = strawberry.field(
        description="national (the national database), population (the national database "
                    "against the population registry), or an agency HR system's name.")
    status: MeasureStatus
    numerator: int | None
    denominator: int | None
    score: float | None
    reason: str | None = strawberry.field(description="Why the measure was not taken.")
    details: list[QualityDetail]


@strawberry.type(description="The measures of one dimension in one source over the window, "
                             "oldest first.")
class QualitySeries:
    dimension: QualityDimension
    source: str
    measures: list[QualityMeasure]


@strawberry.type(description="Data-quality measures of an agency or reporting authority over "
                             "a window of time.")
class DataQuality:
    agency_code: str = strawberry.field(description="The agency's code, or the authority's "
                                                    "(G02, H01).")
    agency_name: str | None
    authority: str
    scope: QualityScope
    from_: datetime | None = strawberry.field(name="from")
    to: datetime | None
    truncated: bool = strawberry.field(
        description="The window held more measuring runs than are shown: the oldest were "
                    "left out (narrow the window to see them).")
    latest: list[QualityMeasure] = strawberry.field(
        description="The newest measure of each dimension and source in the window.")
    series: list[QualitySeries]
