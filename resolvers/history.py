"""Record history and the submissions inbox: arguments, cursors, and what a client may see.

``CivilServant.history`` lists the versions of a personnel file (one per accepted change,
``record_version``), newest first; ``Query.submissions`` the caller's own submissions. Both
take a time range, a page size and a cursor, checked here (BAD_USER_INPUT says what is wrong).

The values a version kept are personal data, so a client sees of them exactly what it may
read of the records themselves (``HistoryView``, derived from the client's own schema):

- a change to a field of a record type the client reads unmasked shows the field's name and
  its values before and after (as text; a code-list reference such as ``rank`` shows its code);
- a change to a field the client sees masked shows the field's name, never its values
  (``masked: true``);
- a change to a field the client may not read at all is left out entirely, name included; a
  version with no change left is not listed at all (the SQL skips it, so pages stay exact);
- a record group the client cannot reach from the civil servant (``disciplines`` not
  granted), or whose rows its policy filters, is left out entirely too: the history would
  otherwise show records the filter hides.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from graphql import GraphQLObjectType, GraphQLSchema

from adapters import (
    InboxWindow,
    RowFilter,
    SubmissionKey,
    VersionKey,
    VersionWindow,
)
from resolvers.context import QueryLimits
from resolvers.entities import ENTITY_OF_TYPE, column_of
from resolvers.errors import BadUserInput
from resolvers.grants import ROW_KEY_EXTENSION
from resolvers.links import LINKS
from resolvers.pagination import check_page_size
from resolvers.shaping import SHAPED_FROM

__all__ = ["HistoryView", "history_view", "inbox_page", "inbox_window", "version_page",
           "version_window"]

Row = dict[str, Any]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CURSOR = 160
_VERSION_PREFIX = "rv"
_SUBMISSION_PREFIX = "sb"

# The employee file itself, and the record groups hanging off it: entity -> the field of
# CivilServant through which a client reads them (no such field granted: no history of them).
FILE_ENTITY = "employee"
RECORD_FIELDS: dict[str, str] = {
    "allowance": "allowances",
    "work_history": "workHistory",
    "qualification": "qualifications",
    "training": "trainings",
    "award": "awards",
    "discipline": "disciplines",
    "evaluation": "evaluations",
    "asset_declaration": "assetDeclarations",
    "personal_history": "personalHistory",
    "family_member": "familyMembers",
    "party_membership": "partyMembership",
    "health_record": "health",
}
# Fields shaped from one code column that show the code itself (``rank { code }``): granted,
# they reveal the column. Other shaped fields (``inEffect``) reveal less than their columns.
CODE_FIELDS: dict[tuple[str, str], str] = {
    ("CivilServant", "rank"): "rank_code",
    ("CivilServant", "position"): "position_code",
    ("Discipline", "form"): "form_code",
    ("Evaluation", "grade"): "grade_code",
}


# -- cursors and arguments ---------------------------------------------------------------------

def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def _encode(prefix: str, at: datetime, tail: object) -> str:
    return base64.urlsafe_b64encode(f"{prefix}:{_micros(at)}:{tail}".encode()).decode()


def _decode(cursor: str, prefix: str, what: str) -> tuple[datetime, str]:
    problem = BadUserInput(f"`after` is not a {what} cursor this API issued", argument="after")
    if len(cursor) > _MAX_CURSOR:
        raise problem
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        found, micros, tail = text.split(":")
        if found != prefix or not micros.lstrip("-").isdigit():
            raise problem
        return _EPOCH + timedelta(microseconds=int(micros)), tail
    except (UnicodeError, ValueError, OverflowError, binascii.Error):
        raise problem from None


def encode_version_cursor(row: Row) -> str:
    return _encode(_VERSION_PREFIX, row["applied_at"], row["id"])


def decode_version_cursor(cursor: str | None) -> VersionKey | None:
    if cursor is None:
        return None
    at, tail = _decode(cursor, _VERSION_PREFIX, "record-history")
    if not (tail.isascii() and tail.isdigit()) or not 0 < int(tail) < 2**63:
        raise BadUserInput("`after` is not a record-history cursor this API issued",
                           argument="after")
    return VersionKey(at, int(tail))


def encode_submission_cursor(row: Row) -> str:
    return _encode(_SUBMISSION_PREFIX, row["received_at"], row["id"])


def decode_submission_cursor(cursor: str | None) -> SubmissionKey | None:
    if cursor is None:
        return None
    at, tail = _decode(cursor, _SUBMISSION_PREFIX, "submissions")
    try:
        return SubmissionKey(at, UUID(tail))
    except ValueError:
        raise BadUserInput("`after` is not a submissions cursor this API issued",
                           argument="after") from None


def _time_range(since: datetime | None, until: datetime | None
                ) -> tuple[datetime | None, datetime | None]:
    for value, argument in ((since, "from"), (until, "to")):
        if value is not None and value.utcoffset() is None:
            raise BadUserInput(f"`{argument}` needs a UTC offset, e.g. "
                               "2026-01-01T00:00:00+07:00", argument=argument)
    if since is not None and until is not None and not since < until:
        raise BadUserInput("`from` must be earlier than `to`", argument="to")
    return since, until


def version_window(limits: QueryLimits, since: datetime | None, until: datetime | None,
                   first: int | None, after: str | None) -> tuple[VersionWindow, int]:
    """The window to fetch (one version more than the page: is there another?) and the
    page size."""
    size = check_page_size(first, limits)
    since, until = _time_range(since, until)
    return VersionWindow(since, until, decode_version_cursor(after), size + 1), size


def inbox_window(limits: QueryLimits, status: str | None, since: datetime | None,
                 until: datetime | None, first: int | None, after: str | None
                 ) -> tuple[InboxWindow, int]:
    size = check_page_size(first, limits)
    since, until = _time_range(since, until)
    return InboxWindow(status, since, until, decode_submission_cursor(after), size + 1), size


# -- what a client may see of a version --------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HistoryView:
    """Per entity, per column: the GraphQL field that shows it and whether it is masked."""

    fields: Mapping[str, Mapping[str, tuple[str, bool]]]

    def visible(self) -> frozenset[str]:
        """"entity.column" of every change the client may see at least the name of."""
        return frozenset(f"{entity}.{column}" for entity, columns in self.fields.items()
                         for column in columns)

    def without(self, entities: frozenset[str]) -> HistoryView:
        return HistoryView({e: c for e, c in self.fields.items() if e not in entities})


def _type_columns(type_name: str, object_type: GraphQLObjectType
                  ) -> dict[str, tuple[str, bool]]:
    found: dict[str, tuple[str, bool]] = {}
    for name, field in object_type.fields.items():
        if (type_name, name) in LINKS:
            continue
        code = CODE_FIELDS.get((type_name, name))
        column = code if code is not None else column_of(field, name)
        if code is None and (type_name, column) in SHAPED_FROM:
            continue  # computed from columns it does not show
        found[column] = (name, ROW_KEY_EXTENSION in (field.extensions or {}))
    return found


def _schema_view(schema: GraphQLSchema) -> HistoryView:
    types = {entity: name for name, entity in ENTITY_OF_TYPE.items()}
    holder = schema.type_map.get("CivilServant")
    reachable = holder.fields if isinstance(holder, GraphQLObjectType) else {}
    fields: dict[str, dict[str, tuple[str, bool]]] = {}
    for entity in (FILE_ENTITY, *RECORD_FIELDS):
        type_name = types.get(entity)
        object_type = schema.type_map.get(type_name or "")
        if not isinstance(object_type, GraphQLObjectType):
            continue
        if entity != FILE_ENTITY and RECORD_FIELDS[entity] not in reachable:
            continue
        columns = _type_columns(type_name or "", object_type)
        if columns:
            fields[entity] = columns
    return HistoryView(fields)


_VIEWS: weakref.WeakKeyDictionary[GraphQLSchema, HistoryView] = weakref.WeakKeyDictionary()


def history_view(schema: GraphQLSchema, row_filters: Mapping[str, RowFilter]) -> HistoryView:
    """What the client whose schema this is may see of record versions. A client's schema
    holds only its granted fields, masked ones marked, so it says exactly what the client
    reads (derived once per schema)."""
    view = _VIEWS.get(schema)
    if view is None:
        view = _VIEWS[schema] = _schema_view(schema)
    filtered = frozenset(e for e in view.fields if e != FILE_ENTITY and row_filters.get(e))
    return view.without(filtered) if filtered else view


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _record_key(row: Row) -> str | None:
    """The record within the file: its id, or an evaluation's year; none for the file
    itself (its key is the employee code, which the client may not see)."""
    if row["entity"] == FILE_ENTITY:
        return None
    key: str = row["record_key"]
    prefix = f"{row['employee_code']}/"
    return key[len(prefix):] if key.startswith(prefix) else key


def shape_version(row: Row, view: HistoryView) -> Row:
    """A record_version row as the RecordVersion object the client reads: only the changes
    it may see, values of masked fields withheld."""
    columns = view.fields.get(row["entity"], {})
    previous: Mapping[str, Any] = row["previous"] or {}
    changes = []
    for column, after in row["current"].items():
        shown = columns.get(column)
        if shown is None:
            continue
        name, masked = shown
        changes.append({"field": name, "masked": masked,
                        "before": None if masked else _text(previous.get(column)),
                        "after": None if masked else _text(after)})
    return {
        "subject": row["subject"], "id": row["id"], "applied_at": row["applied_at"],
        "version": row["version"],
        "entity": row["entity"], "record_key": _record_key(row),
        "submitted_by": row["submitted_by"], "agency_code": row["agency_code"],
        "source_system": row["source_system"], "signer_keys": row["signer_keys"],
        "submission_id": str(row["submission_id"]),
        "changed_fields": [c["field"] for c in changes], "changes": changes,
    }


def version_page(rows: list[Row], size: int) -> Row:
    versions = rows[:size]
    return {"versions": versions,
            "page_info": {"has_next_page": len(rows) > size,
                          "end_cursor": encode_version_cursor(versions[-1]) if versions
                          else None}}


def _id(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def shape_submission(row: Row) -> Row:
    result = row["result"] or {}
    return {
        "id": str(row["id"]), "kind": row["kind"], "status": row["status"],
        "reasons": row["reasons"], "employee_code": row["employee_code"],
        "agency_code": row["agency_code"], "idempotency_key": row["idempotency_key"],
        "batch_id": _id(row["batch_id"]), "received_at": row["received_at"],
        "decided_at": row["decided_at"], "version": result.get("version"),
        "current_version": result.get("currentVersion"), "record": result.get("record"),
        "resubmission_of": _id(row["resubmission_of"]),
        "resubmitted_by": _id(row["resubmitted_by"]),
    }


def inbox_page(rows: list[Row], size: int) -> Row:
    submissions = rows[:size]
    return {"submissions": submissions,
            "page_info": {"has_next_page": len(rows) > size,
                          "end_cursor": encode_submission_cursor(submissions[-1])
                          if submissions else None}}
