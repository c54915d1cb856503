"""The legacy system's export job: its whole staff list as one file in the drop directory.

The file is written under a temporary name (``.<name>.part``, which no reader takes for an
export), flushed to disk and renamed to its final name ``<prefix><YYYYMMDDTHHMMSS>.<csv|xlsx>``
(the export time, local), so a reader sees either nothing or the complete file. CSV is UTF-8
with a byte-order mark, as Excel writes it; xlsx cells are typed (dates, numbers) except the
personal ID, which is text (as a number it would lose its leading zeros).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import asyncpg

from sandbox.agency_file_drop.codes import HEADERS

__all__ = ["LOCAL_TIME", "export_name", "render_rows", "write_export", "write_file"]

LOCAL_TIME: Final = timezone(timedelta(hours=7))
FORMATS: Final = ("csv", "xlsx")


def export_name(exported_at: datetime, fmt: str, prefix: str = "nhansu_") -> str:
    if exported_at.tzinfo is None:
        raise ValueError("the export time needs its zone")
    return f"{prefix}{exported_at.astimezone(LOCAL_TIME):%Y%m%dT%H%M%S}.{fmt}"


async def _rows(dsn: str) -> list[tuple[Any, ...]]:
    """Every employee with their decisions, in the system's own order (by ma_cb)."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            staff = await conn.fetch("SELECT * FROM ns_canbo ORDER BY ma_cb")
            decisions = await conn.fetch(
                "SELECT * FROM ns_kyluat ORDER BY ma_cb, ngay_qd, so_qd, id")
    finally:
        await conn.close()
    by_employee: dict[str, list[asyncpg.Record]] = {}
    for d in decisions:
        by_employee.setdefault(d["ma_cb"], []).append(d)
    return [(r["ma_cb"], r["so_cccd"], r["ho_ten"], r["ngay_sinh"], r["gioi_tinh"], r["ma_dv"],
             r["phong_ban"], r["chuc_vu"], r["ngach"], r["bac"], r["he_so"], r["ky_luat_cho"],
             r["dia_chi"], r["ngay_tuyen"], _decisions(by_employee.get(r["ma_cb"], [])),
             r["cap_nhat"].astimezone(LOCAL_TIME).replace(tzinfo=None))
            for r in staff]


def _day(value: date | None) -> str:
    return "" if value is None else value.strftime("%d/%m/%Y")


def _decisions(rows: Sequence[asyncpg.Record]) -> str:
    return "\n".join(" | ".join((d["so_qd"], _day(d["ngay_qd"]), d["hinh_thuc"], d["nguoi_ky"],
                                 _day(d["tu_ngay"]), _day(d["den_ngay"]), d["ly_do"]))
                     for d in rows)


def _text_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return _day(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def render_rows(rows: Sequence[Sequence[Any]], fmt: str) -> bytes:
    """An export's bytes: the header and ``rows`` (values in HEADERS order)."""
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADERS)
        writer.writerows([_text_cell(v) for v in row] for row in rows)
        return out.getvalue().encode("utf-8-sig")
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("NhanSu")
        sheet.append(list(HEADERS))
        for row in rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    raise ValueError(f"export format must be one of {FORMATS}, not {fmt!r}")


def write_file(directory: Path, name: str, data: bytes) -> Path:
    """``data`` under ``name`` in ``directory``, appearing complete or not at all."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    partial = directory / f".{name}.part"
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, final)
    return final


async def write_export(dsn: str, directory: Path, *, exported_at: datetime,
                       fmt: str = "csv", prefix: str = "nhansu_") -> Path:
    """Export the system's current staff list into ``directory``; the file's path."""
    name = export_name(exported_at, fmt, prefix)
    return write_file(directory, name, render_rows(await _rows(dsn), fmt))
