"""A personnel file's history: every accepted change, who submitted it, when, and what changed.

Read from ``record_version`` (one row per accepted change). ``CivilServant.history`` is
fetched for a whole list of civil servants at once: one query per level of the query,
whatever the list's length. What a client sees of each change follows its grants on the
records themselves (resolvers/history.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

import strawberry

from resolvers.history import history_view, shape_version, version_page, version_window
from resolvers.info import Info, Row

__all__ = ["FieldChange", "RecordHistory", "RecordHistoryPageInfo", "RecordVersion",
           "civil_servant_record_history"]


@strawberry.type(description="One field changed by an accepted submission. Only fields the "
                             "client may read are listed; a field it sees masked is listed "
                             "without its values.")
class FieldChange:
    field: str = strawberry.field(
        description="The field of the record's type (salaryStep, rank, form, ...).")
    before: str | None = strawberry.field(
        description="The value before, as text (a code-list reference shows its code); null "
                    "for a new record, an empty value, or a masked field.")
    after: str | None = strawberry.field(
        description="The value after, as text; null for an empty value or a masked field.")
    masked: bool = strawberry.field(
        description="The client sees this field masked: its values are withheld.")


@strawberry.type(description="One version of a personnel file: an accepted change to the "
                             "file itself or to one of its records, with who submitted it.")
class RecordVersion:
    version: int = strawberry.field(description="The file's version after the change.")
    entity: str = strawberry.field(
        description="Which record the change wrote: employee (the file itself), discipline, "
                    "evaluation, training, qualification, award, ...")
    record_key: str | None = strawberry.field(
        description="The record within the file: its id, or an evaluation's year; null for "
                    "the file itself.")
    applied_at: datetime = strawberry.field(description="When the change was written.")
    submitted_by: str = strawberry.field(
        description="The integrating system (OAuth client id) that submitted it.")
    agency_code: str | None = strawberry.field(
        description="The agency whose signature the submission carried.")
    source_system: str | None = strawberry.field(
        description="The agency's HR system the change came from, as the submission said.")
    signer_keys: list[str] = strawberry.field(
        description="The ids of the keys that signed the change (the agency's, and the "
                    "employee's for a co-signed declaration).")
    submission_id: strawberry.ID = strawberry.field(
        description="The submission that made the change.")
    changed_fields: list[str] = strawberry.field(
        description="The fields changed that the client may read (the names in changes).")
    changes: list[FieldChange]


@strawberry.type
class RecordHistoryPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of a personnel file's versions, newest first.")
class RecordHistory:
    versions: list[RecordVersion]
    page_info: RecordHistoryPageInfo


async def civil_servant_record_history(
        root: strawberry.Parent[Row], info: Info,
        from_: Annotated[datetime | None, strawberry.argument(
            name="from", description="Versions written at or after this time.")] = None,
        to: Annotated[datetime | None, strawberry.argument(
            description="Versions written before this time.")] = None,
        first: int | None = None, after: str | None = None) -> RecordHistory:
    """Batched across the list the civil servant is in: every object asks the same window's
    loader, which fetches once per tick."""
    context = info.context
    window, size = version_window(context.limits, from_, to, first, after)
    # The client's own schema (graphql-core's: strawberry's ``info.schema`` is the full one):
    # its fields are the client's grants, masked ones marked.
    view = history_view(info._raw_info.schema, context.grants.row_filters)

    def shape(row: Row) -> Row:
        return shape_version(row, view)

    rows: list[Row] = await context.loaders.record_history(
        window, view.visible(), shape).load(root["employee_code"])
    return cast("RecordHistory", version_page(rows, size))
