"""Career records: work history, allowances, awards, discipline and annual evaluations.

Each function appends COPY rows (see :mod:`hub.seed.binary`) for one employee to the list it
is given. They read the facts fixed in :mod:`hub.seed.employees` and never contradict them:
the open work-history entry starts on the day of the current appointment, the position
allowance runs from that day too, and an evaluation in a year of discipline is no better than
"complete".
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Final

from hub.seed import binary
from hub.seed.context import AgencyContext, Context
from hub.seed.draw import between
from hub.seed.employees import Employee
from hub.seed.names import Urn
from hub.seed.stamps import touched
from hub.seed.timeline import (
    AS_OF_ORDINAL,
    DAYS_PER_YEAR,
    UPDATES_FROM_ORDINAL,
    add_years,
    moment,
    ordinal,
    year_of,
)

__all__ = ["DISCIPLINE_REASONS", "GRADES", "allowances", "awards", "discipline",
           "discipline_issuer", "evaluations", "work_history"]

_NULL: Final = binary.NULL
_WORK_HISTORY_FIELDS: Final = binary.field_count(8)
_ALLOWANCE_FIELDS: Final = binary.field_count(6)
_AWARD_FIELDS: Final = binary.field_count(6)
_DISCIPLINE_FIELDS: Final = binary.field_count(9)
_EVALUATION_FIELDS: Final = binary.field_count(4)
_YEARS: Final = {year: binary.int2(year) for year in range(2020, 2030)}

# The post held before the current one, for people promoted within their agency.
_PREVIOUS_POST: Final = {
    "BO_TRUONG": "THU_TRUONG", "THU_TRUONG": "VU_TRUONG", "CHU_TICH_UBND": "PHO_CHU_TICH_UBND",
    "PHO_CHU_TICH_UBND": "GIAM_DOC_SO", "GIAM_DOC_SO": "PHO_GIAM_DOC_SO",
    "PHO_GIAM_DOC_SO": "TRUONG_PHONG", "VU_TRUONG": "PHO_VU_TRUONG",
    "PHO_VU_TRUONG": "TRUONG_PHONG", "CHANH_VAN_PHONG": "TRUONG_PHONG",
    "TRUONG_PHONG": "PHO_TRUONG_PHONG",
}
# District-level bodies abolished on 1 July 2025: earlier posts outside today's agency list.
_FORMER_BODIES: Final = ("Ủy ban nhân dân huyện {place}", "Phòng Nội vụ huyện {place}",
                         "Phòng Tài chính - Kế hoạch huyện {place}",
                         "Phòng Giáo dục và Đào tạo quận {place}", "Trung tâm Y tế huyện {place}")
_FORMER_PLACES: Final = ("Gia Lâm", "Thanh Trì", "Đông Anh", "Bình Chánh", "Hóc Môn", "Thủy Nguyên",
                         "Quỳnh Lưu", "Hoằng Hóa", "Diễn Châu", "Krông Pắc", "Châu Thành",
                         "Tân Uyên", "Phú Lộc", "Hải Hậu", "Yên Thế")

_GRADES: Final = Urn([("excellent", 12.0), ("good", 62.0), ("complete", 23.0),
                      ("incomplete", 3.0)], resolution=1_000)
_GRADES_AFTER_DISCIPLINE: Final = Urn([("complete", 75.0), ("incomplete", 25.0)], resolution=100)
_EVALUATED_YEARS: Final = (2023, 2024, 2025)
GRADES: Final = ("excellent", "good", "complete", "incomplete")

# (form, weight, who signs: 'agency' | 'top' | 'pm' | 'president', minimum years of service,
# only for these posts or None)
_AWARD_FORMS: Final = (
    ("Giấy khen", 30.0, "agency", 1, None),
    ("Chiến sĩ thi đua cơ sở", 25.0, "agency", 2, None),
    ("Bằng khen của {top_title}", 20.0, "top", 3, None),
    ("Chiến sĩ thi đua {top_level}", 8.0, "top", 6, None),
    ("Bằng khen của Thủ tướng Chính phủ", 8.0, "pm", 8, None),
    ("Huân chương Lao động hạng Ba", 3.0, "president", 15, None),
    ("Nhà giáo ưu tú", 2.0, "president", 15, frozenset(("GIAO_VIEN", "GIANG_VIEN",
                                                       "HIEU_TRUONG"))),
    ("Thầy thuốc ưu tú", 2.0, "president", 15, frozenset(("BAC_SI", "GIAM_DOC_BENH_VIEN"))),
    ("Chiến sĩ thi đua toàn quốc", 0.5, "pm", 12, None),
)
_AWARD_RATE: Final = 0.30
_EMULATION_TITLES: Final = ("Chiến sĩ thi đua",)  # recognise the previous year's excellence

DISCIPLINE_REASONS: Final = (
    "Vi phạm quy định về quản lý tài chính, tài sản công",
    "Vi phạm quy chế làm việc của cơ quan",
    "Thiếu trách nhiệm trong thực hiện nhiệm vụ được giao",
    "Vi phạm quy định về phòng, chống tham nhũng, tiêu cực",
    "Vi phạm quy định về đạo đức, văn hóa và ứng xử của cán bộ, công chức, viên chức",
    "Chậm trễ, gây phiền hà trong giải quyết thủ tục hành chính",
    "Vi phạm quy định về kê khai tài sản, thu nhập",
    "Vi phạm quy định về chuyên môn, nghiệp vụ",
)
# Heads of agencies are disciplined by the agency above; ministers and provincial chairs by
# the Prime Minister.
_DISCIPLINED_BY_PM: Final = frozenset(("BO_TRUONG", "THU_TRUONG", "CHU_TICH_UBND",
                                       "PHO_CHU_TICH_UBND"))
_AGENCY_HEADS: Final = frozenset(("GIAM_DOC_SO", "HIEU_TRUONG", "GIAM_DOC_BENH_VIEN",
                                  "VU_TRUONG"))

# Provinces whose remote communes earn a regional allowance (phụ cấp khu vực).
_REGIONAL_ALLOWANCE_PROVINCES: Final = frozenset(("04", "08", "11", "12", "14", "15", "19", "20",
                                                  "52", "66", "68"))
_REGIONAL_COEFFICIENTS: Final = tuple(Decimal(c) for c in ("0.10", "0.20", "0.30", "0.50", "0.70"))
_RESPONSIBILITY_COEFFICIENTS: Final = (Decimal("0.10"), Decimal("0.20"))
_HAZARD_COEFFICIENTS: Final = tuple(Decimal(c) for c in ("0.10", "0.20", "0.30"))



def work_history(context: Context, rng: random.Random, e: Employee, code: bytes,
                 out: list[bytes]) -> None:
    """One to three consecutive entries, the last (open) one at the current agency."""
    text = context.text
    agency = e.agency
    entries: list[tuple[int, AgencyContext | str, str, str]] = []
    if e.post_since - e.hired >= 120:
        previous_agency: AgencyContext | str
        previous_post = _PREVIOUS_POST.get(e.position, e.position) if e.leadership \
            else e.position
        if e.leadership and rng.random() < 0.6:
            previous_agency = agency  # promoted in the same agency
        elif rng.random() < 0.2:
            previous_agency = _former_body(rng)
            previous_post = "CHUYEN_VIEN"
        else:  # moved from an agency of the same kind, where the same posts exist
            peers = context.peers[agency.agency.profile]
            previous_agency = peers[int(rng.random() * len(peers))]
        span = e.post_since - e.hired
        if span > 6 * DAYS_PER_YEAR and rng.random() < 0.4:
            middle = e.hired + int(span * rng.uniform(0.3, 0.7))
            first_post = agency.profile.base_position if e.leadership else e.position
            entries.append((e.hired, _former_body(rng) if rng.random() < 0.3 else agency,
                            first_post, "Tuyển dụng"))
            entries.append((middle, previous_agency, previous_post, "Điều động"))
        else:
            entries.append((e.hired, previous_agency, previous_post, "Tuyển dụng"))
    entries.append((e.post_since, agency, e.position,
                    "Bổ nhiệm" if e.leadership else "Điều động" if entries else "Tuyển dụng"))
    for i, (start, where, post, description) in enumerate(entries):
        end = entries[i + 1][0] - 1 if i + 1 < len(entries) else None
        if isinstance(where, str):
            agency_code, agency_name = _NULL, text[where]
        else:
            agency_code, agency_name = where.code_field, where.name_field
        out.append(b"".join((
            _WORK_HISTORY_FIELDS, code, binary.date(start),
            _NULL if end is None else binary.date(end), agency_code, agency_name, text[post],
            text[description], touched(rng, end or start))))


def _former_body(rng: random.Random) -> str:
    body = _FORMER_BODIES[int(rng.random() * len(_FORMER_BODIES))]
    return body.format(place=_FORMER_PLACES[int(rng.random() * len(_FORMER_PLACES))])


def allowances(context: Context, rng: random.Random, e: Employee, code: bytes,
               out: list[bytes]) -> None:
    text = context.text
    coefficient = context.coefficient_field
    position = context.positions[e.position]
    if position.leadership and position.allowance_coefficient > 0:
        out.append(b"".join((_ALLOWANCE_FIELDS, code, text["position"],
                             coefficient(position.allowance_coefficient), _NULL,
                             binary.date(e.post_since), touched(rng, e.post_since))))
    seniority = e.seniority
    profile = e.agency.profile
    if profile.seniority_allowance and seniority >= 5 and e.category != "cadre":
        # Phụ cấp thâm niên nghề: 5% after five years of service, one point more each year.
        since = add_years(e.hired, 5)
        out.append(b"".join((_ALLOWANCE_FIELDS, code, text["seniority"], _NULL,
                             coefficient(Decimal(min(int(seniority), 40))), binary.date(since),
                             touched(rng, since))))
    if e.position == "KE_TOAN" and rng.random() < 0.35:
        value = _RESPONSIBILITY_COEFFICIENTS[int(rng.random() * 2)]
        out.append(b"".join((_ALLOWANCE_FIELDS, code, text["responsibility"], coefficient(value),
                             _NULL, binary.date(e.post_since), touched(rng, e.post_since))))
    if e.agency.agency.province_code in _REGIONAL_ALLOWANCE_PROVINCES and rng.random() < 0.6:
        value = _REGIONAL_COEFFICIENTS[int(rng.random() * len(_REGIONAL_COEFFICIENTS))]
        out.append(b"".join((_ALLOWANCE_FIELDS, code, text["regional"], coefficient(value),
                             _NULL, binary.date(e.post_since), touched(rng, e.post_since))))
    if profile.hazard_allowance and e.position in ("BAC_SI", "DIEU_DUONG") \
            and rng.random() < 0.4:
        value = _HAZARD_COEFFICIENTS[int(rng.random() * len(_HAZARD_COEFFICIENTS))]
        out.append(b"".join((_ALLOWANCE_FIELDS, code, text["hazard"], coefficient(value), _NULL,
                             binary.date(e.hired), touched(rng, e.hired))))


_AwardForm = tuple[str, float, str, int, frozenset[str] | None]
_SENIORITY_BANDS: Final = tuple(sorted({f[3] for f in _AWARD_FORMS}, reverse=True))
_AWARD_URNS: dict[tuple[str, int], Urn[_AwardForm]] = {}


def _award_urn(position: str, seniority: float) -> Urn[_AwardForm]:
    """The awards open to ``position`` after ``seniority`` years (built once per band)."""
    band = next((b for b in _SENIORITY_BANDS if seniority >= b), 0)
    key = (position, band)
    urn = _AWARD_URNS.get(key)
    if urn is None:
        urn = _AWARD_URNS[key] = Urn(
            [(f, f[1]) for f in _AWARD_FORMS
             if band >= f[3] and (f[4] is None or position in f[4])],
            resolution=1_000)
    return urn


def awards(context: Context, rng: random.Random, e: Employee, code: bytes,
           out: list[bytes]) -> set[int]:
    """Awards of about 30% of employees; returns the years of excellence they recognise."""
    excellent_years: set[int] = set()
    if rng.random() >= _AWARD_RATE:
        return excellent_years
    first = e.hired + 365
    if first >= AS_OF_ORDINAL - 1:
        return excellent_years
    urn = _award_urn(e.position, e.seniority)
    top = context.top[e.agency.index].agency
    ministry = top.kind == "ministry"
    text = context.text
    for _ in range(1 if rng.random() < 0.75 else 2):
        form, _, signer, _, _ = urn.draw(rng)
        if signer == "agency":
            issuer, abbreviation = e.agency.agency.issuer, e.agency.agency.abbreviation
        elif signer == "top":
            issuer, abbreviation = top.issuer, top.abbreviation
        elif signer == "pm":
            issuer, abbreviation = "Thủ tướng Chính phủ", "TTg"
        else:
            issuer, abbreviation = "Chủ tịch nước", "CTN"
        form = form.format(top_title=top.issuer, top_level="cấp bộ" if ministry else "cấp tỉnh")
        decided = between(rng, first, AS_OF_ORDINAL - 1)
        if form.startswith(_EMULATION_TITLES):
            excellent_years.add(year_of(decided) - 1)
        out.append(b"".join((_AWARD_FIELDS, code, text[form],
                             binary.text(f"{between(rng, 1, 4999)}/QĐ-{abbreviation}"),
                             binary.date(decided), text[issuer], touched(rng, decided))))
    return excellent_years


def discipline_issuer(context: Context, e: Employee) -> tuple[str, str]:
    """(issuer, its abbreviation in decision numbers) of a decision disciplining ``e``."""
    if e.position in _DISCIPLINED_BY_PM:
        return "Thủ tướng Chính phủ", "TTg"
    above = context.parent[e.agency.index] if e.designated and e.position in _AGENCY_HEADS \
        else None
    source = (above or e.agency).agency
    return source.issuer, source.abbreviation


def discipline(context: Context, rng: random.Random, e: Employee, code: bytes,
               out: list[bytes]) -> None:
    """The national row of ``e``'s decision, if any. Its number, issuer and reason are drawn
    here and kept on ``e.discipline``: the agency systems copy the decision as written."""
    d = e.discipline
    if d is None:
        return
    issuer, abbreviation = discipline_issuer(context, e)
    d.number = f"{between(rng, 1, 2999)}/QĐ-{abbreviation}"
    d.issuer = issuer
    d.reason = DISCIPLINE_REASONS[int(rng.random() * len(DISCIPLINE_REASONS))]
    text = context.text
    out.append(b"".join((
        _DISCIPLINE_FIELDS, code, text[d.form], binary.text(d.number),
        binary.date(d.decided), text[issuer], text[d.reason],
        binary.date(d.effective_from),
        _NULL if d.effective_to is None else binary.date(d.effective_to),
        touched(rng, d.decided))))


def evaluations(context: Context, rng: random.Random, e: Employee, code: bytes,
                excellent_years: set[int], out: list[bytes]) -> None:
    """A grade for each year of 2023-2025 in which the employee served at least six months."""
    disciplined_year = year_of(e.discipline.decided) if e.discipline else None
    text = context.text
    for year in _EVALUATED_YEARS:
        if e.hired > _MID_YEAR[year]:
            continue
        if year == disciplined_year:
            grade = _GRADES_AFTER_DISCIPLINE.draw(rng)
        elif year in excellent_years:
            grade = "excellent"
        else:
            grade = _GRADES.draw(rng)
        # Evaluations are made in December and recorded in the first weeks of the next year.
        updated = binary.timestamp(moment(rng, _NEXT_JANUARY[year], _NEXT_JANUARY[year] + 60))
        out.append(b"".join((_EVALUATION_FIELDS, code, _YEARS[year], text[grade], updated)))


_MID_YEAR: Final = {year: ordinal(year, 6, 30) for year in _EVALUATED_YEARS}
_NEXT_JANUARY: Final = {year: max(ordinal(year + 1, 1, 5), UPDATES_FROM_ORDINAL)
                        for year in _EVALUATED_YEARS}
