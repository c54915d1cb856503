"""The Hà Nội provincial HR system's job title code list.

The system stores its own English job title codes (``staff.job_title_code``) and serves each as
``jobTitle { code label }``; ranks (``grade``) are already national codes. The seeder
translates national position codes into these; the hub translates them back.
"""

from __future__ import annotations

from typing import Final

__all__ = ["JOB_TITLES", "NATIONAL_TO_VENDOR_JOB_TITLE", "job_title_label",
           "national_position_code", "vendor_job_title_code"]

# Vendor job title code -> (national position code, Vietnamese label).
JOB_TITLES: Final[dict[str, tuple[str, str]]] = {
    "MINISTER": ("BO_TRUONG", "Bộ trưởng"),
    "VICE_MINISTER": ("THU_TRUONG", "Thứ trưởng"),
    "DEPT_DIRECTOR": ("VU_TRUONG", "Vụ trưởng"),
    "DEPUTY_DEPT_DIRECTOR": ("PHO_VU_TRUONG", "Phó Vụ trưởng"),
    "CHAIRMAN": ("CHU_TICH_UBND", "Chủ tịch Ủy ban nhân dân"),
    "VICE_CHAIRMAN": ("PHO_CHU_TICH_UBND", "Phó Chủ tịch Ủy ban nhân dân"),
    "DIRECTOR": ("GIAM_DOC_SO", "Giám đốc Sở"),
    "DEPUTY_DIRECTOR": ("PHO_GIAM_DOC_SO", "Phó Giám đốc Sở"),
    "OFFICE_CHIEF": ("CHANH_VAN_PHONG", "Chánh Văn phòng"),
    "HEAD": ("TRUONG_PHONG", "Trưởng phòng"),
    "DEPUTY_HEAD": ("PHO_TRUONG_PHONG", "Phó Trưởng phòng"),
    "PRINCIPAL": ("HIEU_TRUONG", "Hiệu trưởng"),
    "HOSPITAL_DIRECTOR": ("GIAM_DOC_BENH_VIEN", "Giám đốc bệnh viện"),
    "OFFICER": ("CHUYEN_VIEN", "Chuyên viên"),
    "INSPECTOR": ("THANH_TRA_VIEN", "Thanh tra viên"),
    "ACCOUNTANT": ("KE_TOAN", "Kế toán"),
    "LECTURER": ("GIANG_VIEN", "Giảng viên"),
    "TEACHER": ("GIAO_VIEN", "Giáo viên"),
    "DOCTOR": ("BAC_SI", "Bác sĩ"),
    "NURSE": ("DIEU_DUONG", "Điều dưỡng"),
    "STAFF": ("NHAN_VIEN", "Nhân viên"),
}

# National position code -> vendor job title code (the list is one-to-one).
NATIONAL_TO_VENDOR_JOB_TITLE: Final[dict[str, str]] = {
    national: vendor for vendor, (national, _) in JOB_TITLES.items()}


def vendor_job_title_code(national: str) -> str:
    try:
        return NATIONAL_TO_VENDOR_JOB_TITLE[national]
    except KeyError:
        raise ValueError(f"no vendor job title for national position {national!r}") from None


def national_position_code(vendor: str) -> str:
    try:
        return JOB_TITLES[vendor][0]
    except KeyError:
        raise ValueError(f"unknown vendor job title code {vendor!r}") from None


def job_title_label(vendor: str) -> str:
    """The label served for a code; a code missing from the list is served as its own label
    (the real system would show whatever its table holds rather than fail the query)."""
    entry = JOB_TITLES.get(vendor)
    return entry[1] if entry else vendor
