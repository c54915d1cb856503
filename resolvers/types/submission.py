"""The answer to a submitted change."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

__all__ = ["SubmissionReason", "SubmissionResult", "SubmissionStatus"]


@strawberry.enum(description="What became of a submission.")
class SubmissionStatus(Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@strawberry.type(description="Why a submission was rejected: a machine-readable code, the "
                             "path of the offending field in the signed payload, a message.")
class SubmissionReason:
    code: str
    path: str
    message: str


@strawberry.type(description="The decision on a submitted change. Rejected submissions are "
                             "kept in the inbox with their reasons, and may be corrected and "
                             "submitted again.")
class SubmissionResult:
    id: strawberry.ID = strawberry.field(description="The submission's id in the inbox.")
    status: SubmissionStatus
    reasons: list[SubmissionReason]
    version: int | None = strawberry.field(
        description="Accepted: the personnel file's version after the change.")
    current_version: int | None = strawberry.field(
        description="Rejected as CONFLICT: the file's current version, to prepare the change "
                    "again from.")
    record: str | None = strawberry.field(
        description="Accepted: the key of the record written (e.g. a discipline decision's "
                    "id).")
    repeated: bool = strawberry.field(
        description="True when this answers a retry: the first decision, nothing done again.")
    received_at: datetime
