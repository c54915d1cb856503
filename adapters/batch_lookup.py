"""The shape every HTTP source shares: look up many personal IDs in capped batches (sent
concurrently), translate each record, and apply the row filter before anything leaves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from adapters.errors import SourceUnavailable
from adapters.filters import RowFilter
from adapters.record_mapping import RecordMapping

__all__ = ["Lookup", "fetch_in_batches", "records_or_fail"]

# (ids of one batch, canonical columns wanted) -> the source's records for them
Lookup = Callable[[Sequence[str], tuple[str, ...]], Awaitable[list[dict[str, Any]]]]


async def fetch_in_batches(lookup: Lookup, mapping: RecordMapping, max_batch: int,
                           keys: Sequence[str], columns: Sequence[str],
                           row_filter: RowFilter = ()) -> list[dict[str, Any]]:
    wanted = tuple(dict.fromkeys([*columns, *(c.column for c in row_filter)]))
    chunks = [keys[i:i + max_batch] for i in range(0, len(keys), max_batch)]
    batches = await asyncio.gather(*(lookup(chunk, wanted) for chunk in chunks))
    read = mapping.reader(wanted)
    rows = [read(record) for batch in batches for record in batch]
    if row_filter:
        # A source rarely filters by our fields: conditions apply on arrival.
        rows = [r for r in rows if all(c.matches(r) for c in row_filter)]
    return rows


def records_or_fail(source: str, records: Any) -> list[dict[str, Any]]:
    """The list of records an answer holds, or SOURCE_UNAVAILABLE if it holds none."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SourceUnavailable(source, "answered in an unexpected shape")
    return records
