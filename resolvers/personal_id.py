"""The structure of the 12-digit personal identification number (số định danh cá nhân).

Layout ``AAA B CC DDDDDD`` (Decree 137/2015/ND-CP, Circular 59/2021/TT-BCA):

- ``AAA``: where the birth was registered: ``0`` + a province code. People registered before
  1 July 2025 carry one of the 63 pre-merger codes; after the merger only the 34 current codes
  are issued (each current code is also a pre-merger one, so the 63 cover every number).
- ``B``: century of birth and sex: 1900s male 0 / female 1, 2000s 2 / 3, 2100s 4 / 5,
  2200s 6 / 7, 2300s 8 / 9.
- ``CC``: the last two digits of the birth year.
- ``DDDDDD``: a random serial.

Pure and dependency-free on purpose: argument parsing, verification and the seeder all use it
without needing a database that holds the province code lists.
"""

from __future__ import annotations

from datetime import date
from typing import Final, NamedTuple

__all__ = [
    "CURRENT_PROVINCE_CODES",
    "LEGACY_PROVINCE_CODES",
    "MERGER_DATE",
    "Parts",
    "century_sex_digit",
    "is_well_formed",
    "make",
    "parse",
    "problems",
]

# The 63 province-level units before 1 July 2025 (migration 0002, table legacy_province).
LEGACY_PROVINCE_CODES: Final = frozenset(
    "01 02 04 06 08 10 11 12 14 15 17 19 20 22 24 25 26 27 30 31 33 34 35 36 37 38 40 42 44 45 "
    "46 48 49 51 52 54 56 58 60 62 64 66 67 68 70 72 74 75 77 79 80 82 83 84 86 87 89 91 92 93 "
    "94 95 96".split()
)
# The 34 units in force since 1 July 2025 (migration 0002, table province).
CURRENT_PROVINCE_CODES: Final = frozenset(
    "01 04 08 11 12 14 15 19 20 22 24 25 31 33 37 38 40 42 44 46 48 51 52 56 66 68 75 79 80 82 "
    "86 91 92 96".split()
)
MERGER_DATE: Final = date(2025, 7, 1)

_FIRST_CENTURY: Final = 1900
_LAST_CENTURY: Final = 2300
_SERIALS: Final = 1_000_000


class Parts(NamedTuple):
    """What a well-formed number says about its holder."""

    province_code: str  # two digits, without the leading 0
    sex: str  # 'male' | 'female'
    birth_year: int
    serial: int


def century_sex_digit(birth_year: int, sex: str) -> int:
    """Digit ``B`` for a person born in ``birth_year`` of ``sex`` ('male' | 'female')."""
    if sex not in ("male", "female"):
        raise ValueError(f"sex must be 'male' or 'female', not {sex!r}")
    century = birth_year // 100 * 100
    if not _FIRST_CENTURY <= century <= _LAST_CENTURY:
        raise ValueError(f"birth year {birth_year} is outside 1900-2399")
    return (century - _FIRST_CENTURY) // 100 * 2 + (sex == "female")


def make(province_code: str, birth_date: date, sex: str, serial: int) -> str:
    """The number of a person registered in ``province_code`` (two digits) with ``serial``."""
    if province_code not in LEGACY_PROVINCE_CODES:
        raise ValueError(f"unknown province code {province_code!r}")
    if birth_date >= MERGER_DATE and province_code not in CURRENT_PROVINCE_CODES:
        raise ValueError(f"province {province_code} no longer registers births "
                         f"(merged on {MERGER_DATE.isoformat()})")
    if not 0 <= serial < _SERIALS:
        raise ValueError(f"serial {serial} does not fit in six digits")
    digit = century_sex_digit(birth_date.year, sex)
    return f"0{province_code}{digit}{birth_date.year % 100:02d}{serial:06d}"


def is_well_formed(pid: str) -> bool:
    """Twelve ASCII digits whose first three name a province (any digit B is meaningful)."""
    return (len(pid) == 12 and pid.isascii() and pid.isdigit() and pid[0] == "0"
            and pid[1:3] in LEGACY_PROVINCE_CODES)


def parse(pid: str) -> Parts | None:
    """The facts encoded in ``pid``, or None when it is not well formed."""
    if not is_well_formed(pid):
        return None
    digit = int(pid[3])
    birth_year = _FIRST_CENTURY + digit // 2 * 100 + int(pid[4:6])
    return Parts(pid[1:3], "female" if digit % 2 else "male", birth_year, int(pid[6:]))


def problems(pid: str, birth_date: date, sex: str) -> list[str]:
    """What is wrong with ``pid`` as the number of a person born on ``birth_date`` of ``sex``.

    An empty list means the number is valid for that person.
    """
    if not (len(pid) == 12 and pid.isascii() and pid.isdigit()):
        return ["not 12 digits"]
    parts = parse(pid)
    if parts is None:
        return [f"unknown birth-registration province code {pid[:3]}"]
    found = []
    if birth_date >= MERGER_DATE and parts.province_code not in CURRENT_PROVINCE_CODES:
        found.append(f"province code {pid[:3]} was retired before the birth "
                     f"(merged on {MERGER_DATE.isoformat()})")
    if parts.birth_year // 100 != birth_date.year // 100:
        found.append(f"century digit {pid[3]} does not match birth year {birth_date.year}")
    if parts.birth_year % 100 != birth_date.year % 100:
        found.append(f"year digits {pid[4:6]} do not match birth year {birth_date.year}")
    if parts.sex != sex:
        found.append(f"sex digit {pid[3]} says {parts.sex}, not {sex}")
    return found
