"""The /graphql endpoint: GraphQL over HTTP (POST JSON, GET for queries) and GraphiQL.

Every operation — answered, refused or failed — gets one audit record, and no answer leaves
before its record is committed (hub/audit/writer.py). If the audit log cannot take the
record, the answer is replaced by an AUDIT_UNAVAILABLE error: nothing is disclosed unrecorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from adapters import open_call_log
from hub.access import Access, AccessControl, Denied
from hub.audit.entry import UNAUTHENTICATED_CLIENT, AuditDraft
from hub.audit.request_meta import (
    REQUEST_ID_HEADER,
    RequestMeta,
    document_digest,
    read_request_meta,
    variables_digest,
)
from hub.audit.writer import AuditUnavailable
from hub.errors import format_error, request_error
from hub.execution import OperationRunner
from hub.graphiql import GraphiQLPage
from hub.http_body import read_body
from hub.policy.outside import names_outside
from hub.telemetry.metrics import record_request
from hub.telemetry.spans import current_trace_id, describe_operation, phase
from hub.trusted_documents import named_document, trusted_text
from resolvers.context import RequestContext

__all__ = ["GraphQLEndpoint"]

MAX_BODY_BYTES = 1_000_000
MAX_QUERY_CHARS = 100_000
MAX_BATCH = 20
ContextFactory = Callable[[Access], RequestContext]
log = logging.getLogger(__name__)
AUDIT_RETRY_SECONDS = 5


class Auditor(Protocol):
    def record(self, draft: AuditDraft) -> Awaitable[None]: ...


@dataclass(slots=True)
class Answer:
    """One operation's answer and the audit record that must be committed before it."""

    body: dict[str, Any]
    status: int
    draft: AuditDraft
    headers: dict[str, str] = field(default_factory=dict)


def _json(body: dict[str, Any] | list[dict[str, Any]], status: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    try:
        content = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        # A value no JSON can hold slipped through: answer with an error, never a bare 500.
        log.exception("response could not be encoded")
        content = orjson.dumps({"errors": [request_error("internal error", "INTERNAL")]})
        status = 500
    # Answers hold personal data, GET ones included: no cache along the way may keep them.
    return Response(content, status_code=status, media_type="application/json",
                    headers={"cache-control": "no-store", **(headers or {})})


def _bad_request(message: str, status: int = 400) -> Response:
    return _json({"errors": [request_error(message)]}, status)


def _error_codes(errors: list[dict[str, Any]]) -> list[str]:
    return [str(e.get("extensions", {}).get("code", "INTERNAL")) for e in errors]


def _audit_failed(request_id: str) -> dict[str, Any]:
    error = request_error(
        "the audit log could not record this operation, so its answer is withheld and "
        "nothing was disclosed; retry later", "AUDIT_UNAVAILABLE")
    error["extensions"]["requestId"] = request_id
    return {"errors": [error]}


class GraphQLEndpoint:
    def __init__(self, runner: OperationRunner, access: AccessControl,
                 make_context: ContextFactory, *, graphiql: GraphiQLPage | None,
                 expose_source_calls: bool, audit: Auditor, variables_key: bytes) -> None:
        self._runner = runner
        self._access = access
        self._make_context = make_context
        self._graphiql = graphiql
        self._expose_source_calls = expose_source_calls
        self._audit = audit
        self._variables_key = variables_key

    async def handle(self, request: Request) -> Response:
        meta = read_request_meta(request.headers)
        traced_as = current_trace_id()
        if traced_as is not None:
            # The audit record names the trace the operation ran in (the caller's, when it
            # sent one): an operator goes from a record to its spans and back.
            meta = replace(meta, trace_id=traced_as)
        started = time.perf_counter()
        if request.method == "GET":
            if ("query" not in request.query_params and self._graphiql is not None
                    and "text/html" in request.headers.get("accept", "")):
                # The page itself holds no data: it is not an operation.
                return HTMLResponse(self._graphiql.html)
            return await self._answer(request, meta, [await self._get(request, meta, started)])
        if request.method != "POST":
            return await self._answer(request, meta, [self._refused(
                meta, started, "use POST (or GET for queries)", 405)])
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return await self._answer(request, meta, [self._refused(
                meta, started, "send the request as application/json", 415)])
        body = await read_body(request, MAX_BODY_BYTES)
        if body is None:
            return await self._answer(request, meta, [self._refused(
                meta, started, f"request body over {MAX_BODY_BYTES} bytes", 413)])
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return await self._answer(request, meta, [self._refused(
                meta, started, "the request body is not valid JSON")])
        if not isinstance(payload, list):
            single = await self._run(request, meta, started, payload, allow_mutations=True)
            return await self._answer(request, meta, [single])
        if not payload or len(payload) > MAX_BATCH:
            return await self._answer(request, meta, [self._refused(
                meta, started, f"a batch holds 1 to {MAX_BATCH} operations")])
        if not all(isinstance(p, dict) for p in payload):
            return await self._answer(request, meta, [self._refused(
                meta, started, "each operation of a batch must be a JSON object")])
        # Several operations in one request: each is admitted, answered and recorded on its
        # own, in order, as if sent alone.
        answers = []
        for index, item in enumerate(payload):
            answers.append(await self._run(request, meta, started, item, allow_mutations=True,
                                           batch_index=index))
        return await self._answer(request, meta, answers, batch=True)

    async def _answer(self, request: Request, meta: RequestMeta, answers: list[Answer], *,
                      batch: bool = False) -> Response:
        """Commit every answer's audit record, then respond; an answer whose record failed
        is withheld."""
        if any(a.draft.client_id == UNAUTHENTICATED_CLIENT and a.status != 401
               for a in answers):
            # Refused before admission (a malformed body, say): still name the client when
            # its token is good.
            client = await self._access.identify(request.headers)
            for answer in answers:
                if client is not None and answer.draft.client_id == UNAUTHENTICATED_CLIENT:
                    answer.draft.client_id = client
        with phase("audit.commit", **{"hub.audit.records": len(answers)}):
            outcomes = await asyncio.gather(*(self._audit.record(a.draft) for a in answers),
                                            return_exceptions=True)
        for answer, outcome in zip(answers, outcomes, strict=True):
            record_request(answer.draft)
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                if not isinstance(outcome, AuditUnavailable):
                    log.error("audit record failed", exc_info=outcome)
                answer.body = _audit_failed(meta.request_id)
                answer.status = 503
                answer.headers = {"retry-after": str(AUDIT_RETRY_SECONDS)}
        headers = {REQUEST_ID_HEADER: meta.request_id}
        if not batch:
            answer = answers[0]
            return _json(answer.body, answer.status, {**answer.headers, **headers})
        statuses = {a.status for a in answers}
        # One status for the whole batch: an authentication failure (one token), a client
        # over its rate limit or an unavailable audit log is the same for every operation;
        # otherwise 200 with each operation's own answer.
        status = 200
        for shared in (401, 429, 503):
            if statuses == {shared}:
                status = shared
                headers.update(answers[0].headers)
        return _json([a.body for a in answers], status, headers)

    def _draft(self, meta: RequestMeta, started: float, *, outcome: str, status: int,
               errors: list[dict[str, Any]], access: Access | None = None,
               batch_index: int | None = None) -> AuditDraft:
        caller = access.caller if access is not None else None
        request_id = (meta.request_id if batch_index is None
                      else f"{meta.request_id}/{batch_index}")
        return AuditDraft(
            request_id=request_id, trace_id=meta.trace_id,
            client_id=caller.client_id if caller is not None else UNAUTHENTICATED_CLIENT,
            agency=caller.agency_code if caller is not None else None,
            end_user=meta.end_user,
            purpose=caller.purpose if caller is not None else None,
            outcome=outcome, status=status, errors=_error_codes(errors),
            latency_us=int((time.perf_counter() - started) * 1e6))

    def _refused(self, meta: RequestMeta, started: float, message: str, status: int = 400,
                 code: str = "BAD_USER_INPUT", headers: dict[str, str] | None = None, *,
                 access: Access | None = None, batch_index: int | None = None) -> Answer:
        body = {"errors": [request_error(message, code)]}
        draft = self._draft(meta, started, outcome="refused", status=status,
                            errors=body["errors"], access=access, batch_index=batch_index)
        if code in ("FORBIDDEN", "UNAUTHENTICATED"):
            draft.denied_reason = message
        return Answer(body, status, draft, dict(headers or {}))

    async def asset(self, request: Request) -> Response:
        """GraphiQL's own scripts and stylesheets, when the hub serves them (see
        hub/graphiql.py): public, immutable files named by package and version."""
        found = (self._graphiql.assets.get(request.path_params["name"])
                 if self._graphiql is not None else None)
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        content, media_type = found
        return Response(content, media_type=media_type,
                        headers={"cache-control": "public, max-age=31536000, immutable"})

    async def _get(self, request: Request, meta: RequestMeta, started: float) -> Answer:
        params = request.query_params
        if "query" not in params and "documentId" not in params:
            return self._refused(meta, started, "no query: pass ?query=... (or ?documentId=...) "
                                                "or POST a JSON body")
        payload: dict[str, Any] = {"query": params.get("query"),
                                   "operationName": params.get("operationName")}
        if "documentId" in params:
            payload["documentId"] = params["documentId"]
        for name in ("variables", "extensions"):
            if name in params:
                try:
                    payload[name] = orjson.loads(params[name])
                except orjson.JSONDecodeError:
                    return self._refused(meta, started, f"`{name}` is not valid JSON")
        return await self._run(request, meta, started, payload, allow_mutations=False)

    async def _run(self, request: Request, meta: RequestMeta, started: float, payload: Any, *,
                   allow_mutations: bool, batch_index: int | None = None) -> Answer:
        with phase("graphql.operation") as span:
            answer = await self._run_guarded(request, meta, started, payload,
                                             allow_mutations=allow_mutations,
                                             batch_index=batch_index)
            if span is not None:
                describe_operation(span, answer.draft, answer.status)
            return answer

    async def _run_guarded(self, request: Request, meta: RequestMeta, started: float,
                           payload: Any, *, allow_mutations: bool,
                           batch_index: int | None = None) -> Answer:
        try:
            return await self._run_operation(request, meta, started, payload,
                                             allow_mutations=allow_mutations,
                                             batch_index=batch_index)
        except Exception:
            # A bug: the operation failed, with nothing disclosed — and is recorded as such.
            log.exception("internal error in request %s", meta.request_id)
            error = request_error("internal error", "INTERNAL")
            error["extensions"]["requestId"] = meta.request_id
            body = {"errors": [error]}
            return Answer(body, 500, self._draft(meta, started, outcome="failed", status=500,
                                                 errors=body["errors"],
                                                 batch_index=batch_index))

    async def _run_operation(self, request: Request, meta: RequestMeta, started: float,
                             payload: Any, *, allow_mutations: bool,
                             batch_index: int | None = None) -> Answer:
        def refused(message: str, status: int = 400, code: str = "BAD_USER_INPUT",
                    headers: dict[str, str] | None = None,
                    access: Access | None = None) -> Answer:
            return self._refused(meta, started, message, status, code, headers,
                                 access=access, batch_index=batch_index)

        if not isinstance(payload, dict):
            return refused("the request body must be a JSON object (or an array of them)")
        query, variables = payload.get("query"), payload.get("variables")
        operation_name = payload.get("operationName")
        named, problem = named_document(payload)
        if problem is not None:
            return refused(problem)
        if (named is None or query is not None) and (
                not isinstance(query, str) or not query.strip()):
            return refused("`query` must be a non-empty string (or name a trusted document "
                           "with `documentId`)")
        if isinstance(query, str) and len(query) > MAX_QUERY_CHARS:
            return refused(f"`query` is longer than {MAX_QUERY_CHARS} characters")
        if variables is not None and not isinstance(variables, dict):
            return refused("`variables` must be a JSON object")
        if operation_name is not None and not isinstance(operation_name, str):
            return refused("`operationName` must be a string")
        extensions = payload.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            return refused("`extensions` must be a JSON object")
        try:
            access = await self._access.admit(request.headers, extensions)
        except Denied as denied:
            answer = refused(denied.message, denied.status, denied.code, denied.headers)
            if denied.client_id is not None:
                answer.draft.client_id = denied.client_id
            answer.draft.purpose = denied.purpose
            return answer
        if meta.problem is not None:
            return refused(meta.problem, access=access)
        query, refusal = trusted_text(access.view.client, named, query)
        if refusal is not None:
            return refused(refusal[1], refusal[0], refusal[2], access=access)
        assert query is not None
        schema = access.view.schema

        prepared = self._runner.prepare(query, schema)
        selected = (self._runner.selected_operation(prepared.parsed, operation_name)
                    if prepared.parsed is not None else None)
        operation = selected.operation if selected is not None else None

        def describe(draft: AuditDraft) -> AuditDraft:
            draft.operation_type = operation.value if operation is not None else None
            # The name the operation has in the document (also when the request did not
            # repeat it as operationName), else the one asked for.
            draft.operation_name = (selected.name.value if selected is not None
                                    and selected.name is not None else operation_name)
            draft.document_hash = document_digest(self._variables_key, prepared.document_hash)
            draft.variables_digest = variables_digest(self._variables_key, variables)
            return draft

        if prepared.document is None:
            errors = [format_error(e, meta.request_id) for e in prepared.errors]
            draft = describe(self._draft(meta, started, outcome="refused", status=400,
                                         errors=errors, access=access,
                                         batch_index=batch_index))
            if prepared.parsed is not None:
                draft.denied_fields = sorted(names_outside(access.view, prepared.parsed,
                                                           self._runner.schema))
            return Answer({"errors": errors}, 400, draft)
        if operation is OperationType.MUTATION and not allow_mutations:
            answer = refused("mutations must be sent with POST", 405, access=access)
            describe(answer.draft)
            return answer
        if selected is None:
            # A valid document of several operations and no operationName, or one naming
            # none of them: the client's mistake (never an internal error).
            answer = refused("the document holds several operations: name the one to run "
                             "with `operationName`" if operation_name is None else
                             f"the document has no operation named {operation_name!r}",
                             access=access)
            describe(answer.draft)
            return answer
        limits = access.view.client.limits
        too_big = self._runner.too_complex(
            prepared.document, selected, variables,
            max_cost=limits.max_cost if limits is not None else None)
        if too_big is not None:
            answer = refused(too_big, 400, "QUERY_TOO_COMPLEX", access=access)
            describe(answer.draft)
            return answer

        call_log = open_call_log()
        context = self._make_context(access)
        data, phase_errors = await self._runner.execute(
            prepared.document, variables=variables, operation_name=operation_name,
            context=context, schema=schema)
        body: dict[str, Any] = {}
        if phase_errors:
            body["errors"] = [format_error(e, meta.request_id) for e in phase_errors]
        body["data"] = data
        if self._expose_source_calls:
            body["extensions"] = {
                "sourceCalls": dict(call_log),
                "elapsedMs": round((time.perf_counter() - started) * 1000, 2),
            }
        ran = data is not None or any(e.phase == "execute" for e in phase_errors)
        status = 400 if data is None and phase_errors else 200
        outcome = ("refused" if not ran else "failed" if data is None
                   else "partial" if phase_errors else "allowed")
        draft = describe(self._draft(meta, started, outcome=outcome, status=status,
                                     errors=body.get("errors", []), access=access,
                                     batch_index=batch_index))
        if ran:
            draft.disclosed = context.disclosures.groups()
        context.release()
        draft.sources = dict(call_log)
        return Answer(body, status, draft)

