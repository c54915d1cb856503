"""Đà Nẵng's legacy HR system (``*.H48``): its own tables (``ns_canbo``, ``ns_kyluat``, the
ground truth ``seed_drift``) and the export it drops for the hub.

The tables are filled like the other systems' (one COPY stream each); ``write_seed_export``
then writes the system's export of the data's day into the drop directory, as its nightly job
would. The hub reads only that file. For a newer export after changes, change the tables and
call ``sandbox.agency_file_drop.export.write_export`` with a later time (``python -m sandbox
export-drop`` from the command line).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Final

from hub.seed import binary
from hub.seed.context import Context
from hub.seed.employees import Employee
from hub.seed.plan import chunk_random
from hub.seed.serials import SerialAllocator
from hub.seed.tables import FILE_DROP_DRIFT, NS_CANBO, NS_KYLUAT, Table
from hub.seed.timeline import AS_OF
from hub.seed.vendor_drift import DriftDraw, Entry, Vocabulary, entry_for
from sandbox.agency_file_drop.codes import (
    NATIONAL_TO_VENDOR_FORM,
    NATIONAL_TO_VENDOR_POSITION,
    POSITION_LABELS,
    SEX_LABELS,
)
from sandbox.agency_file_drop.export import write_export

__all__ = ["SEED_EXPORTED_AT", "SYSTEM", "ensure_seed_export", "file_drop_rows",
           "write_seed_export"]

SYSTEM: Final = "agency_file_drop"
# The export of the data's day, made at 18:00 local time (the time its file is named after).
SEED_EXPORTED_AT: Final = datetime.combine(AS_OF, time(11, 0), tzinfo=UTC)
_WORDS: Final = Vocabulary(
    position_code=NATIONAL_TO_VENDOR_POSITION.__getitem__,
    unknown_codes=tuple(c for c in ("Tổ trưởng", "Chuyên viên cao cấp", "Cố vấn")
                        if c not in POSITION_LABELS),
    position_column="Chức vụ", step_column="Bậc lương", coefficient_column="Hệ số lương")
_PREFIX: Final = "nhansu_"  # the name of its exports (config/sources.yaml: prefix)
_EMPLOYEE_FIELDS: Final = binary.field_count(len(NS_CANBO.columns))
_DECISION_FIELDS: Final = binary.field_count(len(NS_KYLUAT.columns))
_DRIFT_FIELDS: Final = binary.field_count(len(FILE_DROP_DRIFT.columns))


def file_drop_rows(context: Context, chunk: int, people: list[Employee],
                   addresses: dict[str, str], serials: SerialAllocator
                   ) -> dict[Table, list[bytes]]:
    """The rows of the chunk's people this system holds (employees, then new hires)."""
    rng = chunk_random(context.plan.seed, chunk, "agency-file-drop")
    draw = DriftDraw(context, rng, chunk, serials, _WORDS)
    rows: dict[Table, list[bytes]] = {NS_CANBO: [], NS_KYLUAT: [], FILE_DROP_DRIFT: []}
    hires = 0
    for e in people:
        entry = entry_for(rng, e, addresses[e.pid], _WORDS)
        drift = draw.apply(e, entry)
        if e.is_new_hire:
            hires += 1
            local_id = f"DNM{chunk:05d}{hires:03d}"
        else:
            local_id = f"DN{e.index + 1:08d}"
        _add(context, rows, local_id, e.pid_field, e, entry)
        if drift is None:
            continue
        drifted = e.pid_field
        if drift.duplicate_of is not None:
            drifted = binary.text(drift.duplicate_of)
            _add(context, rows, f"DNT{e.index + 1:08d}", drifted, e,
                 draw.duplicate_entry(e, entry))
        rows[FILE_DROP_DRIFT].append(b"".join((_DRIFT_FIELDS, drifted,
                                               context.text[drift.kind],
                                               binary.text(drift.detail))))
    return rows


def _add(context: Context, rows: dict[Table, list[bytes]], local_id: str, pid_field: bytes,
         e: Employee, entry: Entry) -> None:
    text = context.text
    key = binary.text(local_id)
    rows[NS_CANBO].append(b"".join((
        _EMPLOYEE_FIELDS, key, pid_field, binary.text(entry.name), binary.date(e.birth),
        text[SEX_LABELS[e.sex]], e.agency.code_field, text[e.unit], text[entry.position_code],
        text[e.rank.code], binary.int2(entry.step), context.coefficient_field(entry.coefficient),
        binary.NULL if entry.pending_discipline is None else binary.text(entry.pending_discipline),
        binary.text(entry.address), binary.date(e.hired), binary.timestamp(entry.modified))))
    rows[NS_KYLUAT].extend(b"".join((
        _DECISION_FIELDS, key, binary.text(d.number), binary.date(d.decided),
        text[NATIONAL_TO_VENDOR_FORM[d.form]], text[d.issuer], text[d.reason],
        binary.date(d.effective_from),
        binary.NULL if d.effective_to is None else binary.date(d.effective_to)))
        for d in entry.decisions)


async def write_seed_export(dsn: str, directory: Path) -> Path:
    """The seeded data's export, in the drop directory (the same bytes for the same data).
    Exports of earlier data go first: one made later than the seed's would be the newest and
    hide the data just seeded."""
    _remove_exports(directory)
    return await write_export(dsn, directory, exported_at=SEED_EXPORTED_AT, fmt="csv",
                              prefix=_PREFIX)


async def ensure_seed_export(dsn: str, directory: Path) -> None:
    """Drop the seeded data's export again unless the directory holds an export."""
    if not _has_exports(directory):
        await write_seed_export(dsn, directory)


def _has_exports(directory: Path) -> bool:
    return directory.is_dir() and any(p.name.startswith(_PREFIX) for p in directory.iterdir())


def _remove_exports(directory: Path) -> None:
    if directory.is_dir():
        for old in directory.iterdir():
            if old.name.startswith((_PREFIX, f".{_PREFIX}")) and old.is_file():
                old.unlink()
