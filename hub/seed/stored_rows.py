"""The rows of an agency HR system of the stored kind: the Ministry of Health's database
(``hub.seed.agency_db``) and Đà Nẵng's legacy system (``hub.seed.file_drop``).

Both hold each person as one employee row with their discipline decisions, drifted by
``hub.seed.vendor_drift``, and record each drift in ``seed_drift``; they differ only in their
tables, how they key a record, and their sex and discipline form codes (``StoredSystem``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hub.seed import binary
from hub.seed.context import Context
from hub.seed.employees import Employee
from hub.seed.plan import chunk_random
from hub.seed.serials import SerialAllocator
from hub.seed.tables import Table
from hub.seed.vendor_drift import DriftDraw, Entry, Vocabulary, entry_for

__all__ = ["StoredSystem", "stored_rows"]


@dataclass(frozen=True, slots=True)
class StoredSystem:
    """What sets one stored system's rows apart from the other's."""

    purpose: str  # names the chunk's generator (``plan.chunk_random``)
    words: Vocabulary
    employee_table: Table
    decision_table: Table
    drift_table: Table
    employee_key: Callable[[Employee], bytes]  # the encoded key of an employee's record
    hire_key: Callable[[int, int], bytes]  # (chunk, n-th new hire of the chunk) -> encoded key
    duplicate_key: Callable[[Employee], bytes]  # the encoded key of a second record
    sex: Mapping[str, str]  # national sex -> the system's code
    form: Mapping[str, str]  # national discipline form -> the system's code
    employee_fields: bytes = field(init=False)
    decision_fields: bytes = field(init=False)
    drift_fields: bytes = field(init=False)

    def __post_init__(self) -> None:
        for name, table in (("employee_fields", self.employee_table),
                            ("decision_fields", self.decision_table),
                            ("drift_fields", self.drift_table)):
            object.__setattr__(self, name, binary.field_count(len(table.columns)))


def stored_rows(system: StoredSystem, context: Context, chunk: int, people: list[Employee],
                addresses: dict[str, str], serials: SerialAllocator
                ) -> dict[Table, list[bytes]]:
    """The rows of the chunk's people the system holds (employees, then new hires)."""
    rng = chunk_random(context.plan.seed, chunk, system.purpose)
    draw = DriftDraw(context, rng, chunk, serials, system.words)
    rows: dict[Table, list[bytes]] = {system.employee_table: [], system.decision_table: [],
                                      system.drift_table: []}
    drifts = rows[system.drift_table]
    hires = 0
    for e in people:
        entry = entry_for(rng, e, addresses[e.pid], system.words)
        drift = draw.apply(e, entry)
        if e.is_new_hire:
            hires += 1
            key = system.hire_key(chunk, hires)
        else:
            key = system.employee_key(e)
        _add(system, context, rows, key, e.pid_field, e, entry)
        if drift is None:
            continue
        drifted = e.pid_field
        if drift.duplicate_of is not None:
            drifted = binary.text(drift.duplicate_of)
            _add(system, context, rows, system.duplicate_key(e), drifted, e,
                 draw.duplicate_entry(e, entry))
        drifts.append(b"".join((system.drift_fields, drifted, context.text[drift.kind],
                                binary.text(drift.detail))))
    return rows


def _add(system: StoredSystem, context: Context, rows: dict[Table, list[bytes]], key: bytes,
         pid_field: bytes, e: Employee, entry: Entry) -> None:
    """One record: the employee row and its discipline rows."""
    text = context.text
    rows[system.employee_table].append(b"".join((
        system.employee_fields, key, pid_field, binary.text(entry.name), binary.date(e.birth),
        text[system.sex[e.sex]], e.agency.code_field, text[e.unit], text[entry.position_code],
        text[e.rank.code], binary.int2(entry.step), context.coefficient_field(entry.coefficient),
        binary.NULL if entry.pending_discipline is None else binary.text(entry.pending_discipline),
        binary.text(entry.address), binary.date(e.hired), binary.timestamp(entry.modified))))
    form = system.form
    rows[system.decision_table].extend(b"".join((
        system.decision_fields, key, binary.text(d.number), binary.date(d.decided),
        text[form[d.form]], text[d.issuer], text[d.reason], binary.date(d.effective_from),
        binary.NULL if d.effective_to is None else binary.date(d.effective_to)))
        for d in entry.decisions)
