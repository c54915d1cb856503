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
from hub.seed.plan import chunk_random
from hub.seed.serials import SerialAllocator
from hub.seed.tables import DATABASE_DRIFT, HR_DISCIPLINARY_ACTION, HR_EMPLOYEE, Table
from hub.seed.vendor_drift import DriftDraw, Entry, Vocabulary, entry_for
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
_SEX: Final = {"male": "1", "female": "2"}
# emp_id: the national employee's number for those the ministry shares with the national
# database; new hires and second records numbered apart, per chunk.
_HIRE_IDS: Final = 900_000_000
_DUPLICATE_IDS: Final = 800_000_000
_EMPLOYEE_FIELDS: Final = binary.field_count(len(HR_EMPLOYEE.columns))
_ACTION_FIELDS: Final = binary.field_count(len(HR_DISCIPLINARY_ACTION.columns))
_DRIFT_FIELDS: Final = binary.field_count(len(DATABASE_DRIFT.columns))


def agency_database_rows(context: Context, chunk: int, people: list[Employee],
                         addresses: dict[str, str], serials: SerialAllocator
                         ) -> dict[Table, list[bytes]]:
    """The rows of the chunk's people this system holds (employees, then new hires)."""
    rng = chunk_random(context.plan.seed, chunk, "agency-database")
    draw = DriftDraw(context, rng, chunk, serials, _WORDS)
    rows: dict[Table, list[bytes]] = {HR_EMPLOYEE: [], HR_DISCIPLINARY_ACTION: [],
                                      DATABASE_DRIFT: []}
    hires = 0
    for e in people:
        entry = entry_for(rng, e, addresses[e.pid], _WORDS)
        drift = draw.apply(e, entry)
        if e.is_new_hire:
            hires += 1
            emp_id = _HIRE_IDS + chunk * 1_000 + hires
        else:
            emp_id = e.index + 1
        _add(context, rows, emp_id, e.pid_field, e, entry)
        if drift is None:
            continue
        drifted = e.pid_field
        if drift.duplicate_of is not None:
            drifted = binary.text(drift.duplicate_of)
            _add(context, rows, _DUPLICATE_IDS + e.index + 1, drifted, e,
                 draw.duplicate_entry(e, entry))
        rows[DATABASE_DRIFT].append(b"".join((_DRIFT_FIELDS, drifted, context.text[drift.kind],
                                              binary.text(drift.detail))))
    return rows


def _add(context: Context, rows: dict[Table, list[bytes]], emp_id: int, pid_field: bytes,
         e: Employee, entry: Entry) -> None:
    text = context.text
    key = binary.int8(emp_id)
    rows[HR_EMPLOYEE].append(b"".join((
        _EMPLOYEE_FIELDS, key, pid_field, binary.text(entry.name), binary.date(e.birth),
        text[_SEX[e.sex]], e.agency.code_field, text[e.unit], text[entry.position_code],
        text[e.rank.code], binary.int2(entry.step), context.coefficient_field(entry.coefficient),
        binary.NULL if entry.pending_discipline is None else binary.text(entry.pending_discipline),
        binary.text(entry.address), binary.date(e.hired), binary.timestamp(entry.modified))))
    rows[HR_DISCIPLINARY_ACTION].extend(b"".join((
        _ACTION_FIELDS, key, binary.text(d.number), binary.date(d.decided),
        text[NATIONAL_TO_VENDOR_ACTION[d.form]], text[d.issuer], text[d.reason],
        binary.date(d.effective_from),
        binary.NULL if d.effective_to is None else binary.date(d.effective_to)))
        for d in entry.decisions)
