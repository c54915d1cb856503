"""What one caller may read, in the terms the loaders work in: columns, rows and masks.

The policy engine (in ``hub``) compiles a client's policy for one purpose into a ``Grants``
once; every request of that client and purpose hands it to its loaders. Loaders then fetch
only granted columns, push the row filters down into each source query, and mask values once
per object as rows arrive, so no per-field code runs for any of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters import RowFilter

__all__ = ["ROW_KEY_EXTENSION", "UNRESTRICTED", "Grants", "MaskedColumn", "masked_key"]

# A field of a client's schema that reads its value from another row key than its python name
# (a masked field) says so in this extension; the plan executor reads that key.
ROW_KEY_EXTENSION = "hub-row-key"


def masked_key(column: str, mask: str) -> str:
    """The row key a masked value is kept under, beside the real one: links and row filters
    still use the real value, while the client's schema reads only the masked key."""
    return f"{column}@{mask}"


@dataclass(frozen=True, slots=True)
class MaskedColumn:
    column: str
    mask: str
    apply: Callable[[Any], Any]
    key: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", masked_key(self.column, self.mask))


@dataclass(frozen=True, slots=True)
class Grants:
    """``columns``: per source entity, the columns that may be fetched (None: any — only for
    trusted internal callers). An entity not named may be fetched for its keys only.
    ``row_filters``: conditions every fetched row of an entity must meet.
    ``masks``: per entity, values replaced as rows arrive."""

    columns: Mapping[str, frozenset[str]] | None
    row_filters: Mapping[str, RowFilter] = field(default_factory=dict)
    masks: Mapping[str, tuple[MaskedColumn, ...]] = field(default_factory=dict)


UNRESTRICTED = Grants(columns=None)
