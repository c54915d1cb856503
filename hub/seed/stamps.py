"""``updated_at`` fields: when each seeded row was last touched, encoded for COPY.

Every row carries one (some fifteen million per million employees), so drawing the instant and
encoding it are fused into one function with the draws inlined.
"""

from __future__ import annotations

import random
import struct
from typing import Final

from hub.seed.timeline import AS_OF_ORDINAL, PG_EPOCH_ORDINAL, UPDATES_FROM_ORDINAL

__all__ = ["touched"]

_FIELD = struct.Struct("!iq").pack
_LAST_DAY: Final = AS_OF_ORDINAL - 1
_SECONDS_PER_DAY: Final = 86_400
# Offices in Vietnam (UTC+7) work 07:30-17:00 local time, i.e. 00:30-10:00 UTC.
_OPENS_UTC: Final = 1_800
_OFFICE_HOURS: Final = 34_200


def touched(rng: random.Random, day: int) -> bytes:
    """A timestamptz field: office hours on a day between ``day`` (or 2024-01-01, when the
    national database went live, if later) and the day before AS_OF."""
    draw = rng.random
    first = day if day > UPDATES_FROM_ORDINAL else UPDATES_FROM_ORDINAL
    if first < _LAST_DAY:
        first += int(draw() * (_LAST_DAY - first + 1))
    seconds = ((first - PG_EPOCH_ORDINAL) * _SECONDS_PER_DAY + _OPENS_UTC
               + int(draw() * _OFFICE_HOURS))
    return _FIELD(8, seconds * 1_000_000)
