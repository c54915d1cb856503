"""Turning a vendor's record into the hub's canonical record, driven by configuration.

Each agency system names its fields and codes its values its own way. A mapping says, for
each canonical field, where the vendor keeps it (a dotted path for nested JSON), how to read
its type, and which vendor codes mean which national codes. Unknown codes pass through
unchanged: a value the hub cannot translate is shown as the source holds it, never dropped.

A canonical field may also hold a list of records (a person's discipline decisions): a *list
field* names where the vendor keeps the list and maps each item with a mapping of its own.
A list the vendor did not send, or sent with anything but objects in it, reads as None
(unknown), never as a shorter list: a decision must not vanish because it was garbled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from math import isfinite
from typing import Any

__all__ = ["CONVERTERS", "ListField", "RecordMapping"]


def _to_date(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def _to_datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or value == "":
        return None
    number = float(value)
    return number if isfinite(number) else None  # NaN and infinities are not numbers here


def _to_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or value == "":
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None  # never truncate silently
    return int(value)


def _to_str(value: Any) -> str | None:
    return None if value is None else str(value)


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "date": _to_date, "datetime": _to_datetime, "float": _to_float, "int": _to_int,
    "str": _to_str,
}


_Step = tuple[str, tuple[str, ...], Callable[[Any], Any] | None, Mapping[str, str] | None]
Reader = Callable[[Mapping[str, Any]], dict[str, Any]]


def _walk(record: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    value: Any = record
    for part in parts:
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True, slots=True)
class ListField:
    """A canonical field holding a list: where the vendor keeps it (a dotted path) and how
    each of its items maps (every field of ``mapping`` is read)."""

    path: str
    mapping: RecordMapping


@dataclass(frozen=True, slots=True)
class RecordMapping:
    fields: Mapping[str, str]                                  # canonical -> vendor path
    types: Mapping[str, str] = field(default_factory=dict)     # canonical -> converter name
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    lists: Mapping[str, ListField] = field(default_factory=dict)  # canonical -> list field
    # Compiled readers per column list: the mapping is interpreted once, not per record.
    _readers: dict[tuple[str, ...], Reader] = field(
        default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        unknown = {t for t in self.types.values() if t not in CONVERTERS}
        if unknown:
            raise ValueError(f"unknown field types in mapping: {sorted(unknown)}")
        missing = (set(self.types) | set(self.codes)) - set(self.fields)
        if missing:
            raise ValueError(f"types or codes given for unmapped fields: {sorted(missing)}")
        both = set(self.fields) & set(self.lists)
        if both:
            raise ValueError(f"fields mapped both as values and as lists: {sorted(both)}")

    def maps(self, canonical: str) -> bool:
        """Does the vendor hold this canonical field (as a value or as a list)?"""
        return canonical in self.fields or canonical in self.lists

    def vendor_path(self, canonical: str) -> str:
        return self.fields[canonical]

    def vendor_paths(self, columns: Sequence[str]) -> list[str]:
        """The dotted vendor paths behind ``columns``, a list field's as one path per field
        of its items (``ky_luat.so_quyet_dinh``): what a GraphQL source must be asked to
        select. Columns the vendor does not hold have none."""
        paths: list[str] = []
        for column in columns:
            if column in self.fields:
                paths.append(self.fields[column])
            elif column in self.lists:
                nested = self.lists[column]
                inner = nested.mapping
                paths += [f"{nested.path}.{path}" for path in inner.vendor_paths(
                    [*inner.fields, *inner.lists])]
        return paths

    def to_canonical(self, record: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
        return self.reader(columns)(record)

    def reader(self, columns: Sequence[str]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        key = tuple(columns)
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = self._compile(key)
        return reader

    def _compile(self, columns: tuple[str, ...]) -> Reader:
        plain: list[tuple[str, str]] = []      # flat vendor field, no conversion
        steps: list[_Step] = []
        lists: list[tuple[str, tuple[str, ...], Reader]] = []
        absent: list[str] = []
        for column in columns:
            nested = self.lists.get(column)
            if nested is not None:
                inner = nested.mapping
                lists.append((column, tuple(nested.path.split(".")),
                              inner.reader((*inner.fields, *inner.lists))))
                continue
            path = self.fields.get(column)
            if path is None:
                absent.append(column)
                continue
            parts = tuple(path.split("."))
            converter = CONVERTERS[self.types[column]] if column in self.types else None
            codes = self.codes.get(column)
            if len(parts) == 1 and converter is None and codes is None:
                plain.append((column, parts[0]))
            else:
                steps.append((column, parts, converter, codes))

        def read(record: Mapping[str, Any]) -> dict[str, Any]:
            out = {column: record.get(name) for column, name in plain}
            for column, parts, read_item in lists:
                items = _walk(record, parts)
                out[column] = ([read_item(item) for item in items]
                               if isinstance(items, list)
                               and all(isinstance(item, dict) for item in items) else None)
            for column, parts, converter, codes in steps:
                value = _walk(record, parts)
                if converter is not None:
                    try:
                        value = converter(value)
                    except (TypeError, ValueError):
                        value = None  # unreadable vendor value: shown as absent, not guessed
                if codes is not None and isinstance(value, str):
                    value = codes.get(value, value)
                out[column] = value
            for column in absent:
                out[column] = None
            return out

        return read
