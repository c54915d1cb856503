"""The Ministry of Health HR system's own code lists.

Posts (``job_cd``) are four-digit vendor job classes; discipline forms (``action_cd``) are
three-letter English abbreviations. The seeder translates national codes into these; the
hub's mapping (config/sources.yaml, ``moh-hris``) translates them back.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ACTION_CODES", "JOB_CODES", "NATIONAL_TO_VENDOR_ACTION", "NATIONAL_TO_VENDOR_JOB",
           "SEX_CODES"]

# Vendor job class -> national position code.
JOB_CODES: Final[dict[str, str]] = {
    "1010": "BO_TRUONG",
    "1020": "THU_TRUONG",
    "1110": "VU_TRUONG",
    "1120": "PHO_VU_TRUONG",
    "1210": "CHU_TICH_UBND",
    "1220": "PHO_CHU_TICH_UBND",
    "1310": "GIAM_DOC_SO",
    "1320": "PHO_GIAM_DOC_SO",
    "1410": "CHANH_VAN_PHONG",
    "1510": "TRUONG_PHONG",
    "1520": "PHO_TRUONG_PHONG",
    "1610": "HIEU_TRUONG",
    "1710": "GIAM_DOC_BENH_VIEN",
    "2010": "CHUYEN_VIEN",
    "2020": "THANH_TRA_VIEN",
    "2030": "KE_TOAN",
    "3010": "GIANG_VIEN",
    "3020": "GIAO_VIEN",
    "4010": "BAC_SI",
    "4020": "DIEU_DUONG",
    "9010": "NHAN_VIEN",
}
NATIONAL_TO_VENDOR_JOB: Final[dict[str, str]] = {n: v for v, n in JOB_CODES.items()}

# Vendor discipline action code -> national discipline form code.
ACTION_CODES: Final[dict[str, str]] = {
    "RPM": "reprimand",
    "WRN": "warning",
    "SSR": "salary_step_reduction",
    "DMT": "demotion",
    "DSP": "dismissal_from_post",
    "FRS": "forced_resignation",
    "RMO": "removal_from_office",
}
NATIONAL_TO_VENDOR_ACTION: Final[dict[str, str]] = {n: v for v, n in ACTION_CODES.items()}

# ISO/IEC 5218.
SEX_CODES: Final[dict[str, str]] = {"1": "male", "2": "female"}
