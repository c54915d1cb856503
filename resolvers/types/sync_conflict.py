"""The differences synchronisation queued for review (``hub sync``): both versions side by side,
what differs, and what a reviewer decided."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.links import Link, link
from resolvers.scalars import PersonalId

if TYPE_CHECKING:
    from resolvers.types.agency import Agency

__all__ = [
    "SyncConflict",
    "SyncConflictKind",
    "SyncConflictPage",
    "SyncConflictPageInfo",
    "SyncConflictStatus",
    "SyncDifference",
    "SyncOutcomeReason",
    "SyncResolution",
    "SyncResolutionOutcome",
    "SyncSide",
]

AgencyRef = Annotated["Agency", strawberry.lazy("resolvers.types.agency")]

_agency = link("SyncConflict", "agency", Link(key_columns=("agency_code",),
                                              loader=attrgetter("agency"), target_key="code",
                                              shows=("code",)))


@strawberry.enum(description="Why synchronisation could not settle a difference on its own.")
class SyncConflictKind(Enum):
    NATIONAL_NEWER = strawberry.enum_value(
        "national-newer", description="The national file was updated after (or when) the "
                                      "agency changed the post, rank or salary step.")
    IDENTITY = strawberry.enum_value(
        "identity", description="The name, birth date or sex differ from the national file, "
                                "which was verified against the population registry.")
    DUPLICATE = strawberry.enum_value(
        "duplicate", description="A record the national database lacks, of a person it holds "
                                 "under another personal ID.")
    TRANSFER = strawberry.enum_value(
        "transfer", description="The agency system places the employee in another agency: "
                                "transfers go through the agencies' signed release and "
                                "receipt.")
    DISCIPLINE = strawberry.enum_value(
        "discipline", description="A discipline decision both hold says different things.")


@strawberry.enum(description="Where a conflict stands.")
class SyncConflictStatus(Enum):
    OPEN = "open"
    KEPT_NATIONAL = "kept-national"
    TAKEN_AGENCY = "taken-agency"
    DISMISSED = "dismissed"


@strawberry.enum(description="How a reviewer settles a conflict.")
class SyncResolution(Enum):
    KEEP_NATIONAL = strawberry.enum_value(
        "kept-national", description="The national file stands; the agency corrects its "
                                     "own record.")
    TAKE_AGENCY = strawberry.enum_value(
        "taken-agency", description="Submit the agency's version (at the next "
                                    "synchronisation run).")
    DISMISS = strawberry.enum_value("dismissed", description="Not a difference to act on.")


@strawberry.type(description="One field that differs: the national file's value and the "
                             "agency system's, as text.")
class SyncDifference:
    field: str
    national: str | None
    agency: str | None


@strawberry.type(description="One side of a conflict: the record as the national database or "
                             "the agency system holds it (absent values are null).")
class SyncSide:
    employee_code: str | None
    local_id: str | None = strawberry.field(description="The agency system's own id.")
    personal_id: PersonalId | None
    full_name: str | None
    birth_date: date | None
    sex: str | None
    agency_code: str | None
    unit_name: str | None
    position_code: str | None
    rank_code: str | None
    salary_step: int | None
    salary_coefficient: float | None
    hired_on: date | None
    version: int | None = strawberry.field(description="The national file's version.")
    updated_at: datetime | None


@strawberry.type(description="Why the desk refused the agency's version: code, path in the "
                             "signed change, message.")
class SyncOutcomeReason:
    code: str
    path: str
    message: str


@strawberry.type(description="What the desk decided on the agency's version, once taken.")
class SyncResolutionOutcome:
    status: str
    reasons: list[SyncOutcomeReason]


@strawberry.type(description="A difference between an agency HR system and the national "
                             "database that synchronisation queued for review.")
class SyncConflict:
    id: strawberry.ID
    system: str = strawberry.field(description="The agency system (config/sources.yaml).")
    kind: SyncConflictKind
    status: SyncConflictStatus
    agency_code: str
    agency: AgencyRef | None = strawberry.field(resolver=_agency)
    employee_code: str | None
    personal_id: PersonalId | None
    differences: list[SyncDifference]
    national: SyncSide
    agency_version: SyncSide = strawberry.field(
        name="agencyRecord", description="The record as the agency system holds it.")
    can_take_agency: bool = strawberry.field(
        description="Whether the agency's version can be taken (submitted as a change).")
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None
    resolution_outcome: SyncResolutionOutcome | None


@strawberry.type
class SyncConflictPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of conflicts, newest first.")
class SyncConflictPage:
    conflicts: list[SyncConflict]
    page_info: SyncConflictPageInfo
