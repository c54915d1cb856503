"""Signed changes submitted through GraphQL mutations, end to end: accepted ones written with
their history, rejected ones kept with their reasons, retries answered once, and the national
database unchanged by anything refused."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from joserfc.jwk import Key

from hub.databases import DatabaseSet
from hub.updates.keys import add_signer_key, generate_signer_key
from hub.updates.signatures import sign_submission
from tests.conftest import GraphQLClient
from tests.e2e.audit_records import fetch_rows, record, request_id

HANOI_AGENCY = "000.00.01.H01"
WRITER = ("hanoi-doha", "personnel-updates")
CHANGE = """mutation($s: String!, $k: String!) {
  changePosition(submission: $s, idempotencyKey: $k) {
    id status reasons { code path message } version currentVersion record repeated } }"""
DISCIPLINE = """mutation($s: String!, $k: String!) {
  recordDisciplineDecision(submission: $s, idempotencyKey: $k) {
    id status reasons { code path } version record } }"""


@dataclass
class Desk:
    graphql: GraphQLClient
    databases: DatabaseSet
    key: Key

    def payload(self, employee: dict[str, Any], kind: str, change: dict[str, Any], *,
                version: int | None = None, iss: str = HANOI_AGENCY) -> dict[str, Any]:
        return {"jti": uuid.uuid4().hex, "iat": int(time.time()), "iss": iss, "kind": kind,
                "employee": {"employeeCode": employee["employee_code"],
                             "personalId": employee["personal_id"]},
                "baseVersion": employee["version"] if version is None else version,
                "change": change, "sourceSystem": "hanoi-hrm"}

    def submit(self, payload: dict[str, Any] | str, *, key: str | None = None,
               mutation: str = CHANGE, signer: Key | None = None,
               request: str | None = None) -> tuple[dict[str, Any], str]:
        token = payload if isinstance(payload, str) else sign_submission(
            payload, signer or self.key)
        writer = self.graphql.as_client(*WRITER)
        request = request or request_id("submit")
        response = writer.post(mutation, {"s": token, "k": key or uuid.uuid4().hex},
                               headers={"x-request-id": request})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return next(iter(body["data"].values())), token

    def employee(self, code: str) -> dict[str, Any]:
        (row,) = fetch_rows(self.databases.national,
                            "SELECT employee_code, personal_id, rank_code, salary_step, version,"
                            " category FROM employee WHERE employee_code = $1", code)
        return row


def _ladder_length(databases: DatabaseSet, rank: str) -> int:
    (row,) = fetch_rows(databases.national,
                        "SELECT count(*) AS n FROM salary_ladder WHERE rank_code = $1", rank)
    return int(row["n"])


@pytest.fixture(scope="module")
def desk(graphql: GraphQLClient, databases: DatabaseSet) -> Desk:
    key = generate_signer_key("ES256")

    async def register() -> None:
        conn = await asyncpg.connect(databases.national)
        try:
            await add_signer_key(conn, "agency", HANOI_AGENCY, key.as_dict(private=False),
                                 valid_from=datetime.now(UTC) - timedelta(days=1))
        finally:
            await conn.close()

    asyncio.run(register())
    return Desk(graphql, databases, key)


def _hanoi_employee(desk: Desk, *, room_to_grow: bool = True) -> dict[str, Any]:
    rows = fetch_rows(desk.databases.national,
                      "SELECT e.employee_code FROM employee e JOIN agency a ON"
                      " a.code = e.agency_code WHERE a.authority = 'H01' AND e.status ="
                      " 'active' ORDER BY e.employee_code")
    for row in rows:
        employee = desk.employee(row["employee_code"])
        if not room_to_grow or employee["salary_step"] < _ladder_length(
                desk.databases, employee["rank_code"]):
            return employee
    raise AssertionError("no Hà Nội employee below the top of their ladder")


def test_an_accepted_change_lands_with_its_history_and_audit(desk: Desk) -> None:
    employee = _hanoi_employee(desk)
    request = request_id("submit-ok")
    result, _ = desk.submit(desk.payload(employee, "position-change", {
        "salaryStep": employee["salary_step"] + 1,
        "effectiveFrom": date.today().isoformat()}), request=request)
    assert result["status"] == "ACCEPTED", result
    assert result["version"] == employee["version"] + 1
    after = desk.employee(employee["employee_code"])
    assert (after["salary_step"], after["version"]) == (employee["salary_step"] + 1,
                                                        employee["version"] + 1)
    (history,) = fetch_rows(desk.databases.national,
                            "SELECT entity, previous::text, current::text, client_id,"
                            " source_system FROM record_version WHERE submission_id = $1::uuid",
                            result["id"])
    assert history["client_id"] == "hanoi-doha"
    assert history["source_system"] == "hanoi-hrm"
    assert orjson.loads(history["previous"])["salary_step"] == employee["salary_step"]
    assert orjson.loads(history["current"])["salary_step"] == employee["salary_step"] + 1
    entry = record(desk.databases.national, request)
    assert entry["operation"]["type"] == "mutation"
    assert "Mutation.changePosition" in entry.fields_of(employee["personal_id"])


def test_a_retry_gets_the_first_answer(desk: Desk) -> None:
    employee = _hanoi_employee(desk)
    payload = desk.payload(employee, "position-change", {
        "salaryStep": employee["salary_step"] + 1, "effectiveFrom": date.today().isoformat()})
    key = uuid.uuid4().hex
    first, token = desk.submit(payload, key=key)
    again, _ = desk.submit(token, key=key)
    assert first["status"] == "ACCEPTED"
    assert again["repeated"] is True
    assert (again["id"], again["version"]) == (first["id"], first["version"])
    assert desk.employee(employee["employee_code"])["version"] == employee["version"] + 1
    # The same signed change under another key is a replay, refused.
    replay, _ = desk.submit(token)
    assert replay["status"] == "REJECTED"
    assert {r["code"] for r in replay["reasons"]} <= {"REPLAYED", "CONFLICT"}


@pytest.mark.parametrize("case", ["stale", "forged", "tampered", "off-ladder", "outside",
                                  "wrong-agency", "identity", "kind", "too-old"])
def test_a_refused_change_is_kept_and_changes_nothing(desk: Desk, case: str) -> None:
    employee = _hanoi_employee(desk)
    change = {"salaryStep": employee["salary_step"] + 1,
              "effectiveFrom": date.today().isoformat()}
    payload = desk.payload(employee, "position-change", change)
    signer: Key | None = None
    token: str | None = None
    expected = {"stale": "CONFLICT", "forged": "BAD_SIGNATURE", "tampered": "BAD_SIGNATURE",
                "off-ladder": "NOT_ON_LADDER", "outside": "NOT_AUTHORIZED",
                "wrong-agency": "WRONG_SIGNER", "identity": "IDENTITY_MISMATCH",
                "kind": "KIND_MISMATCH", "too-old": "SIGNATURE_TOO_OLD"}[case]
    target = employee
    if case == "stale":
        payload["baseVersion"] = employee["version"] - 1 if employee["version"] > 1 else 99
    elif case == "forged":  # another key claiming the registered key's kid
        other = generate_signer_key("ES256")
        token = sign_submission(payload, other, kid=desk.key.kid)
    elif case == "tampered":
        signed = sign_submission(payload, desk.key).split(".")
        changed = {**payload, "change": {**change, "salaryStep": 1}}
        forged_body = sign_submission(changed, desk.key).split(".")[1]
        token = ".".join((signed[0], forged_body, signed[2]))
    elif case == "off-ladder":
        payload["change"] = {"salaryStep": 19, "effectiveFrom": date.today().isoformat()}
    elif case == "outside":
        (row,) = fetch_rows(desk.databases.national,
                            "SELECT e.employee_code FROM employee e JOIN agency a ON a.code ="
                            " e.agency_code WHERE a.authority <> 'H01' LIMIT 1")
        target = desk.employee(row["employee_code"])
        payload = desk.payload(target, "position-change", change)
    elif case == "wrong-agency":
        payload["iss"] = "000.00.00.G02"
    elif case == "identity":
        payload["employee"]["personalId"] = "001099000001"
    elif case == "kind":
        payload["kind"] = "award"
    elif case == "too-old":  # signed more than HUB_SUBMISSION_MAX_AGE_DAYS (30) ago
        payload["iat"] = int(time.time()) - 31 * 86_400
    result, _ = desk.submit(token or payload, signer=signer)
    assert result["status"] == "REJECTED", result
    assert expected in {r["code"] for r in result["reasons"]}, result
    if case == "stale":
        assert result["currentVersion"] == employee["version"]
    assert desk.employee(target["employee_code"]) == target
    (kept,) = fetch_rows(desk.databases.national,
                         "SELECT status, reasons::text FROM submission WHERE id = $1::uuid",
                         result["id"])
    assert kept["status"] == "rejected"
    assert expected in kept["reasons"]


def test_a_discipline_decision_is_recorded_and_readable(desk: Desk) -> None:
    employee = _hanoi_employee(desk, room_to_grow=False)
    decided = date.today().isoformat()
    result, _ = desk.submit(desk.payload(employee, "discipline-decision", {
        "formCode": "reprimand", "decisionNumber": "15/QĐ-SNV", "issuer": "Sở Nội vụ Hà Nội",
        "decidedOn": decided, "effectiveFrom": decided, "reason": "vi phạm quy chế"}),
        mutation=DISCIPLINE)
    assert result["status"] == "ACCEPTED", result
    writer = desk.graphql.as_client("hanoi-doha", "personnel-management")
    data = writer.data('query($c: String!) { civilServant(employeeCode: $c) { disciplines {'
                       ' decisionNumber inEffect } } }', {"c": employee["employee_code"]})
    numbers = {d["decisionNumber"]: d["inEffect"]
               for d in data["civilServant"]["disciplines"]}
    assert numbers.get("15/QĐ-SNV") is True


def test_a_client_without_write_grants_has_no_mutations(desk: Desk) -> None:
    payroll = desk.graphql.as_client("mof-payroll", "salary-budget")
    response = payroll.post(CHANGE, {"s": "a.b.c", "k": "k"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    # Reading purposes of a writing client have none either.
    reader = desk.graphql.as_client("hanoi-doha", "personnel-management")
    assert reader.post(CHANGE, {"s": "a.b.c", "k": "k"}).status_code == 400


def test_malformed_arguments_are_refused_before_the_desk(desk: Desk) -> None:
    writer = desk.graphql.as_client(*WRITER)
    for token, key in (("x" * (256 * 1024 + 1), "k"), ("a.b.c", ""), ("a.b.c", "k\x00")):
        body = writer.post(CHANGE, {"s": token, "k": key}).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    garbage, _ = desk.submit("not a jws at all")
    assert garbage["status"] == "REJECTED"
    assert garbage["reasons"][0]["code"] == "MALFORMED"


def test_a_mutation_over_get_is_refused(desk: Desk) -> None:
    writer = desk.graphql.as_client(*WRITER)
    response = httpx.get(f"{writer.base_url}/graphql", headers=writer.headers(), timeout=30,
                         params={"query": 'mutation { changePosition(submission: "a",'
                                          ' idempotencyKey: "k") { id } }'})
    assert response.status_code == 405



BATCH = """mutation($items: [SubmissionInput!]!) {
  submitBatch(items: $items) { id status reasons { code } version repeated } }"""


def test_a_batch_decides_each_item_in_order(desk: Desk) -> None:
    employee = _hanoi_employee(desk)
    good = sign_submission(desk.payload(employee, "position-change", {
        "salaryStep": employee["salary_step"] + 1,
        "effectiveFrom": date.today().isoformat()}), desk.key)
    off = sign_submission(desk.payload(employee, "position-change", {
        "salaryStep": 19, "effectiveFrom": date.today().isoformat()}), desk.key)
    items = [{"kind": "position-change", "submission": token, "idempotencyKey": uuid.uuid4().hex}
             for token in (good, off)]
    writer = desk.graphql.as_client(*WRITER)
    answers = writer.data(BATCH, {"items": items})["submitBatch"]
    assert [a["status"] for a in answers] == ["ACCEPTED", "REJECTED"]
    assert answers[1]["reasons"][0]["code"] == "NOT_ON_LADDER"
    again = writer.data(BATCH, {"items": items})["submitBatch"]
    assert [a["repeated"] for a in again] == [True, True]
    assert [a["id"] for a in again] == [a["id"] for a in answers]
    assert desk.employee(employee["employee_code"])["version"] == employee["version"] + 1
    for bad in ([], [{**items[0], "kind": "no-such-kind"}]):
        body = writer.post(BATCH, {"items": bad}).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


def test_hostile_signed_input_is_refused_and_kept_never_an_error(desk: Desk) -> None:
    employee = _hanoi_employee(desk, room_to_grow=False)
    decision = {"formCode": "reprimand", "decisionNumber": "9/QĐ", "issuer": "Sở Nội vụ",
                "effectiveFrom": date.today().isoformat()}
    cases: list[tuple[dict[str, Any] | str, str, str]] = [
        # another ISO form Python would parse, but not the format the payload promises
        (desk.payload(employee, "discipline-decision", {**decision, "decidedOn": "20240101"}),
         DISCIPLINE, "INVALID_DATE"),
        # a version no file can have
        (desk.payload(employee, "position-change", {"salaryStep": 1, "effectiveFrom":
                                                    date.today().isoformat()}, version=2**40),
         CHANGE, "REQUIRED"),
        # not a JWS at all, with a character jsonb cannot hold
        ("abc\x00def", CHANGE, "MALFORMED"),
    ]
    for payload, mutation, code in cases:
        before = desk.employee(employee["employee_code"])
        result, _ = desk.submit(payload, mutation=mutation)
        assert result["status"] == "REJECTED", result
        assert code in {r["code"] for r in result["reasons"]}, result
        (kept,) = fetch_rows(desk.databases.national,
                             "SELECT status FROM submission WHERE id = $1::uuid", result["id"])
        assert kept["status"] == "rejected"
        assert desk.employee(employee["employee_code"]) == before
