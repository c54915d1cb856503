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
from hub.seed.serials import SerialAllocator
from hub.seed.stored_rows import StoredSystem, stored_rows
from hub.seed.tables import FILE_DROP_DRIFT, NS_CANBO, NS_KYLUAT, Table
from hub.seed.timeline import AS_OF
from hub.seed.vendor_drift import Vocabulary
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
_SYSTEM: Final = StoredSystem(
    purpose="agency-file-drop", words=_WORDS, employee_table=NS_CANBO, decision_table=NS_KYLUAT,
    drift_table=FILE_DROP_DRIFT,
    employee_key=lambda e: binary.text(f"DN{e.index + 1:08d}"),
    hire_key=lambda chunk, hire: binary.text(f"DNM{chunk:05d}{hire:03d}"),
    duplicate_key=lambda e: binary.text(f"DNT{e.index + 1:08d}"),
    sex=SEX_LABELS, form=NATIONAL_TO_VENDOR_FORM)


def file_drop_rows(context: Context, chunk: int, people: list[Employee],
                   addresses: dict[str, str], serials: SerialAllocator
                   ) -> dict[Table, list[bytes]]:
    """The rows of the chunk's people this system holds (employees, then new hires)."""
    return stored_rows(_SYSTEM, context, chunk, people, addresses, serials)


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
