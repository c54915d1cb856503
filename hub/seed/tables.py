"""The tables the seeder fills, with the columns it writes, in the order rows encode them.

Columns left out take their defaults: ``version`` (1), ``updated_by`` ('seed'), the identity
``id`` of record tables (numbered by PostgreSQL in COPY order, which is deterministic because
each table's chunks are copied in order on one connection) and the generated ``full_name``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "AGENCY",
    "AGENCY_SYSTEM_TABLES",
    "CHUNK_TABLES",
    "DATABASE_DRIFT",
    "FILE_DROP_DRIFT",
    "GRAPHQL_DRIFT",
    "HR_DISCIPLINARY_ACTION",
    "HR_EMPLOYEE",
    "KY_LUAT",
    "NATIONAL_TRUNCATE",
    "NHAN_SU",
    "NS_CANBO",
    "NS_KYLUAT",
    "REST_DRIFT",
    "SEED_DRIFT_DDL",
    "STAFF",
    "STAFF_DISCIPLINE",
    "Database",
    "Table",
]

Database = Literal["national", "population", "agency_rest", "agency_graphql",
                   "agency_database", "agency_file_drop"]


@dataclass(frozen=True, slots=True)
class Table:
    database: Database
    name: str
    columns: tuple[str, ...]
    # Build this table's indexes after loading (by sorting) instead of row by row. Measured:
    # several times cheaper where keys arrive in random order (personal IDs, names), and still
    # 30-50% cheaper for the big record tables whose keys arrive in order.
    deferred_indexes: bool = False
    # The table this one's rows refer to by foreign key, when it is not the employee table of
    # the national database (which every national record table refers to): where foreign keys
    # are checked, its rows must be committed first (see hub.seed.copy).
    parent: Table | None = None

    @property
    def key(self) -> str:
        """How the summary names it: 'national.employee', 'agency_rest.seed_drift'."""
        return f"{self.database}.{self.name}"


AGENCY: Final = Table("national", "agency", (
    "code", "name", "kind", "parent_code", "province_code", "headcount_quota", "updated_at"))
EMPLOYEE: Final = Table("national", "employee", (
    "employee_code", "personal_id", "family_name", "middle_name", "given_name", "birth_date",
    "sex", "ethnicity", "religion", "category", "status", "agency_code", "unit_name",
    "position_code", "rank_code", "salary_step", "salary_coefficient", "hired_on",
    "updated_at"), deferred_indexes=True)
ALLOWANCE: Final = Table("national", "allowance", (
    "employee_code", "kind", "coefficient", "percent", "since", "updated_at"),
    deferred_indexes=True)
WORK_HISTORY: Final = Table("national", "work_history", (
    "employee_code", "from_date", "to_date", "agency_code", "agency_name", "position_code",
    "description", "updated_at"), deferred_indexes=True)
QUALIFICATION: Final = Table("national", "qualification", (
    "employee_code", "kind", "level", "field", "institution", "awarded_on", "updated_at"),
    deferred_indexes=True)
TRAINING: Final = Table("national", "training", (
    "employee_code", "course", "institution", "from_date", "to_date", "certificate",
    "updated_at"), deferred_indexes=True)
AWARD: Final = Table("national", "award", (
    "employee_code", "form", "decision_number", "decided_on", "issuer", "updated_at"),
    deferred_indexes=True)
DISCIPLINE: Final = Table("national", "discipline", (
    "employee_code", "form_code", "decision_number", "decided_on", "issuer", "reason",
    "effective_from", "effective_to", "updated_at"))
EVALUATION: Final = Table("national", "evaluation", (
    "employee_code", "year", "grade_code", "updated_at"), deferred_indexes=True)
PARTY_MEMBERSHIP: Final = Table("national", "party_membership", (
    "employee_code", "joined_on", "official_on", "branch", "card_number", "updated_at"),
    deferred_indexes=True)
HEALTH_RECORD: Final = Table("national", "health_record", (
    "employee_code", "status", "height_cm", "weight_kg", "blood_type", "checked_on",
    "updated_at"), deferred_indexes=True)
ASSET_DECLARATION: Final = Table("national", "asset_declaration", (
    "employee_code", "year", "declared_on", "land_plots", "houses", "total_assets_vnd",
    "annual_income_vnd", "updated_at"))
PERSONAL_HISTORY: Final = Table("national", "personal_history", (
    "employee_code", "from_date", "to_date", "activity", "place", "updated_at"),
    deferred_indexes=True)
FAMILY_MEMBER: Final = Table("national", "family_member", (
    "employee_code", "relation", "full_name", "birth_year", "occupation",
    "workplace_or_address", "personal_id", "deceased", "death_year", "updated_at"),
    deferred_indexes=True)
CITIZEN: Final = Table("population", "citizen", (
    "personal_id", "full_name", "birth_date", "sex", "ethnicity", "religion",
    "place_of_origin", "permanent_address", "current_address", "father_id", "mother_id",
    "spouse_id", "death_date", "updated_at"), deferred_indexes=True)
NHAN_SU: Final = Table("agency_rest", "nhan_su", (
    "ma_nhan_su", "so_cccd", "ho_va_ten", "ngay_sinh", "gioi_tinh", "ma_don_vi",
    "ten_phong_ban", "chuc_vu", "ma_ngach", "bac_luong", "he_so_luong", "ky_luat_dang_xu_ly",
    "dia_chi_thuong_tru", "ngay_tuyen_dung", "ngay_cap_nhat"))
KY_LUAT: Final = Table("agency_rest", "ky_luat", (
    "ma_nhan_su", "so_quyet_dinh", "ngay_quyet_dinh", "hinh_thuc", "co_quan_ban_hanh", "ly_do",
    "hieu_luc_tu", "hieu_luc_den"), parent=NHAN_SU)
STAFF: Final = Table("agency_graphql", "staff", (
    "citizen_id", "name", "dob", "gender", "org_code", "department", "job_title_code", "grade",
    "pay_step", "pay_coefficient", "pending_discipline", "address", "hired_on", "modified_at"))
STAFF_DISCIPLINE: Final = Table("agency_graphql", "staff_discipline", (
    "citizen_id", "decision_number", "decided_on", "form", "issuer", "reason",
    "effective_from", "effective_to"), parent=STAFF)
REST_DRIFT: Final = Table("agency_rest", "seed_drift", ("personal_id", "kind", "detail"))
GRAPHQL_DRIFT: Final = Table("agency_graphql", "seed_drift", ("personal_id", "kind", "detail"))
# The Ministry of Health's database (read by the hub) and Đà Nẵng's legacy system (exported to
# files): hub.seed.agency_db, hub.seed.file_drop.
HR_EMPLOYEE: Final = Table("agency_database", "hr_employee", (
    "emp_id", "national_id_no", "full_nm", "birth_dt", "sex_cd", "org_cd", "dept_nm", "job_cd",
    "grade_cd", "sal_step", "sal_coef", "disc_pending", "home_addr", "hire_dt",
    "last_modified"))
HR_DISCIPLINARY_ACTION: Final = Table("agency_database", "hr_disciplinary_action", (
    "emp_id", "decision_no", "decision_dt", "action_cd", "issued_by", "reason_txt",
    "eff_from_dt", "eff_to_dt"), parent=HR_EMPLOYEE)
DATABASE_DRIFT: Final = Table("agency_database", "seed_drift", ("personal_id", "kind", "detail"))
NS_CANBO: Final = Table("agency_file_drop", "ns_canbo", (
    "ma_cb", "so_cccd", "ho_ten", "ngay_sinh", "gioi_tinh", "ma_dv", "phong_ban", "chuc_vu",
    "ngach", "bac", "he_so", "ky_luat_cho", "dia_chi", "ngay_tuyen", "cap_nhat"))
NS_KYLUAT: Final = Table("agency_file_drop", "ns_kyluat", (
    "ma_cb", "so_qd", "ngay_qd", "hinh_thuc", "nguoi_ky", "ly_do", "tu_ngay", "den_ngay"),
    parent=NS_CANBO)
FILE_DROP_DRIFT: Final = Table("agency_file_drop", "seed_drift",
                               ("personal_id", "kind", "detail"))

# Tables every chunk contributes rows to, in the order their COPY streams start.
CHUNK_TABLES: Final = (EMPLOYEE, ALLOWANCE, WORK_HISTORY, QUALIFICATION, TRAINING, AWARD,
                       DISCIPLINE, EVALUATION, PARTY_MEMBERSHIP, HEALTH_RECORD,
                       ASSET_DECLARATION, PERSONAL_HISTORY, FAMILY_MEMBER, CITIZEN, NHAN_SU,
                       KY_LUAT, STAFF, STAFF_DISCIPLINE, REST_DRIFT, GRAPHQL_DRIFT,
                       HR_EMPLOYEE, HR_DISCIPLINARY_ACTION, DATABASE_DRIFT, NS_CANBO,
                       NS_KYLUAT, FILE_DROP_DRIFT)
# Everything the seeder writes to each agency system (the sandbox schema's tables, and the
# seed_drift it adds), referenced tables first.
AGENCY_SYSTEM_TABLES: Final = {"agency_rest": (NHAN_SU, KY_LUAT, REST_DRIFT),
                               "agency_graphql": (STAFF, STAFF_DISCIPLINE, GRAPHQL_DRIFT),
                               "agency_database": (HR_EMPLOYEE, HR_DISCIPLINARY_ACTION,
                                                   DATABASE_DRIFT),
                               "agency_file_drop": (NS_CANBO, NS_KYLUAT, FILE_DROP_DRIFT)}

# Everything the seeder writes to the national database (code lists excluded), emptied in one
# statement because of the foreign keys between them.
NATIONAL_TRUNCATE: Final = ("agency", "employee", "allowance", "work_history", "qualification",
                            "training", "award", "discipline", "evaluation", "party_membership",
                            "health_record", "asset_declaration", "personal_history",
                            "family_member", "seed_run")

# Ground truth of the differences injected into an agency system: test-oracle data that the
# sandbox services never expose.
SEED_DRIFT_DDL: Final = """
CREATE TABLE IF NOT EXISTS seed_drift (
    personal_id  char(12) NOT NULL,
    kind         text NOT NULL,
    detail       text NOT NULL
);
COMMENT ON TABLE seed_drift IS
    'Written by hub seed: where this system was made to differ from the national database';
"""
