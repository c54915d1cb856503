"""Through the running hub: the Ministry of Health's employees get their agency record from
its database, read directly, and Đà Nẵng's from the export its legacy system dropped; one
call per system per page, in national codes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.databases import DatabaseSet
from sandbox.agency_database.codes import JOB_CODES
from sandbox.agency_file_drop.codes import POSITION_LABELS
from tests.conftest import GraphQLClient
from tests.e2e.oracle import fetch

PAGE = """query($filter: CivilServantFilter) {
  civilServants(filter: $filter, first: 100) {
    edges { node {
      employeeCode personalId agencyCode
      agencyRecord { system localId personalId fullName birthDate sex agencyCode unitName
                     positionCode rankCode salaryStep salaryCoefficient pendingDiscipline
                     address hiredOn updatedAt
                     disciplines { decisionNumber formCode } }
    } }
  }
}"""


def _page(graphql: GraphQLClient, filter_: dict[str, str]
          ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    result = graphql.query(PAGE, {"filter": filter_})
    assert "errors" not in result, result["errors"]
    nodes = [e["node"] for e in result["data"]["civilServants"]["edges"]]
    return nodes, result["extensions"]["sourceCalls"]


def _agency_with_most(databases: DatabaseSet, suffix: str) -> str:
    return str(fetch(databases.national,
                     "SELECT agency_code FROM employee WHERE agency_code LIKE '%' || $1"
                     " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", suffix)[0]["agency_code"])


def test_health_ministry_records_come_from_its_database(graphql: GraphQLClient,
                                                        databases: DatabaseSet) -> None:
    nodes, calls = _page(graphql, {"agencyCode": _agency_with_most(databases, ".G04")})
    assert nodes
    assert calls.get("moh-hris") == 1
    held = {r["national_id_no"]: r for r in fetch(
        databases.agency_database, "SELECT * FROM hr_employee WHERE national_id_no = ANY($1)",
        [n["personalId"] for n in nodes])}
    for node in nodes:
        record, row = node["agencyRecord"], held[node["personalId"]]
        assert record["system"] == "moh-hris"
        assert record["localId"] == str(row["emp_id"])
        assert record["fullName"] == row["full_nm"]
        assert record["birthDate"] == row["birth_dt"].isoformat()
        assert record["positionCode"] == JOB_CODES.get(row["job_cd"], row["job_cd"])
        assert record["rankCode"] == row["grade_cd"]
        assert record["salaryStep"] == row["sal_step"]
        assert record["salaryCoefficient"] == pytest.approx(float(row["sal_coef"]))
        assert record["pendingDiscipline"] == row["disc_pending"]
        assert record["address"] == row["home_addr"]
        assert record["hiredOn"] == row["hire_dt"].isoformat()
        assert isinstance(record["disciplines"], list)


def test_da_nang_records_come_from_the_dropped_export(graphql: GraphQLClient,
                                                      databases: DatabaseSet) -> None:
    nodes, calls = _page(graphql, {"provinceCode": "48"})
    served = [n for n in nodes if n["agencyCode"].endswith(".H48")]
    assert served
    assert calls.get("danang-hrm") == 1
    # The legacy system's own tables are what its export was made from.
    held = {r["so_cccd"]: r for r in fetch(
        databases.agency_file_drop, "SELECT * FROM ns_canbo WHERE so_cccd = ANY($1)",
        [n["personalId"] for n in served])}
    for node in served:
        record, row = node["agencyRecord"], held[node["personalId"]]
        assert record["system"] == "danang-hrm"
        assert record["localId"] == row["ma_cb"]
        assert record["fullName"] == row["ho_ten"]
        assert record["sex"] == {"Nam": "male", "Nữ": "female"}[row["gioi_tinh"]]
        assert record["hiredOn"] == row["ngay_tuyen"].isoformat()
        assert isinstance(record["disciplines"], list)
        assert record["positionCode"] == POSITION_LABELS.get(row["chuc_vu"], row["chuc_vu"])
        assert record["salaryCoefficient"] == pytest.approx(float(row["he_so"]))
        assert record["address"] == row["dia_chi"]
    for node in nodes:
        if node not in served:
            assert node["agencyRecord"] is None or node["agencyRecord"]["system"] != \
                "danang-hrm"


def test_both_answer_readiness(hub_url: str) -> None:
    sources = httpx.get(f"{hub_url}/readyz", timeout=30).json()["sources"]
    assert sources["moh-hris"] == {"ok": True}
    assert sources["danang-hrm"] == {"ok": True}
