"""Exports of Đà Nẵng's legacy system made by hand, for what a seed never writes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox.agency_file_drop.codes import HEADERS
from sandbox.agency_file_drop.export import export_name, render_rows, write_file

__all__ = ["HEADERS", "drop", "person", "stamp"]


def person(n: int, **changes: Any) -> list[Any]:
    """A well-formed row (values in HEADERS order) for person number ``n``."""
    row: dict[str, Any] = {
        "Mã cán bộ": f"DN{n:08d}", "Số CCCD": f"048090{n:06d}", "Họ và tên": f"Nguyễn Văn {n}",
        "Ngày sinh": date(1990, 1, 1 + n % 28), "Giới tính": "Nam" if n % 2 else "Nữ",
        "Mã đơn vị": "000.00.01.H48", "Phòng/Khoa": "Văn phòng", "Chức vụ": "Chuyên viên",
        "Mã ngạch": "01.003", "Bậc lương": 2, "Hệ số lương": Decimal("2.67"),
        "Kỷ luật đang xem xét": None, "Địa chỉ thường trú": "Số 1 đường Bạch Đằng, Đà Nẵng",
        "Ngày tuyển dụng": date(2015, 9, 1), "Quyết định kỷ luật": "",
        "Cập nhật lúc": datetime(2026, 10, 1, 8, 30, n % 60)}
    row.update(changes)
    return [row[h] for h in HEADERS]


def stamp(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def drop(directory: Path, rows: list[list[Any]], at: datetime, fmt: str = "csv") -> Path:
    """An export of ``rows`` appearing in ``directory`` as the legacy system drops it."""
    return write_file(directory, export_name(at, fmt), render_rows(rows, fmt))
