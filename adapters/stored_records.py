"""What the adapters over stored data share: a database read directly and dropped export files.

Neither kind has a vendor API that shapes its answers: the adapter reads rows and must itself
make them look like what an API would have sent (dates and times as ISO 8601 text, numbers as
numbers), so that the same ``RecordMapping`` with the same ``types`` and ``codes`` serves
every kind of source. Discipline decisions arrive as child rows (a table, or entries packed
into one cell) and are mapped with a mapping of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from adapters.record_mapping import RecordMapping

__all__ = ["DISCIPLINE_COLUMNS", "check_identifier", "map_disciplines", "plain_value"]

# The canonical fields of one discipline decision (see adapters/change_feeds.py).
DISCIPLINE_COLUMNS: Final = ("decision_number", "decided_on", "form_code", "issuer", "reason",
                             "effective_from", "effective_to")

# Plain lower-case SQL identifiers only: configuration names tables and columns, and nothing
# that needs quoting to be read (or could close a quote) is accepted.
_IDENTIFIER: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_identifier(source: str, what: str, name: object) -> str:
    """``name`` if it is a plain identifier; ValueError naming the source otherwise."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{source}: {what} {name!r} is not a plain lower-case SQL identifier")
    return name


def plain_value(value: Any) -> Any:
    """A stored value as a JSON API would have sent it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def map_disciplines(mapping: RecordMapping, rows: Iterable[Mapping[str, Any]]
                    ) -> list[dict[str, Any]]:
    """Vendor discipline rows (already plain values) as canonical decisions, in the order
    given."""
    read = mapping.reader(DISCIPLINE_COLUMNS)
    return [read(row) for row in rows]

