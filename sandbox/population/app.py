"""The population registry API (National Population Database, Ministry of Public Security).

English camelCase JSON, ``X-API-Key`` authentication. Route names, as counted in
``/_sandbox/stats``: ``citizens.batch``, ``citizens.get``, ``identity.verify``.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from sandbox.apps import build_app, pool_size_from_env
from sandbox.database import PooledService
from sandbox.http import ErrorDialect, JSONResponse, RequestError, read_json_body, secret_matches
from sandbox.inputs import bounded_text, iso_date, json_list, json_object, personal_id
from sandbox.settings import env_int, env_list
from sandbox.switches import SandboxControl, Stats

__all__ = ["PopulationSettings", "create_app"]

ROUTE_BATCH = "citizens.batch"
ROUTE_GET = "citizens.get"
ROUTE_VERIFY = "identity.verify"

# Database column -> API field, in the order the API documents them.
_FIELDS: tuple[tuple[str, str], ...] = (
    ("personal_id", "personalId"), ("full_name", "fullName"), ("birth_date", "birthDate"),
    ("sex", "sex"), ("ethnicity", "ethnicity"), ("religion", "religion"),
    ("nationality", "nationality"), ("place_of_origin", "placeOfOrigin"),
    ("permanent_address", "permanentAddress"), ("current_address", "currentAddress"),
    ("father_id", "fatherId"), ("mother_id", "motherId"), ("spouse_id", "spouseId"),
    ("death_date", "deathDate"), ("updated_at", "updatedAt"),
)
_COLUMNS = ", ".join(column for column, _ in _FIELDS)
# One query per batch, whatever its size: the point of the batch endpoint.
_BATCH_SQL = f"SELECT {_COLUMNS} FROM citizen WHERE personal_id = ANY($1)"
_ONE_SQL = f"SELECT {_COLUMNS} FROM citizen WHERE personal_id = $1"
_VERIFY_SQL = ("SELECT full_name, birth_date, sex, death_date FROM citizen "
               "WHERE personal_id = $1")

_MAX_NAME_CHARS = 200
_SEXES = ("male", "female")

DIALECT = ErrorDialect(
    codes={400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
           405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 500: "INTERNAL_ERROR",
           503: "SERVICE_UNAVAILABLE"},
    envelope=lambda code, message, extra: {"error": {"code": code, "message": message, **extra}},
)


@dataclass(frozen=True, slots=True)
class PopulationSettings:
    max_batch: int
    api_keys: tuple[str, ...]
    pool_size: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> PopulationSettings:
        return cls(
            max_batch=env_int(environ, "SANDBOX_POPULATION_MAX_BATCH", 500, minimum=1,
                              maximum=100_000),
            api_keys=env_list(environ, "SANDBOX_POPULATION_API_KEYS", "demo-population-key"),
            pool_size=pool_size_from_env(environ),
        )


def _citizen(row: Mapping[str, Any]) -> dict[str, Any]:
    # orjson writes the date and datetime values as ISO 8601; None becomes null.
    return {field: row[column] for column, field in _FIELDS}


def _same_name(given: str, recorded: str) -> bool:
    """Names compare regardless of case, spacing and Unicode composition — not diacritics:
    'Nguyễn' and 'Nguyen' are different names."""

    def canonical(name: str) -> str:
        return " ".join(unicodedata.normalize("NFC", name).casefold().split())

    return canonical(given) == canonical(recorded)


class PopulationService(PooledService):
    def __init__(self, dsn: str, settings: PopulationSettings) -> None:
        super().__init__(dsn, "population", pool_size=settings.pool_size)
        self.settings = settings
        self.stats = Stats()

    def authenticate(self, request: Request) -> None:
        if not secret_matches(request.headers.get("X-API-Key"), self.settings.api_keys):
            raise RequestError(401, "missing or invalid X-API-Key header")

    async def batch(self, request: Request) -> Response:
        body = json_object(await read_json_body(request), required=("personalIds",))
        asked = json_list(body["personalIds"], "personalIds")
        self.stats.count_items(ROUTE_BATCH, len(asked))
        cap = self.settings.max_batch
        if len(asked) > cap:
            raise RequestError(413, f"at most {cap} personalIds per request, got {len(asked)}",
                               code="BATCH_TOO_LARGE", extra={"maxBatch": cap})
        ids = list(dict.fromkeys(personal_id(v, f"personalIds[{i}]")
                                 for i, v in enumerate(asked)))
        rows = await self.pool.fetch(_BATCH_SQL, ids) if ids else []
        found = {row["personal_id"] for row in rows}
        return JSONResponse({"citizens": [_citizen(row) for row in rows],
                             "notFound": [i for i in ids if i not in found]})

    async def get_one(self, request: Request) -> Response:
        self.stats.count_items(ROUTE_GET, 1)
        wanted = personal_id(request.path_params["personalId"], "personalId")
        row = await self.pool.fetchrow(_ONE_SQL, wanted)
        if row is None:
            raise RequestError(404, f"no citizen with personalId {wanted}")
        return JSONResponse(_citizen(row))

    async def verify(self, request: Request) -> Response:
        body = json_object(await read_json_body(request),
                           required=("personalId", "fullName", "birthDate", "sex"))
        self.stats.count_items(ROUTE_VERIFY, 1)
        wanted = personal_id(body["personalId"], "personalId")
        full_name = bounded_text(body["fullName"], "fullName", _MAX_NAME_CHARS)
        birth_date: date = iso_date(body["birthDate"], "birthDate")
        sex = body["sex"]
        if sex not in _SEXES:
            raise RequestError(400, 'sex must be "male" or "female"')
        row = await self.pool.fetchrow(_VERIFY_SQL, wanted)
        if row is None:
            return JSONResponse({"personalId": wanted, "exists": False, "match": False,
                                 "mismatches": [], "alive": False})
        mismatches = [field for field, ok in (
            ("fullName", _same_name(full_name, row["full_name"])),
            ("birthDate", birth_date == row["birth_date"]),
            ("sex", sex == row["sex"]),
        ) if not ok]
        return JSONResponse({"personalId": wanted, "exists": True, "match": not mismatches,
                             "mismatches": mismatches, "alive": row["death_date"] is None})


def create_app(dsn: str, *, environ: Mapping[str, str] | None = None) -> Starlette:
    """The population registry as an ASGI app; settings from ``environ`` (default os.environ)."""
    env = os.environ if environ is None else environ
    service = PopulationService(dsn, PopulationSettings.from_env(env))
    control = SandboxControl.from_env(env, service="population registry", dialect=DIALECT,
                                      authenticate=service.authenticate, stats=service.stats)
    routes = [
        control.api_route("/v1/citizens/batch", service.batch, name=ROUTE_BATCH,
                          methods=["POST"]),
        control.api_route("/v1/citizens/{personalId}", service.get_one, name=ROUTE_GET,
                          methods=["GET"]),
        control.api_route("/v1/identity/verify", service.verify, name=ROUTE_VERIFY,
                          methods=["POST"]),
    ]
    return build_app(routes=routes, control=control, service=service,
                     lifespan=service.lifespan)
