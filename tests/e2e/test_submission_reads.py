"""The write side read back through the running hub: a file's history (CivilServant.history)
under each reader's grants, and the submitting client's own inbox (Query.submissions)."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.audit_records import fetch_rows
from tests.e2e.test_submissions import DISCIPLINE, Desk, _hanoi_employee, desk

__all__ = ["desk"]  # the fixture, shared with the mutations' tests

HISTORY = """query($c: String!, $after: String, $from: DateTime) {
  civilServant(employeeCode: $c) { history(first: 50, after: $after, from: $from) {
    versions { version entity recordKey appliedAt submittedBy agencyCode sourceSystem
               signerKeys submissionId changedFields changes { field before after masked } }
    pageInfo { hasNextPage endCursor } } } }"""
INBOX = """query($status: SubmissionStatus, $after: String, $first: Int, $from: DateTime) {
  submissions(status: $status, first: $first, after: $after, from: $from) {
    submissions { id kind status reasons { code path message } employeeCode receivedAt
                  decidedAt version record resubmissionOf resubmittedBy }
    pageInfo { hasNextPage endCursor } } }"""
MANAGER = ("hanoi-doha", "personnel-management")
WRITER = ("hanoi-doha", "personnel-updates")


@pytest.fixture(scope="module")
def submitted(desk: Desk) -> dict[str, Any]:
    """One accepted salary-step change and one stale (rejected) one, by the city."""
    since = datetime.now(UTC) - timedelta(seconds=5)
    employee = _hanoi_employee(desk)
    accepted, _ = desk.submit(desk.payload(employee, "position-change", {
        "salaryStep": employee["salary_step"] + 1,
        "effectiveFrom": date.today().isoformat()}))
    assert accepted["status"] == "ACCEPTED", accepted
    rejected, _ = desk.submit(desk.payload(employee, "position-change", {
        "salaryStep": employee["salary_step"] + 1,
        "effectiveFrom": date.today().isoformat()}, version=employee["version"]))
    assert rejected["status"] == "REJECTED", rejected
    return {"employee": employee, "accepted": accepted, "rejected": rejected, "since": since}


def _history(desk: Desk, client: tuple[str, str], code: str, **variables: Any
             ) -> dict[str, Any]:
    data = desk.graphql.as_client(*client).data(HISTORY, {"c": code, **variables})
    history: dict[str, Any] = data["civilServant"]["history"]
    return history


def _inbox(desk: Desk, client: tuple[str, str], **variables: Any) -> list[dict[str, Any]]:
    """Every submission of the client's inbox since the module began, page by page."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        data = desk.graphql.as_client(*client).data(INBOX, {**variables, "after": after,
                                                            "first": 3})
        page = data["submissions"]
        found.extend(page["submissions"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def test_the_manager_reads_the_change_with_its_values(desk: Desk,
                                                      submitted: dict[str, Any]) -> None:
    employee, accepted = submitted["employee"], submitted["accepted"]
    history = _history(desk, MANAGER, employee["employee_code"])
    (version,) = [v for v in history["versions"] if v["submissionId"] == accepted["id"]]
    step = employee["salary_step"]
    assert version["version"] == accepted["version"]
    assert (version["entity"], version["recordKey"]) == ("employee", None)
    assert version["submittedBy"] == "hanoi-doha"
    assert version["sourceSystem"] == "hanoi-hrm"
    assert version["signerKeys"] == [desk.key.kid]
    changes = {c["field"]: c for c in version["changes"]}
    assert changes["salaryStep"] == {"field": "salaryStep", "before": str(step),
                                     "after": str(step + 1), "masked": False}
    assert "salaryCoefficient" in changes
    assert set(version["changedFields"]) == set(changes)
    # newest first
    applied = [v["appliedAt"] for v in history["versions"]]
    assert applied == sorted(applied, reverse=True)


def test_a_reader_sees_only_the_fields_it_reads(desk: Desk, submitted: dict[str, Any]) -> None:
    employee, accepted = submitted["employee"], submitted["accepted"]
    # The writer reads salary steps but not coefficients: the step only.
    history = _history(desk, WRITER, employee["employee_code"])
    (version,) = [v for v in history["versions"] if v["submissionId"] == accepted["id"]]
    assert version["changedFields"] == ["salaryStep"]
    assert "salaryCoefficient" not in str(version)
    # The inspectorate reads no salary at all: the change is not in its history.
    inspector = _history(desk, ("gov-inspectorate", "inspection"), employee["employee_code"])
    assert accepted["id"] not in {v["submissionId"] for v in inspector["versions"]}


def test_history_needs_a_grant(desk: Desk, submitted: dict[str, Any]) -> None:
    payroll = desk.graphql.as_client("mof-payroll", "salary-budget")
    result = payroll.post(HISTORY, {"c": submitted["employee"]["employee_code"]}).json()
    assert result["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert result.get("data") is None


def test_a_list_of_files_costs_one_history_query(desk: Desk,
                                                 submitted: dict[str, Any]) -> None:
    manager = desk.graphql.as_client(*MANAGER)
    result = manager.post("{ civilServants(first: 30) { nodes { employeeCode history(first: 2)"
                          " { versions { version changes { field after } } } } } }").json()
    assert "errors" not in result, result
    nodes = result["data"]["civilServants"]["nodes"]
    assert len(nodes) == 30
    assert result["extensions"]["sourceCalls"] == {"national": 2}


def test_the_writer_reads_its_own_inbox(desk: Desk, submitted: dict[str, Any]) -> None:
    accepted, rejected = submitted["accepted"], submitted["rejected"]
    since = submitted["since"].isoformat()
    inbox = {s["id"]: s for s in _inbox(desk, WRITER, **{"from": since})}
    assert inbox[accepted["id"]]["status"] == "ACCEPTED"
    assert inbox[accepted["id"]]["version"] == accepted["version"]
    stale = inbox[rejected["id"]]
    assert stale["status"] == "REJECTED"
    assert stale["employeeCode"] == submitted["employee"]["employee_code"]
    assert [r["code"] for r in stale["reasons"]] == ["CONFLICT"]
    assert stale["reasons"][0]["path"]
    assert stale["reasons"][0]["message"]
    assert stale["resubmittedBy"] is None
    assert stale["resubmissionOf"] is None
    received = [s["receivedAt"] for s in inbox.values()]
    assert received == sorted(received, reverse=True)
    only_rejected = _inbox(desk, WRITER, status="REJECTED", **{"from": since})
    assert {s["status"] for s in only_rejected} == {"REJECTED"}
    assert rejected["id"] in {s["id"] for s in only_rejected}
    assert accepted["id"] not in {s["id"] for s in only_rejected}


def test_another_client_never_sees_the_inbox(desk: Desk, submitted: dict[str, Any]) -> None:
    mine = {submitted["accepted"]["id"], submitted["rejected"]["id"]}
    others = {s["id"] for s in _inbox(desk, ("moha-personnel-db", "administration"))}
    assert not mine & others
    for client in (MANAGER, ("gov-inspectorate", "inspection")):
        result = desk.graphql.as_client(*client).post(INBOX, {}).json()
        assert result["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


def test_a_person_s_history_is_their_own(desk: Desk, submitted: dict[str, Any]) -> None:
    decided = date.today().isoformat()
    (row,) = fetch_rows(desk.databases.national,
                        "SELECT e.employee_code FROM employee e JOIN agency a ON"
                        " a.code = e.agency_code WHERE a.authority = 'H01' AND"
                        " e.employee_code <> $1 ORDER BY e.employee_code LIMIT 1",
                        submitted["employee"]["employee_code"])
    other = desk.employee(row["employee_code"])
    result, _ = desk.submit(desk.payload(other, "discipline-decision", {
        "formCode": "reprimand", "decisionNumber": "77/QĐ-SNV", "issuer": "Sở Nội vụ Hà Nội",
        "decidedOn": decided, "effectiveFrom": decided, "reason": "lý do"}),
        mutation=DISCIPLINE)
    assert result["status"] == "ACCEPTED", result
    theirs = _history(desk, MANAGER, other["employee_code"])
    (version,) = [v for v in theirs["versions"] if v["submissionId"] == result["id"]]
    assert version["entity"] == "discipline"
    assert version["recordKey"] == result["record"]
    assert {"field": "decisionNumber", "before": None, "after": "77/QĐ-SNV",
            "masked": False} in version["changes"]
    mine = _history(desk, MANAGER, submitted["employee"]["employee_code"])
    assert result["id"] not in {v["submissionId"] for v in mine["versions"]}
    # The writer reads no disciplines: the decision is not in its view of the history.
    writer = _history(desk, WRITER, other["employee_code"])
    assert result["id"] not in {v["submissionId"] for v in writer["versions"]}


@pytest.mark.parametrize("variables", [
    {"after": "not-a-cursor"}, {"after": base64.urlsafe_b64encode(b"sb:1:2").decode()},
    {"from": "2026-01-01T00:00:00"}, {"from": "yesterday"}])
def test_bad_arguments_are_bad_input(desk: Desk, submitted: dict[str, Any],
                                     variables: dict[str, Any]) -> None:
    manager = desk.graphql.as_client(*MANAGER)
    result = manager.post(HISTORY, {"c": submitted["employee"]["employee_code"],
                                    **variables}).json()
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", result
    writer = desk.graphql.as_client(*WRITER)
    result = writer.post(INBOX, variables).json()
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", result
