"""Source registry entries of the agency systems the hub reads as stored data:
``kind: database`` (a vendor's PostgreSQL database, read directly) and ``kind: file-drop``
(a directory the system drops full exports into). See ``config/sources.yaml``.

Every key is checked: a misspelt one is refused rather than silently meaning a default, since
the defaults decide what is read (a table, a directory) and how it is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters import RecordMapping
from adapters.agency_database import DatabaseAgencySystemConfig, DisciplineTable
from adapters.drop_export import DisciplineCell, ExportFormat
from adapters.file_drop import FileDropConfig
from hub.config import PROJECT_ROOT

__all__ = ["database_system", "file_drop_system"]

# Keys every agency system entry may carry besides its kind's own (``sync`` and ``feed`` are
# read by hub.sync).
_COMMON = frozenset({"name", "kind", "serves", "fields", "types", "codes", "timeout_seconds",
                     "sync", "feed"})
_DATABASE = _COMMON | {"dsn", "schema", "table", "key_column", "modified_column",
                       "disciplines", "max_batch", "pool_max", "settle_seconds"}
_FILE_DROP = _COMMON | {"directory", "prefix", "formats", "encoding", "delimiter", "sheet",
                        "header_row", "date_format", "datetime_format", "utc_offset",
                        "decimal_comma", "disciplines", "max_file_bytes", "max_rows",
                        "max_expanded_bytes", "rescan_seconds"}
_OFFSET = re.compile(r"([+-])([01][0-9]|2[0-3]):([0-5][0-9])")


def _checked_keys(entry: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise ValueError(f"{what}: unknown setting(s) {sorted(unknown)}")


def _mapping(entry: Mapping[str, Any]) -> RecordMapping:
    fields = entry["fields"]
    if not isinstance(fields, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
        raise ValueError("fields must map canonical names to the system's names")
    return RecordMapping(fields=fields, types=entry.get("types") or {},
                         codes=entry.get("codes") or {})


def database_system(entry: Mapping[str, Any]) -> DatabaseAgencySystemConfig:
    name = str(entry["name"])
    _checked_keys(entry, _DATABASE, f"agency system {name!r}")
    disciplines = None
    if entry.get("disciplines") is not None:
        raw = entry["disciplines"]
        _checked_keys(raw, frozenset({"table", "parent_column", "fields", "types", "codes"}),
                      f"agency system {name!r} disciplines")
        disciplines = DisciplineTable(table=str(raw["table"]),
                                      parent_column=str(raw["parent_column"]),
                                      mapping=_mapping(raw))
    return DatabaseAgencySystemConfig(
        name=name, serves=tuple(str(p) for p in entry["serves"]), dsn=str(entry["dsn"]),
        table=str(entry["table"]), key_column=str(entry["key_column"]),
        modified_column=str(entry["modified_column"]), mapping=_mapping(entry),
        schema=str(entry.get("schema", "public")), disciplines=disciplines,
        timeout_seconds=float(entry.get("timeout_seconds", 2.0)),
        max_batch=int(entry.get("max_batch", 1000)), pool_max=int(entry.get("pool_max", 4)),
        settle_seconds=float(entry.get("settle_seconds", 5.0)))


def _offset(text: str) -> timedelta:
    match = _OFFSET.fullmatch(text)
    if match is None:
        raise ValueError(f"utc_offset must look like +07:00, not {text!r}")
    sign = -1 if match.group(1) == "-" else 1
    return sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"{value!r} is not true or false")


def file_drop_system(entry: Mapping[str, Any]) -> FileDropConfig:
    name = str(entry["name"])
    _checked_keys(entry, _FILE_DROP, f"agency system {name!r}")
    disciplines = None
    if entry.get("disciplines") is not None:
        raw = entry["disciplines"]
        _checked_keys(raw, frozenset({"column", "parts", "codes", "part_separator"}),
                      f"agency system {name!r} disciplines")
        disciplines = DisciplineCell(column=str(raw["column"]),
                                     parts=tuple(str(p) for p in raw["parts"]),
                                     codes=raw.get("codes") or {},
                                     part_separator=str(raw.get("part_separator", "|")))
    defaults = ExportFormat(mapping=RecordMapping(fields={"personal_id": "id"}))
    export = ExportFormat(
        mapping=_mapping(entry),
        date_format=str(entry.get("date_format", defaults.date_format)),
        datetime_format=str(entry.get("datetime_format", defaults.datetime_format)),
        utc_offset=_offset(str(entry["utc_offset"])) if "utc_offset" in entry
        else defaults.utc_offset,
        decimal_comma=_flag(entry.get("decimal_comma", defaults.decimal_comma)),
        encoding=str(entry.get("encoding", defaults.encoding)),
        delimiter=str(entry.get("delimiter", defaults.delimiter)),
        sheet=None if entry.get("sheet") is None else str(entry["sheet"]),
        header_row=int(entry.get("header_row", defaults.header_row)),
        disciplines=disciplines,
        max_rows=int(entry.get("max_rows", defaults.max_rows)),
        max_expanded_bytes=int(entry.get("max_expanded_bytes", defaults.max_expanded_bytes)))
    directory = Path(str(entry["directory"]))
    formats = entry.get("formats", ["csv", "xlsx"])
    if not isinstance(formats, list):
        raise ValueError("formats must be a list")
    return FileDropConfig(
        name=name, serves=tuple(str(p) for p in entry["serves"]),
        # Relative to the project, like the hub's other files (.hub/...).
        directory=directory if directory.is_absolute() else PROJECT_ROOT / directory,
        export=export, prefix=str(entry.get("prefix", "nhansu_")),
        formats=tuple(str(f) for f in formats),
        max_file_bytes=int(entry.get("max_file_bytes", 64 * 1024 * 1024)),
        rescan_seconds=float(entry.get("rescan_seconds", 1.0)),
        timeout_seconds=float(entry.get("timeout_seconds", 10.0)))
