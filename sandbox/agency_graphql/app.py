"""The Hà Nội provincial HR system (serves the ``*.H01`` agencies), speaking GraphQL.

``POST /graphql`` with header ``X-Api-Token``. HTTP semantics follow common GraphQL-over-HTTP
practice: a body that is not a GraphQL request, or a document that does not parse or validate,
is answered 400; an executed operation is answered 200, field errors included.

Statistics: every POST counts as one ``graphql`` request; in addition each executed root field
counts under its own name (``staffByCitizenIds``, ``staffMember``, ``staffChanges``), with the
ids asked for as its items, so a test can tell one request carrying one batch from many.

Every answer holding staff records carries each one's discipline decisions (``disciplines``),
read for the whole answer in one query.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from datetime import datetime
from inspect import isawaitable
from typing import Any

import asyncpg
from graphql import DocumentNode, GraphQLError, GraphQLResolveInfo, execute, parse, validate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from sandbox.agency_graphql.codes import job_title_label
from sandbox.agency_graphql.graphql_schema import DEFAULT_PAGE, build_schema
from sandbox.apps import TokenServiceSettings, build_app
from sandbox.cursor import decode_cursor, encode_cursor
from sandbox.database import PooledService
from sandbox.http import (
    ErrorDialect,
    InvalidInput,
    JSONResponse,
    RequestError,
    read_json_body,
    secret_matches,
)
from sandbox.inputs import json_object, personal_id
from sandbox.switches import SandboxControl, Stats

__all__ = ["create_app"]

ROUTE_GRAPHQL = "graphql"
_MAX_PAGE = 1000
# A generous bound for any honest document (ids belong in variables); stops the parser from
# spending time on a hostile megabyte of tokens.
_MAX_TOKENS = 20_000

_COLUMNS = ("staff_id, citizen_id, name, dob, gender, org_code, department, job_title_code, "
            "grade, pay_step, pay_coefficient, pending_discipline, address, hired_on, modified_at")
# The decisions of a whole answer in one query, whatever its size.
_DECISIONS_SQL = ("SELECT citizen_id, decision_number, decided_on, form, issuer, reason, "
                  "effective_from, effective_to FROM staff_discipline "
                  "WHERE citizen_id = ANY($1) ORDER BY decided_on, id")
_BY_IDS_SQL = f"SELECT {_COLUMNS} FROM staff WHERE citizen_id = ANY($1)"
_ONE_SQL = f"SELECT {_COLUMNS} FROM staff WHERE citizen_id = $1"
# Keyset pagination over the (modified_at, staff_id) index; see the REST system's feed.
_CHANGES_SQL = (f"SELECT {_COLUMNS} FROM staff WHERE modified_at >= $1 "
                "ORDER BY modified_at, staff_id LIMIT $2")
_CHANGES_AFTER_SQL = (f"SELECT {_COLUMNS} FROM staff WHERE modified_at >= $1 "
                      "AND (modified_at, staff_id) > ($2, $3) "
                      "ORDER BY modified_at, staff_id LIMIT $4")


def _errors(code: str, message: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extra}}]}


DIALECT = ErrorDialect(
    codes={400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
           405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 500: "INTERNAL_SERVER_ERROR",
           503: "SERVICE_UNAVAILABLE"},
    envelope=_errors,
)


def _discipline(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"decisionNumber": row["decision_number"], "decidedOn": row["decided_on"],
            "form": row["form"], "issuer": row["issuer"], "reason": row["reason"],
            "effectiveFrom": row["effective_from"], "effectiveTo": row["effective_to"]}


async def _staff_rows(pool: asyncpg.Pool, sql: str, *args: Any) -> list[dict[str, Any]]:
    """The ``staff`` rows ``sql`` selects, each served with its decisions: two queries in one
    snapshot, so a record and its decisions always agree."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                         readonly=True):
        rows = await conn.fetch(sql, *args)
        found = await conn.fetch(_DECISIONS_SQL, [r["citizen_id"] for r in rows]) \
            if rows else []
    decisions: dict[str, list[dict[str, Any]]] = {}
    for decision in found:
        decisions.setdefault(decision["citizen_id"], []).append(_discipline(decision))
    return [_staff(row, decisions.get(row["citizen_id"], [])) for row in rows]


def _staff(row: Mapping[str, Any], disciplines: list[dict[str, Any]]) -> dict[str, Any]:
    code = row["job_title_code"]
    return {
        "staffId": row["staff_id"], "citizenId": row["citizen_id"], "name": row["name"],
        "dob": row["dob"], "gender": row["gender"], "orgCode": row["org_code"],
        "department": row["department"],
        "jobTitle": {"code": code, "label": job_title_label(code)},
        "grade": row["grade"], "payStep": row["pay_step"],
        "payCoefficient": float(row["pay_coefficient"]),
        "pendingDiscipline": row["pending_discipline"], "address": row["address"],
        "hiredOn": row["hired_on"], "disciplines": disciplines,
        "modifiedAt": row["modified_at"],
    }


# The execution context is the service itself: resolvers reach its pool and statistics.
Info = GraphQLResolveInfo["AgencyGraphQLService"]


def _user_input_error(error: InvalidInput) -> GraphQLError:
    return GraphQLError(error.message, extensions={"code": "BAD_USER_INPUT"})


async def _staff_by_citizen_ids(_root: object, info: Info,
                                ids: list[str]) -> list[dict[str, Any]]:
    return await info.context.staff_by_citizen_ids(ids)


async def _staff_member(_root: object, info: Info,
                        citizen_id: str) -> dict[str, Any] | None:
    return await info.context.staff_member(citizen_id)


async def _staff_changes(_root: object, info: Info, since: datetime,
                         first: int | None = DEFAULT_PAGE,
                         after: str | None = None) -> dict[str, Any]:
    return await info.context.staff_changes(since, first, after)


SCHEMA = build_schema(staff_by_citizen_ids=_staff_by_citizen_ids, staff_member=_staff_member,
                      staff_changes=_staff_changes)


@functools.lru_cache(maxsize=256)
def _prepare(query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
    """Parse and validate once per distinct document: callers repeat the same few queries,
    and parsing dominated the cost of small lookups. Returns the document or its errors."""
    try:
        document = parse(query, max_tokens=_MAX_TOKENS)
    except GraphQLError as error:
        return None, [_with_code(error, "GRAPHQL_PARSE_FAILED")]
    invalid = validate(SCHEMA, document)
    if invalid:
        return None, [_with_code(e, "GRAPHQL_VALIDATION_FAILED") for e in invalid]
    return document, []


class AgencyGraphQLService(PooledService):
    def __init__(self, dsn: str, settings: TokenServiceSettings) -> None:
        super().__init__(dsn, "agency_graphql", pool_size=settings.pool_size)
        self.settings = settings
        self.stats = Stats()

    def authenticate(self, request: Request) -> None:
        if not secret_matches(request.headers.get("X-Api-Token"), (self.settings.token,)):
            raise RequestError(401, "missing or invalid X-Api-Token header")

    async def endpoint(self, request: Request) -> Response:
        body = json_object(await read_json_body(request), required=("query",),
                           optional=("variables", "operationName", "extensions"))
        query, variables, operation = (body["query"], body.get("variables"),
                                       body.get("operationName"))
        if not isinstance(query, str) or not query.strip():
            raise InvalidInput("query must be a non-empty string")
        if variables is not None and not isinstance(variables, dict):
            raise InvalidInput("variables must be an object")
        if operation is not None and not isinstance(operation, str):
            raise InvalidInput("operationName must be a string")
        document, errors = _prepare(query)
        if document is None:
            return JSONResponse({"errors": errors}, status_code=400)
        result = execute(SCHEMA, document, context_value=self, variable_values=variables,
                         operation_name=operation)
        if isawaitable(result):
            result = await result
        return JSONResponse(result.formatted)

    async def staff_by_citizen_ids(self, ids: list[str]) -> list[dict[str, Any]]:
        self.stats.count_request("staffByCitizenIds")
        self.stats.count_items("staffByCitizenIds", len(ids))
        cap = self.settings.max_batch
        if len(ids) > cap:
            raise GraphQLError(f"at most {cap} ids per request, got {len(ids)}",
                               extensions={"code": "BATCH_TOO_LARGE", "maxBatch": cap})
        try:
            unique = list(dict.fromkeys(personal_id(v, f"ids[{i}]") for i, v in enumerate(ids)))
        except InvalidInput as error:
            raise _user_input_error(error) from None
        return await _staff_rows(self.pool, _BY_IDS_SQL, unique) if unique else []

    async def staff_member(self, citizen_id: str) -> dict[str, Any] | None:
        self.stats.count_request("staffMember")
        self.stats.count_items("staffMember", 1)
        try:
            wanted = personal_id(citizen_id, "citizenId")
        except InvalidInput as error:
            raise _user_input_error(error) from None
        found = await _staff_rows(self.pool, _ONE_SQL, wanted)
        return found[0] if found else None

    async def staff_changes(self, since: datetime, first: int | None,
                            after: str | None) -> dict[str, Any]:
        self.stats.count_request("staffChanges")
        limit = DEFAULT_PAGE if first is None else first
        if not 1 <= limit <= _MAX_PAGE:
            raise GraphQLError(f"first must be from 1 to {_MAX_PAGE}",
                               extensions={"code": "BAD_USER_INPUT"})
        try:
            cursor = decode_cursor(after, int, "after") if after else None
        except InvalidInput as error:
            raise _user_input_error(error) from None
        # One row more than the page tells whether another page follows.
        if cursor is None:
            rows = await _staff_rows(self.pool, _CHANGES_SQL, since, limit + 1)
        else:
            rows = await _staff_rows(self.pool, _CHANGES_AFTER_SQL, since, *cursor, limit + 1)
        page = rows[:limit]
        last = page[-1] if page else None
        return {
            "nodes": page,
            "endCursor": (encode_cursor(last["modifiedAt"], last["staffId"])
                          if last is not None else None),
            "hasMore": len(rows) > limit,
        }


def _with_code(error: GraphQLError, code: str) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    formatted["extensions"] = {**formatted.get("extensions", {}), "code": code}
    return formatted


def create_app(dsn: str, *, environ: Mapping[str, str] | None = None) -> Starlette:
    """The provincial HR system as an ASGI app; settings from ``environ`` (default os.environ)."""
    env = os.environ if environ is None else environ
    settings = TokenServiceSettings.from_env(env, "SANDBOX_AGENCY_GRAPHQL", "demo-hanoi-token")
    service = AgencyGraphQLService(dsn, settings)
    control = SandboxControl.from_env(env, service="Hà Nội HR system", dialect=DIALECT,
                                      authenticate=service.authenticate, stats=service.stats)
    routes = [control.api_route("/graphql", service.endpoint, name=ROUTE_GRAPHQL,
                                methods=["POST"])]
    return build_app(routes=routes, control=control, service=service,
                     lifespan=service.lifespan)
