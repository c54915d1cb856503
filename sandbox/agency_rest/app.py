"""The Ministry of Finance HR system (serves the ``*.G02`` agencies): REST/JSON.

The vendor's JSON uses its own Vietnamese field names (the ``nhan_su`` columns) and code lists
(see ``codes.py``); each record carries its discipline decisions nested (``ky_luat``, the
``ky_luat`` table's columns). Authentication is ``Authorization: Bearer <token>``. Route
names, as counted in ``/_sandbox/stats``: ``nhan_su.tra_cuu`` (batch lookup),
``nhan_su.chi_tiet`` (one record), ``nhan_su.thay_doi`` (change feed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

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
from sandbox.inputs import iso_datetime, json_list, json_object, personal_id, preview
from sandbox.switches import SandboxControl, Stats

__all__ = ["create_app"]

ROUTE_LOOKUP = "nhan_su.tra_cuu"
ROUTE_GET = "nhan_su.chi_tiet"
ROUTE_FEED = "nhan_su.thay_doi"

_COLUMNS = ("ma_nhan_su, so_cccd, ho_va_ten, ngay_sinh, gioi_tinh, ma_don_vi, ten_phong_ban, "
            "chuc_vu, ma_ngach, bac_luong, he_so_luong, ky_luat_dang_xu_ly, "
            "dia_chi_thuong_tru, ngay_tuyen_dung, ngay_cap_nhat")
# The decisions of a whole answer in one query, whatever its size.
_DECISIONS_SQL = ("SELECT ma_nhan_su, so_quyet_dinh, ngay_quyet_dinh, hinh_thuc, "
                  "co_quan_ban_hanh, ly_do, hieu_luc_tu, hieu_luc_den FROM ky_luat "
                  "WHERE ma_nhan_su = ANY($1) ORDER BY ngay_quyet_dinh, ma_ky_luat")
_LOOKUP_SQL = f"SELECT {_COLUMNS} FROM nhan_su WHERE so_cccd = ANY($1)"
_ONE_SQL = f"SELECT {_COLUMNS} FROM nhan_su WHERE ma_nhan_su = $1"
# Keyset pagination over the (ngay_cap_nhat, ma_nhan_su) index: the row comparison continues
# strictly after the cursor's row, so ties on the timestamp are neither lost nor repeated.
_FEED_SQL = (f"SELECT {_COLUMNS} FROM nhan_su WHERE ngay_cap_nhat >= $1 "
             "ORDER BY ngay_cap_nhat, ma_nhan_su LIMIT $2")
_FEED_AFTER_SQL = (f"SELECT {_COLUMNS} FROM nhan_su WHERE ngay_cap_nhat >= $1 "
                   "AND (ngay_cap_nhat, ma_nhan_su) > ($2, $3) "
                   "ORDER BY ngay_cap_nhat, ma_nhan_su LIMIT $4")

_FEED_PARAMS = ("cap_nhat_tu", "con_tro", "gioi_han")
_DEFAULT_PAGE = 100
_MAX_PAGE = 1000
_MAX_LOCAL_ID_CHARS = 64

DIALECT = ErrorDialect(
    codes={400: "YEU_CAU_KHONG_HOP_LE", 401: "CHUA_XAC_THUC", 403: "KHONG_CO_QUYEN",
           404: "KHONG_TIM_THAY", 405: "PHUONG_THUC_KHONG_HO_TRO", 413: "VUOT_GIOI_HAN",
           500: "LOI_HE_THONG", 503: "HE_THONG_TAM_NGUNG"},
    envelope=lambda code, message, extra: {"loi": {"ma": code, "thong_bao": message, **extra}},
)


def _nhan_su(row: Mapping[str, Any], decisions: Mapping[str, list[dict[str, Any]]]
             ) -> dict[str, Any]:
    record = dict(row)
    # numeric(4,2) arrives as Decimal; the vendor's JSON carries it as a plain number.
    record["he_so_luong"] = float(record["he_so_luong"])
    record["ky_luat"] = decisions.get(record["ma_nhan_su"], [])
    return record


async def _records(pool: asyncpg.Pool, sql: str, *args: Any) -> list[dict[str, Any]]:
    """The ``nhan_su`` rows ``sql`` selects, each with its decisions: two queries in one
    snapshot, so a record and its decisions always agree."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                         readonly=True):
        rows = await conn.fetch(sql, *args)
        found = await conn.fetch(_DECISIONS_SQL, [r["ma_nhan_su"] for r in rows]) \
            if rows else []
    decisions: dict[str, list[dict[str, Any]]] = {}
    for decision in found:
        item = dict(decision)
        decisions.setdefault(item.pop("ma_nhan_su"), []).append(item)
    return [_nhan_su(row, decisions) for row in rows]


@dataclass(frozen=True, slots=True)
class _FeedQuery:
    since: datetime
    after: tuple[datetime, str] | None
    limit: int


def _feed_query(params: Mapping[str, str], multi: list[tuple[str, str]]) -> _FeedQuery:
    unknown = sorted({name for name, _ in multi if name not in _FEED_PARAMS})
    if unknown:
        raise InvalidInput(f"unknown query parameter(s): {', '.join(map(preview, unknown))}")
    repeated = sorted({name for name, _ in multi if sum(n == name for n, _ in multi) > 1})
    if repeated:
        raise InvalidInput(f"query parameter(s) given more than once: {', '.join(repeated)}")
    after = (decode_cursor(params["con_tro"], str, "con_tro")
             if params.get("con_tro") else None)
    if params.get("cap_nhat_tu"):
        since = iso_datetime(params["cap_nhat_tu"], "cap_nhat_tu")
    elif after is not None:
        since = after[0]  # the cursor alone says where to continue
    else:
        raise InvalidInput("cap_nhat_tu is required (ISO 8601 date-time) unless con_tro is "
                           "given")
    raw_limit = params.get("gioi_han", str(_DEFAULT_PAGE))
    if not (raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 5
            and 1 <= int(raw_limit) <= _MAX_PAGE):
        raise InvalidInput(f"gioi_han must be an integer from 1 to {_MAX_PAGE}, "
                           f"got {preview(raw_limit)}")
    return _FeedQuery(since=since, after=after, limit=int(raw_limit))


class AgencyRestService(PooledService):
    def __init__(self, dsn: str, settings: TokenServiceSettings) -> None:
        super().__init__(dsn, "agency_rest", pool_size=settings.pool_size)
        self.settings = settings
        self.stats = Stats()

    def authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret_matches(token.strip(),
                                                            (self.settings.token,)):
            raise RequestError(401, "missing or invalid bearer token",
                               headers={"WWW-Authenticate": "Bearer"})

    async def lookup(self, request: Request) -> Response:
        body = json_object(await read_json_body(request), required=("so_cccd",))
        asked = json_list(body["so_cccd"], "so_cccd")
        self.stats.count_items(ROUTE_LOOKUP, len(asked))
        cap = self.settings.max_batch
        if len(asked) > cap:
            raise RequestError(413, f"at most {cap} so_cccd per request, got {len(asked)}",
                               extra={"so_luong_toi_da": cap})
        ids = list(dict.fromkeys(personal_id(v, f"so_cccd[{i}]") for i, v in enumerate(asked)))
        records = await _records(self.pool, _LOOKUP_SQL, ids) if ids else []
        return JSONResponse({"du_lieu": records, "so_ban_ghi": len(records)})

    async def get_one(self, request: Request) -> Response:
        self.stats.count_items(ROUTE_GET, 1)
        local_id: str = request.path_params["ma_nhan_su"]
        if len(local_id) > _MAX_LOCAL_ID_CHARS or not local_id.isprintable():
            raise InvalidInput(f"ma_nhan_su must be at most {_MAX_LOCAL_ID_CHARS} printable "
                               f"characters, got {preview(local_id)}")
        found = await _records(self.pool, _ONE_SQL, local_id)
        if not found:
            raise RequestError(404, f"no employee with ma_nhan_su {preview(local_id)}")
        return JSONResponse(found[0])

    async def changes(self, request: Request) -> Response:
        query = _feed_query(request.query_params, request.query_params.multi_items())
        # One row more than the page tells whether another page follows.
        if query.after is None:
            rows = await _records(self.pool, _FEED_SQL, query.since, query.limit + 1)
        else:
            rows = await _records(self.pool, _FEED_AFTER_SQL, query.since, *query.after,
                                  query.limit + 1)
        page = rows[: query.limit]
        more = len(rows) > query.limit
        last = page[-1] if page else None
        next_cursor = (encode_cursor(last["ngay_cap_nhat"], last["ma_nhan_su"])
                       if more and last is not None else None)
        return JSONResponse({"du_lieu": page, "con_tro_tiep": next_cursor})


def create_app(dsn: str, *, environ: Mapping[str, str] | None = None) -> Starlette:
    """The ministry HR system as an ASGI app; settings from ``environ`` (default os.environ)."""
    env = os.environ if environ is None else environ
    settings = TokenServiceSettings.from_env(env, "SANDBOX_AGENCY_REST", "demo-mof-token")
    service = AgencyRestService(dsn, settings)
    control = SandboxControl.from_env(env, service="MOF HR system", dialect=DIALECT,
                                      authenticate=service.authenticate, stats=service.stats)
    routes = [
        control.api_route("/api/v1/nhan-su/tra-cuu", service.lookup, name=ROUTE_LOOKUP,
                          methods=["POST"]),
        # Before the {ma_nhan_su} route, which would otherwise take 'thay-doi' as an id.
        control.api_route("/api/v1/nhan-su/thay-doi", service.changes, name=ROUTE_FEED,
                          methods=["GET"]),
        control.api_route("/api/v1/nhan-su/{ma_nhan_su}", service.get_one, name=ROUTE_GET,
                          methods=["GET"]),
    ]
    return build_app(routes=routes, control=control, service=service,
                     lifespan=service.lifespan)
