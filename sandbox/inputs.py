"""Validation of request inputs, with messages that say what was wrong and where.

Every check raises :class:`~sandbox.http.InvalidInput` (HTTP 400). Messages quote at most a
short preview of the offending value, so a hostile megabyte-long string is not echoed back.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, date, datetime

from sandbox.http import InvalidInput

__all__ = ["bounded_text", "iso_date", "iso_datetime", "json_list", "json_object",
           "personal_id", "preview"]

# ASCII digits only: Python's \d would also accept e.g. Arabic-Indic digits.
_PERSONAL_ID = re.compile(r"[0-9]{12}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAX_DATETIME_CHARS = 40  # '2024-01-01T00:00:00.000000+07:00' is 32


def preview(value: object, limit: int = 40) -> str:
    """A short, safe rendering of a client-supplied value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def json_object(body: object, *, required: Collection[str],
                optional: Collection[str] = ()) -> dict[str, object]:
    """``body`` as a JSON object with exactly the ``required`` fields and maybe ``optional``."""
    if not isinstance(body, dict):
        raise InvalidInput(f"request body must be a JSON object, got {_type_name(body)}")
    missing = [name for name in required if name not in body]
    if missing:
        raise InvalidInput(f"missing field(s): {', '.join(missing)}")
    # Unknown fields are refused rather than ignored: a misspelt field name in a caller is a
    # bug the sandbox should surface, not paper over.
    unknown = [str(name) for name in body if name not in required and name not in optional]
    if unknown:
        names = ", ".join(preview(name, 30) for name in unknown[:5])
        raise InvalidInput(f"unknown field(s): {names}")
    return body


def json_list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise InvalidInput(f"{where} must be an array, got {_type_name(value)}")
    return value


def personal_id(value: object, where: str) -> str:
    """A personal identification number: exactly 12 ASCII digits."""
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string of exactly 12 digits, "
                           f"got {_type_name(value)}")
    if not _PERSONAL_ID.fullmatch(value):
        raise InvalidInput(f"{where} must be exactly 12 digits, got {preview(value)}")
    return value


def bounded_text(value: object, where: str, max_chars: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string, got {_type_name(value)}")
    if not value.strip():
        raise InvalidInput(f"{where} must not be empty")
    if len(value) > max_chars:
        raise InvalidInput(f"{where} must be at most {max_chars} characters, got {len(value)}")
    return value


def iso_date(value: object, where: str) -> date:
    """A calendar date written ``YYYY-MM-DD``."""
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a date string YYYY-MM-DD, got {_type_name(value)}")
    if _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{where} must be a valid date YYYY-MM-DD, got {preview(value)}")


def iso_datetime(value: object, where: str) -> datetime:
    """An ISO 8601 date-time; without an offset it is taken as UTC."""
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be an ISO 8601 date-time string, "
                           f"got {_type_name(value)}")
    parsed: datetime | None = None
    if len(value) <= _MAX_DATETIME_CHARS:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        hint = ""
        if " " in value.strip():
            # The classic mistake: an unencoded '+' of '+07:00' in a query string arrives as
            # a space.
            hint = " (in a URL, encode '+' of a UTC offset as %2B)"
        raise InvalidInput(f"{where} must be an ISO 8601 date-time such as "
                           f"2025-01-31T08:00:00+07:00, got {preview(value)}{hint}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
