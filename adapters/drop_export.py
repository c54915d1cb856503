"""One export of a legacy HR system, from its bytes to the hub's canonical records.

An export is a CSV or Excel (xlsx) file with a header row naming the vendor's columns and one
row per employee, in the vendor's own encodings: dates ``dd/mm/yyyy``, export times in local
time, decimal commas, sex as ``Nam``/``Nữ``, posts by their Vietnamese labels. ``ExportFormat``
says which header holds which canonical field and how to read it (the field's ``types`` in the
mapping: ``date``, ``datetime``, ``int``, ``float`` or text); ``codes`` then translate values.
Discipline decisions are packed into one cell, one decision per line, their parts separated by
``|``.

A whole file that cannot be read (not in its encoding, not a workbook, a mapped column missing,
more rows than allowed, a workbook that would expand beyond its bound) raises ``DropRefused``.
A row that cannot be read (a malformed personal ID, a date that is no date, a row of the
wrong width) is left out and reported with its row number and reasons, never with its values:
they are personal data, and the file is there for an operator to look at.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from adapters.change_feeds import FEED_COLUMNS
from adapters.drop_directory import DropRefused
from adapters.record_mapping import RecordMapping
from adapters.stored_records import DISCIPLINE_COLUMNS, map_disciplines

__all__ = ["DisciplineCell", "Export", "ExportFormat", "RowProblem", "read_export"]

# (row number, its cells or why it cannot be read)
_Rows = Generator[tuple[int, list[Any] | str], None, None]

_PERSONAL_ID: Final = re.compile(r"[0-9]{12}")
_DATE_PARTS: Final = frozenset({"decided_on", "effective_from", "effective_to"})
_READABLE: Final = (("%d", "dd"), ("%m", "mm"), ("%Y", "yyyy"), ("%H", "HH"), ("%M", "MM"),
                    ("%S", "SS"))


@dataclass(frozen=True, slots=True)
class DisciplineCell:
    """Discipline decisions in one cell: a decision per line, ``parts`` in order (canonical
    decision fields, DISCIPLINE_COLUMNS), separated by ``part_separator``; the last part
    takes the rest of the line (a reason may hold the separator)."""

    column: str
    parts: tuple[str, ...]
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    part_separator: str = "|"

    def __post_init__(self) -> None:
        unknown = set(self.parts) - set(DISCIPLINE_COLUMNS)
        if unknown or len(set(self.parts)) != len(self.parts) or not self.parts:
            raise ValueError(f"discipline parts must be distinct among {DISCIPLINE_COLUMNS}")
        if not self.part_separator or "\n" in self.part_separator:
            raise ValueError("the discipline part separator must be a non-empty line part")

    def mapping(self) -> RecordMapping:
        return RecordMapping(fields={p: p for p in self.parts},
                             types={p: "date" for p in self.parts if p in _DATE_PARTS},
                             codes=self.codes)


@dataclass(frozen=True, slots=True)
class ExportFormat:
    mapping: RecordMapping  # canonical field -> header
    date_format: str = "%d/%m/%Y"
    datetime_format: str = "%d/%m/%Y %H:%M:%S"
    # Export times carry no zone: they are the office's local time.
    utc_offset: timedelta = timedelta(hours=7)
    decimal_comma: bool = True
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    sheet: str | None = None  # xlsx: the sheet to read (default: the first)
    header_row: int = 1
    disciplines: DisciplineCell | None = None
    max_rows: int = 200_000
    # An xlsx is a zip archive: the bound on what it may expand to (a small file can hold a
    # huge sheet).
    max_expanded_bytes: int = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        if "personal_id" not in self.mapping.fields:
            raise ValueError("the export must map personal_id (the lookup key)")
        if "disciplines" in self.mapping.fields:
            raise ValueError("discipline decisions are read from their cell (disciplines:)")
        if len(self.delimiter) != 1 or self.delimiter in "\r\n\"":
            raise ValueError("the delimiter must be one character (not a quote or newline)")
        if self.header_row < 1 or self.max_rows < 1 or self.max_expanded_bytes < 1:
            raise ValueError("header_row, max_rows and max_expanded_bytes must be positive")
        try:
            "".encode(self.encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {self.encoding!r}") from None


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # the row's number in the file, the header row being 1 (for a CSV: its record)
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Export:
    records: tuple[dict[str, Any], ...]  # canonical (FEED_COLUMNS), in the file's order
    problems: tuple[RowProblem, ...]


def _readable(pattern: str) -> str:
    for code, text in _READABLE:
        pattern = pattern.replace(code, text)
    return pattern


class _Reader:
    """Reads cells of one export format into the values a JSON API would have sent."""

    def __init__(self, spec: ExportFormat) -> None:
        self._spec = spec
        self._zone = timezone(spec.utc_offset)
        self._date_text = _readable(spec.date_format)
        self._datetime_text = _readable(spec.datetime_format)

    def cell(self, value: Any, kind: str) -> Any:
        """The plain value of a cell; ValueError (its message a reason) if unreadable."""
        if isinstance(value, str):
            value = unicodedata.normalize("NFC", value.strip())
            if not value:
                return None
        if value is None:
            return None
        if kind == "date":
            return self._date(value)
        if kind == "datetime":
            return self._moment(value)
        if kind in ("int", "float"):
            return self._number(value, kind)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("is not text")
        return str(value)

    def _date(self, value: Any) -> str:
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        try:
            return datetime.strptime(value, self._spec.date_format).date().isoformat()
        except (TypeError, ValueError):
            raise ValueError(f"is not a date ({self._date_text})") from None

    def _moment(self, value: Any) -> str:
        try:
            moment = value if isinstance(value, datetime) else datetime.strptime(
                value, self._spec.datetime_format)
        except (TypeError, ValueError):
            raise ValueError(f"is not a time ({self._datetime_text})") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        return moment.isoformat()

    def _number(self, value: Any, kind: str) -> int | float:
        if isinstance(value, bool):
            raise ValueError("is not a number")
        number: int | float
        if isinstance(value, int | float):
            number = value
        elif isinstance(value, str):
            text = value.replace(",", ".", 1) if self._spec.decimal_comma else value
            try:
                number = int(text) if kind == "int" else float(text)
            except ValueError:
                raise ValueError("is not a number" if kind == "float"
                                 else "is not a whole number") from None
        else:
            raise ValueError("is not a number")
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError("is not a number")
        if kind == "int":
            if isinstance(number, float) and not number.is_integer():
                raise ValueError("is not a whole number")
            return int(number)
        return float(number)


def read_export(data: bytes, fmt: str, spec: ExportFormat) -> Export:
    """The readable records of one export and the rows left out; DropRefused if the file as
    a whole cannot be read."""
    rows = _csv_rows(data, spec) if fmt == "csv" else _xlsx_rows(data, spec)
    try:
        return _records(rows, fmt, spec)
    finally:
        rows.close()  # a workbook is closed at once, whatever stopped the reading


def _records(rows: _Rows, fmt: str, spec: ExportFormat
             ) -> Export:
    mapping = spec.mapping
    reader = _Reader(spec)
    canonical = mapping.reader(FEED_COLUMNS)
    cell_spec = spec.disciplines
    decisions = cell_spec.mapping() if cell_spec is not None else None
    index: dict[str, int] | None = None
    width = 0
    records: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    seen = 0
    for number, cells in rows:
        if number < spec.header_row:
            continue
        if number == spec.header_row:
            if isinstance(cells, str):
                raise DropRefused(f"its header row cannot be read: {cells}")
            index, width = _header(cells, spec)
            continue
        if index is None:
            continue
        if isinstance(cells, str):
            problems.append(RowProblem(number, (cells,)))
            continue
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # an empty line or spreadsheet row
        seen += 1
        if seen > spec.max_rows:
            raise DropRefused(f"holds more than {spec.max_rows:,} rows")
        if fmt == "csv" and len(cells) != width:
            # A delimiter or quote out of place shifts every later cell: nothing in the row
            # can be trusted.
            problems.append(RowProblem(number, (f"has {len(cells)} cells, the header {width}",)))
            continue
        vendor: dict[str, Any] = {}
        reasons: list[str] = []
        for column, header in mapping.fields.items():
            raw = _at(cells, index[header])
            try:
                vendor[header] = reader.cell(raw, mapping.types.get(column, "str"))
            except ValueError as error:
                reasons.append(f"{header}: {error}")
        id_header = mapping.fields["personal_id"]
        personal_id = vendor.get(id_header)
        if not isinstance(personal_id, str) or not _PERSONAL_ID.fullmatch(personal_id):
            raw = _at(cells, index[id_header])
            reasons.append(f"{id_header}: a number, so leading zeros may be lost (export it "
                           "as text)" if isinstance(raw, int | float) and not isinstance(raw, bool)
                           else f"{id_header}: not a 12-digit personal ID")
        found: list[dict[str, Any]] | None = None
        if cell_spec is not None and decisions is not None:
            try:
                found = map_disciplines(decisions, _decisions(
                    _at(cells, index[cell_spec.column]), cell_spec, reader))
            except ValueError as error:
                reasons.append(f"{cell_spec.column}: {error}")
        if reasons:
            problems.append(RowProblem(number, tuple(dict.fromkeys(reasons))))
            continue
        record = canonical(vendor)
        record["disciplines"] = found
        records.append(record)
    if index is None:
        raise DropRefused(f"has no header row {spec.header_row}")
    return Export(tuple(records), tuple(problems))


def _at(cells: list[Any], position: int) -> Any:
    return cells[position] if position < len(cells) else None


def _header(cells: list[Any], spec: ExportFormat) -> tuple[dict[str, int], int]:
    """Where each wanted column is, and how many columns the header has."""
    names = [unicodedata.normalize("NFC", str(c).strip()) if c is not None else ""
             for c in cells]
    wanted = list(spec.mapping.fields.values())
    if spec.disciplines is not None:
        wanted.append(spec.disciplines.column)
    missing = [w for w in wanted if w not in names]
    if missing:
        raise DropRefused(f"lacks the column(s) {', '.join(map(repr, missing))}")
    doubled = sorted({w for w in wanted if names.count(w) > 1})
    if doubled:
        raise DropRefused(f"has the column(s) {', '.join(map(repr, doubled))} more than once")
    while names and not names[-1]:
        names.pop()  # spreadsheets pad rows with empty cells
    return {w: names.index(w) for w in wanted}, len(names)


def _decisions(raw: Any, spec: DisciplineCell, reader: _Reader) -> list[dict[str, Any]]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    if not isinstance(raw, str):
        raise ValueError("is not text")
    entries = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        parts = line.split(spec.part_separator, len(spec.parts) - 1)
        if len(parts) != len(spec.parts):
            raise ValueError(f"a decision has {len(parts)} parts, not {len(spec.parts)}")
        entries.append({name: reader.cell(part, "date" if name in _DATE_PARTS else "str")
                        for name, part in zip(spec.parts, parts, strict=True)})
    return entries


def _csv_rows(data: bytes, spec: ExportFormat) -> _Rows:
    try:
        text = data.decode(spec.encoding)
    except UnicodeDecodeError as error:
        raise DropRefused(f"is not {spec.encoding} text (byte {error.start + 1})") from None
    if "\x00" in text:
        raise DropRefused("holds a NUL character: not a text file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter, strict=True)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield number, f"not CSV ({error})"
            continue
        yield number, list(cells)


def _xlsx_rows(data: bytes, spec: ExportFormat) -> _Rows:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DropRefused(f"is not an Excel workbook ({error})") from None
    if expanded > spec.max_expanded_bytes:
        raise DropRefused(f"would expand to {expanded:,} bytes, over the bound of "
                          f"{spec.max_expanded_bytes:,}")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # any flaw of a foreign file is a refusal
        raise DropRefused(f"is not an Excel workbook ({type(error).__name__})") from None
    try:
        if spec.sheet is not None and spec.sheet not in workbook.sheetnames:
            raise DropRefused(f"has no sheet {spec.sheet!r}")
        sheet = workbook[spec.sheet] if spec.sheet is not None else workbook.worksheets[0]
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(values)
        except Exception as error:  # a sheet broken mid-way is a refusal too
            raise DropRefused(f"has an unreadable sheet ({type(error).__name__})") from None
    finally:
        workbook.close()
