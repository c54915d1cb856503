"""The Ministry of Health's HR database (``*.G04``), which the hub reads directly:
``hr_employee``, ``hr_disciplinary_action`` and the ground truth ``seed_drift``.

Everyone in a ``*.G04`` agency (and the ministry's new hires) has a row in the vendor's terms
(ISO/IEC 5218 sex codes, four-digit job classes, discipline action codes: see
``sandbox/agency_database/codes.py``), a copy of their national discipline decision, their
hire date, and a ``last_modified`` the change feed reads by. A few percent drift
(``hub.seed.vendor_drift``); each drift is a ``seed_drift`` row.
"""

from __future__ import annotations

from typing import Final

from hub.seed import binary
from hub.seed.context import Context
from hub.seed.employees import Employee
from hub.seed.serials import SerialAllocator
from hub.seed.stored_rows import StoredSystem, stored_rows
from hub.seed.tables import DATABASE_DRIFT, HR_DISCIPLINARY_ACTION, HR_EMPLOYEE, Table
from hub.seed.vendor_drift import Vocabulary
from sandbox.agency_database.codes import (
    JOB_CODES,
    NATIONAL_TO_VENDOR_ACTION,
    NATIONAL_TO_VENDOR_JOB,
)

__all__ = ["SYSTEM", "agency_database_rows"]

SYSTEM: Final = "agency_database"
_WORDS: Final = Vocabulary(
    position_code=NATIONAL_TO_VENDOR_JOB.__getitem__,
    unknown_codes=tuple(c for c in ("1530", "2040", "8010") if c not in JOB_CODES),
    position_column="job_cd", step_column="sal_step", coefficient_column="sal_coef")
# emp_id: the national employee's number for those the ministry shares with the national
# database; new hires and second records numbered apart, per chunk.
_HIRE_IDS: Final = 900_000_000
_DUPLICATE_IDS: Final = 800_000_000
_SYSTEM: Final = StoredSystem(
    purpose="agency-database", words=_WORDS, employee_table=HR_EMPLOYEE,
    decision_table=HR_DISCIPLINARY_ACTION, drift_table=DATABASE_DRIFT,
    employee_key=lambda e: binary.int8(e.index + 1),
    hire_key=lambda chunk, hire: binary.int8(_HIRE_IDS + chunk * 1_000 + hire),
    duplicate_key=lambda e: binary.int8(_DUPLICATE_IDS + e.index + 1),
    sex={"male": "1", "female": "2"}, form=NATIONAL_TO_VENDOR_ACTION)


def agency_database_rows(context: Context, chunk: int, people: list[Employee],
                         addresses: dict[str, str], serials: SerialAllocator
                         ) -> dict[Table, list[bytes]]:
    """The rows of the chunk's people this system holds (employees, then new hires)."""
    return stored_rows(_SYSTEM, context, chunk, people, addresses, serials)
