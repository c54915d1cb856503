"""Qualifications and training courses.

Everyone has one professional degree (bachelor, master or doctor; a college diploma for some
clerks and nurses) in a field that fits the post (a teacher of the mathematics group studied
mathematics teaching, a tax officer finance or accounting); most have a foreign-language
certificate; party members and leaders have political-theory training at the level their post
requires; holders of principal ranks and above (pay groups A2, A3) have the state-management
certificate those ranks demand.
"""

from __future__ import annotations

import random
from typing import Final

from hub.seed import binary
from hub.seed.context import Context
from hub.seed.draw import between
from hub.seed.employees import Employee
from hub.seed.names import Urn
from hub.seed.stamps import touched
from hub.seed.timeline import AS_OF_ORDINAL, DAYS_PER_YEAR

__all__ = ["qualifications", "training"]

_QUALIFICATION_FIELDS: Final = binary.field_count(7)
_TRAINING_FIELDS: Final = binary.field_count(7)

_FIELDS_BY_PROFILE: Final[dict[str, tuple[str, ...]]] = {
    "tax": ("Tài chính - Ngân hàng", "Kế toán", "Kinh tế", "Luật", "Quản trị kinh doanh"),
    "treasury": ("Kế toán", "Tài chính - Ngân hàng", "Kinh tế"),
    "customs": ("Hải quan", "Kinh tế đối ngoại", "Luật", "Tài chính - Ngân hàng"),
    "inspectorate": ("Luật", "Kinh tế", "Quản lý nhà nước", "Kế toán"),
    "inspectorate_office": ("Luật", "Kinh tế", "Quản lý nhà nước", "Kế toán"),
    "inspectorate_unit": ("Luật", "Kinh tế", "Quản lý nhà nước", "Kế toán"),
}
_GENERAL_FIELDS: Final = ("Luật", "Kinh tế", "Quản lý nhà nước", "Hành chính học",
                          "Công nghệ thông tin", "Tài chính - Ngân hàng", "Quản trị kinh doanh",
                          "Xây dựng dân dụng và công nghiệp", "Nông học", "Khoa học môi trường",
                          "Quan hệ quốc tế", "Ngôn ngữ Anh", "Xã hội học", "Báo chí")
# Teachers and lecturers studied what their group or faculty teaches.
_FIELDS_BY_UNIT: Final[dict[str, tuple[str, ...]]] = {
    "Tổ Toán - Tin": ("Sư phạm Toán học", "Sư phạm Tin học"),
    "Tổ Ngữ văn": ("Sư phạm Ngữ văn",),
    "Tổ Ngoại ngữ": ("Sư phạm Tiếng Anh", "Sư phạm Tiếng Pháp"),
    "Tổ Vật lý - Công nghệ": ("Sư phạm Vật lý", "Sư phạm Công nghệ"),
    "Tổ Hóa - Sinh": ("Sư phạm Hóa học", "Sư phạm Sinh học"),
    "Tổ Lịch sử - Địa lý": ("Sư phạm Lịch sử", "Sư phạm Địa lý"),
    "Tổ Giáo dục kinh tế và pháp luật": ("Giáo dục chính trị",),
    "Tổ Giáo dục thể chất - Quốc phòng và an ninh": ("Giáo dục thể chất",
                                                     "Giáo dục quốc phòng - an ninh"),
    "Khoa Kinh tế": ("Kinh tế học", "Kinh tế phát triển"),
    "Khoa Luật": ("Luật học",),
    "Khoa Công nghệ thông tin": ("Khoa học máy tính", "Hệ thống thông tin"),
    "Khoa Ngoại ngữ": ("Ngôn ngữ Anh",),
    "Khoa Khoa học cơ bản": ("Toán học", "Vật lý"),
    "Khoa Lý luận chính trị": ("Triết học", "Kinh tế chính trị"),
}
_MEDICAL_FIELDS: Final = ("Y đa khoa", "Nội khoa", "Ngoại khoa", "Nhi khoa", "Sản phụ khoa",
                          "Gây mê hồi sức", "Chẩn đoán hình ảnh")
_INSTITUTIONS: Final[dict[str, tuple[str, ...]]] = {
    "law": ("Trường Đại học Luật Hà Nội", "Trường Đại học Luật Thành phố Hồ Chí Minh",
            "Khoa Luật - Đại học Quốc gia Hà Nội"),
    "finance": ("Học viện Tài chính", "Trường Đại học Kinh tế Quốc dân", "Học viện Ngân hàng",
                "Trường Đại học Kinh tế Thành phố Hồ Chí Minh", "Trường Đại học Thương mại"),
    "teaching": ("Trường Đại học Sư phạm Hà Nội", "Trường Đại học Sư phạm Thành phố Hồ Chí Minh",
                 "Trường Đại học Sư phạm - Đại học Đà Nẵng", "Trường Đại học Sư phạm - Đại học Huế",
                 "Trường Đại học Vinh", "Trường Đại học Sư phạm - Đại học Thái Nguyên"),
    "medicine": ("Trường Đại học Y Hà Nội", "Trường Đại học Y Dược Thành phố Hồ Chí Minh",
                 "Trường Đại học Y Dược - Đại học Huế", "Trường Đại học Y Dược Thái Bình",
                 "Trường Đại học Y Dược Cần Thơ"),
    "nursing": ("Trường Đại học Điều dưỡng Nam Định", "Trường Cao đẳng Y tế Bạch Mai",
                "Trường Đại học Y tế công cộng"),
    "administration": ("Học viện Hành chính Quốc gia",),
    "technology": ("Đại học Bách khoa Hà Nội", "Học viện Công nghệ Bưu chính Viễn thông",
                   "Trường Đại học Công nghệ - Đại học Quốc gia Hà Nội"),
    "general": ("Đại học Quốc gia Hà Nội", "Đại học Quốc gia Thành phố Hồ Chí Minh",
                "Trường Đại học Kinh tế Quốc dân", "Đại học Huế", "Đại học Đà Nẵng",
                "Trường Đại học Cần Thơ", "Đại học Thái Nguyên", "Trường Đại học Vinh"),
    "abroad": ("University of Melbourne (Úc)", "Đại học Tổng hợp Quốc gia Moskva (Nga)",
               "Université Paris 1 Panthéon-Sorbonne (Pháp)", "Kyoto University (Nhật Bản)",
               "Seoul National University (Hàn Quốc)"),
}
_INSTITUTION_OF_FIELD: Final = {
    "Luật": "law", "Luật học": "law", "Tài chính - Ngân hàng": "finance", "Kế toán": "finance",
    "Kinh tế": "finance", "Hải quan": "finance", "Kinh tế đối ngoại": "finance",
    "Quản trị kinh doanh": "finance", "Quản lý nhà nước": "administration",
    "Hành chính học": "administration", "Công nghệ thông tin": "technology",
    "Khoa học máy tính": "technology", "Hệ thống thông tin": "technology",
    "Điều dưỡng": "nursing",
}

_DEGREES: Final[dict[str, Urn[str]]] = {
    "lecturer": Urn([("doctor", 30.0), ("master", 60.0), ("bachelor", 10.0)], 100),
    "doctor": Urn([("doctor", 8.0), ("master", 35.0), ("bachelor", 57.0)], 100),
    "nurse": Urn([("bachelor", 65.0), ("college", 35.0)], 100),
    "teacher": Urn([("master", 20.0), ("bachelor", 80.0)], 100),
    "clerk": Urn([("college", 55.0), ("bachelor", 45.0)], 100),
    "top": Urn([("doctor", 25.0), ("master", 65.0), ("bachelor", 10.0)], 100),
    "leader": Urn([("doctor", 6.0), ("master", 50.0), ("bachelor", 44.0)], 100),
    "staff": Urn([("doctor", 2.0), ("master", 22.0), ("bachelor", 76.0)], 100),
}
_TOP_POSTS: Final = frozenset(("BO_TRUONG", "THU_TRUONG", "CHU_TICH_UBND", "PHO_CHU_TICH_UBND",
                               "GIAM_DOC_SO", "VU_TRUONG", "GIAM_DOC_BENH_VIEN"))
_LANGUAGES: Final = Urn([("Tiếng Anh", 88.0), ("Tiếng Pháp", 4.0), ("Tiếng Trung", 3.0),
                         ("Tiếng Nga", 2.0), ("Tiếng Nhật", 2.0), ("Tiếng Hàn", 1.0)], 200)
_LANGUAGE_LEVELS: Final = Urn([("A2", 25.0), ("B1", 45.0), ("B2", 22.0), ("C1", 8.0)], 100)
_LANGUAGE_LEVELS_ACADEMIC: Final = Urn([("B2", 60.0), ("C1", 40.0)], 100)
_LANGUAGE_SCHOOLS: Final = ("Trường Đại học Ngoại ngữ - Đại học Quốc gia Hà Nội",
                            "Trường Đại học Hà Nội", "Trường Đại học Ngoại ngữ - Đại học Huế",
                            "Trường Đại học Ngoại ngữ - Đại học Đà Nẵng",
                            "Trường Đại học Sư phạm Thành phố Hồ Chí Minh")
_POLITICAL_SCHOOL_ADVANCED: Final = ("Học viện Chính trị quốc gia Hồ Chí Minh",
                                     "Học viện Chính trị khu vực I",
                                     "Học viện Chính trị khu vực II",
                                     "Học viện Chính trị khu vực III")

_COURSES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "civil_servant": (
        ("Bồi dưỡng kỹ năng chuyển đổi số trong cơ quan nhà nước", "Học viện Hành chính Quốc gia"),
        ("Bồi dưỡng kiến thức quốc phòng và an ninh đối tượng 4",
         "Trường Quân sự địa phương"),
        ("Bồi dưỡng kỹ năng soạn thảo văn bản quy phạm pháp luật", "Trường Đại học Luật Hà Nội"),
        ("Bồi dưỡng nghiệp vụ công tác văn thư, lưu trữ", "Trường Đại học Nội vụ Hà Nội"),
    ),
    "leader": (
        ("Bồi dưỡng lãnh đạo, quản lý cấp phòng", "Học viện Hành chính Quốc gia"),
        ("Bồi dưỡng kiến thức quốc phòng và an ninh đối tượng 3", "Học viện Quốc phòng"),
    ),
    "tax": (("Bồi dưỡng nghiệp vụ quản lý thuế", "Trường Nghiệp vụ Thuế"),
            ("Bồi dưỡng nghiệp vụ thanh tra, kiểm tra thuế", "Trường Nghiệp vụ Thuế")),
    "customs": (("Bồi dưỡng nghiệp vụ kiểm tra sau thông quan", "Trường Hải quan Việt Nam"),),
    "treasury": (("Bồi dưỡng nghiệp vụ kiểm soát chi ngân sách nhà nước",
                  "Trường Bồi dưỡng cán bộ tài chính"),),
    "inspector": (("Bồi dưỡng nghiệp vụ thanh tra viên chính", "Trường Cán bộ Thanh tra"),),
    "school": (("Bồi dưỡng theo tiêu chuẩn chức danh nghề nghiệp giáo viên trung học phổ thông "
                "hạng II", "Trường Đại học Sư phạm Hà Nội"),
               ("Bồi dưỡng thực hiện Chương trình giáo dục phổ thông 2018",
                "Học viện Quản lý giáo dục")),
    "university": (("Bồi dưỡng nghiệp vụ sư phạm cho giảng viên", "Học viện Quản lý giáo dục"),
                   ("Bồi dưỡng theo tiêu chuẩn chức danh nghề nghiệp giảng viên chính (hạng II)",
                    "Trường Đại học Sư phạm Hà Nội")),
    "hospital": (("Đào tạo liên tục cập nhật kiến thức y khoa", "Trường Đại học Y Hà Nội"),
                 ("Đào tạo liên tục về kiểm soát nhiễm khuẩn", "Bệnh viện Bạch Mai")),
}
_TRAINING_RATE: Final = 0.25



def _between(rng: random.Random, first: int, last: int) -> int:
    return first if last <= first else between(rng, first, last)


def qualifications(context: Context, rng: random.Random, e: Employee, code: bytes,
                   party_member: bool, out: list[bytes]) -> None:
    text = context.text
    adult = e.birth + int(20 * DAYS_PER_YEAR)
    latest = AS_OF_ORDINAL - 30

    level, field = _degree(rng, e)
    if level in ("bachelor", "college"):
        awarded = max(adult + 365, e.hired - between(rng, 30, 700))
    else:  # postgraduate degrees come after some years of service
        years = 6 if level == "doctor" else 2
        awarded = _between(rng, min(e.hired + int(years * DAYS_PER_YEAR), latest), latest)
    kind = _INSTITUTION_OF_FIELD.get(field) or (
        "teaching" if field.startswith(("Sư phạm", "Giáo dục")) else
        "medicine" if field in _MEDICAL_FIELDS else "general")
    if level == "doctor" and rng.random() < 0.2:
        kind = "abroad"
    schools = _INSTITUTIONS[kind]
    out.append(b"".join((_QUALIFICATION_FIELDS, code, text["degree"], text[level], text[field],
                         text[schools[int(rng.random() * len(schools))]], binary.date(awarded),
                         touched(rng, awarded))))

    theory = _political_theory(rng, e, party_member)
    if theory is not None:
        if theory == "advanced":
            schools = _POLITICAL_SCHOOL_ADVANCED
            school = schools[int(rng.random() * len(schools))]
        elif theory == "intermediate":  # each province has its own school of politics
            province = context.places.province_name(e.agency.agency.province_code)
            school = f"Trường Chính trị {province}"
        else:
            school = "Trung tâm Chính trị cơ sở"
        awarded = _between(rng, min(e.hired + 365, latest), latest)
        out.append(b"".join((_QUALIFICATION_FIELDS, code, text["political_theory"], text[theory],
                             text[""], text[school], binary.date(awarded), touched(rng, awarded))))

    management = _state_management(rng, e)
    if management is not None:
        awarded = _between(rng, min(e.hired + 2 * 365, latest), latest)
        out.append(b"".join((_QUALIFICATION_FIELDS, code, text["state_management"],
                             text[management], text[""], text["Học viện Hành chính Quốc gia"],
                             binary.date(awarded), touched(rng, awarded))))

    if rng.random() < 0.85:
        academic = e.position in ("GIANG_VIEN", "HIEU_TRUONG") and e.agency.agency.profile == \
            "university"
        level = (_LANGUAGE_LEVELS_ACADEMIC if academic else _LANGUAGE_LEVELS).draw(rng)
        awarded = _between(rng, adult, latest)
        out.append(b"".join((_QUALIFICATION_FIELDS, code, text["foreign_language"], text[level],
                             text[_LANGUAGES.draw(rng)],
                             text[_LANGUAGE_SCHOOLS[int(rng.random() * len(_LANGUAGE_SCHOOLS))]],
                             binary.date(awarded), touched(rng, awarded))))

    if rng.random() < 0.3:
        awarded = _between(rng, adult, latest)
        out.append(b"".join((_QUALIFICATION_FIELDS, code, text["information_technology"],
                             text["advanced" if rng.random() < 0.2 else "basic"],
                             text["Ứng dụng công nghệ thông tin"],
                             text[_INSTITUTIONS["technology"][int(rng.random() * 3)]],
                             binary.date(awarded), touched(rng, awarded))))


def _degree(rng: random.Random, e: Employee) -> tuple[str, str]:
    """(level, field) of the highest professional degree."""
    position, profile = e.position, e.agency.agency.profile
    if profile == "university":
        group = "lecturer"
    elif position in ("BAC_SI", "GIAM_DOC_BENH_VIEN") or (
            profile == "hospital" and position in ("TRUONG_PHONG", "PHO_TRUONG_PHONG")):
        group = "doctor"
    elif position == "DIEU_DUONG":
        group = "nurse"
    elif profile == "school":
        group = "teacher"
    elif position == "NHAN_VIEN":
        group = "clerk"
    elif position in _TOP_POSTS:
        group = "top"
    elif e.leadership:
        group = "leader"
    else:
        group = "staff"
    level = _DEGREES[group].draw(rng)
    if group == "doctor":
        field = _MEDICAL_FIELDS[int(rng.random() * len(_MEDICAL_FIELDS))]
    elif group == "nurse":
        field = "Điều dưỡng"
    elif position == "KE_TOAN":
        field = "Kế toán"
    else:
        fields = (_FIELDS_BY_UNIT.get(e.unit) or _FIELDS_BY_PROFILE.get(profile)
                  or _GENERAL_FIELDS)
        field = fields[int(rng.random() * len(fields))]
    return level, field


def _political_theory(rng: random.Random, e: Employee, party_member: bool) -> str | None:
    if e.position in _TOP_POSTS or (e.leadership and e.rank.pay_group.startswith("A3")):
        return "advanced"
    if e.leadership or e.category == "cadre":
        return "advanced" if rng.random() < 0.3 else "intermediate"
    if party_member:
        return "intermediate" if rng.random() < 0.3 else "elementary" \
            if rng.random() < 0.85 else None
    return "elementary" if rng.random() < 0.15 else None


def _state_management(rng: random.Random, e: Employee) -> str | None:
    """The state-management programme a rank requires (principal ranks and above)."""
    if e.rank.principal_or_above:
        if e.category == "public_employee" and rng.random() < 0.6:
            return None  # public employees' titles require professional, not state, training
        return "senior_specialist" if e.rank.pay_group.startswith("A3") \
            else "principal_specialist"
    if e.category != "public_employee" and rng.random() < 0.4:
        return "specialist"
    return None


def training(context: Context, rng: random.Random, e: Employee, code: bytes,
             out: list[bytes]) -> None:
    if rng.random() >= _TRAINING_RATE:
        return
    profile = e.agency.agency.profile
    options = list(_COURSES.get(profile, ()))
    if e.category != "public_employee":
        options.extend(_COURSES["civil_servant"])
    if e.position == "THANH_TRA_VIEN":
        options.extend(_COURSES["inspector"])
    if e.leadership:
        options.extend(_COURSES["leader"])
    text = context.text
    first = max(e.hired, AS_OF_ORDINAL - int(10 * DAYS_PER_YEAR))
    for _ in range(2 if rng.random() < 0.2 else 1):
        course, institution = options[int(rng.random() * len(options))]
        start = _between(rng, first, AS_OF_ORDINAL - 40)
        end = min(start + between(rng, 5, 90), AS_OF_ORDINAL - 1)
        certificate = (f"Chứng chỉ số {between(rng, 100, 9999)}/CC-BD" if rng.random() < 0.7
                       else "")
        out.append(b"".join((_TRAINING_FIELDS, code, text[course], text[institution],
                             binary.date(start), binary.date(end), text[certificate],
                             touched(rng, end))))
