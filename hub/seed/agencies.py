"""The agencies of the seeded civil service and each one's expected share of the employees.

Codes follow the electronic-identifier layout ``000.SS.MM.X`` (see sandbox/README.md): the 14
ministries ``000.00.00.Gnn`` with their general departments, academies, universities and
hospitals ``000.00.MM.Gnn``; the 34 provincial People's Committees ``000.00.00.Hpp`` with their
departments ``000.00.MM.Hpp`` and the schools and hospitals under the education and health
departments ``000.SS.MM.Hpp``.

The structure does not depend on the seed (like real geography); only headcounts do. Shares are
chosen so that the Ministry of Finance (``*.G02``) holds about 10% and Hà Nội (``*.H01``) about
15% of all employees, since the two sandbox HR systems serve exactly those agencies and must
cover a sizeable sample; the other provinces share the rest in proportion to their population.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from hub.seed.catalog import Catalog
from hub.seed.places import PROVINCE_POPULATION

__all__ = ["HR_SYSTEM_AGENCY_SUFFIX", "STORED_SYSTEMS", "Agency", "build_agencies"]

# Which sandbox HR system serves which agencies (by the code's last segment): the Ministry of
# Finance's (REST), Hà Nội's (GraphQL), the Ministry of Health's (a database the hub reads) and
# Đà Nẵng's (a legacy system dropping files).
HR_SYSTEM_AGENCY_SUFFIX: Final = {"agency_rest": ".G02", "agency_graphql": ".H01",
                                  "agency_database": ".G04", "agency_file_drop": ".H48"}
# The two added later, seeded by modules of their own (hub.seed.agency_db, hub.seed.file_drop).
STORED_SYSTEMS: Final = ("agency_database", "agency_file_drop")

_FINANCE_SHARE: Final = 10.0  # percent of all employees, *.G02
_HANOI_SHARE: Final = 15.0  # percent of all employees, *.H01


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    kind: str  # agency.kind
    parent_code: str | None
    province_code: str
    profile: str  # the workforce profile (hub.seed.roles.PROFILES)
    weight: float  # percent of all employees expected here
    issuer: str  # who signs the agency's decisions
    abbreviation: str  # in decision numbers: 123/QĐ-<abbreviation>
    units: tuple[str, ...]  # its divisions, besides the profile's common ones
    cadre_units: tuple[str, ...]  # party and mass-organisation offices, where cadres work
    system: str | None  # the sandbox HR system that also holds its staff


@dataclass(frozen=True, slots=True)
class _Unit:
    name: str
    profile: str
    weight: float
    province_code: str = "01"
    units: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Ministry:
    number: int
    name: str
    abbreviation: str
    head_title: str
    office_weight: float
    divisions: tuple[str, ...]  # its own Vụ, besides the common ones
    units: tuple[_Unit, ...]


def _regional(prefix: str, count: int) -> tuple[str, ...]:
    numerals = ("I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX"
                .split())
    return tuple(f"{prefix} khu vực {n}" for n in numerals[:count])


_MINISTRIES: Final = (
    _Ministry(1, "Bộ Nội vụ", "BNV", "Bộ trưởng Bộ Nội vụ", 0.30,
              ("Vụ Công chức - Viên chức", "Vụ Chính quyền địa phương", "Vụ Tiền lương"), (
                  _Unit("Cục Việc làm", "ministry_unit", 0.10),
                  _Unit("Cục Tiền lương và Bảo hiểm xã hội", "ministry_unit", 0.06),
                  _Unit("Cục Văn thư và Lưu trữ nhà nước", "ministry_unit", 0.08),
                  _Unit("Ban Thi đua - Khen thưởng Trung ương", "ministry_unit", 0.05),
                  _Unit("Học viện Hành chính và Quản trị công", "university", 0.15),
              )),
    _Ministry(2, "Bộ Tài chính", "BTC", "Bộ trưởng Bộ Tài chính", 0.60,
              ("Vụ Ngân sách nhà nước", "Vụ Chính sách thuế, phí và lệ phí", "Vụ Đầu tư",
               "Vụ Tài chính - Ngân hàng"), (
                  _Unit("Cục Thuế", "tax", 4.20, units=(
                      *_regional("Chi cục Thuế", 20), "Ban Quản lý doanh nghiệp lớn",
                      "Ban Thanh tra - Kiểm tra thuế", "Ban Kê khai và Kế toán thuế")),
                  _Unit("Kho bạc Nhà nước", "treasury", 1.60, units=(
                      *_regional("Kho bạc Nhà nước", 20), "Ban Kế toán nhà nước",
                      "Ban Kiểm soát chi")),
                  _Unit("Cục Hải quan", "customs", 1.80, units=(
                      *_regional("Chi cục Hải quan", 20), "Ban Giám sát quản lý",
                      "Ban Nghiệp vụ thuế hải quan", "Cục Kiểm định hải quan")),
                  _Unit("Cục Dự trữ Nhà nước", "ministry_unit", 0.40,
                        units=_regional("Chi cục Dự trữ Nhà nước", 15)),
                  _Unit("Ủy ban Chứng khoán Nhà nước", "ministry_unit", 0.15,
                        units=("Vụ Quản lý chào bán chứng khoán", "Vụ Giám sát thị trường")),
                  _Unit("Cục Thống kê", "ministry_unit", 0.90,
                        units=_regional("Chi cục Thống kê", 20)),
                  _Unit("Học viện Tài chính", "university", 0.35, units=(
                      "Khoa Tài chính công", "Khoa Kế toán", "Khoa Thuế và Hải quan",
                      "Khoa Ngân hàng - Bảo hiểm")),
              )),
    _Ministry(3, "Bộ Giáo dục và Đào tạo", "BGDĐT", "Bộ trưởng Bộ Giáo dục và Đào tạo", 0.25,
              ("Vụ Giáo dục phổ thông", "Vụ Giáo dục đại học", "Vụ Giáo dục mầm non"), (
                  _Unit("Cục Quản lý chất lượng", "ministry_unit", 0.04),
                  _Unit("Cục Nhà giáo và Cán bộ quản lý giáo dục", "ministry_unit", 0.04),
                  _Unit("Đại học Bách khoa Hà Nội", "university", 0.35),
                  _Unit("Trường Đại học Sư phạm Hà Nội", "university", 0.25),
                  _Unit("Đại học Đà Nẵng", "university", 0.30, "48"),
                  _Unit("Đại học Huế", "university", 0.30, "46"),
                  _Unit("Trường Đại học Cần Thơ", "university", 0.25, "92"),
              )),
    _Ministry(4, "Bộ Y tế", "BYT", "Bộ trưởng Bộ Y tế", 0.25,
              ("Vụ Bảo hiểm y tế", "Vụ Sức khỏe Bà mẹ - Trẻ em",
               "Vụ Trang thiết bị và Công trình y tế"), (
                  _Unit("Cục Quản lý Khám, chữa bệnh", "ministry_unit", 0.04),
                  _Unit("Cục Quản lý Dược", "ministry_unit", 0.04),
                  _Unit("Bệnh viện Bạch Mai", "hospital", 0.45),
                  _Unit("Bệnh viện Hữu nghị Việt Đức", "hospital", 0.30),
                  _Unit("Bệnh viện Chợ Rẫy", "hospital", 0.40, "79"),
                  _Unit("Bệnh viện Trung ương Huế", "hospital", 0.30, "46"),
                  _Unit("Trường Đại học Y Hà Nội", "university", 0.15),
              )),
    _Ministry(5, "Thanh tra Chính phủ", "TTCP", "Tổng Thanh tra Chính phủ", 0.15,
              ("Vụ Giám sát, thẩm định và xử lý sau thanh tra", "Vụ Tiếp công dân"), (
                  _Unit("Cục Phòng, chống tham nhũng, tiêu cực", "inspectorate_unit", 0.03),
                  _Unit("Cục Giải quyết khiếu nại, tố cáo và thanh tra khu vực I",
                        "inspectorate_unit", 0.03),
                  _Unit("Trường Cán bộ Thanh tra", "university", 0.02),
              )),
    _Ministry(6, "Bộ Tư pháp", "BTP", "Bộ trưởng Bộ Tư pháp", 0.20,
              ("Vụ Pháp luật hình sự - hành chính", "Vụ Pháp luật dân sự - kinh tế"), (
                  _Unit("Cục Quản lý thi hành án dân sự", "ministry_unit", 0.45,
                        units=_regional("Phòng Thi hành án dân sự", 20)),
                  _Unit("Cục Đăng ký quốc gia giao dịch bảo đảm", "ministry_unit", 0.03),
                  _Unit("Học viện Tư pháp", "university", 0.05),
                  _Unit("Trường Đại học Luật Hà Nội", "university", 0.10),
              )),
    _Ministry(7, "Bộ Ngoại giao", "BNG", "Bộ trưởng Bộ Ngoại giao", 0.20,
              ("Vụ Đông Nam Á - Nam Á - Nam Thái Bình Dương", "Vụ Châu Âu", "Vụ Châu Mỹ"), (
                  _Unit("Cục Lãnh sự", "ministry_unit", 0.03),
                  _Unit("Cục Lễ tân Nhà nước", "ministry_unit", 0.02),
                  _Unit("Học viện Ngoại giao", "university", 0.05),
              )),
    _Ministry(8, "Bộ Xây dựng", "BXD", "Bộ trưởng Bộ Xây dựng", 0.20,
              ("Vụ Quy hoạch - Kiến trúc", "Vụ Kết cấu hạ tầng giao thông"), (
                  _Unit("Cục Đường bộ Việt Nam", "ministry_unit", 0.10),
                  _Unit("Cục Hàng hải và Đường thủy Việt Nam", "ministry_unit", 0.08),
                  _Unit("Cục Hàng không Việt Nam", "ministry_unit", 0.06),
                  _Unit("Cục Đường sắt Việt Nam", "ministry_unit", 0.03),
                  _Unit("Trường Đại học Xây dựng Hà Nội", "university", 0.10),
              )),
    _Ministry(9, "Bộ Nông nghiệp và Môi trường", "BNNMT",
              "Bộ trưởng Bộ Nông nghiệp và Môi trường", 0.25,
              ("Vụ Đất đai", "Vụ Biến đổi khí hậu"), (
                  _Unit("Cục Trồng trọt và Bảo vệ thực vật", "ministry_unit", 0.06),
                  _Unit("Cục Chăn nuôi và Thú y", "ministry_unit", 0.06),
                  _Unit("Cục Quản lý đất đai", "ministry_unit", 0.05),
                  _Unit("Cục Khí tượng Thủy văn", "ministry_unit", 0.10),
                  _Unit("Cục Kiểm lâm và Bảo tồn thiên nhiên", "ministry_unit", 0.05),
                  _Unit("Học viện Nông nghiệp Việt Nam", "university", 0.15),
              )),
    _Ministry(10, "Bộ Công Thương", "BCT", "Bộ trưởng Bộ Công Thương", 0.20,
              ("Vụ Thị trường trong nước", "Vụ Chính sách thương mại đa biên"), (
                  _Unit("Cục Quản lý và Phát triển thị trường trong nước", "ministry_unit", 0.15),
                  _Unit("Cục Điện lực", "ministry_unit", 0.02),
                  _Unit("Cục Xuất nhập khẩu", "ministry_unit", 0.03),
                  _Unit("Trường Đại học Công nghiệp Hà Nội", "university", 0.10),
              )),
    _Ministry(11, "Bộ Khoa học và Công nghệ", "BKHCN", "Bộ trưởng Bộ Khoa học và Công nghệ",
              0.15, ("Vụ Đánh giá, thẩm định và giám định công nghệ", "Vụ Kinh tế số"), (
                  _Unit("Cục Sở hữu trí tuệ", "ministry_unit", 0.04),
                  _Unit("Cục Viễn thông", "ministry_unit", 0.03),
                  _Unit("Cục Bưu điện Trung ương", "ministry_unit", 0.04),
                  _Unit("Học viện Công nghệ Bưu chính Viễn thông", "university", 0.08),
              )),
    _Ministry(12, "Bộ Văn hóa, Thể thao và Du lịch", "BVHTTDL",
              "Bộ trưởng Bộ Văn hóa, Thể thao và Du lịch", 0.15,
              ("Vụ Văn hóa dân tộc", "Vụ Gia đình"), (
                  _Unit("Cục Di sản văn hóa", "ministry_unit", 0.03),
                  _Unit("Cục Du lịch Quốc gia Việt Nam", "ministry_unit", 0.03),
                  _Unit("Cục Thể dục thể thao Việt Nam", "ministry_unit", 0.03),
                  _Unit("Trường Đại học Văn hóa Hà Nội", "university", 0.05),
              )),
    _Ministry(13, "Bộ Dân tộc và Tôn giáo", "BDTTG", "Bộ trưởng Bộ Dân tộc và Tôn giáo", 0.10,
              ("Vụ Chính sách dân tộc", "Vụ Địa phương"), (
                  _Unit("Ban Tôn giáo Chính phủ", "ministry_unit", 0.03),
                  _Unit("Học viện Dân tộc", "university", 0.03),
              )),
    _Ministry(14, "Văn phòng Chính phủ", "VPCP", "Bộ trưởng, Chủ nhiệm Văn phòng Chính phủ",
              0.15, ("Vụ Tổng hợp", "Vụ Kinh tế tổng hợp", "Vụ Pháp luật"), (
                  _Unit("Cục Hành chính - Quản trị", "ministry_unit", 0.03),
              )),
)

# Provincial departments (Sở) after the 2025 reorganisation: (MM, name, profile, weight in
# percent of the province's employees, its own divisions).
_DEPARTMENTS: Final = (
    (1, "Sở Nội vụ", "department", 2.5, (
        "Phòng Công chức, viên chức", "Phòng Xây dựng chính quyền", "Ban Thi đua - Khen thưởng",
        "Phòng Lao động - Việc làm")),
    (2, "Sở Tài chính", "department", 3.0, (
        "Phòng Quản lý ngân sách", "Phòng Quản lý giá và công sản", "Phòng Đầu tư",
        "Phòng Tài chính doanh nghiệp")),
    (3, "Sở Giáo dục và Đào tạo", "department", 3.0, ("Phòng Giáo dục trung học",
                                                      "Phòng Giáo dục mầm non và tiểu học",
                                                      "Phòng Khảo thí và Kiểm định chất lượng")),
    (4, "Sở Y tế", "department", 3.0, ("Phòng Nghiệp vụ Y", "Phòng Nghiệp vụ Dược",
                                       "Chi cục Dân số", "Chi cục An toàn vệ sinh thực phẩm")),
    (5, "Thanh tra", "inspectorate", 1.5, ()),
    (6, "Sở Tư pháp", "department", 1.5, ("Phòng Hành chính tư pháp", "Phòng Bổ trợ tư pháp",
                                          "Phòng Xây dựng và Theo dõi thi hành pháp luật")),
    (7, "Sở Xây dựng", "department", 3.0, (
        "Phòng Quản lý giao thông", "Phòng Quy hoạch - Kiến trúc",
        "Phòng Quản lý nhà và thị trường bất động sản")),
    (8, "Sở Nông nghiệp và Môi trường", "department", 5.0, (
        "Chi cục Kiểm lâm", "Chi cục Thủy lợi", "Phòng Quản lý đất đai",
        "Chi cục Chăn nuôi và Thú y", "Phòng Môi trường")),
    (9, "Sở Công Thương", "department", 2.5, ("Chi cục Quản lý thị trường",
                                              "Phòng Quản lý năng lượng",
                                              "Phòng Quản lý thương mại")),
    (10, "Sở Khoa học và Công nghệ", "department", 1.0, ("Phòng Quản lý khoa học",
                                                        "Phòng Chuyển đổi số",
                                                        "Phòng Bưu chính, viễn thông")),
    (11, "Sở Văn hóa, Thể thao và Du lịch", "department", 1.5, ("Phòng Quản lý văn hóa",
                                                               "Phòng Quản lý thể dục thể thao",
                                                               "Phòng Quản lý du lịch")),
)
_PROVINCE_OFFICE_WEIGHT: Final = 7.0
_SCHOOLS_WEIGHT: Final = 40.0
_HOSPITALS_WEIGHT: Final = 25.5
_EDUCATION_DEPARTMENT: Final = 3
_HEALTH_DEPARTMENT: Final = 4

_SCHOOL_NAMES: Final = (
    "Chu Văn An", "Lê Quý Đôn", "Nguyễn Huệ", "Trần Phú", "Phan Bội Châu", "Lê Hồng Phong",
    "Nguyễn Trãi", "Trần Hưng Đạo", "Lý Thường Kiệt", "Quang Trung", "Nguyễn Du", "Hùng Vương",
    "Lương Thế Vinh", "Ngô Quyền", "Lê Lợi", "Đinh Tiên Hoàng", "Phan Chu Trinh",
    "Huỳnh Thúc Kháng", "Nguyễn Bỉnh Khiêm", "Phan Đình Phùng", "Lê Thánh Tông",
    "Nguyễn Thị Minh Khai", "Trưng Vương", "Bạch Đằng", "Hoàng Văn Thụ", "Tô Hiệu",
    "Võ Thị Sáu", "Nguyễn Văn Trỗi", "Cao Bá Quát", "Hàn Thuyên", "Nguyễn Tất Thành",
    "Trần Quốc Tuấn", "Lê Văn Tám", "Kim Liên", "Yên Hòa", "Thăng Long",
)
_HOSPITAL_NAMES: Final = (
    "Bệnh viện Đa khoa {place}", "Trung tâm Kiểm soát bệnh tật {place}",
    "Bệnh viện Sản - Nhi {place}", "Bệnh viện Y học cổ truyền {place}",
    "Bệnh viện Phổi {place}", "Bệnh viện Mắt {place}", "Bệnh viện Tâm thần {place}",
    "Bệnh viện Phục hồi chức năng {place}", "Bệnh viện Nội tiết {place}",
    "Bệnh viện Ung bướu {place}", "Bệnh viện Đa khoa khu vực phía Bắc {place}",
    "Bệnh viện Đa khoa khu vực phía Nam {place}",
)
# Provinces that are centrally-run cities: "thành phố", "Thành ủy".
_CITIES: Final = frozenset(("01", "31", "46", "48", "79", "92"))


def _abbreviation(name: str) -> str:
    """Initials as used in decision numbers: Sở Tài chính -> STC, Kho bạc Nhà nước -> KBNN."""
    skip = {"và", "-", ",", "khu", "vực"}
    words = [w.strip(",") for w in name.split() if w.strip(",") and w not in skip]
    return "".join(w[0].upper() for w in words if w[0].isalpha())


def _system(code: str) -> str | None:
    for system, suffix in HR_SYSTEM_AGENCY_SUFFIX.items():
        if code.endswith(suffix):
            return system
    return None


def _ministry_agencies() -> list[Agency]:
    agencies = []
    for m in _MINISTRIES:
        suffix = f"G{m.number:02d}"
        office = f"000.00.00.{suffix}"
        profile = "inspectorate_office" if m.abbreviation == "TTCP" else "ministry_office"
        cadre_units = (f"Đảng ủy {m.name}", f"Công đoàn {m.name}",
                       f"Đoàn Thanh niên Cộng sản Hồ Chí Minh {m.name}")
        agencies.append(Agency(office, m.name, "ministry", None, "01", profile, m.office_weight,
                               m.head_title, m.abbreviation, m.divisions, cadre_units,
                               _system(office)))
        for number, unit in enumerate(m.units, start=1):
            code = f"000.00.{number:02d}.{suffix}"
            kind = "public_service_unit" if unit.profile in ("university", "hospital") else \
                "ministry_unit"
            agencies.append(Agency(code, unit.name, kind, office, unit.province_code,
                                   unit.profile, unit.weight, _head_title(unit.profile, unit.name),
                                   _abbreviation(unit.name), unit.units, (), _system(code)))
    return agencies


def _head_title(profile: str, name: str) -> str:
    if profile in ("university", "school"):
        return f"Hiệu trưởng {name}" if not name.startswith("Học viện") else f"Giám đốc {name}"
    if profile == "hospital":
        return f"Giám đốc {name}"
    if name.startswith("Cục"):
        return f"Cục trưởng {name}"
    if name.startswith(("Ủy ban", "Ban")):
        return f"Trưởng {name}"
    return f"Thủ trưởng {name}"


def _province_agencies(catalog: Catalog, province_share: dict[str, float]) -> list[Agency]:
    agencies = []
    for province in catalog.provinces:
        code = province.code
        share = province_share[code]
        suffix = f"H{code}"
        place = province.name[0].lower() + province.name[1:]  # "tỉnh Cao Bằng"
        short = province.name.split(" ", 1)[1].removeprefix("phố ")  # "Cao Bằng", "Hà Nội"
        office = f"000.00.00.{suffix}"
        structure_weight = (_PROVINCE_OFFICE_WEIGHT + sum(d[3] for d in _DEPARTMENTS)
                            + _SCHOOLS_WEIGHT + _HOSPITALS_WEIGHT)
        scale = share / structure_weight
        agencies.append(Agency(
            office, f"Ủy ban nhân dân {place}", "province", None, code, "province_office",
            _PROVINCE_OFFICE_WEIGHT * scale, f"Chủ tịch Ủy ban nhân dân {place}", "UBND",
            (), _party_units(code), _system(office)))
        for number, name, profile, weight, divisions in _DEPARTMENTS:
            dep_code = f"000.00.{number:02d}.{suffix}"
            dep_name = f"{name} {place}"
            head = (f"Chánh Thanh tra {place}" if profile == "inspectorate"
                    else f"Giám đốc {dep_name}")
            agencies.append(Agency(dep_code, dep_name, "province_department", office, code,
                                   profile, weight * scale, head, _abbreviation(name),
                                   divisions, (), _system(dep_code)))
        agencies.extend(_service_units(code, suffix, place, short, scale))
    return agencies


def _party_units(province_code: str) -> tuple[str, ...]:
    """Party and mass-organisation offices at the provincial level, where cadres work."""
    committee = "Thành ủy" if province_code in _CITIES else "Tỉnh ủy"
    level = "thành phố" if province_code in _CITIES else "tỉnh"
    return (f"Văn phòng {committee}", f"Ban Tổ chức {committee}",
            f"Ban Tuyên giáo và Dân vận {committee}", f"Ủy ban Kiểm tra {committee}",
            "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân",
            f"Ủy ban Mặt trận Tổ quốc Việt Nam {level}", f"Hội Liên hiệp Phụ nữ {level}",
            f"Hội Nông dân {level}", f"Hội Cựu chiến binh {level}",
            f"Liên đoàn Lao động {level}", f"Đoàn Thanh niên Cộng sản Hồ Chí Minh {level}")


def _service_units(province_code: str, suffix: str, place: str, short: str,
                   scale: float) -> list[Agency]:
    """Schools under the education department and hospitals under the health department."""
    population = PROVINCE_POPULATION[province_code]
    schools = max(4, min(25, round(2 + population * 2.2)))
    hospitals = max(3, min(len(_HOSPITAL_NAMES), round(2 + population)))
    # Fixed per province (not per seed): unit sizes vary, as real ones do.
    rng = random.Random(f"service-units/{province_code}")
    agencies = []
    school_names = [f"Trường THPT chuyên {short}",
                    *(f"Trường THPT {n}" for n in rng.sample(_SCHOOL_NAMES, schools - 1))]
    sizes = [2.0, *(rng.uniform(0.6, 1.4) for _ in range(schools - 1))]
    parent = f"000.00.{_EDUCATION_DEPARTMENT:02d}.{suffix}"
    for number, (name, size) in enumerate(zip(school_names, sizes, strict=True), start=1):
        code = f"000.{number:02d}.{_EDUCATION_DEPARTMENT:02d}.{suffix}"
        full = f"{name}, {place}"
        agencies.append(Agency(code, full, "public_service_unit", parent, province_code,
                               "school", _SCHOOLS_WEIGHT * scale * size / sum(sizes),
                               f"Hiệu trưởng {name}", _abbreviation(name), (), (),
                               _system(code)))
    hospital_names = [n.format(place=place) for n in _HOSPITAL_NAMES[:hospitals]]
    sizes = [3.0, *(rng.uniform(0.5, 1.5) for _ in range(hospitals - 1))]
    parent = f"000.00.{_HEALTH_DEPARTMENT:02d}.{suffix}"
    for number, (name, size) in enumerate(zip(hospital_names, sizes, strict=True), start=1):
        code = f"000.{number:02d}.{_HEALTH_DEPARTMENT:02d}.{suffix}"
        agencies.append(Agency(code, name, "public_service_unit", parent, province_code,
                               "hospital", _HOSPITALS_WEIGHT * scale * size / sum(sizes),
                               f"Giám đốc {name}", _abbreviation(name), (), (), _system(code)))
    return agencies


def build_agencies(catalog: Catalog) -> tuple[Agency, ...]:
    """Every agency, parents before children, with weights summing to 100 (percent)."""
    ministries = _ministry_agencies()
    finance = sum(a.weight for a in ministries if a.code.endswith(".G02"))
    others = sum(a.weight for a in ministries if not a.code.endswith(".G02"))
    # Rescale the Ministry of Finance to exactly its target share.
    ministries = [a if not a.code.endswith(".G02") else _reweighted(a, _FINANCE_SHARE / finance)
                  for a in ministries]
    remaining = 100.0 - _FINANCE_SHARE - others - _HANOI_SHARE
    others_population = sum(v for k, v in PROVINCE_POPULATION.items() if k != "01")
    province_share = {code: (_HANOI_SHARE if code == "01"
                             else remaining * PROVINCE_POPULATION[code] / others_population)
                      for code in PROVINCE_POPULATION}
    missing = {p.code for p in catalog.provinces} ^ set(PROVINCE_POPULATION)
    if missing:
        raise LookupError(f"province code lists disagree with the seeder: {sorted(missing)}")
    return (*ministries, *_province_agencies(catalog, province_share))


def _reweighted(agency: Agency, factor: float) -> Agency:
    return Agency(agency.code, agency.name, agency.kind, agency.parent_code,
                  agency.province_code, agency.profile, agency.weight * factor, agency.issuer,
                  agency.abbreviation, agency.units, agency.cadre_units, agency.system)
