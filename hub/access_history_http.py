"""GET /access-history/{personalId}: a person's access history as plain JSON, for portals.

A citizen-facing portal should not need GraphQL to show a person who read their data. This
endpoint admits the request exactly as /graphql does (bearer token, X-Purpose), then runs a
fixed GraphQL document made of the AccessEvent fields the caller's own schema shows, through
the same runner, grants, masks and row scope — and the same audit record — as any operation:
it is a GraphQL operation, only its HTTP shape differs.

    GET /access-history/001080012345?from=2026-01-01T00:00:00%2B07:00&first=20&after=...
    200 {"personalId": "...", "events": [{"at": ..., "agency": {...}, ...}], "nextCursor": ...}
    4xx/5xx {"error": {"code": "BAD_USER_INPUT", "message": "..."}}
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from hub.access import AccessControl, Denied
from hub.audit.entry import AuditDraft
from hub.audit.request_meta import REQUEST_ID_HEADER, RequestMeta, read_request_meta
from hub.audit.writer import AuditUnavailable
from hub.execution import OperationRunner
from hub.graphql_http import AUDIT_RETRY_SECONDS, Answer, Auditor, ContextFactory, GraphQLEndpoint
from hub.policy.compile import ClientView

__all__ = ["AccessHistoryEndpoint"]

log = logging.getLogger(__name__)

# What an event may show, in this order; the caller's schema decides which of them it gets.
EVENT_FIELDS = ("at", "agencyCode", "agency", "system", "endUser", "purpose", "operationName",
                "fieldGroups", "fields", "outcome", "requestId")
AGENCY_FIELDS = ("code", "name")
OPERATION_NAME = "AccessHistoryEndpoint"
PARAMETERS = ("from", "to", "first", "after")

# Error code -> HTTP status of this endpoint (GraphQL answers 200 with errors; a plain JSON
# API says it in the status).
_STATUS = {"BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403,
           "VALIDATION_FAILED": 403, "NOT_FOUND": 404, "SOURCE_UNAVAILABLE": 503,
           "SOURCE_TIMEOUT": 504, "AUDIT_UNAVAILABLE": 503}


def _document(view: ClientView) -> str | None:
    """The query for this caller: every event field its schema shows (None: none)."""
    if not view.shows("Query", "accessHistory"):
        return None
    selected = []
    for name in EVENT_FIELDS:
        if not view.shows("AccessEvent", name):
            continue
        if name == "agency":
            agency = [f for f in AGENCY_FIELDS if view.shows("Agency", f)]
            if agency:
                selected.append(f"agency {{ {' '.join(agency)} }}")
        else:
            selected.append(name)
    return (f"query {OPERATION_NAME}($personalId: PersonalId!, $from: DateTime, "
            "$to: DateTime, $first: Int, $after: String) { accessHistory(personalId: "
            "$personalId, from: $from, to: $to, first: $first, after: $after) { "
            f"events {{ {' '.join(selected)} }} pageInfo {{ hasNextPage endCursor }} }} }}")


def _variables(request: Request) -> dict[str, Any]:
    params = request.query_params
    variables: dict[str, Any] = {"personalId": request.path_params["personal_id"]}
    for name in PARAMETERS:
        if name in params:
            value: Any = params[name]
            if name == "first" and value.lstrip("-").isdigit() and len(value) < 10:
                value = int(value)  # otherwise GraphQL refuses it as "not an Int"
            variables[name] = value
    return variables


def _error(code: str, message: str, status: int | None = None,
           headers: dict[str, str] | None = None) -> tuple[dict[str, Any], int, dict[str, str]]:
    return ({"error": {"code": code, "message": message}}, status or _STATUS.get(code, 500),
            headers or {})


def _as_sent(draft: AuditDraft, body: dict[str, Any], status: int) -> None:
    """Make the record say what this endpoint answers, which is not what the GraphQL answer
    under it says: its HTTP status, its error code, and, for an error (no data is sent),
    an outcome that discloses nothing."""
    draft.status = status
    error = body.get("error")
    if not isinstance(error, dict):
        return
    code = error.get("code")
    if isinstance(code, str) and code not in draft.errors:
        draft.errors = [*draft.errors, code]
    if draft.outcome in ("allowed", "partial"):
        # The GraphQL answer had data, but only the error was sent.
        draft.outcome = "refused" if status < 500 else "failed"
    if code == "FORBIDDEN" and draft.denied_reason is None:
        draft.denied_reason = str(error.get("message", ""))


class AccessHistoryEndpoint(GraphQLEndpoint):
    """The /graphql pipeline with a fixed document and a plain JSON answer."""

    def __init__(self, runner: OperationRunner, access: AccessControl,
                 make_context: ContextFactory, *,
                 audit: Auditor, variables_key: bytes) -> None:
        super().__init__(runner, access, make_context, graphiql=None,
                         expose_source_calls=False, audit=audit, variables_key=variables_key)

    async def handle(self, request: Request) -> Response:
        meta = read_request_meta(request.headers)
        started = time.perf_counter()
        try:
            access = await self._access.admit(request.headers, None)
        except Denied as denied:
            answer = self._refused(meta, started, denied.message, denied.status, denied.code,
                                   denied.headers)
            # As /graphql records it: the client refused (a 403) and the purpose it declared.
            if denied.client_id is not None:
                answer.draft.client_id = denied.client_id
            answer.draft.purpose = denied.purpose
            return await self._respond_plain(meta, answer, _error(
                denied.code, denied.message, denied.status, denied.headers))
        document = _document(access.view)
        if document is None:
            # Run the document anyway, so the refusal is recorded with what was asked for.
            probe = ("query AccessHistoryEndpoint($personalId: PersonalId!) { "
                     "accessHistory(personalId: $personalId) { pageInfo { hasNextPage } } }")
            answer = await self._run(request, meta, started, {
                "query": probe, "operationName": OPERATION_NAME,
                "variables": {"personalId": request.path_params["personal_id"]}},
                allow_mutations=False)
            return await self._respond_plain(meta, answer, _error(
                "FORBIDDEN", f"purpose {access.caller.purpose!r} of client "
                             f"{access.caller.client_id} does not grant the access history"))
        personal_id = request.path_params["personal_id"]
        answer = await self._run(request, meta, started, {
            "query": document, "operationName": OPERATION_NAME,
            "variables": _variables(request)}, allow_mutations=False)
        return await self._respond_plain(meta, answer, self._plain(answer, personal_id))

    @staticmethod
    def _plain(answer: Answer, personal_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
        errors = answer.body.get("errors")
        if errors:
            first = errors[0]
            code = str(first.get("extensions", {}).get("code", "INTERNAL"))
            return _error(code, str(first.get("message", "")), headers=answer.headers)
        history = (answer.body.get("data") or {}).get("accessHistory")
        if history is None:
            return _error("NOT_FOUND", "no access history for this personal ID within the "
                                       "records your purpose covers")
        page = history["pageInfo"]
        return ({"personalId": personal_id, "events": history["events"],
                 "nextCursor": page["endCursor"] if page["hasNextPage"] else None}, 200, {})

    async def _respond_plain(self, meta: RequestMeta, answer: Answer,
                             plain: tuple[dict[str, Any], int, dict[str, str]]) -> Response:
        """Commit the operation's audit record, then answer; nothing leaves unrecorded."""
        body, status, headers = plain
        _as_sent(answer.draft, body, status)
        try:
            await self._audit.record(answer.draft)
        except Exception as error:
            if not isinstance(error, AuditUnavailable):
                log.error("audit record failed", exc_info=error)
            body, status, headers = _error(
                "AUDIT_UNAVAILABLE", "the audit log could not record this request, so its "
                "answer is withheld; retry later", 503,
                {"retry-after": str(AUDIT_RETRY_SECONDS)})
        return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                        headers={"cache-control": "no-store", REQUEST_ID_HEADER: meta.request_id,
                                 **headers})
