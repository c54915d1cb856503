"""The Ministry of Finance HR system's own code lists.

Like many vendor systems it does not use the national codes: positions (``chuc_vu``) and
discipline forms (``ky_luat.hinh_thuc``) have short vendor codes, and ranks (``ma_ngach``) are
the national rank codes with the dots dropped. The seeder translates national codes into these
when it writes the system's rows; the hub must translate them back when it reads them.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["DISCIPLINE_FORMS", "NATIONAL_TO_VENDOR_DISCIPLINE", "NATIONAL_TO_VENDOR_POSITION",
           "POSITION_CODES", "POSITION_LABELS", "national_discipline_form",
           "national_position_code", "national_rank_code", "vendor_discipline_form",
           "vendor_position_code", "vendor_rank_code"]

# Vendor position code -> national position code (the national ``position`` code list).
POSITION_CODES: Final[dict[str, str]] = {
    "BT": "BO_TRUONG",
    "TT": "THU_TRUONG",
    "VT": "VU_TRUONG",
    "PVT": "PHO_VU_TRUONG",
    "CT": "CHU_TICH_UBND",
    "PCT": "PHO_CHU_TICH_UBND",
    "GD": "GIAM_DOC_SO",
    "PGD": "PHO_GIAM_DOC_SO",
    "CVP": "CHANH_VAN_PHONG",
    "TP": "TRUONG_PHONG",
    "PTP": "PHO_TRUONG_PHONG",
    "HT": "HIEU_TRUONG",
    "GDBV": "GIAM_DOC_BENH_VIEN",
    "CV": "CHUYEN_VIEN",
    "TTV": "THANH_TRA_VIEN",
    "KT": "KE_TOAN",
    "GV": "GIANG_VIEN",
    "GVPT": "GIAO_VIEN",
    "BS": "BAC_SI",
    "DD": "DIEU_DUONG",
    "NV": "NHAN_VIEN",
}

# Vendor position code -> the label the vendor's screens show.
POSITION_LABELS: Final[dict[str, str]] = {
    "BT": "Bộ trưởng",
    "TT": "Thứ trưởng",
    "VT": "Vụ trưởng",
    "PVT": "Phó Vụ trưởng",
    "CT": "Chủ tịch UBND",
    "PCT": "Phó Chủ tịch UBND",
    "GD": "Giám đốc Sở",
    "PGD": "Phó Giám đốc Sở",
    "CVP": "Chánh Văn phòng",
    "TP": "Trưởng phòng",
    "PTP": "Phó Trưởng phòng",
    "HT": "Hiệu trưởng",
    "GDBV": "Giám đốc Bệnh viện",
    "CV": "Chuyên viên",
    "TTV": "Thanh tra viên",
    "KT": "Kế toán",
    "GV": "Giảng viên",
    "GVPT": "Giáo viên phổ thông",
    "BS": "Bác sĩ",
    "DD": "Điều dưỡng",
    "NV": "Nhân viên",
}

# National position code -> vendor code (the list is one-to-one).
NATIONAL_TO_VENDOR_POSITION: Final[dict[str, str]] = {
    national: vendor for vendor, national in POSITION_CODES.items()}

# Vendor discipline form code (hình thức kỷ luật) -> national ``discipline_form`` code.
DISCIPLINE_FORMS: Final[dict[str, str]] = {
    "KT": "reprimand",               # khiển trách
    "CC": "warning",                 # cảnh cáo
    "HBL": "salary_step_reduction",  # hạ bậc lương
    "GC": "demotion",                # giáng chức
    "CCH": "dismissal_from_post",    # cách chức
    "BTV": "forced_resignation",     # buộc thôi việc
    "BN": "removal_from_office",     # bãi nhiệm
}

# National discipline form -> vendor code (the list is one-to-one).
NATIONAL_TO_VENDOR_DISCIPLINE: Final[dict[str, str]] = {
    national: vendor for vendor, national in DISCIPLINE_FORMS.items()}

# National rank codes come in two shapes: civil servant ranks '01.003' (old education and
# health ranks also had a letter: '15a.201') and public employee titles 'V.07.01.03'.
_NATIONAL_RANK = re.compile(r"(?:[0-9]{2}[a-z]?\.[0-9]{3}|V\.[0-9]{2}\.[0-9]{2}\.[0-9]{2})")
_VENDOR_CIVIL_SERVANT_RANK = re.compile(r"([0-9]{2}[a-z]?)([0-9]{3})")
_VENDOR_PUBLIC_EMPLOYEE_RANK = re.compile(r"V([0-9]{2})([0-9]{2})([0-9]{2})")


def vendor_position_code(national: str) -> str:
    try:
        return NATIONAL_TO_VENDOR_POSITION[national]
    except KeyError:
        raise ValueError(f"no vendor position code for national position {national!r}") from None


def national_position_code(vendor: str) -> str:
    try:
        return POSITION_CODES[vendor]
    except KeyError:
        raise ValueError(f"unknown vendor position code {vendor!r}") from None


def vendor_discipline_form(national: str) -> str:
    try:
        return NATIONAL_TO_VENDOR_DISCIPLINE[national]
    except KeyError:
        raise ValueError(f"no vendor code for national discipline form {national!r}") from None


def national_discipline_form(vendor: str) -> str:
    try:
        return DISCIPLINE_FORMS[vendor]
    except KeyError:
        raise ValueError(f"unknown vendor discipline form code {vendor!r}") from None


def vendor_rank_code(national: str) -> str:
    """'01.003' -> '01003', 'V.07.01.03' -> 'V070103'."""
    if not _NATIONAL_RANK.fullmatch(national):
        raise ValueError(f"{national!r} is not a national rank code (e.g. 01.003, V.07.01.03)")
    return national.replace(".", "")


def national_rank_code(vendor: str) -> str:
    """The inverse of :func:`vendor_rank_code`: '01003' -> '01.003', 'V070103' -> 'V.07.01.03'."""
    if match := _VENDOR_PUBLIC_EMPLOYEE_RANK.fullmatch(vendor):
        return "V." + ".".join(match.groups())
    if match := _VENDOR_CIVIL_SERVANT_RANK.fullmatch(vendor):
        return ".".join(match.groups())
    raise ValueError(f"{vendor!r} is not a vendor rank code (e.g. 01003, V070103)")
