"""Structure of the 12-digit personal identification number (số định danh cá nhân).

``AAA B CC DDDDDD``: AAA the birth-registration province (the 63 pre-2025 province codes,
written 0NN), B century and sex (1900s male 0 / female 1, 2000s 2 / 3, 2100s 4 / 5,
2200s 6 / 7, 1800s 8 / 9), CC the last two digits of the birth year, then six random digits.
The number reveals sex and birth year, so it is a quasi-identifier.
"""

from __future__ import annotations

from datetime import date

__all__ = ["LEGACY_PROVINCE_CODES", "century_and_sex", "is_well_formed", "make", "problems"]

LEGACY_PROVINCE_CODES = frozenset(
    "01 02 04 06 08 10 11 12 14 15 17 19 20 22 24 25 26 27 30 31 33 34 35 36 37 38 40 42 44 45 "
    "46 48 49 51 52 54 56 58 60 62 64 66 67 68 70 72 74 75 77 79 80 82 83 84 86 87 89 91 92 93 "
    "94 95 96".split()
)
_CENTURY_START = {0: 1900, 1: 2000, 2: 2100, 3: 2200, 4: 1800}


def is_well_formed(pid: str) -> bool:
    """Twelve ASCII digits with a legal province code."""
    return (len(pid) == 12 and pid.isascii() and pid.isdigit() and pid[0] == "0"
            and pid[1:3] in LEGACY_PROVINCE_CODES)


def century_and_sex(pid: str) -> tuple[int, str]:
    """(first year of the birth century, 'male' | 'female') encoded in digit B."""
    digit = int(pid[3])
    return _CENTURY_START[digit // 2], "female" if digit % 2 else "male"


def problems(pid: str, birth_date: date, sex: str) -> list[str]:
    """What is wrong with ``pid`` for a person born on ``birth_date`` of ``sex``."""
    if not is_well_formed(pid):
        return ["not a well-formed personal ID (12 digits, legal province code)"]
    found = []
    century, encoded_sex = century_and_sex(pid)
    if not century <= birth_date.year < century + 100 or int(pid[4:6]) != birth_date.year % 100:
        found.append("birth year does not match the personal ID")
    if encoded_sex != sex:
        found.append("sex does not match the personal ID")
    return found


def make(province_code: str, birth_date: date, sex: str, serial: int) -> str:
    """The personal ID for these facts and a six-digit serial."""
    if province_code not in LEGACY_PROVINCE_CODES:
        raise ValueError(f"unknown province code {province_code!r}")
    if not 0 <= serial < 1_000_000:
        raise ValueError("serial must have at most six digits")
    century_index = {v: k for k, v in _CENTURY_START.items()}[birth_date.year // 100 * 100]
    digit = century_index * 2 + (1 if sex == "female" else 0)
    return f"0{province_code}{digit}{birth_date.year % 100:02d}{serial:06d}"
