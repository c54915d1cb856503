"""The seeded data's calendar: one fixed "today" and dates as integers.

Nothing reads the wall clock: every date and timestamp derives from the seed and from
:data:`AS_OF`, so the same (employees, seed) always yields the same bytes. Dates travel through
the generator as proleptic Gregorian ordinals (``date.toordinal()``) because integer arithmetic
and list look-ups are several times cheaper than ``date`` objects in the hot loops.
"""

from __future__ import annotations

import calendar
import random
from datetime import date
from typing import Final

__all__ = [
    "AS_OF",
    "AS_OF_ORDINAL",
    "DAYS_PER_YEAR",
    "PG_EPOCH_ORDINAL",
    "UPDATES_FROM_ORDINAL",
    "add_months",
    "add_years",
    "moment",
    "ordinal",
    "to_date",
    "year_of",
]

# The data describe the civil service as it stands on this day.
AS_OF: Final = date(2026, 11, 1)
AS_OF_ORDINAL: Final = AS_OF.toordinal()
# Records were last touched between this day and AS_OF (the national database went live in 2024).
UPDATES_FROM_ORDINAL: Final = date(2024, 1, 1).toordinal()
# PostgreSQL's binary date and timestamp formats count from 2000-01-01 (UTC for timestamptz).
PG_EPOCH_ORDINAL: Final = date(2000, 1, 1).toordinal()
DAYS_PER_YEAR: Final = 365.2425

_SECONDS_PER_DAY: Final = 86_400
# Offices in Vietnam (UTC+7) work 07:30-17:00 local time, i.e. 00:30-10:00 UTC.
_OFFICE_OPENS_UTC: Final = 1_800
_OFFICE_HOURS: Final = 34_200


def ordinal(year: int, month: int, day: int) -> int:
    return date(year, month, day).toordinal()


def to_date(day: int) -> date:
    return date.fromordinal(day)


_FIRST_YEAR: Final = 1900
_FIRST_DAY: Final = date(_FIRST_YEAR, 1, 1).toordinal()
_LAST_DAY: Final = date(2041, 1, 1).toordinal()
# The year of every day the generator uses: a list index instead of a date object.
_YEARS: Final = tuple(date.fromordinal(d).year for d in range(_FIRST_DAY, _LAST_DAY))


def year_of(day: int) -> int:
    if _FIRST_DAY <= day < _LAST_DAY:
        return _YEARS[day - _FIRST_DAY]
    return date.fromordinal(day).year


def add_months(day: int, months: int) -> int:
    """The same day of the month ``months`` later (clamped to the month's end)."""
    d = date.fromordinal(day)
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last)).toordinal()


def add_years(day: int, years: int) -> int:
    return add_months(day, 12 * years)


def moment(rng: random.Random, first_day: int, last_day: int) -> int:
    """A random instant during office hours on a day in [first_day, last_day], as seconds
    since the PostgreSQL epoch (2000-01-01 00:00 UTC)."""
    draw = rng.random  # inlined draws: this runs some fifteen million times per million staff
    day = first_day if last_day <= first_day else \
        first_day + int(draw() * (last_day - first_day + 1))
    return ((day - PG_EPOCH_ORDINAL) * _SECONDS_PER_DAY + _OFFICE_OPENS_UTC
            + int(draw() * _OFFICE_HOURS))

