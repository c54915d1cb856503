"""Reading a bulk file of changes for ``hub submit``: JSON Lines, or an agency's CSV or Excel
(.xlsx) export mapped to submission payloads by a mapping file; deterministic idempotency
keys; the resume state. No network here (``cli_submit`` sends what this module prepares).

**JSON Lines.** One JSON object a line; blank lines are skipped. Each is either

- an item already signed: ``{"kind", "submission", "idempotencyKey"?, "employeeSignature"?}``
  (the ``submitBatch`` input, sent as it is), or
- a payload to sign: ``{"kind", "employee", "baseVersion", "change", "sourceSystem"?, "jti"?,
  "iat"?, "iss"?}``, signed with ``--key``; ``iss`` defaults to ``--agency``, ``iat`` to the
  moment of signing and ``jti`` to a hash of the agency and the payload (so the same change
  always carries the same ``jti``, and the hub applies it at most once).

**Mapping file** (YAML) for CSV and Excel: which column gives which payload field::

    kind: position-change            # or {column: "Loại", map: {"NB": position-change}};
                                     # --kind overrides
    sourceSystem: hanoi-hrm          # a constant (optional)
    sheet: "Nhân sự"                 # Excel: the sheet (default: the first one)
    headerRow: 1                     # the row holding the column names (default 1)
    delimiter: ","                   # CSV: one character (default ",")
    encoding: utf-8                  # CSV: the file's encoding (default utf-8, BOM allowed)
    employee:
      employeeCode: "Mã cán bộ"      # a column name is shorthand for {column: ...}
      personalId: {column: "Số CCCD", optional: true}
    baseVersion: {column: "Phiên bản"}           # an integer by default
    jti: {column: "Mã thay đổi", optional: true}  # the system's own id of each change: unique
                                                 # per row (not a decision number, which one
                                                 # decision shares by many employees)
    change:
      rankCode:
        column: "Ngạch"
        map: {"CV": "01.003", "CVC": "01.002"}   # the agency's code → the national code
      salaryStep: {column: "Bậc", type: integer}
      salaryCoefficient: {column: "Hệ số", type: decimal, optional: true}
      effectiveFrom: {column: "Ngày hiệu lực", type: date, format: dd/mm/yyyy}
      reason: {value: "Nâng bậc lương thường xuyên"}   # a constant

A field spec is a column name, or a mapping of: ``column`` (the header's text, compared after
trimming spaces) or ``value`` (a constant); ``type``: ``string`` (default), ``integer``,
``decimal`` (kept as a string, e.g. "2.67"), ``date`` (written YYYY-MM-DD) or ``boolean``;
``format`` for dates (``dd/mm/yyyy``, ``yyyy-mm-dd``, ``dd.mm.yy``... or a strptime pattern
with ``%``; default ISO; Excel date cells need none); ``map``: the agency's values to the
national ones (a value not in the map is an error unless ``unmapped: keep``); ``optional:
true`` leaves the field out when the cell is empty (otherwise an empty cell is an error);
``default``: the value for an empty cell. A value that looks like a spreadsheet formula (it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and is not a number) and an
Excel cell holding a formula are refused: an export carries data, not formulas.

**Idempotency keys** are ``bulk-`` + sha256(file's sha256, line or row number, the record's
canonical content), so a rerun of the same file sends the same keys, and the hub answers what
it decided already with that first decision. **State** (``--state``): the file's identity and
how many records are done (every batch up to there acknowledged); a rerun skips those.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import math
import os
import re
import time
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from hub.updates.signatures import canonical_json
from hub.updates.strict_json import strict_loads

__all__ = ["FORMATS", "MAX_FILE_BYTES", "MAX_LINE_BYTES", "ColumnMapping", "FieldSpec",
           "InputError", "Prepared", "RawRecord", "ResumeState", "Signer", "file_identity",
           "format_of", "load_mapping", "prepare_item", "read_records", "record_key"]

FORMATS = ("jsonl", "csv", "xlsx")
#: A bulk file larger than this is refused whole (override with --max-bytes).
MAX_FILE_BYTES = 1 << 30
#: A line (JSONL) or row larger than this is refused on its own: a submission's payload is
#: at most 256 KiB, and a GraphQL request body at most 1 MB.
MAX_LINE_BYTES = 512 * 1024
MAX_CELL_CHARS = 32_767  # Excel's own limit
MAX_ROWS = 1_048_576
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TYPES = ("string", "integer", "decimal", "date", "boolean")
_SPEC_KEYS = frozenset({"column", "value", "type", "format", "map", "unmapped", "optional",
                        "default"})
_TOP_KEYS = frozenset({"kind", "sourceSystem", "sheet", "headerRow", "delimiter", "encoding",
                       "employee", "baseVersion", "jti", "iss", "change"})
_SIGNED_KEYS = frozenset({"kind", "submission", "idempotencyKey", "employeeSignature"})
_PAYLOAD_KEYS = frozenset({"kind", "employee", "baseVersion", "change", "sourceSystem", "jti",
                           "iat", "iss"})
_KEY = re.compile(r"[\x20-\x7e]{1,128}")


class InputError(Exception):
    """The file (or mapping) cannot be read at all: one message, nothing sent."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One line or row: the object it holds (JSONL), or the cells by column name (tables), or
    why it cannot be read. ``content`` is what the record's key is computed from."""

    number: int
    data: dict[str, Any] | None = None
    error: str | None = None
    content: bytes = b""


# --------------------------------------------------------------------------- file identity


def format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".xls":
        raise InputError(f"{path.name}: the old Excel format (.xls) is not read; save it as "
                         ".xlsx or CSV (UTF-8)")
    raise InputError(f"cannot tell the format of {path.name} from its name: give --format "
                     f"{'|'.join(FORMATS)}")


def file_identity(path: Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[str, int]:
    """(sha256 of the file's bytes, its number of lines): the file's identity in keys and the
    state, and a record count for the progress bar."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(f"{path} is not a regular file")
        if size > max_bytes:
            raise InputError(f"{path} is {size:,} bytes, over the limit of {max_bytes:,} "
                             "(split it, or raise --max-bytes)")
        digest = hashlib.sha256()
        lines = 0
        last = b"\n"
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    return digest.hexdigest(), lines + (last != b"\n")


def record_key(file_id: str, number: int, content: bytes) -> str:
    """The idempotency key of one record: the same file, line and content, the same key."""
    digest = hashlib.sha256()
    digest.update(file_id.encode("ascii"))
    digest.update(b"\n%d\n" % number)
    digest.update(content)
    return "bulk-" + digest.hexdigest()


# --------------------------------------------------------------------------- JSON Lines


def _read_jsonl(path: Path) -> Iterator[RawRecord]:
    with path.open("rb") as handle:
        number = 0
        while True:
            line = handle.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while True:  # skip the rest of the oversized line
                    rest = handle.readline(1 << 20)
                    if not rest or rest.endswith(b"\n"):
                        break
                yield RawRecord(number, error=f"line over {MAX_LINE_BYTES:,} bytes")
                continue
            if number == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8):]
            stripped = line.strip()
            if not stripped:
                continue
            try:
                text = stripped.decode("utf-8")
            except UnicodeDecodeError as error:
                yield RawRecord(number, error=f"not UTF-8 (byte {error.start + 1} of the line)")
                continue
            try:
                value = strict_loads(text)
            except (ValueError, RecursionError) as error:
                yield RawRecord(number, error=f"not JSON: {_short(str(error))}")
                continue
            if not isinstance(value, dict):
                yield RawRecord(number, error="not a JSON object")
                continue
            yield RawRecord(number, data=value, content=_canonical(value))


def _canonical(value: Any) -> bytes:
    try:
        return canonical_json(value)
    except (ValueError, UnicodeEncodeError):
        return json.dumps(value, sort_keys=True, ensure_ascii=True).encode("ascii")


def _short(text: str, limit: int = 200) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Where one payload field comes from, and how the value is converted."""

    name: str
    column: str | None = None
    value: Any = None
    type: str = "string"
    format: str | None = None
    map: dict[str, Any] | None = None
    keep_unmapped: bool = False
    optional: bool = False
    default: Any = None


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """A mapping file, checked."""

    kind: FieldSpec | None
    source_system: str | None
    employee: tuple[FieldSpec, ...]
    base_version: FieldSpec | None
    jti: FieldSpec | None
    iss: FieldSpec | None
    change: tuple[FieldSpec, ...]
    sheet: str | None = None
    header_row: int = 1
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    digest: str = ""

    def specs(self) -> list[FieldSpec]:
        return [spec for spec in (self.kind, self.base_version, self.jti, self.iss,
                                  *self.employee, *self.change) if spec is not None]

    def columns(self) -> list[str]:
        return sorted({spec.column for spec in self.specs() if spec.column is not None})


def _date_pattern(text: str) -> str:
    if "%" in text:
        return text
    pattern = text
    for token, directive in (("yyyy", "%Y"), ("yy", "%y"), ("dd", "%d"), ("mm", "%m")):
        pattern = re.sub(token, directive, pattern, flags=re.IGNORECASE)
    if "%d" not in pattern or "%m" not in pattern or not ("%Y" in pattern or "%y" in pattern):
        raise ValueError(f"date format {text!r} must name dd, mm and yyyy (or yy)")
    return pattern


def _spec(name: str, raw: Any, *, default_type: str = "string") -> FieldSpec:
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        raise ValueError(f"{name}: a column name, or a mapping with column or value")
    unknown = sorted(set(raw) - _SPEC_KEYS)
    if unknown:
        raise ValueError(f"{name}: unknown setting(s) {', '.join(map(str, unknown))}")
    column, value = raw.get("column"), raw.get("value")
    if (column is None) == (value is None):
        raise ValueError(f"{name}: give exactly one of column and value")
    if column is not None and (not isinstance(column, str | int) or not str(column).strip()):
        raise ValueError(f"{name}: column must be a column's name")
    kind = raw.get("type", default_type)
    if kind not in _TYPES:
        raise ValueError(f"{name}: type must be one of {', '.join(_TYPES)}")
    fmt = raw.get("format")
    if fmt is not None:
        if kind != "date" or not isinstance(fmt, str):
            raise ValueError(f"{name}: format is for dates (type: date), as text")
        fmt = _date_pattern(fmt)
    table = raw.get("map")
    if table is not None:
        if not isinstance(table, dict) or not table:
            raise ValueError(f"{name}: map must be a mapping of the agency's values to the "
                             "national ones")
        table = {str(k).strip(): v for k, v in table.items()}
    unmapped = raw.get("unmapped", "error")
    if unmapped not in ("error", "keep"):
        raise ValueError(f"{name}: unmapped must be error or keep")
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise ValueError(f"{name}: optional must be true or false")
    return FieldSpec(name=name, column=None if column is None else str(column).strip(),
                     value=value, type=kind, format=fmt, map=table,
                     keep_unmapped=unmapped == "keep", optional=optional,
                     default=raw.get("default"))


def load_mapping(path: Path) -> ColumnMapping:
    """Read and check a mapping file; ``ValueError`` says what is wrong with it."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > 1 << 20:
        raise ValueError(f"{path} is over 1 MiB: not a mapping file")
    try:
        raw = yaml.safe_load(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not YAML: {_short(str(error))}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a mapping file is a YAML mapping (kind, employee, "
                         "baseVersion, change, ...)")
    unknown = sorted(set(map(str, raw)) - _TOP_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)}; expected "
                         f"{', '.join(sorted(_TOP_KEYS))}")
    try:
        return _mapping(raw, hashlib.sha256(data).hexdigest())
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def _mapping(raw: dict[str, Any], digest: str) -> ColumnMapping:
    kind = raw.get("kind")
    kind_spec = None
    if kind is not None:
        kind_spec = (FieldSpec("kind", value=kind) if isinstance(kind, str)
                     else _spec("kind", kind))
    source = raw.get("sourceSystem")
    if source is not None and not isinstance(source, str):
        raise ValueError("sourceSystem is a constant: the agency system's name")
    employee = raw.get("employee")
    if not isinstance(employee, dict) or not employee:
        raise ValueError("employee: give employeeCode (and personalId) columns")
    bad = sorted(set(map(str, employee)) - {"employeeCode", "personalId"})
    if bad:
        raise ValueError(f"employee: unknown field(s) {', '.join(bad)}")
    if "employeeCode" not in employee and "personalId" not in employee:
        raise ValueError("employee: give employeeCode or personalId")
    employee_specs = tuple(_spec(f"employee.{name}", spec) for name, spec in employee.items())
    change = raw.get("change")
    if not isinstance(change, dict) or not change:
        raise ValueError("change: map at least one field of the change")
    change_specs = tuple(_spec(f"change.{name}", spec) for name, spec in change.items())
    base = raw.get("baseVersion")
    base_spec = None if base is None else _spec("baseVersion", base, default_type="integer")
    jti = None if raw.get("jti") is None else _spec("jti", raw["jti"])
    iss = None if raw.get("iss") is None else _spec("iss", raw["iss"])
    sheet = raw.get("sheet")
    if sheet is not None and not isinstance(sheet, str):
        raise ValueError("sheet is a sheet's name")
    header_row = raw.get("headerRow", 1)
    if type(header_row) is not int or not 1 <= header_row <= 1000:
        raise ValueError("headerRow is a row number from 1 to 1000")
    delimiter = raw.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
        raise ValueError("delimiter is one character (not a quote or a line break)")
    encoding = raw.get("encoding", "utf-8")
    try:
        encoding = codecs.lookup(str(encoding)).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    if encoding == "utf-8":
        encoding = "utf-8-sig"
    return ColumnMapping(kind=kind_spec, source_system=source, employee=employee_specs,
                    base_version=base_spec, jti=jti, iss=iss, change=change_specs,
                    sheet=sheet, header_row=header_row, delimiter=delimiter,
                    encoding=encoding, digest=digest)


# --------------------------------------------------------------------------- tables


def _cell_text(value: Any) -> Any:
    """A cell as read: text trimmed, numbers and dates kept as they are."""
    if isinstance(value, str):
        return value.strip()
    return value


def _header(cells: list[Any], mapping: ColumnMapping, where: str) -> list[str]:
    names = ["" if c is None else str(c).strip() for c in cells]
    missing = [c for c in mapping.columns() if c not in names]
    if missing:
        present = ", ".join(repr(n) for n in names if n) or "none"
        raise InputError(f"{where}: the mapping names column(s) not in the header row "
                         f"{mapping.header_row}: {', '.join(map(repr, missing))} "
                         f"(the columns are: {_short(present, 400)})")
    dupes = sorted({n for n in names if n and names.count(n) > 1} & set(mapping.columns()))
    if dupes:
        raise InputError(f"{where}: column(s) {', '.join(map(repr, dupes))} appear twice in "
                         "the header row")
    return names


def _row_record(number: int, names: list[str], cells: list[Any],
                wanted: list[str]) -> RawRecord:
    data: dict[str, Any] = {}
    for index, name in enumerate(names):
        if name in wanted and name not in data:
            value = cells[index] if index < len(cells) else None
            if isinstance(value, _Formula):
                return RawRecord(number, error=f"column {name!r} holds a formula "
                                               f"({_short(value.text, 40)}), not a value")
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                return RawRecord(number, error=f"column {name!r} is over "
                                               f"{MAX_CELL_CHARS:,} characters")
            data[name] = _cell_text(value)
    if all(v is None or v == "" for v in data.values()) and all(
            c is None or (isinstance(c, str) and not c.strip()) for c in cells):
        return RawRecord(number)  # an empty row: skipped
    content = _canonical({k: _jsonable(v) for k, v in sorted(data.items())})
    return RawRecord(number, data=data, content=content)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True, slots=True)
class _Formula:
    text: str


def _read_csv(path: Path, mapping: ColumnMapping) -> Iterator[RawRecord]:
    raw = path.read_bytes()
    try:
        text = raw.decode(mapping.encoding)
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise InputError(f"{path.name} is not {mapping.encoding.removesuffix('-sig')} (byte "
                         f"{error.start + 1}, line {line}): export it as CSV UTF-8, or name "
                         "its encoding in the mapping (encoding: cp1258)") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(f"{path.name} holds a NUL character (line {line}): not a CSV "
                         "text file")
    csv.field_size_limit(MAX_LINE_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter,
                        strict=True)
    wanted = mapping.columns()
    names: list[str] | None = None
    row_number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            row_number += 1
            yield RawRecord(reader.line_num, error=f"not CSV: {_short(str(error))}")
            if names is None:
                raise InputError(f"{path.name}: the header row cannot be read: {error}"
                                 ) from None
            continue
        row_number += 1
        line = reader.line_num
        if row_number < mapping.header_row:
            continue
        if row_number == mapping.header_row:
            names = _header(cells, mapping, path.name)
            continue
        assert names is not None
        if sum(len(c) for c in cells) > MAX_LINE_BYTES:
            yield RawRecord(line, error=f"row over {MAX_LINE_BYTES:,} characters")
            continue
        yield _row_record(line, names, list(cells), wanted)
    if names is None:
        raise InputError(f"{path.name} has no header row {mapping.header_row}")


def _read_xlsx(path: Path, mapping: ColumnMapping) -> Iterator[RawRecord]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise InputError(f"{path.name} is not an Excel workbook (.xlsx): "
                         f"{_short(str(error), 120)}") from None
    sheet: Any
    try:
        if mapping.sheet is not None:
            if mapping.sheet not in workbook.sheetnames:
                raise InputError(f"{path.name} has no sheet {mapping.sheet!r} (its sheets: "
                                 f"{', '.join(map(repr, workbook.sheetnames))})")
            sheet = workbook[mapping.sheet]
        else:
            sheet = workbook.worksheets[0]
        wanted = mapping.columns()
        names: list[str] | None = None
        for number, row in enumerate(sheet.iter_rows(), start=1):
            if number > MAX_ROWS:
                raise InputError(f"{path.name}: more than {MAX_ROWS:,} rows")
            cells = [_xlsx_value(cell) for cell in row]
            if number < mapping.header_row:
                continue
            if number == mapping.header_row:
                names = _header(cells, mapping, f"{path.name}, sheet {sheet.title!r}")
                continue
            if names is None:
                continue
            yield _row_record(number, names, cells, wanted)
        if names is None:
            raise InputError(f"{path.name}, sheet {sheet.title!r}, has no header row "
                             f"{mapping.header_row}")
    finally:
        workbook.close()


def _xlsx_value(cell: Any) -> Any:
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f" or type(value).__name__ in (
            "ArrayFormula", "DataTableFormula"):
        return _Formula(str(getattr(value, "text", value)))
    return value


# --------------------------------------------------------------------------- reading


def read_records(path: Path, fmt: str, mapping: ColumnMapping | None = None) -> Iterator[RawRecord]:
    """The records of a file in order (blank lines and empty rows left out). ``InputError``
    when the file as a whole cannot be read (not UTF-8 for CSV, columns missing, not a
    workbook): raised before the first record."""
    if fmt == "jsonl":
        return _read_jsonl(path)
    if mapping is None:
        raise InputError(f"a {fmt.upper()} file needs --mapping: which column gives which "
                         "field")
    reader = _read_csv(path, mapping) if fmt == "csv" else _read_xlsx(path, mapping)
    # Run the reader up to its first record, so whole-file errors come out here.
    first = next(reader, None)

    def chained() -> Iterator[RawRecord]:
        if first is not None:
            yield first
            yield from reader

    return chained()


# --------------------------------------------------------------------------- preparing items


class Signer:
    """Signs payloads with an agency's private key (``--key``)."""

    def __init__(self, jwk: Mapping[str, Any], agency: str | None) -> None:
        from joserfc.jwk import import_key

        from hub.updates.keys import signer_jwk

        stored, _, algorithm = signer_jwk(jwk, public_only=True)
        if not any(member in jwk for member in ("d", "p")):
            raise ValueError("the key file holds a public key: signing needs the agency's "
                             "private key")
        self.key = import_key(dict(jwk))
        self.kid: str = stored["kid"]
        self.algorithm = algorithm
        self.agency = agency

    def sign(self, payload: Mapping[str, Any]) -> str:
        from hub.updates.signatures import sign_submission

        return sign_submission(payload, self.key, kid=self.kid, alg=self.algorithm)


@dataclass(slots=True)
class Prepared:
    """A record ready to send (``item``), or why it cannot be (``error``)."""

    number: int
    key: str
    item: dict[str, Any] | None = None
    error: str | None = None


def _text_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else (
            value.isoformat())
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _looks_like_formula(text: str) -> bool:
    return text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text)


def _convert(spec: FieldSpec, value: Any) -> Any:
    """A cell's value as the payload wants it; ``ValueError`` with a message otherwise."""
    if spec.map is not None:
        key = _text_value(value)
        if key in spec.map:
            return spec.map[key]
        if not spec.keep_unmapped:
            shown = ", ".join(map(repr, list(spec.map)[:8]))
            raise ValueError(f"{_short(key, 40)!r} is not in the mapping's map (known: "
                             f"{shown}{', …' if len(spec.map) > 8 else ''})")
    if isinstance(value, str) and _looks_like_formula(value):
        raise ValueError(f"{_short(value, 40)!r} looks like a spreadsheet formula")
    if spec.type == "string":
        return _text_value(value)
    if spec.type == "integer":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = _text_value(value)
        if re.fullmatch(r"[+-]?\d{1,12}", text):
            return int(text)
        raise ValueError(f"{_short(text, 40)!r} is not an integer")
    if spec.type == "decimal":
        text = _text_value(value).replace(",", ".") if isinstance(value, str) else str(value)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{_short(text, 40)!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{_short(text, 40)!r} is not a number")
        return str(number)
    if spec.type == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        text = _text_value(value)
        try:
            parsed = (datetime.strptime(text, spec.format).date() if spec.format
                      else date.fromisoformat(text))
        except ValueError:
            wanted = spec.format or "YYYY-MM-DD"
            raise ValueError(f"{_short(text, 40)!r} is not a date ({wanted})") from None
        return parsed.isoformat()
    # boolean
    if isinstance(value, bool):
        return value
    text = _text_value(value).lower()
    if text in ("true", "yes", "1", "x", "có", "co"):
        return True
    if text in ("false", "no", "0", "không", "khong"):
        return False
    raise ValueError(f"{_short(text, 40)!r} is not true or false")


def _field(spec: FieldSpec, row: Mapping[str, Any]) -> tuple[bool, Any]:
    """(present, value) of one field of a row."""
    if spec.column is None:
        return True, spec.value
    value = row.get(spec.column)
    if value is None or (isinstance(value, str) and not value):
        if spec.default is not None:
            return True, spec.default
        if spec.optional:
            return False, None
        raise ValueError("empty")
    return True, _convert(spec, value)


def _mapped_payload(row: Mapping[str, Any], mapping: ColumnMapping, kind: str | None
                    ) -> dict[str, Any]:
    errors: list[str] = []
    payload: dict[str, Any] = {}

    def take(spec: FieldSpec) -> tuple[bool, Any]:
        try:
            return _field(spec, row)
        except ValueError as error:
            where = f"column {spec.column!r}" if spec.column else "the constant"
            errors.append(f"{spec.name} ({where}): {error}")
            return False, None

    if kind is not None:
        payload["kind"] = kind
    elif mapping.kind is not None:
        present, value = take(mapping.kind)
        if present:
            payload["kind"] = value
    employee: dict[str, Any] = {}
    for spec in mapping.employee:
        present, value = take(spec)
        if present:
            employee[spec.name.removeprefix("employee.")] = value
    payload["employee"] = employee
    if mapping.base_version is not None:
        present, value = take(mapping.base_version)
        if present:
            payload["baseVersion"] = value
    change: dict[str, Any] = {}
    for spec in mapping.change:
        present, value = take(spec)
        if present:
            change[spec.name.removeprefix("change.")] = value
    payload["change"] = change
    for extra, name in ((mapping.jti, "jti"), (mapping.iss, "iss")):
        if extra is not None:
            present, value = take(extra)
            if present:
                payload[name] = value
    if mapping.source_system is not None:
        payload["sourceSystem"] = mapping.source_system
    if errors:
        raise ValueError("; ".join(errors))
    return payload


def _derived_jti(iss: str, payload: Mapping[str, Any]) -> str:
    content = {k: v for k, v in payload.items() if k not in ("jti", "iat")}
    return "bulk-" + hashlib.sha256(iss.encode("utf-8") + b"\n" + _canonical(content)
                                    ).hexdigest()[:40]


def _signed(payload: dict[str, Any], signer: Signer | None, now: float) -> dict[str, Any]:
    if signer is None:
        raise ValueError("an unsigned change: give --key (the agency's private signing key) "
                         "to sign it")
    iss = payload.get("iss") or signer.agency
    if not iss:
        raise ValueError('no "iss": give --agency CODE (the agency the key is registered '
                         "for)")
    payload = {**payload, "iss": iss}
    if payload.get("jti") is None:
        payload["jti"] = _derived_jti(iss, payload)
    if payload.get("iat") is None:
        payload["iat"] = int(now)
    try:
        canonical_json(payload)
    except (ValueError, UnicodeEncodeError) as error:
        raise ValueError(f"the payload cannot be signed: {_short(str(error))}") from None
    return payload


def prepare_item(record: RawRecord, file_id: str, *, mapping: ColumnMapping | None,
                 signer: Signer | None, kind: str | None,
                 now: float | None = None) -> Prepared:
    """The ``submitBatch`` item for one record, or the input error that keeps it back."""
    key = record_key(file_id, record.number, record.content)
    if record.error is not None or record.data is None:
        return Prepared(record.number, key, error=record.error or "empty")
    data = record.data
    moment = time.time() if now is None else now
    try:
        if mapping is not None:
            payload = _signed(_mapped_payload(data, mapping, kind), signer, moment)
            assert signer is not None
            return _item(record.number, key, payload.get("kind"), signer.sign(payload))
        if "submission" in data:
            return _signed_item(record.number, key, data, kind)
        unknown = sorted(set(data) - _PAYLOAD_KEYS)
        if unknown:
            raise ValueError(f"unknown member(s) {', '.join(map(repr, unknown))[:120]}: a "
                             "line is a signed item (kind, submission, idempotencyKey, "
                             "employeeSignature) or a payload (kind, employee, baseVersion, "
                             "change, sourceSystem, jti, iat, iss)")
        payload = dict(data)
        if kind is not None:
            if payload.get("kind") not in (None, kind):
                raise ValueError(f"kind {payload.get('kind')!r}, but --kind {kind}")
            payload["kind"] = kind
        if not isinstance(payload.get("employee"), dict):
            raise ValueError('"employee" must be an object naming the employee')
        if not isinstance(payload.get("change"), dict):
            raise ValueError('"change" must be an object')
        payload = _signed(payload, signer, moment)
        assert signer is not None
        return _item(record.number, key, payload.get("kind"), signer.sign(payload))
    except ValueError as error:
        return Prepared(record.number, key, error=str(error))


def _item(number: int, key: str, kind: Any, token: str) -> Prepared:
    if not isinstance(kind, str) or not kind:
        return Prepared(number, key, error='no kind: give "kind" (or --kind, or kind in the '
                                           "mapping)")
    return Prepared(number, key, item={"kind": kind, "submission": token,
                                       "idempotencyKey": key})


def _signed_item(number: int, key: str, data: Mapping[str, Any], kind: str | None
                 ) -> Prepared:
    unknown = sorted(set(data) - _SIGNED_KEYS)
    if unknown:
        raise ValueError(f"unknown member(s) of a signed item: "
                         f"{', '.join(map(repr, unknown))[:120]}")
    token = data["submission"]
    if not isinstance(token, str) or token.count(".") != 2:
        raise ValueError('"submission" must be a compact JWS (three base64url segments)')
    item_kind = data.get("kind", kind)
    if kind is not None and item_kind != kind:
        raise ValueError(f"kind {item_kind!r}, but --kind {kind}")
    given = data.get("idempotencyKey")
    if given is not None:
        if not isinstance(given, str) or not _KEY.fullmatch(given):
            raise ValueError('"idempotencyKey" must be 1 to 128 printable ASCII characters')
        key = given
    prepared = _item(number, key, item_kind, token)
    signature = data.get("employeeSignature")
    if signature is not None:
        if not isinstance(signature, str) or signature.count(".") != 2:
            raise ValueError('"employeeSignature" must be a compact JWS')
        if prepared.item is not None:
            prepared.item["employeeSignature"] = signature
    return prepared


# --------------------------------------------------------------------------- resume state


@dataclass(slots=True)
class ResumeState:
    """What a run has done so far: every record up to line (or row) ``done`` was sent and
    answered, or reported as an input error. Written atomically after every acknowledged
    batch."""

    path: Path
    file_id: str
    mapping: str = ""
    done: int = 0

    @classmethod
    def open(cls, path: Path, file_id: str, mapping: str = "") -> tuple[ResumeState, str]:
        """The state for this file: resumed from ``path`` if it is this file's, else new; with
        a note for people when an existing state is set aside."""
        state = cls(path, file_id, mapping)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return state, ""
        except OSError as error:
            raise InputError(f"cannot read the state file {path}: {error.strerror}") from None
        try:
            data = json.loads(raw)
            done = data["done"]
            if type(done) is not int or done < 0:
                raise ValueError("done")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return state, f"the state file {path} is unreadable: starting from the beginning"
        if data.get("file") != file_id or data.get("mapping", "") != mapping:
            return state, (f"the state file {path} is for another file or mapping (or the "
                           "file changed): starting from the beginning")
        state.done = done
        return state, f"resuming after line/row {done:,} (state file {path})"

    def save(self, done: int) -> None:
        self.done = done
        body = json.dumps({"version": 1, "file": self.file_id, "mapping": self.mapping,
                           "done": done, "updated": datetime.now().astimezone().isoformat()})
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
