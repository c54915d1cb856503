"""Who works where: the posts, ranks, divisions and age of staff by kind of agency.

Each agency has a workforce *profile*. The profile fixes the agency's one-of-a-kind posts (one
minister and four vice-ministers per ministry, one director and two deputies per department,
one principal per school ...), how the rest of the staff is spread over ordinary posts, and
which rank *track* each post follows: a civil servant starts as Chuyên viên (01.003), may
become Chuyên viên chính (01.002) after some eight years and Chuyên viên cao cấp (01.001)
later; a teacher climbs V.07.05.15 -> .14 -> .13, a doctor V.08.01.03 -> .02 -> .01.
Leadership posts exist only where they belong (ministers in ministries, directors of
departments in departments, principals in schools), as the hub's consistency rules expect.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Final

from hub.seed.catalog import Rank

__all__ = [
    "CADRE_POSITIONS",
    "DESIGNATED_POSITIONS",
    "PROFILES",
    "RETIREMENT_AGE",
    "Profile",
    "Track",
    "age_range",
    "codes_used",
    "female_share",
    "rank_level",
    "salary_step",
    "seniority_level_start",
]

Track = tuple[str, ...]  # rank codes from entry level upwards

_CS: Final = ("01.003", "01.002", "01.001")
_INSPECTOR: Final = ("04.023", "04.024", "01.001")
_ACCOUNTANT: Final = ("06.031", "06.030")
_TAX: Final = ("06.038", "01.002", "01.001")
_CLERK: Final = ("01.005", "01.004")
_TEACHER: Final = ("V.07.05.15", "V.07.05.14", "V.07.05.13")
_LECTURER: Final = ("V.07.01.03", "V.07.01.02", "V.07.01.01")
_DOCTOR: Final = ("V.08.01.03", "V.08.01.02", "V.08.01.01")
_NURSE: Final = ("V.08.05.13", "V.08.05.12")

_DEFAULT_TRACKS: Final[dict[str, Track]] = {
    "CHUYEN_VIEN": _CS, "THANH_TRA_VIEN": _INSPECTOR, "KE_TOAN": _ACCOUNTANT,
    "NHAN_VIEN": _CLERK, "GIAO_VIEN": _TEACHER, "GIANG_VIEN": _LECTURER, "BAC_SI": _DOCTOR,
    "DIEU_DUONG": _NURSE,
}

# Posts only the plan assigns (an exact number per agency); never drawn at random.
DESIGNATED_POSITIONS: Final = frozenset((
    "BO_TRUONG", "THU_TRUONG", "CHU_TICH_UBND", "PHO_CHU_TICH_UBND", "GIAM_DOC_SO",
    "PHO_GIAM_DOC_SO", "CHANH_VAN_PHONG", "HIEU_TRUONG", "GIAM_DOC_BENH_VIEN",
))
# Posts held by elected cadres rather than civil servants.
CADRE_POSITIONS: Final = frozenset(("BO_TRUONG", "CHU_TICH_UBND", "PHO_CHU_TICH_UBND"))
_TOP: Final = frozenset(("BO_TRUONG", "THU_TRUONG", "CHU_TICH_UBND", "PHO_CHU_TICH_UBND",
                         "GIAM_DOC_SO"))
_SENIOR: Final = frozenset(("VU_TRUONG", "PHO_VU_TRUONG", "PHO_GIAM_DOC_SO", "CHANH_VAN_PHONG",
                            "HIEU_TRUONG", "GIAM_DOC_BENH_VIEN"))
_MIDDLE: Final = frozenset(("TRUONG_PHONG", "PHO_TRUONG_PHONG"))

# Retirement age in 2026 (Decree 135/2020/ND-CP roadmap): men 61 years 6 months, women 57.
RETIREMENT_AGE: Final = {"male": 61.5, "female": 57.0}

_AGE_RANGE: Final[dict[str, tuple[int, int]]] = {
    "BO_TRUONG": (50, 61), "THU_TRUONG": (45, 61), "CHU_TICH_UBND": (45, 61),
    "PHO_CHU_TICH_UBND": (40, 61), "GIAM_DOC_SO": (42, 61), "PHO_GIAM_DOC_SO": (38, 61),
    "VU_TRUONG": (40, 61), "PHO_VU_TRUONG": (36, 61), "CHANH_VAN_PHONG": (36, 61),
    "HIEU_TRUONG": (38, 61), "GIAM_DOC_BENH_VIEN": (42, 61), "TRUONG_PHONG": (32, 62),
    "PHO_TRUONG_PHONG": (29, 62),
}
_FEMALE_SHARE: Final[dict[str, float]] = {
    "GIAO_VIEN": 0.72, "DIEU_DUONG": 0.82, "BAC_SI": 0.48, "GIANG_VIEN": 0.55, "KE_TOAN": 0.78,
    "NHAN_VIEN": 0.55, "CHUYEN_VIEN": 0.52, "THANH_TRA_VIEN": 0.35, "HIEU_TRUONG": 0.40,
    "TRUONG_PHONG": 0.38, "PHO_TRUONG_PHONG": 0.45,
}


@dataclass(frozen=True, slots=True)
class Profile:
    category: str  # of ordinary staff: 'civil_servant' | 'public_employee'
    designated: tuple[tuple[str, int], ...]  # one-of-a-kind posts and how many of each
    positions: tuple[tuple[str, float], ...]  # ordinary posts and their weights
    base_position: str  # the post of someone removed from a leadership post
    units: tuple[str, ...]  # common divisions (the agency may add its own)
    leadership_unit: str
    office_unit: str = "Văn phòng"
    inspection_unit: str | None = None
    finance_unit: str | None = None
    cadre_share: float = 0.0  # of ordinary staff who are cadres (party and mass organisations)
    leader_track: Track = _CS
    tracks: dict[str, tuple[tuple[Track, float], ...]] = field(default_factory=dict)
    seniority_allowance: bool = False  # teachers, inspectors, customs: phụ cấp thâm niên nghề
    hazard_allowance: bool = False  # health workers: phụ cấp độc hại

    def tracks_for(self, position: str, leadership: bool) -> tuple[tuple[Track, float], ...]:
        if position in self.tracks:
            return self.tracks[position]
        if leadership:
            return ((self.leader_track, 1.0),)
        return ((_DEFAULT_TRACKS.get(position, _CS), 1.0),)


_MINISTRY_UNITS: Final = ("Văn phòng Bộ", "Vụ Tổ chức cán bộ", "Vụ Pháp chế",
                          "Vụ Kế hoạch - Tài chính", "Vụ Hợp tác quốc tế", "Thanh tra Bộ",
                          "Vụ Khoa học và Công nghệ")
_UNIT_DIVISIONS: Final = ("Văn phòng Cục", "Phòng Tổ chức cán bộ", "Phòng Kế hoạch - Tài chính",
                          "Phòng Pháp chế", "Phòng Nghiệp vụ", "Phòng Quản lý",
                          "Phòng Thanh tra - Kiểm tra", "Phòng Hợp tác quốc tế",
                          "Phòng Công nghệ thông tin")
_DEPARTMENT_DIVISIONS: Final = ("Văn phòng Sở", "Phòng Tổ chức - Hành chính",
                                "Phòng Kế hoạch - Tài chính", "Phòng Pháp chế",
                                "Phòng Tổng hợp")
_UNIT_POSTS: Final = (("TRUONG_PHONG", 4), ("PHO_TRUONG_PHONG", 7), ("CHUYEN_VIEN", 68),
                      ("THANH_TRA_VIEN", 3), ("KE_TOAN", 5), ("NHAN_VIEN", 13))
_UNIT_HEADS: Final = (("VU_TRUONG", 1), ("PHO_VU_TRUONG", 3), ("CHANH_VAN_PHONG", 1))
_MINISTRY_HEADS: Final = (("BO_TRUONG", 1), ("THU_TRUONG", 4), ("CHANH_VAN_PHONG", 1))
_DEPARTMENT_HEADS: Final = (("GIAM_DOC_SO", 1), ("PHO_GIAM_DOC_SO", 2), ("CHANH_VAN_PHONG", 1))


def _unit(**overrides: object) -> Profile:
    """A general department (Cục) of a ministry: headed by a Cục trưởng (Vụ trưởng grade)."""
    base: dict[str, object] = dict(
        category="civil_servant", designated=_UNIT_HEADS, positions=_UNIT_POSTS,
        base_position="CHUYEN_VIEN", units=_UNIT_DIVISIONS, leadership_unit="Lãnh đạo Cục",
        office_unit="Văn phòng Cục", inspection_unit="Phòng Thanh tra - Kiểm tra",
        finance_unit="Phòng Kế hoạch - Tài chính")
    base.update(overrides)
    return Profile(**base)  # type: ignore[arg-type]


PROFILES: Final[dict[str, Profile]] = {
    "ministry_office": Profile(
        "civil_servant", _MINISTRY_HEADS,
        (("VU_TRUONG", 2), ("PHO_VU_TRUONG", 4.5), ("TRUONG_PHONG", 3), ("PHO_TRUONG_PHONG", 5),
         ("CHUYEN_VIEN", 66), ("THANH_TRA_VIEN", 6), ("KE_TOAN", 4), ("NHAN_VIEN", 9.5)),
        "CHUYEN_VIEN", _MINISTRY_UNITS, "Lãnh đạo Bộ", "Văn phòng Bộ", "Thanh tra Bộ",
        "Vụ Kế hoạch - Tài chính", cadre_share=0.45),
    "inspectorate_office": Profile(
        "civil_servant", _MINISTRY_HEADS,
        (("VU_TRUONG", 2), ("PHO_VU_TRUONG", 4.5), ("TRUONG_PHONG", 3), ("PHO_TRUONG_PHONG", 5),
         ("THANH_TRA_VIEN", 45), ("CHUYEN_VIEN", 30), ("KE_TOAN", 3), ("NHAN_VIEN", 7.5)),
        "THANH_TRA_VIEN",
        ("Văn phòng", "Vụ Tổ chức cán bộ", "Vụ Pháp chế", "Vụ Thanh tra khối kinh tế",
         "Vụ Thanh tra khối nội chính"),
        "Lãnh đạo Thanh tra Chính phủ", "Văn phòng", "Vụ Thanh tra khối kinh tế",
        "Văn phòng", cadre_share=0.45, seniority_allowance=True),
    "ministry_unit": _unit(),
    "inspectorate_unit": _unit(positions=(("TRUONG_PHONG", 4), ("PHO_TRUONG_PHONG", 7),
                                          ("THANH_TRA_VIEN", 60), ("CHUYEN_VIEN", 20),
                                          ("KE_TOAN", 4), ("NHAN_VIEN", 5)),
                               seniority_allowance=True),
    "tax": _unit(units=("Văn phòng Cục", "Ban Tổ chức cán bộ", "Ban Pháp chế"),
                 tracks={"CHUYEN_VIEN": ((_TAX, 0.7), (_CS, 0.3))}),
    "treasury": _unit(positions=(("TRUONG_PHONG", 4), ("PHO_TRUONG_PHONG", 7), ("CHUYEN_VIEN", 40),
                                 ("KE_TOAN", 38), ("NHAN_VIEN", 11)),
                      units=("Văn phòng", "Ban Tổ chức cán bộ", "Ban Pháp chế")),
    "customs": _unit(units=("Văn phòng Cục", "Ban Tổ chức cán bộ", "Ban Pháp chế"),
                     seniority_allowance=True),
    "province_office": Profile(
        "civil_servant",
        (("CHU_TICH_UBND", 1), ("PHO_CHU_TICH_UBND", 3), ("CHANH_VAN_PHONG", 1)),
        (("TRUONG_PHONG", 4), ("PHO_TRUONG_PHONG", 6), ("CHUYEN_VIEN", 72), ("KE_TOAN", 4),
         ("NHAN_VIEN", 14)),
        "CHUYEN_VIEN",
        ("Văn phòng Ủy ban nhân dân", "Phòng Tổng hợp", "Phòng Kinh tế", "Phòng Khoa giáo - Văn xã",
         "Phòng Nội chính", "Phòng Hành chính - Tổ chức", "Phòng Quản trị - Tài vụ",
         "Ban Tiếp công dân", "Trung tâm Phục vụ hành chính công"),
        "Lãnh đạo Ủy ban nhân dân", "Văn phòng Ủy ban nhân dân", None, "Phòng Quản trị - Tài vụ",
        cadre_share=0.80),
    "department": Profile(
        "civil_servant", _DEPARTMENT_HEADS,
        (("TRUONG_PHONG", 5), ("PHO_TRUONG_PHONG", 8), ("CHUYEN_VIEN", 70), ("KE_TOAN", 4),
         ("NHAN_VIEN", 13)),
        "CHUYEN_VIEN", _DEPARTMENT_DIVISIONS, "Ban Giám đốc", "Văn phòng Sở", None,
        "Phòng Kế hoạch - Tài chính"),
    "inspectorate": Profile(
        "civil_servant", _DEPARTMENT_HEADS,
        (("TRUONG_PHONG", 5), ("PHO_TRUONG_PHONG", 7), ("THANH_TRA_VIEN", 60),
         ("CHUYEN_VIEN", 20), ("KE_TOAN", 3), ("NHAN_VIEN", 5)),
        "THANH_TRA_VIEN",
        ("Văn phòng", "Phòng Thanh tra kinh tế - xã hội", "Phòng Tiếp công dân và Xử lý đơn thư",
         "Phòng Phòng, chống tham nhũng", "Phòng Giám sát, kiểm tra và xử lý sau thanh tra"),
        "Lãnh đạo Thanh tra", "Văn phòng", "Phòng Thanh tra kinh tế - xã hội", "Văn phòng",
        seniority_allowance=True),
    "school": Profile(
        "public_employee", (("HIEU_TRUONG", 1),), (("GIAO_VIEN", 100),), "GIAO_VIEN",
        ("Tổ Toán - Tin", "Tổ Ngữ văn", "Tổ Ngoại ngữ", "Tổ Vật lý - Công nghệ", "Tổ Hóa - Sinh",
         "Tổ Lịch sử - Địa lý", "Tổ Giáo dục kinh tế và pháp luật",
         "Tổ Giáo dục thể chất - Quốc phòng và an ninh"),
        "Ban Giám hiệu", leader_track=_TEACHER, seniority_allowance=True),
    "university": Profile(
        "public_employee", (("HIEU_TRUONG", 1),),
        (("TRUONG_PHONG", 4), ("PHO_TRUONG_PHONG", 6), ("GIANG_VIEN", 90)), "GIANG_VIEN",
        ("Khoa Kinh tế", "Khoa Luật", "Khoa Công nghệ thông tin", "Khoa Ngoại ngữ",
         "Khoa Khoa học cơ bản", "Khoa Lý luận chính trị", "Phòng Đào tạo",
         "Phòng Khoa học công nghệ và Hợp tác quốc tế"),
        "Ban Giám hiệu", leader_track=_LECTURER, seniority_allowance=True),
    "hospital": Profile(
        "public_employee", (("GIAM_DOC_BENH_VIEN", 1),),
        (("TRUONG_PHONG", 3), ("PHO_TRUONG_PHONG", 5), ("BAC_SI", 35), ("DIEU_DUONG", 57)),
        "BAC_SI",
        ("Khoa Nội tổng hợp", "Khoa Ngoại tổng hợp", "Khoa Nhi", "Khoa Sản", "Khoa Cấp cứu",
         "Khoa Hồi sức tích cực - Chống độc", "Khoa Xét nghiệm", "Khoa Chẩn đoán hình ảnh",
         "Khoa Khám bệnh", "Khoa Truyền nhiễm", "Khoa Tim mạch", "Khoa Ung bướu",
         "Phòng Kế hoạch tổng hợp", "Phòng Điều dưỡng"),
        "Ban Giám đốc", leader_track=_DOCTOR, hazard_allowance=True),
}


def codes_used() -> tuple[set[str], set[str]]:
    """(rank codes, position codes) the profiles refer to: the catalog must have them all."""
    ranks: set[str] = set(_CS + _INSPECTOR + _ACCOUNTANT + _TAX + _CLERK + _TEACHER + _LECTURER
                          + _DOCTOR + _NURSE)
    positions: set[str] = set(_DEFAULT_TRACKS) | DESIGNATED_POSITIONS
    for profile in PROFILES.values():
        positions.update(p for p, _ in profile.designated)
        positions.update(p for p, _ in profile.positions)
        positions.add(profile.base_position)
        ranks.update(profile.leader_track)
        for options in profile.tracks.values():
            ranks.update(code for track, _ in options for code in track)
    return ranks, positions


def age_range(position: str) -> tuple[int, int]:
    """Youngest and oldest plausible age (at AS_OF) of someone holding ``position``."""
    return _AGE_RANGE.get(position, (22, 62))


def female_share(position: str, leadership: bool) -> float:
    if position in _FEMALE_SHARE:
        return _FEMALE_SHARE[position]
    return 0.15 if position in _TOP else 0.30 if leadership else 0.50


def seniority_level_start(level: int) -> tuple[int, int]:
    """Range of years of service at which people reach rank level ``level`` (0 = entry)."""
    return ((0, 0), (6, 14), (14, 24))[level]


def rank_level(rng: random.Random, position: str, seniority: float, track_length: int) -> int:
    """How far up its rank track someone of ``seniority`` years in ``position`` has come."""
    if position in _TOP:
        level = 2 if rng.random() < 0.85 else 1
    elif position in _SENIOR:
        level = 2 if rng.random() < 0.30 else 1
    else:
        if position in _MIDDLE:
            promoted = min(0.85, max(0.10, (seniority - 5) * 0.08))
            senior = min(0.25, max(0.0, (seniority - 15) * 0.03))
        else:
            promoted = min(0.55, max(0.0, (seniority - 8) * 0.05))
            senior = min(0.10, max(0.0, (seniority - 18) * 0.02))
        level = 0
        if rng.random() < promoted:
            level = 2 if rng.random() < senior else 1
    # Nobody reaches a level before its usual number of years of service.
    while level and seniority < seniority_level_start(level)[0]:
        level -= 1
    return min(level, track_length - 1)


def salary_step(rng: random.Random, rank: Rank, years_in_rank: float) -> int:
    """Step on the rank's ladder after ``years_in_rank``: regular raises, some delayed."""
    step = 1 + int(years_in_rank / rank.years_per_step)
    if step > 1 and rng.random() < 0.15:  # raises delayed by a poor evaluation or discipline
        step -= 1
    return max(1, min(rank.steps, step))
