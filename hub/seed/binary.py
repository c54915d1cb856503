"""PostgreSQL's binary COPY format, built from precomputed pieces.

The seeder writes some fifteen million rows; encoding each field through a generic, per-type
dispatch would cost more than generating the data. Instead every field is a ready ``bytes``
(length prefix + value): categorical values come from caches filled once, dates from a table
indexed by ordinal, and a row is a single ``b"".join``. The same bytes then pass through the
worker pipe and the COPY stream untouched.

Format: https://www.postgresql.org/docs/current/sql-copy.html (binary format): a header, then
per row an int16 field count and per field an int32 length (-1 for NULL) and the value in the
type's ``send`` representation.
"""

from __future__ import annotations

import struct
from decimal import Decimal
from typing import Final

from hub.seed.timeline import PG_EPOCH_ORDINAL, ordinal

__all__ = [
    "HEADER",
    "NULL",
    "TRAILER",
    "TextCache",
    "boolean",
    "date",
    "field_count",
    "int2",
    "int4",
    "int8",
    "numeric",
    "text",
    "timestamp",
]

HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
TRAILER: Final = struct.pack("!h", -1)
NULL: Final = struct.pack("!i", -1)

_LENGTH = struct.Struct("!i").pack
_INT2 = struct.Struct("!ih").pack
_INT4 = struct.Struct("!ii").pack
_INT8 = struct.Struct("!iq").pack
_COUNT = struct.Struct("!h").pack
_NUMERIC_HEAD = struct.Struct("!hhHH").pack
_NUMERIC_DIGIT = struct.Struct("!H").pack
_NUMERIC_POSITIVE: Final = 0x0000
_NUMERIC_NEGATIVE: Final = 0x4000

# Every date the seeder can produce (births from 1900, plans until 2040) is precomputed.
_FIRST_DAY: Final = ordinal(1900, 1, 1)
_LAST_DAY: Final = ordinal(2040, 12, 31)
_DATES: Final = tuple(_INT4(4, day - PG_EPOCH_ORDINAL) for day in range(_FIRST_DAY, _LAST_DAY + 1))


def field_count(n: int) -> bytes:
    """The prefix of a row of ``n`` fields."""
    return _COUNT(n)


def text(value: str) -> bytes:
    """A text, varchar or char(n) field."""
    encoded = value.encode()
    return _LENGTH(len(encoded)) + encoded


class TextCache(dict[str, bytes]):
    """``cache[s]`` is ``text(s)``, encoded once: for values drawn from small vocabularies."""

    def __missing__(self, key: str) -> bytes:
        encoded = text(key)
        self[key] = encoded
        return encoded


_TRUE: Final = _LENGTH(1) + b"\x01"
_FALSE: Final = _LENGTH(1) + b"\x00"


def boolean(value: bool) -> bytes:
    return _TRUE if value else _FALSE


def int2(value: int) -> bytes:
    return _INT2(2, value)


def int4(value: int) -> bytes:
    return _INT4(4, value)


def int8(value: int) -> bytes:
    return _INT8(8, value)


def date(day: int) -> bytes:
    """A date field from an ordinal (``datetime.date.toordinal()``)."""
    if _FIRST_DAY <= day <= _LAST_DAY:
        return _DATES[day - _FIRST_DAY]
    return _INT4(4, day - PG_EPOCH_ORDINAL)


def timestamp(seconds: int) -> bytes:
    """A timestamptz field from whole seconds since 2000-01-01 00:00 UTC."""
    return _INT8(8, seconds * 1_000_000)


def numeric(value: Decimal | str) -> bytes:
    """A numeric field: base-10000 digits, weight of the first digit, sign, display scale."""
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"cannot encode {value!r} as numeric")
    sign, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite numbers have an integer exponent
    scale = max(0, -exponent)
    coefficient = int("".join(map(str, digit_tuple)) or "0")
    # Align the fraction to whole base-10000 digits: value = scaled / 10000**fraction_groups.
    fraction_groups = (scale + 3) // 4
    scaled = coefficient * 10 ** (exponent + 4 * fraction_groups)
    groups: list[int] = []
    while scaled:
        scaled, group = divmod(scaled, 10_000)
        groups.append(group)
    groups.reverse()
    weight = len(groups) - fraction_groups - 1
    while groups and groups[-1] == 0:  # trailing zero digits are implied by the weight
        groups.pop()
    while groups and groups[0] == 0:  # only possible for pure fractions
        groups.pop(0)
        weight -= 1
    if not groups:
        weight = 0
    body = _NUMERIC_HEAD(len(groups), weight, _NUMERIC_NEGATIVE if sign else _NUMERIC_POSITIVE,
                         scale) + b"".join(_NUMERIC_DIGIT(g) for g in groups)
    return _LENGTH(len(body)) + body
