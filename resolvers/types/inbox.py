"""The submissions inbox: what became of each change a client submitted, with the reasons of
the rejected ones, so they can be corrected and submitted again."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.types.submission import SubmissionReason, SubmissionStatus

__all__ = ["Submission", "SubmissionPage", "SubmissionPageInfo"]


@strawberry.type(description="A change the client submitted, accepted or rejected.")
class Submission:
    id: strawberry.ID
    kind: str = strawberry.field(description="The kind of change, e.g. position-change.")
    status: SubmissionStatus
    reasons: list[SubmissionReason] = strawberry.field(
        description="Why it was rejected: code, path of the field in the signed payload, "
                    "message.")
    employee_code: str | None = strawberry.field(
        description="The employee the change was about, when the submission named one.")
    agency_code: str | None = strawberry.field(
        description="The agency the submission was made for.")
    idempotency_key: str = strawberry.field(description="The client's own key for the request.")
    batch_id: strawberry.ID | None = strawberry.field(
        description="The batch the submission came in, if any.")
    received_at: datetime
    decided_at: datetime
    version: int | None = strawberry.field(
        description="Accepted: the personnel file's version after the change.")
    current_version: int | None = strawberry.field(
        description="Rejected as CONFLICT: the file's version at the time.")
    record: str | None = strawberry.field(
        description="Accepted: the key of the record written.")
    resubmission_of: strawberry.ID | None = strawberry.field(
        description="The earlier (rejected) submission this one corrects.")
    resubmitted_by: strawberry.ID | None = strawberry.field(
        description="The latest later submission that corrects this one, if any.")


@strawberry.type
class SubmissionPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of the client's own submissions, newest first.")
class SubmissionPage:
    submissions: list[Submission]
    page_info: SubmissionPageInfo
