"""The employee's own declarations of personnel form 2C: their personal history before the
service (``personal_history``) and their family (``family_member``).

The family an employee declares is the one the population registry holds for them (spouse,
parents, children, drawn in ``population.py``), with the same names, birth years, personal
IDs and deaths, so the two can be reconciled; what the registry does not hold (occupation,
workplace) is drawn here. Relatives the registry does not link (siblings, in-laws) are not
declared by the seed.

Both use generators of their own (not the chunk's record or population generators), so the
other tables' data are the same with or without them.
"""

from __future__ import annotations

import random
from typing import Final

from hub.seed import binary
from hub.seed.context import Context
from hub.seed.draw import between
from hub.seed.employees import Employee, Person
from hub.seed.names import Urn
from hub.seed.stamps import touched
from hub.seed.timeline import AS_OF_ORDINAL, ordinal, year_of

__all__ = ["declare_relative", "personal_history"]

_HISTORY_FIELDS: Final = binary.field_count(6)
_FAMILY_FIELDS: Final = binary.field_count(10)

_MILITARY_SERVICE_RATE: Final = 0.12  # of men, two years after school
_UNIVERSITY_RATE: Final = 0.9
_UNIVERSITIES: Final = (
    "Đại học Quốc gia Hà Nội", "Đại học Quốc gia Thành phố Hồ Chí Minh", "Học viện Hành chính "
    "Quốc gia", "Trường Đại học Luật Hà Nội", "Trường Đại học Kinh tế Quốc dân",
    "Trường Đại học Sư phạm Hà Nội", "Đại học Huế", "Đại học Đà Nẵng", "Trường Đại học Cần Thơ",
    "Trường Đại học Y Hà Nội", "Trường Đại học Bách khoa Hà Nội", "Học viện Tài chính")
_BEFORE_SERVICE: Final = Urn([
    (("Nhân viên hợp đồng", "Công ty cổ phần"), 40.0),
    (("Giáo viên hợp đồng", "Trường trung học cơ sở"), 20.0),
    (("Lao động tự do", ""), 15.0),
    (("Nhân viên", "Doanh nghiệp tư nhân"), 25.0)], 100)

_WORKING: Final = Urn([
    ("Nông dân", 18.0), ("Công nhân", 14.0), ("Giáo viên", 12.0), ("Kinh doanh tự do", 14.0),
    ("Nhân viên văn phòng", 12.0), ("Kỹ sư", 6.0), ("Bác sĩ", 3.0), ("Công chức", 8.0),
    ("Nội trợ", 8.0), ("Lao động tự do", 5.0)], 200)
_ELDERLY: Final = Urn([("Nghỉ hưu", 50.0), ("Nông dân", 30.0), ("Ở nhà", 20.0)], 100)
_RETIREMENT_AGE: Final = 62


def personal_history(context: Context, rng: random.Random, e: Employee, code: bytes,
                     out: list[bytes]) -> None:
    """From the end of school (as form 2C summarises it): military service (some men),
    university (most), then for some a job before entering the service; every period ends
    before the hiring date."""
    text = context.text
    born = year_of(e.birth)
    periods: list[tuple[int, int, str, str]] = []
    start = ordinal(born + 18, 9, 5)
    if e.sex == "male" and rng.random() < _MILITARY_SERVICE_RATE:
        # Called up in February, for two years.
        periods.append((ordinal(born + 19, 2, 15), ordinal(born + 21, 2, 14),
                        "Thực hiện nghĩa vụ quân sự", "Quân đội nhân dân Việt Nam"))
        start = ordinal(born + 21, 9, 5)
    if rng.random() < _UNIVERSITY_RATE:
        school = _UNIVERSITIES[int(rng.random() * len(_UNIVERSITIES))]
        finished = start + 4 * 365 - 70
        periods.append((start, finished, "Sinh viên", school))
        start = finished + between(rng, 30, 120)
    if e.hired - start > 365:
        activity, place = _BEFORE_SERVICE.draw(rng)
        periods.append((start, e.hired - between(rng, 1, 60), activity, place))
    for begun, ended, activity, place in periods:
        if begun >= e.hired:  # hired young: the service began before this period would
            break
        ended = min(ended, e.hired - 1)
        if ended < begun:
            continue
        out.append(b"".join((_HISTORY_FIELDS, code, binary.date(begun), binary.date(ended),
                             text[activity], text[place], touched(rng, e.hired))))


def declare_relative(context: Context, rng: random.Random, code: bytes, relation: str,
                     person: Person, death: int | None, address: str,
                     out: list[bytes]) -> None:
    """The employee's declaration of a relative the registry holds (``relation``: a
    family_member relation code), where the relative lives or works being ``address``."""
    text = context.text
    born = year_of(person.birth)
    age = (AS_OF_ORDINAL - person.birth) // 365
    if death is not None:
        occupation = ""
    elif age < 6:
        occupation = "Còn nhỏ"
    elif age < 18:
        occupation = "Học sinh"
    elif age < 22:
        occupation = "Sinh viên"
    elif age >= _RETIREMENT_AGE:
        occupation = _ELDERLY.draw(rng)
    else:
        occupation = _WORKING.draw(rng)
    out.append(b"".join((
        _FAMILY_FIELDS, code, text[relation], binary.text(person.full_name), binary.int2(born),
        text[occupation], binary.text(address), person.pid_field,
        binary.boolean(death is not None),
        binary.NULL if death is None else binary.int2(year_of(death)),
        touched(rng, 0))))
