"""Root mutation fields: one per kind of change an agency may submit.

Each takes the change as a compact JWS signed with the submitting agency's registered key
(``hub.updates``), and an idempotency key: a retry with the same key (and the same request)
returns the first decision and changes nothing; the key reused for another request is a
BAD_USER_INPUT error. ``resubmissionOf`` names the client's rejected submission a change
corrects.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from adapters.submission_store import Decision, KeyReused
from resolvers.errors import BadUserInput, HubError
from resolvers.info import Info, Row
from resolvers.submissions import MAX_SUBMISSION_CHARS
from resolvers.sync_conflicts import settle_conflict
from resolvers.types.submission import SubmissionResult
from resolvers.types.sync_conflict import SyncConflict, SyncResolution

__all__ = ["ANY_KIND_FIELDS", "KINDS", "MAX_BATCH_ITEMS", "MUTATION_KINDS", "SUBMISSION_TYPES",
           "Mutation", "SubmissionInput"]


class WritesUnavailable(HubError):
    code = "SOURCE_UNAVAILABLE"


def _key(value: str) -> str:
    if not 1 <= len(value) <= 128 or not value.isprintable():
        raise BadUserInput("`idempotencyKey` must be 1 to 128 printable characters",
                           argument="idempotencyKey")
    return value


def _token(value: str, argument: str) -> str:
    if not value or len(value) > MAX_SUBMISSION_CHARS:
        raise BadUserInput(f"`{argument}` must be a compact JWS of at most "
                           f"{MAX_SUBMISSION_CHARS} characters", argument=argument)
    return value


_KEY_REUSED = "this idempotency key was used for another request"


def _resubmission(value: str | None, argument: str = "resubmissionOf") -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadUserInput(f"`{argument}` must be the id of a submission",
                           argument=argument) from None


def _answer(decision: Decision) -> Row:
    result = decision.result or {}
    return {"id": str(decision.submission_id), "status": decision.status,
            "reasons": decision.reasons, "version": result.get("version"),
            "current_version": result.get("currentVersion"), "record": result.get("record"),
            "repeated": decision.repeated, "received_at": decision.received_at}


async def _submit(info: Info, kind: str, submission: str, idempotency_key: str,
                  resubmission_of: str | None, employee_signature: str | None = None) -> Any:
    desk = info.context.desk
    if desk is None:
        raise WritesUnavailable("this hub takes no submissions")
    token, key = _token(submission, "submission"), _key(idempotency_key)
    co_signature = (None if employee_signature is None
                    else _token(employee_signature, "employeeSignature"))
    corrects = _resubmission(resubmission_of)
    try:
        decision = await desk.submit(info.context, kind, token, key, co_signature,
                                     resubmission_of=corrects)
    except KeyReused:
        raise BadUserInput(_KEY_REUSED, argument="idempotencyKey") from None
    return _answer(decision)


Signed = Annotated[str, strawberry.argument(
    description="The change, as a compact JWS signed with the submitting agency's registered "
                "key.")]
RetryKey = Annotated[str, strawberry.argument(
    description="The caller's own key for this request: a retry with it returns the first "
                "decision.")]
CoSigned = Annotated[str | None, strawberry.argument(
    description="The employee's own signature: a compact JWS over the same payload, signed "
                "with the employee's registered key. Required for the employee's own "
                "declarations.")]
Resubmits = Annotated[strawberry.ID | None, strawberry.argument(
    description="The id of the client's own rejected submission this one corrects: the "
                "inbox links the two (resubmissionOf, resubmittedBy).")]


MAX_BATCH_ITEMS = 500

# Each kind of change is one mutation, all alike: the signed change, an idempotency key and,
# for a correction, the rejected submission it corrects (and, for the employee's own
# declarations, the employee's signature). Each resolver carries its kind.


def _change(kind: str, description: str) -> Any:
    async def resolve(self: Any, info: Info, submission: Signed, idempotency_key: RetryKey,
                      resubmission_of: Resubmits = None) -> SubmissionResult:
        result: SubmissionResult = await _submit(info, kind, submission, idempotency_key,
                                                 resubmission_of)
        return result

    resolve.hub_kind = kind  # type: ignore[attr-defined]
    return strawberry.mutation(resolver=resolve, description=description)


def _co_signed_change(kind: str, description: str) -> Any:
    async def resolve(self: Any, info: Info, submission: Signed, idempotency_key: RetryKey,
                      employee_signature: CoSigned = None,
                      resubmission_of: Resubmits = None) -> SubmissionResult:
        result: SubmissionResult = await _submit(info, kind, submission, idempotency_key,
                                                 resubmission_of, employee_signature)
        return result

    resolve.hub_kind = kind  # type: ignore[attr-defined]
    return strawberry.mutation(resolver=resolve, description=description)




@strawberry.input(description="One signed change of a batch.")
class SubmissionInput:
    kind: str = strawberry.field(description="The kind of change, e.g. position-change.")
    submission: str = strawberry.field(description="The change, as a compact JWS signed with "
                                                   "the submitting agency's registered key.")
    idempotency_key: str = strawberry.field(description="The caller's own key for this item: "
                                                        "a retry returns the first decision.")
    employee_signature: str | None = strawberry.field(
        default=None, description="The employee's own signature over the same payload, for "
                                  "declarations.")
    resubmission_of: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the client's own rejected submission this item "
                                  "corrects.")


@strawberry.type
class Mutation:
    @strawberry.mutation(description=f"Submit many signed changes at once (at most "
                                     f"{MAX_BATCH_ITEMS}): each is decided on its own, in "
                                     "order, exactly as if sent alone; the answers come in "
                                     "the same order.")
    async def submit_batch(self, info: Info, items: list[SubmissionInput]
                           ) -> list[SubmissionResult]:
        if not 1 <= len(items) <= MAX_BATCH_ITEMS:
            raise BadUserInput(f"a batch holds 1 to {MAX_BATCH_ITEMS} items", argument="items")
        desk = info.context.desk
        if desk is None:
            raise WritesUnavailable("this hub takes no submissions")
        if any(item.kind not in KINDS for item in items):
            raise BadUserInput("an item names an unknown kind of change", argument="items")
        checked = [(item.kind, _token(item.submission, "submission"), _key(item.idempotency_key),
                    None if item.employee_signature is None
                    else _token(item.employee_signature, "employeeSignature"))
                   for item in items]
        corrects = [_resubmission(item.resubmission_of, "items.resubmissionOf")
                    for item in items]
        try:
            decisions = await desk.submit_many(info.context, checked,
                                               resubmission_of=corrects)
        except KeyReused as reused:
            raise BadUserInput(f"item {reused.index}: {_KEY_REUSED}", argument="items",
                               item=reused.index) from None
        answers: list[SubmissionResult] = [_answer(d) for d in decisions]  # type: ignore[misc]
        return answers

    @strawberry.mutation(description="Settle a conflict synchronisation queued (one the caller "
                                     "may read): keep the national file (the agency corrects "
                                     "its record), take the agency's version (submitted, "
                                     "signed and checked, by the next synchronisation run; "
                                     "only where canTakeAgency), or dismiss it.")
    async def resolve_sync_conflict(
            self, info: Info, id: strawberry.ID, resolution: SyncResolution,
            note: str | None = None) -> SyncConflict:
        return await settle_conflict(info.context, str(id), resolution, note)

    change_position = _change(
        "position-change", "Change an employee's position, rank or salary step.")
    record_discipline_decision = _change("discipline-decision",
                                         "Record a new discipline decision.")
    end_discipline = _change("discipline-end", "End a discipline decision's effect (its "
                                               "effective period ends on the given date).")
    record_evaluation = _change("evaluation", "Record (or correct) a yearly evaluation.")
    record_training = _change("training", "Record a completed training course.")
    record_qualification = _change("qualification", "Record a qualification (degree, "
                                                     "political theory, state management, "
                                                     "language, IT).")
    record_award = _change("award", "Record an award.")
    register_employee = _change(
        "register-employee", "Register a new employee in an agency: the change carries the "
        "new file, payload.employee the personal ID. Checked against the agency's headcount "
        "quota, the national database (no duplicates) and the population registry (identity, "
        "alive); the file starts at version 1.")
    declare_assets = _co_signed_change(
        "asset-declaration", "Record the employee's own asset and income declaration for a "
        "year (a later one for the same year replaces it): signed by the agency and co-signed "
        "by the employee.")
    declare_personal_history = _co_signed_change(
        "personal-history", "Add a period to the employee's own declared history (form 2C: "
        "schooling, study, military service, work), or correct one (change.entryId): signed "
        "by the agency and co-signed by the employee.")
    declare_family_member = _co_signed_change(
        "family", "Add a relative to the employee's own family declaration (form 2C), or "
        "correct one (change.memberId): signed by the agency and co-signed by the employee.")
    release_for_transfer = _change(
        "transfer-out", "Release an employee of the submitting agency for a transfer to "
        "another agency: the transfer is pending until that agency receives them "
        "(receiveTransfer).")
    receive_transfer = _change(
        "transfer-in", "Receive an employee released to the submitting side's agency "
        "(change.agencyCode): completes the pending transfer, moves the file and opens the new "
        "post in the work history.")


# Mutation field (GraphQL name) -> the kind of change it submits: a client's schema shows the
# fields whose kinds its policy grants it to write (``submitBatch``: any kind it may write).
def _kinds_of(mutation: type) -> dict[str, str]:
    found = {}
    for field in mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        resolver = field.base_resolver
        kind = getattr(resolver.wrapped_func, "hub_kind", None) if resolver else None
        if kind is not None:
            found[to_camel_case(field.python_name)] = kind
    return found


MUTATION_KINDS: dict[str, str] = _kinds_of(Mutation)
KINDS = frozenset(MUTATION_KINDS.values())
ANY_KIND_FIELDS = ("submitBatch",)
# The types of a mutation's answer: shown whole to a client that may submit.
SUBMISSION_TYPES = ("SubmissionResult", "SubmissionReason")
