"""The hand-written baseline: Starlette + asyncpg + httpx + orjson, no GraphQL.

It answers the reference query's question with the same source calls the hub makes (agency
codes of the province, one page query, one population-registry batch, one call per agency
system) and returns the same JSON, so the ratio between the two is the cost of the GraphQL
layer and nothing else. Run: ``uvicorn bench.baseline:app_from_env --factory``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import asyncpg
import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["app_from_env"]

EMPLOYEE_SQL = (
    "SELECT employee_code, personal_id, full_name, birth_date, sex, category, status,"
    " agency_code, unit_name, salary_step, salary_coefficient::float8 AS salary_coefficient,"
    " hired_on FROM employee WHERE agency_code = ANY($1) ORDER BY employee_code LIMIT $2")
# The Ministry of Health's database (read directly): its post codes, its table.
MOH_POSITIONS = {"1010": "BO_TRUONG", "1020": "THU_TRUONG", "1110": "VU_TRUONG",
                 "1120": "PHO_VU_TRUONG", "1210": "CHU_TICH_UBND", "1220": "PHO_CHU_TICH_UBND",
                 "1310": "GIAM_DOC_SO", "1320": "PHO_GIAM_DOC_SO", "1410": "CHANH_VAN_PHONG",
                 "1510": "TRUONG_PHONG", "1520": "PHO_TRUONG_PHONG", "1610": "HIEU_TRUONG",
                 "1710": "GIAM_DOC_BENH_VIEN", "2010": "CHUYEN_VIEN", "2020": "THANH_TRA_VIEN",
                 "2030": "KE_TOAN", "3010": "GIANG_VIEN", "3020": "GIAO_VIEN", "4010": "BAC_SI",
                 "4020": "DIEU_DUONG", "9010": "NHAN_VIEN"}
MOH_SQL = ("SELECT national_id_no, job_cd, grade_cd, disc_pending FROM hr_employee"
           " WHERE national_id_no = ANY($1)")
MOF_POSITIONS = {"TP": "TRUONG_PHONG", "PTP": "PHO_TRUONG_PHONG", "CV": "CHUYEN_VIEN",
                 "KT": "KE_TOAN", "VT": "VU_TRUONG", "PVT": "PHO_VU_TRUONG", "TT": "THU_TRUONG",
                 "BT": "BO_TRUONG", "CVP": "CHANH_VAN_PHONG", "TTV": "THANH_TRA_VIEN",
                 "NV": "NHAN_VIEN", "GV": "GIANG_VIEN", "HT": "HIEU_TRUONG", "BS": "BAC_SI",
                 "DD": "DIEU_DUONG", "GDBV": "GIAM_DOC_BENH_VIEN", "GVPT": "GIAO_VIEN",
                 "GD": "GIAM_DOC_SO", "PGD": "PHO_GIAM_DOC_SO", "CT": "CHU_TICH_UBND",
                 "PCT": "PHO_CHU_TICH_UBND"}
HANOI_QUERY = ("query($ids: [String!]!) { staffByCitizenIds(ids: $ids) "
               "{ citizenId jobTitle { code } grade pendingDiscipline } }")
HANOI_POSITIONS = {"MINISTER": "BO_TRUONG", "VICE_MINISTER": "THU_TRUONG",
                   "DEPT_DIRECTOR": "VU_TRUONG", "DEPUTY_DEPT_DIRECTOR": "PHO_VU_TRUONG",
                   "CHAIRMAN": "CHU_TICH_UBND", "VICE_CHAIRMAN": "PHO_CHU_TICH_UBND",
                   "DIRECTOR": "GIAM_DOC_SO", "DEPUTY_DIRECTOR": "PHO_GIAM_DOC_SO",
                   "OFFICE_CHIEF": "CHANH_VAN_PHONG", "HEAD": "TRUONG_PHONG",
                   "DEPUTY_HEAD": "PHO_TRUONG_PHONG", "PRINCIPAL": "HIEU_TRUONG",
                   "HOSPITAL_DIRECTOR": "GIAM_DOC_BENH_VIEN", "OFFICER": "CHUYEN_VIEN",
                   "INSPECTOR": "THANH_TRA_VIEN", "ACCOUNTANT": "KE_TOAN",
                   "LECTURER": "GIANG_VIEN", "TEACHER": "GIAO_VIEN", "DOCTOR": "BAC_SI",
                   "NURSE": "DIEU_DUONG", "STAFF": "NHAN_VIEN"}


def _national_rank(vendor: str) -> str:
    """The Ministry of Finance system writes rank codes without dots (01003, V070103)."""
    if vendor.startswith("V") and len(vendor) == 7:
        return f"V.{vendor[1:3]}.{vendor[3:5]}.{vendor[5:7]}"
    if len(vendor) == 5 and vendor.isdigit():
        return f"{vendor[:2]}.{vendor[2:]}"
    return vendor


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class Baseline:
    def __init__(self) -> None:
        self.dsn = os.environ["HUB_DATABASE_URL"]
        self.population = os.environ["POPULATION_URL"]
        self.mof = os.environ["AGENCY_MOF_URL"]
        self.hanoi = os.environ["AGENCY_HANOI_URL"]
        self.moh_dsn = os.environ["AGENCY_MOH_DSN"]
        self.pool: asyncpg.Pool | None = None
        self.moh: asyncpg.Pool | None = None
        self.clients: dict[str, httpx.AsyncClient] = {}

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=2, max_size=10)
        self.moh = await asyncpg.create_pool(self.moh_dsn, min_size=1, max_size=4)
        self.clients = {name: httpx.AsyncClient() for name in ("population", "mof", "hanoi")}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        if self.pool is not None:
            await self.pool.close()
        if self.moh is not None:
            await self.moh.close()

    async def _post(self, client: str, url: str, body: Any, headers: dict[str, str]) -> Any:
        response = await self.clients[client].post(
            url, content=orjson.dumps(body),
            headers={"content-type": "application/json", **headers}, timeout=2.0)
        response.raise_for_status()
        return orjson.loads(response.content)

    async def reference(self, request: Request) -> Response:
        assert self.pool is not None
        province = request.query_params.get("province", "01")
        first = int(request.query_params.get("first", "100"))
        codes = [r["code"] for r in await self.pool.fetch(
            "SELECT code FROM agency WHERE province_code = $1 ORDER BY code", province)]
        rows = await self.pool.fetch(EMPLOYEE_SQL, codes, first + 1)
        rows = rows[:first]
        ids = [r["personal_id"] for r in rows]
        mof_ids = [r["personal_id"] for r in rows if r["agency_code"].endswith(".G02")]
        hanoi_ids = [r["personal_id"] for r in rows if r["agency_code"].endswith(".H01")]
        calls = [self._post("population", f"{self.population}/v1/citizens/batch",
                            {"personalIds": ids}, {"x-api-key": "demo-population-key"})]
        if mof_ids:
            calls.append(self._post("mof", f"{self.mof}/api/v1/nhan-su/tra-cuu",
                                    {"so_cccd": mof_ids},
                                    {"authorization": "Bearer demo-mof-token"}))
        if hanoi_ids:
            calls.append(self._post("hanoi", f"{self.hanoi}/graphql",
                                    {"query": HANOI_QUERY, "variables": {"ids": hanoi_ids}},
                                    {"x-api-token": "demo-hanoi-token"}))
        moh_ids = [r["personal_id"] for r in rows if r["agency_code"].endswith(".G04")]
        assert self.moh is not None
        # The database is read while the HTTP sources answer, as the hub does.
        moh = asyncio.ensure_future(self.moh.fetch(MOH_SQL, moh_ids)) if moh_ids else None
        answers = await asyncio.gather(*calls)
        moh_rows = await moh if moh is not None else []
        citizens = {c["personalId"]: c for c in answers[0]["citizens"]}
        records: dict[str, dict[str, Any]] = {}
        index = 1
        if mof_ids:
            for r in answers[index]["du_lieu"]:
                records[r["so_cccd"]] = {
                    "system": "mof-hrmis",
                    "positionCode": MOF_POSITIONS.get(r["chuc_vu"], r["chuc_vu"]),
                    "rankCode": _national_rank(r["ma_ngach"]),
                    "pendingDiscipline": r["ky_luat_dang_xu_ly"]}
            index += 1
        if hanoi_ids:
            for r in answers[index]["data"]["staffByCitizenIds"]:
                code = r["jobTitle"]["code"]
                records[r["citizenId"]] = {
                    "system": "hanoi-hrm", "positionCode": HANOI_POSITIONS.get(code, code),
                    "rankCode": r["grade"], "pendingDiscipline": r["pendingDiscipline"]}
        for r in moh_rows:
            records[r["national_id_no"]] = {
                "system": "moh-hris",
                "positionCode": MOH_POSITIONS.get(r["job_cd"], r["job_cd"]),
                "rankCode": r["grade_cd"], "pendingDiscipline": r["disc_pending"]}
        edges = []
        for row in rows:
            citizen = citizens.get(row["personal_id"])
            edges.append({"node": {
                "employeeCode": row["employee_code"], "personalId": row["personal_id"],
                "fullName": row["full_name"], "birthDate": _iso(row["birth_date"]),
                "sex": row["sex"].upper(), "category": row["category"].upper(),
                "status": row["status"].upper(), "agencyCode": row["agency_code"],
                "unitName": row["unit_name"], "salaryStep": row["salary_step"],
                "salaryCoefficient": row["salary_coefficient"],
                "hiredOn": _iso(row["hired_on"]),
                "person": None if citizen is None else {
                    "fullName": citizen["fullName"], "birthDate": citizen["birthDate"],
                    "sex": citizen["sex"].upper(), "currentAddress": citizen["currentAddress"],
                    "permanentAddress": citizen["permanentAddress"],
                    "nationality": citizen["nationality"]},
                "agencyRecord": records.get(row["personal_id"]),
            }})
        body = {"data": {"civilServants": {"edges": edges}}}
        return Response(orjson.dumps(body), media_type="application/json")


def app_from_env() -> Starlette:
    baseline = Baseline()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await baseline.open()
        try:
            yield
        finally:
            await baseline.close()

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(routes=[Route("/reference", baseline.reference),
                             Route("/healthz", healthz)], lifespan=lifespan)
