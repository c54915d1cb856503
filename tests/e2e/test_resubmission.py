"""A rejected submission corrected and resubmitted (``resubmissionOf``), a batch's submissions
under one batch id, and an idempotency key reused for another request, through the running
hub."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import asyncpg
import pytest

from hub.updates.signatures import sign_submission
from tests.e2e.audit_records import fetch_rows
from tests.e2e.test_submissions import WRITER, Desk, _hanoi_employee, desk

__all__ = ["desk"]  # the fixture, shared with the mutations' tests

RESUBMIT = """mutation($s: String!, $k: String!, $r: ID) {
  changePosition(submission: $s, idempotencyKey: $k, resubmissionOf: $r) {
    id status reasons { code path message } version repeated } }"""
BATCH = """mutation($items: [SubmissionInput!]!) {
  submitBatch(items: $items) { id status reasons { code path message } version repeated } }"""
INBOX = """query($from: DateTime, $after: String) {
  submissions(from: $from, first: 50, after: $after) {
    submissions { id status batchId resubmissionOf resubmittedBy }
    pageInfo { hasNextPage endCursor } } }"""


def _post(desk: Desk, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = desk.graphql.as_client(*WRITER).post(query, variables).json()
    return body


def _change(desk: Desk, token: str, *, key: str | None = None,
            resubmission_of: str | None = None) -> dict[str, Any]:
    body = _post(desk, RESUBMIT, {"s": token, "k": key or uuid.uuid4().hex,
                                  "r": resubmission_of})
    assert "errors" not in body, body
    answer: dict[str, Any] = body["data"]["changePosition"]
    return answer


def _step(desk: Desk, employee: dict[str, Any], step: int, *,
          version: int | None = None) -> str:
    return sign_submission(desk.payload(employee, "position-change", {
        "salaryStep": step, "effectiveFrom": date.today().isoformat()}, version=version),
        desk.key)


def _inbox(desk: Desk) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        data = desk.graphql.as_client(*WRITER).data(INBOX, {"after": after})
        page = data["submissions"]
        found.update({s["id"]: s for s in page["submissions"]})
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def _kept(desk: Desk, submission_id: str) -> dict[str, Any]:
    (row,) = fetch_rows(desk.databases.national,
                        "SELECT status, resubmission_of::text, batch_id::text, request_digest"
                        " FROM submission WHERE id = $1::uuid", submission_id)
    return row


def test_a_corrected_submission_links_both_ways(desk: Desk) -> None:
    employee = _hanoi_employee(desk)
    off = _change(desk, _step(desk, employee, 19))
    assert off["status"] == "REJECTED", off
    fixed = _change(desk, _step(desk, employee, employee["salary_step"] + 1),
                    resubmission_of=off["id"])
    assert fixed["status"] == "ACCEPTED", fixed
    assert _kept(desk, fixed["id"])["resubmission_of"] == off["id"]
    inbox = _inbox(desk)
    assert inbox[off["id"]]["resubmittedBy"] == fixed["id"]
    assert inbox[fixed["id"]]["resubmissionOf"] == off["id"]
    assert inbox[fixed["id"]]["resubmittedBy"] is None


async def _other_client_s_rejection(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval(
            "INSERT INTO submission (id, client_id, agency_code, idempotency_key, kind, status,"
            " reasons) VALUES ($1, 'moha-personnel-db', '000.00.00.G09', $2, 'position-change',"
            " 'rejected', '[{\"code\": \"CONFLICT\", \"path\": \"baseVersion\","
            " \"message\": \"secret-of-the-other-client\"}]') RETURNING id",
            uuid.uuid4(), uuid.uuid4().hex))
    finally:
        await conn.close()


@pytest.mark.parametrize("named", ["accepted", "other-client", "nonexistent"])
def test_only_a_rejected_submission_of_one_s_own_may_be_corrected(desk: Desk,
                                                                  named: str) -> None:
    employee = _hanoi_employee(desk)
    if named == "accepted":
        accepted = _change(desk, _step(desk, employee, employee["salary_step"] + 1))
        assert accepted["status"] == "ACCEPTED", accepted
        target = accepted["id"]
        employee = desk.employee(employee["employee_code"])
    elif named == "other-client":
        target = asyncio.run(_other_client_s_rejection(desk.databases.national))
    else:
        target = str(uuid.uuid4())
    before = desk.employee(employee["employee_code"])
    step = employee["salary_step"] + (1 if named != "accepted" else -1)
    answer = _change(desk, _step(desk, employee, step), resubmission_of=target)
    assert answer["status"] == "REJECTED", answer
    assert answer["reasons"] == [{"code": "RESUBMISSION_INVALID", "path": "resubmissionOf",
                                  "message": "no rejected submission of yours with this id"}]
    assert desk.employee(employee["employee_code"]) == before
    assert _kept(desk, answer["id"])["resubmission_of"] is None
    inbox = _inbox(desk)
    assert inbox[answer["id"]]["resubmissionOf"] is None
    assert "moha-personnel-db" not in str(answer)
    assert "secret-of-the-other-client" not in str(answer)
    if named != "accepted":
        assert target not in inbox


def test_a_malformed_resubmission_id_is_bad_input(desk: Desk) -> None:
    employee = _hanoi_employee(desk)
    body = _post(desk, RESUBMIT, {"s": _step(desk, employee, employee["salary_step"] + 1),
                                  "k": uuid.uuid4().hex, "r": "not-an-id"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    item = {"kind": "position-change", "submission": "a.b.c", "idempotencyKey": "k",
            "resubmissionOf": "42"}
    body = _post(desk, BATCH, {"items": [item]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


def test_a_batch_s_submissions_share_one_batch_id_and_may_correct(desk: Desk) -> None:
    employee = _hanoi_employee(desk)
    off = _change(desk, _step(desk, employee, 19))
    assert off["status"] == "REJECTED", off
    items = [{"kind": "position-change", "idempotencyKey": uuid.uuid4().hex,
              "submission": _step(desk, employee, employee["salary_step"] + 1),
              "resubmissionOf": off["id"]},
             {"kind": "position-change", "idempotencyKey": uuid.uuid4().hex,
              "submission": _step(desk, employee, 19)},
             {"kind": "position-change", "idempotencyKey": uuid.uuid4().hex,
              "submission": _step(desk, employee, 1), "resubmissionOf": str(uuid.uuid4())}]
    answers = desk.graphql.as_client(*WRITER).data(BATCH, {"items": items})["submitBatch"]
    assert [a["status"] for a in answers] == ["ACCEPTED", "REJECTED", "REJECTED"], answers
    assert answers[2]["reasons"][0]["code"] == "RESUBMISSION_INVALID"
    kept = [_kept(desk, a["id"]) for a in answers]
    assert kept[0]["batch_id"] is not None
    assert {k["batch_id"] for k in kept} == {kept[0]["batch_id"]}
    assert [k["resubmission_of"] for k in kept] == [off["id"], None, None]
    inbox = _inbox(desk)
    assert {inbox[a["id"]]["batchId"] for a in answers} == {kept[0]["batch_id"]}
    assert inbox[off["id"]]["resubmittedBy"] == answers[0]["id"]
    # Another call is another batch.
    more = desk.graphql.as_client(*WRITER).data(BATCH, {"items": [
        {"kind": "position-change", "idempotencyKey": uuid.uuid4().hex,
         "submission": _step(desk, employee, 19)}]})["submitBatch"]
    assert _kept(desk, more[0]["id"])["batch_id"] not in {None, kept[0]["batch_id"]}
    # A single mutation is in no batch.
    assert _kept(desk, off["id"])["batch_id"] is None


def test_a_key_reused_for_another_request_is_bad_input(desk: Desk) -> None:
    employee = _hanoi_employee(desk)
    key = uuid.uuid4().hex
    payload = desk.payload(employee, "position-change", {
        "salaryStep": employee["salary_step"] + 1, "effectiveFrom": date.today().isoformat()})
    first_token = sign_submission(payload, desk.key)
    first = _change(desk, first_token, key=key)
    assert first["status"] == "ACCEPTED", first
    assert _kept(desk, first["id"])["request_digest"]
    after = desk.employee(employee["employee_code"])
    other = _step(desk, after, after["salary_step"] - 1)
    body = _post(desk, RESUBMIT, {"s": other, "k": key, "r": None})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert body["errors"][0]["message"] == "this idempotency key was used for another request"
    assert not body.get("data"), body
    assert desk.employee(employee["employee_code"]) == after
    (count,) = fetch_rows(desk.databases.national, "SELECT count(*) AS n FROM submission"
                          " WHERE idempotency_key = $1", key)
    assert count["n"] == 1
    # The same request again: the first answer, repeated.
    again = _change(desk, first_token, key=key)
    assert again["repeated"] is True
    assert (again["id"], again["status"]) == (first["id"], "ACCEPTED")
    # The same change signed again (a resumed bulk run): the same request.
    resigned = sign_submission({**payload, "iat": payload["iat"] + 5}, desk.key)
    assert resigned != first_token
    again = _change(desk, resigned, key=key)
    assert (again["repeated"], again["id"]) == (True, first["id"])
    # In a batch: the whole batch refused, naming the item; nothing of it decided.
    fresh = uuid.uuid4().hex
    items = [{"kind": "position-change", "idempotencyKey": fresh,
              "submission": _step(desk, after, 19)},
             {"kind": "position-change", "idempotencyKey": key, "submission": other}]
    body = _post(desk, BATCH, {"items": items})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert body["errors"][0]["message"].startswith("item 1:"), body
    assert not fetch_rows(desk.databases.national,
                          "SELECT 1 FROM submission WHERE idempotency_key = $1", fresh)
    # Two items of one batch sending different requests under one key.
    twice = uuid.uuid4().hex
    body = _post(desk, BATCH, {"items": [
        {"kind": "position-change", "idempotencyKey": twice,
         "submission": _step(desk, after, 19)},
        {"kind": "position-change", "idempotencyKey": twice,
         "submission": _step(desk, after, 18)}]})
    assert body["errors"][0]["message"].startswith("item 1:"), body
    # The same request in a batch: the first answer, repeated.
    answers = desk.graphql.as_client(*WRITER).data(BATCH, {"items": [
        {"kind": "position-change", "idempotencyKey": key, "submission": first_token}]})
    assert answers["submitBatch"][0]["repeated"] is True
    assert answers["submitBatch"][0]["id"] == first["id"]
