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
from strawberry.http.ides import get_graphql_ide_html

from adapters import open_call_log
from hub.errors import format_error, request_error
from hub.execution import OperationRunner
from resolvers.context import RequestContext

__all__ = ["GraphQLEndpoint"]

MAX_BODY_BYTES = 1_000_000
MAX_QUERY_CHARS = 100_000
ContextFactory = Callable[[Request], RequestContext]
log = logging.getLogger(__name__)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    try:
        content = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        # A value no JSON can hold slipped through: answer with an error, never a bare 500.
        log.exception("response could not be encoded")
        content = orjson.dumps({"errors": [request_error("internal error", "INTERNAL")]})
        status = 500
    return Response(content, status_code=status, media_type="application/json")


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (without reading it all) one over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _bad_request(message: str, status: int = 400) -> Response:
    return _json({"errors": [request_error(message)]}, status)


class GraphQLEndpoint:
    def __init__(self, runner: OperationRunner, make_context: ContextFactory, *,
                 graphiql: bool, expose_source_calls: bool) -> None:
        self._runner = runner
        self._make_context = make_context
        self._graphiql_html = get_graphql_ide_html() if graphiql else None
        self._expose_source_calls = expose_source_calls

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._get(request)
        if request.method != "POST":
            return _bad_request("use POST (or GET for queries)", 405)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return _bad_request("send the request as application/json", 415)
        try:
            body = await _read_body(request, MAX_BODY_BYTES)
        except _TooLarge:
            return _bad_request(f"request body over {MAX_BODY_BYTES} bytes", 413)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _bad_request("the request body is not valid JSON")
        return await self._run(request, payload, allow_mutations=True)

    async def _get(self, request: Request) -> Response:
        params = request.query_params
        if "query" not in params:
            if self._graphiql_html is not None and "text/html" in request.headers.get("accept", ""):
                return HTMLResponse(self._graphiql_html)
            return _bad_request("no query: pass ?query=... or POST a JSON body")
        payload: dict[str, Any] = {"query": params["query"],
                                   "operationName": params.get("operationName")}
        if "variables" in params:
            try:
                payload["variables"] = orjson.loads(params["variables"])
            except orjson.JSONDecodeError:
                return _bad_request("`variables` is not valid JSON")
        return await self._run(request, payload, allow_mutations=False)

    async def _run(self, request: Request, payload: Any, *, allow_mutations: bool) -> Response:
        if not isinstance(payload, dict):
            return _bad_request("the request body must be a JSON object")
        query, variables = payload.get("query"), payload.get("variables")
        operation_name = payload.get("operationName")
        if not isinstance(query, str) or not query.strip():
            return _bad_request("`query` must be a non-empty string")
        if len(query) > MAX_QUERY_CHARS:
            return _bad_request(f"`query` is longer than {MAX_QUERY_CHARS} characters")
        if variables is not None and not isinstance(variables, dict):
            return _bad_request("`variables` must be a JSON object")
        if operation_name is not None and not isinstance(operation_name, str):
            return _bad_request("`operationName` must be a string")

        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        started = time.perf_counter()
        prepared = self._runner.prepare(query)
        if prepared.document is None:
            errors = [format_error(e, request_id) for e in prepared.errors]
            return _json({"errors": errors}, 400)
        operation = self._runner.operation_type(prepared.document, operation_name)
        if operation is OperationType.MUTATION and not allow_mutations:
            return _bad_request("mutations must be sent with POST", 405)

        call_log = open_call_log()
        data, phase_errors = await self._runner.execute(
            prepared.document, variables=variables, operation_name=operation_name,
            context=self._make_context(request))
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
        return _json(body, status)
