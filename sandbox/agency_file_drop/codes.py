"""Đà Nẵng's legacy HR system's code lists: it keeps posts and discipline forms by their
Vietnamese labels, and its exports have their own column headers and formats.

The seeder translates national codes into these labels; the hub's mapping
(config/sources.yaml, ``danang-hrm``) translates them back.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FORM_LABELS", "HEADERS", "NATIONAL_TO_VENDOR_FORM", "NATIONAL_TO_VENDOR_POSITION",
           "POSITION_LABELS", "SEX_LABELS"]

# Post label -> national position code.
POSITION_LABELS: Final[dict[str, str]] = {
    "Bộ trưởng": "BO_TRUONG",
    "Thứ trưởng": "THU_TRUONG",
    "Vụ trưởng": "VU_TRUONG",
    "Phó Vụ trưởng": "PHO_VU_TRUONG",
    "Chủ tịch UBND": "CHU_TICH_UBND",
    "Phó Chủ tịch UBND": "PHO_CHU_TICH_UBND",
    "Giám đốc Sở": "GIAM_DOC_SO",
    "Phó Giám đốc Sở": "PHO_GIAM_DOC_SO",
    "Chánh Văn phòng": "CHANH_VAN_PHONG",
    "Trưởng phòng": "TRUONG_PHONG",
    "Phó Trưởng phòng": "PHO_TRUONG_PHONG",
    "Hiệu trưởng": "HIEU_TRUONG",
    "Giám đốc Bệnh viện": "GIAM_DOC_BENH_VIEN",
    "Chuyên viên": "CHUYEN_VIEN",
    "Thanh tra viên": "THANH_TRA_VIEN",
    "Kế toán viên": "KE_TOAN",
    "Giảng viên": "GIANG_VIEN",
    "Giáo viên": "GIAO_VIEN",
    "Bác sĩ": "BAC_SI",
    "Điều dưỡng": "DIEU_DUONG",
    "Nhân viên": "NHAN_VIEN",
}
NATIONAL_TO_VENDOR_POSITION: Final[dict[str, str]] = {n: v for v, n in POSITION_LABELS.items()}

# Discipline form label -> national discipline form code.
FORM_LABELS: Final[dict[str, str]] = {
    "Khiển trách": "reprimand",
    "Cảnh cáo": "warning",
    "Hạ bậc lương": "salary_step_reduction",
    "Giáng chức": "demotion",
    "Cách chức": "dismissal_from_post",
    "Buộc thôi việc": "forced_resignation",
    "Bãi nhiệm": "removal_from_office",
}
NATIONAL_TO_VENDOR_FORM: Final[dict[str, str]] = {n: v for v, n in FORM_LABELS.items()}

SEX_LABELS: Final[dict[str, str]] = {"male": "Nam", "female": "Nữ"}

# The columns of an export, in order. Dates are dd/mm/yyyy, "Cập nhật lúc" is local time
# dd/mm/yyyy HH:MM:SS, coefficients have a decimal comma, and "Quyết định kỷ luật" holds one
# decision per line: number | decided on | form | issuer | from | to | reason.
HEADERS: Final = ("Mã cán bộ", "Số CCCD", "Họ và tên", "Ngày sinh", "Giới tính", "Mã đơn vị",
                  "Phòng/Khoa", "Chức vụ", "Mã ngạch", "Bậc lương", "Hệ số lương",
                  "Kỷ luật đang xem xét", "Địa chỉ thường trú", "Ngày tuyển dụng",
                  "Quyết định kỷ luật", "Cập nhật lúc")
