"""The /graphql endpoint: GraphQL over HTTP (POST JSON, GET for queries) and GraphiQL."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from adapters import open_call_log
from hub.access import Access, AccessControl, Denied
from hub.errors import format_error, request_error
from hub.execution import OperationRunner
from hub.graphiql import GraphiQLPage
from hub.http_body import read_body
from resolvers.context import RequestContext

__all__ = ["GraphQLEndpoint"]

MAX_BODY_BYTES = 1_000_000
MAX_QUERY_CHARS = 100_000
MAX_BATCH = 20
ContextFactory = Callable[[Access], RequestContext]
log = logging.getLogger(__name__)
Answer = tuple[dict[str, Any], int, dict[str, str]]


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


def _refused(message: str, status: int = 400, code: str = "BAD_USER_INPUT",
             headers: dict[str, str] | None = None) -> Answer:
    return {"errors": [request_error(message, code)]}, status, headers or {}


class GraphQLEndpoint:
    def __init__(self, runner: OperationRunner, access: AccessControl,
                 make_context: ContextFactory, *, graphiql: GraphiQLPage | None,
                 expose_source_calls: bool) -> None:
        self._runner = runner
        self._access = access
        self._make_context = make_context
        self._graphiql = graphiql
        self._expose_source_calls = expose_source_calls

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._get(request)
        if request.method != "POST":
            return _bad_request("use POST (or GET for queries)", 405)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return _bad_request("send the request as application/json", 415)
        body = await read_body(request, MAX_BODY_BYTES)
        if body is None:
            return _bad_request(f"request body over {MAX_BODY_BYTES} bytes", 413)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _bad_request("the request body is not valid JSON")
        if isinstance(payload, list):
            return await self._batch(request, payload)
        return self._respond(await self._run(request, payload, allow_mutations=True))

    @staticmethod
    def _respond(answer: Answer) -> Response:
        body, status, headers = answer
        return _json(body, status, headers)

    async def _batch(self, request: Request, payloads: list[Any]) -> Response:
        """Several operations in one request: each is admitted and answered on its own, in
        order, as if sent alone."""
        if not payloads or len(payloads) > MAX_BATCH:
            return _bad_request(f"a batch holds 1 to {MAX_BATCH} operations")
        if not all(isinstance(p, dict) for p in payloads):
            return _bad_request("each operation of a batch must be a JSON object")
        answers = [await self._run(request, p, allow_mutations=True) for p in payloads]
        statuses = {status for _, status, _ in answers}
        # One status for the whole batch: an authentication failure is the same for every
        # operation (one token); otherwise 200 with each operation's own answer.
        status = 401 if statuses == {401} else 200
        headers = answers[0][2] if status == 401 else {}
        return _json([body for body, _, _ in answers], status, headers)

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

    async def _get(self, request: Request) -> Response:
        params = request.query_params
        if "query" not in params:
            if self._graphiql is not None and "text/html" in request.headers.get("accept", ""):
                return HTMLResponse(self._graphiql.html)
            return _bad_request("no query: pass ?query=... or POST a JSON body")
        payload: dict[str, Any] = {"query": params["query"],
                                   "operationName": params.get("operationName")}
        if "variables" in params:
            try:
                payload["variables"] = orjson.loads(params["variables"])
            except orjson.JSONDecodeError:
                return _bad_request("`variables` is not valid JSON")
        if "extensions" in params:
            try:
                payload["extensions"] = orjson.loads(params["extensions"])
            except orjson.JSONDecodeError:
                return _bad_request("`extensions` is not valid JSON")
        return self._respond(await self._run(request, payload, allow_mutations=False))

    async def _run(self, request: Request, payload: Any, *, allow_mutations: bool) -> Answer:
        if not isinstance(payload, dict):
            return _refused("the request body must be a JSON object (or an array of them)")
        query, variables = payload.get("query"), payload.get("variables")
        operation_name = payload.get("operationName")
        if not isinstance(query, str) or not query.strip():
            return _refused("`query` must be a non-empty string")
        if len(query) > MAX_QUERY_CHARS:
            return _refused(f"`query` is longer than {MAX_QUERY_CHARS} characters")
        if variables is not None and not isinstance(variables, dict):
            return _refused("`variables` must be a JSON object")
        if operation_name is not None and not isinstance(operation_name, str):
            return _refused("`operationName` must be a string")
        extensions = payload.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            return _refused("`extensions` must be a JSON object")
        try:
            access = await self._access.admit(request.headers, extensions)
        except Denied as denied:
            return _refused(denied.message, denied.status, denied.code, denied.headers)
        schema = access.view.schema

        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        started = time.perf_counter()
        prepared = self._runner.prepare(query, schema)
        if prepared.document is None:
            errors = [format_error(e, request_id) for e in prepared.errors]
            return {"errors": errors}, 400, {}
        operation = self._runner.operation_type(prepared.document, operation_name)
        if operation is OperationType.MUTATION and not allow_mutations:
            return _refused("mutations must be sent with POST", 405)

        call_log = open_call_log()
        data, phase_errors = await self._runner.execute(
            prepared.document, variables=variables, operation_name=operation_name,
            context=self._make_context(access), schema=schema)
        body: dict[str, Any] = {}
        if phase_errors:
            body["errors"] = [format_error(e, request_id) for e in phase_errors]
        body["data"] = data
        if self._expose_source_calls:
            body["extensions"] = {
                "sourceCalls": dict(call_log),
                "elapsedMs": round((time.perf_counter() - started) * 1000, 2),
            }
        status = 400 if data is None and phase_errors else 200
        return body, status, {}
