"""Registrations, co-signed asset declarations and transfers between agencies, end to end:
accepted ones written with their history, each refusal kept with a precise reason, and the
national database unchanged by anything refused."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from joserfc.jwk import Key

from hub.databases import DatabaseSet
from hub.updates.keys import add_signer_key, generate_signer_key
from hub.updates.signatures import sign_submission
from resolvers import personal_id
from tests.conftest import GraphQLClient
from tests.e2e.audit_records import fetch_rows, record, request_id
from tests.e2e.test_submissions import HANOI_AGENCY, WRITER, Desk, _hanoi_employee
from tests.e2e.test_submissions import desk as desk  # the fixture

MOHA_AGENCY = "000.00.00.G01"
ADMIN = ("moha-personnel-db", "administration")
RESULT = "id status reasons { code path message } version record repeated"
REGISTER = f"""mutation($s: String!, $k: String!) {{
  registerEmployee(submission: $s, idempotencyKey: $k) {{ {RESULT} }} }}"""
DECLARE = f"""mutation($s: String!, $k: String!, $e: String) {{
  declareAssets(submission: $s, idempotencyKey: $k, employeeSignature: $e) {{ {RESULT} }} }}"""
RELEASE = f"""mutation($s: String!, $k: String!) {{
  releaseForTransfer(submission: $s, idempotencyKey: $k) {{ {RESULT} }} }}"""
RECEIVE = f"""mutation($s: String!, $k: String!) {{
  receiveTransfer(submission: $s, idempotencyKey: $k) {{ {RESULT} }} }}"""


def _run_on(dsn: str, sql: str, *args: Any) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql, *args)
        finally:
            await conn.close()

    asyncio.run(go())


def _run(databases: DatabaseSet, sql: str, *args: Any) -> None:
    _run_on(databases.national, sql, *args)


def _free_personal_id(databases: DatabaseSet, like: str) -> str:
    """A personal ID with the same province, century, sex and year digits as ``like`` that
    the population registry does not know."""
    serial = int(like[6:])
    while True:
        serial = (serial + 7919) % 10**6
        candidate = f"{like[:6]}{serial:06d}"
        if not fetch_rows(databases.population, "SELECT 1 FROM citizen WHERE personal_id = $1",
                          candidate):
            return candidate


def _register_key(databases: DatabaseSet, owner_kind: str, owner: str, key: Key) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(databases.national)
        try:
            await add_signer_key(conn, owner_kind, owner,  # type: ignore[arg-type]
                                 key.as_dict(private=False),
                                 valid_from=datetime.now(UTC) - timedelta(days=1))
        finally:
            await conn.close()

    asyncio.run(go())


@pytest.fixture(scope="module")
def moha_key(databases: DatabaseSet) -> Key:
    key = generate_signer_key("ES256")
    _register_key(databases, "agency", MOHA_AGENCY, key)
    return key


def send(graphql: GraphQLClient, client: tuple[str, str], mutation: str, token: str, *,
         co_signature: str | None = None, request: str | None = None) -> dict[str, Any]:
    variables: dict[str, Any] = {"s": token, "k": uuid.uuid4().hex}
    if co_signature is not None:
        variables["e"] = co_signature
    response = graphql.as_client(*client).post(
        mutation, variables, headers={"x-request-id": request or request_id("more")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    answer: dict[str, Any] = next(iter(body["data"].values()))
    return answer


def snapshot(databases: DatabaseSet) -> dict[str, Any]:
    """What a rejection must leave unchanged: every national record table's size, and the
    sum of the files' versions."""
    (row,) = fetch_rows(databases.national, """
        SELECT (SELECT count(*) FROM employee) AS employees,
               (SELECT sum(version) FROM employee) AS versions,
               (SELECT count(*) FROM work_history) AS posts,
               (SELECT count(*) FROM asset_declaration) AS declarations,
               (SELECT count(*) FROM transfer) AS transfers,
               (SELECT count(*) FROM transfer WHERE status = 'pending') AS pending,
               (SELECT count(*) FROM record_version) AS history""")
    return dict(row)


def assert_refused(databases: DatabaseSet, before: dict[str, Any], result: dict[str, Any],
                   code: str, path: str | None = None) -> None:
    assert result["status"] == "REJECTED", result
    found = {(r["code"], r["path"]) for r in result["reasons"]}
    assert code in {c for c, _ in found}, result
    if path is not None:
        assert (code, path) in found, result
    assert snapshot(databases) == before
    (kept,) = fetch_rows(databases.national,
                         "SELECT status, reasons::text FROM submission WHERE id = $1::uuid",
                         result["id"])
    assert kept["status"] == "rejected"
    assert code in kept["reasons"]


# -- registration ---------------------------------------------------------------------------------

def _unregistered_citizens(databases: DatabaseSet, *,
                           dead: bool = False) -> Iterator[dict[str, Any]]:
    """Citizens of working age (alive, or dead) the national database does not hold."""
    employed = {r["personal_id"] for r in fetch_rows(databases.national,
                                                     "SELECT personal_id FROM employee")}
    rows = fetch_rows(databases.population,
                      "SELECT personal_id, full_name, birth_date, sex FROM citizen"
                      " WHERE birth_date BETWEEN '1960-01-01' AND '2000-01-01'"
                      f" AND death_date IS {'NOT ' if dead else ''}NULL ORDER BY personal_id")
    # Only people whose ID fits their record (a test plants one that does not).
    return (row for row in rows if row["personal_id"] not in employed
            and not personal_id.problems(row["personal_id"], row["birth_date"], row["sex"]))


def _agency_with_room(databases: DatabaseSet, authority: str = "H01") -> str:
    (row,) = fetch_rows(databases.national,
                        "SELECT a.code FROM agency a WHERE a.authority = $1 ORDER BY"
                        " a.headcount_quota - (SELECT count(*) FROM employee e WHERE"
                        " e.agency_code = a.code AND e.status = 'active') DESC, a.code LIMIT 1",
                        authority)
    return str(row["code"])


def new_file(citizen: dict[str, Any], agency: str) -> dict[str, Any]:
    words = citizen["full_name"].split()
    return {"employeeCode": f"T{uuid.uuid4().hex[:9].upper()}", "familyName": words[0],
            "middleName": " ".join(words[1:-1]), "givenName": words[-1],
            "birthDate": citizen["birth_date"].isoformat(), "sex": citizen["sex"],
            "category": "civil_servant", "agencyCode": agency, "unitName": "Phòng Tổ chức",
            "positionCode": "CHUYEN_VIEN", "rankCode": "01.003", "salaryStep": 1,
            "hiredOn": date.today().isoformat()}


def registration(citizen: dict[str, Any], change: dict[str, Any], *,
                 iss: str = HANOI_AGENCY) -> dict[str, Any]:
    return {"jti": uuid.uuid4().hex, "iat": int(time.time()), "iss": iss,
            "kind": "register-employee", "employee": {"personalId": citizen["personal_id"]},
            "change": change, "sourceSystem": "hanoi-hrm"}


def test_a_registration_creates_a_readable_civil_servant(desk: Desk) -> None:
    citizen = next(_unregistered_citizens(desk.databases))
    change = new_file(citizen, _agency_with_room(desk.databases))
    request = request_id("register")
    result = send(desk.graphql, WRITER, REGISTER,
                  sign_submission(registration(citizen, change), desk.key), request=request)
    assert result["status"] == "ACCEPTED", result
    assert (result["version"], result["record"]) == (1, change["employeeCode"])
    reader = desk.graphql.as_client("hanoi-doha", "personnel-management")
    found = reader.data('query($c: String!) { civilServant(employeeCode: $c) { personalId'
                        ' fullName birthDate sex status version agency { code }'
                        ' salaryCoefficient workHistory { agencyCode toDate } } }',
                        {"c": change["employeeCode"]})["civilServant"]
    assert found["personalId"] == citizen["personal_id"]
    assert found["fullName"] == citizen["full_name"]
    assert (found["status"], found["version"]) == ("ACTIVE", 1)
    assert found["agency"]["code"] == change["agencyCode"]
    assert found["workHistory"] == [{"agencyCode": change["agencyCode"], "toDate": None}]
    history = fetch_rows(desk.databases.national,
                         "SELECT entity, version, previous::text FROM record_version"
                         " WHERE submission_id = $1::uuid ORDER BY id", result["id"])
    assert [(h["entity"], h["version"], h["previous"]) for h in history] == [
        ("employee", 1, None), ("work_history", 1, None)]
    assert "Mutation.registerEmployee" in record(desk.databases.national,
                                                 request).fields_of(citizen["personal_id"])
    # The same person again, under a new employee code, is a duplicate.
    before = snapshot(desk.databases)
    again = send(desk.graphql, WRITER, REGISTER, sign_submission(registration(
        citizen, {**change, "employeeCode": f"T{uuid.uuid4().hex[:9].upper()}"}), desk.key))
    assert_refused(desk.databases, before, again, "DUPLICATE", "employee.personalId")
    # Another person under the code just registered, too.
    other = list(_unregistered_citizens(desk.databases))[1]
    taken = send(desk.graphql, WRITER, REGISTER, sign_submission(registration(
        other, {**new_file(other, change["agencyCode"]),
                "employeeCode": change["employeeCode"]}), desk.key))
    assert_refused(desk.databases, before, taken, "DUPLICATE", "change.employeeCode")


@pytest.mark.parametrize(("case", "code", "path"), [
    ("family-name", "IDENTITY_MISMATCH", "change.familyName"),
    ("given-name", "IDENTITY_MISMATCH", "change.givenName"),
    ("birth-date", "IDENTITY_MISMATCH", "change.birthDate"),
    ("sex", "IDENTITY_MISMATCH", "change.sex"),
    ("not-in-registry", "NOT_IN_REGISTRY", "employee.personalId"),
    ("deceased", "DECEASED", "employee.personalId"),
    ("personal-id", "INVALID_PERSONAL_ID", "employee.personalId"),
    ("outside", "NOT_AUTHORIZED", "change.agencyCode"),
    ("unknown-rank", "UNKNOWN_CODE", "change.rankCode"),
])
def test_a_refused_registration_is_kept_and_writes_nothing(desk: Desk, case: str, code: str,
                                                           path: str) -> None:
    citizens = _unregistered_citizens(desk.databases, dead=case == "deceased")
    citizen = dict(next(citizens))
    change = new_file(citizen, _agency_with_room(desk.databases))
    if case == "family-name":
        change["familyName"] = "Khổng"
    elif case == "given-name":
        change["givenName"] = change["givenName"] + "h"
    elif case == "birth-date":  # same year: the personal ID still fits
        born = citizen["birth_date"]
        change["birthDate"] = born.replace(day=2 if born.day == 1 else 1).isoformat()
    elif case == "sex":
        # A registry record whose sex disagrees with its own ID's sex digit (a data-entry
        # error there): the stated sex fits the ID, the registry says otherwise.
        recorded = "female" if citizen["sex"] == "male" else "male"
        citizen["personal_id"] = _free_personal_id(desk.databases, citizen["personal_id"])
        _run_on(desk.databases.population,
                "INSERT INTO citizen (personal_id, full_name, birth_date, sex, place_of_origin,"
                " permanent_address, current_address) VALUES ($1, $2, $3, $4, 'Hà Nội',"
                " 'Hà Nội', 'Hà Nội')", citizen["personal_id"], citizen["full_name"],
                citizen["birth_date"], recorded)
    elif case == "not-in-registry":
        citizen["personal_id"] = _free_personal_id(desk.databases, citizen["personal_id"])
    elif case == "personal-id":  # a year that does not match the birth date
        year = int(citizen["personal_id"][4:6])
        citizen["personal_id"] = (citizen["personal_id"][:4] + f"{(year + 1) % 100:02d}"
                                  + citizen["personal_id"][6:])
    elif case == "outside":
        change["agencyCode"] = _agency_with_room(desk.databases, "G02")
    elif case == "unknown-rank":
        change["rankCode"] = "99.999"
    before = snapshot(desk.databases)
    result = send(desk.graphql, WRITER, REGISTER,
                  sign_submission(registration(citizen, change), desk.key))
    assert_refused(desk.databases, before, result, code, path)


def test_an_agency_without_quota_left_registers_no_one(desk: Desk) -> None:
    agency = _agency_with_room(desk.databases)
    (quota,) = fetch_rows(desk.databases.national,
                          "SELECT headcount_quota FROM agency WHERE code = $1", agency)
    _run(desk.databases, "UPDATE agency SET headcount_quota = (SELECT count(*) FROM employee"
                         " WHERE agency_code = $1 AND status = 'active') WHERE code = $1",
         agency)
    try:
        citizen = next(_unregistered_citizens(desk.databases))
        before = snapshot(desk.databases)
        result = send(desk.graphql, WRITER, REGISTER, sign_submission(
            registration(citizen, new_file(citizen, agency)), desk.key))
        assert_refused(desk.databases, before, result, "QUOTA_EXCEEDED", "change.agencyCode")
    finally:
        _run(desk.databases, "UPDATE agency SET headcount_quota = $2 WHERE code = $1",
             agency, quota["headcount_quota"])


def test_registrations_in_a_batch_ask_the_registry_once(desk: Desk, sandbox: Any) -> None:
    citizens = list(_unregistered_citizens(desk.databases))[:3]
    agency = _agency_with_room(desk.databases)
    items = [{"kind": "register-employee", "idempotencyKey": uuid.uuid4().hex,
              "submission": sign_submission(registration(c, new_file(c, agency)), desk.key)}
             for c in citizens[:2]]
    # The third misstates the family name: refused, the others accepted.
    wrong = {**new_file(citizens[2], agency), "familyName": "Khổng"}
    items.append({"kind": "register-employee", "idempotencyKey": uuid.uuid4().hex,
                  "submission": sign_submission(registration(citizens[2], wrong), desk.key)})
    sandbox.reset()
    answers = desk.graphql.as_client(*WRITER).data(
        'mutation($items: [SubmissionInput!]!) { submitBatch(items: $items) {'
        ' status reasons { code } } }', {"items": items})["submitBatch"]
    assert [a["status"] for a in answers] == ["ACCEPTED", "ACCEPTED", "REJECTED"], answers
    stats = sandbox.stats("population")
    assert stats["requests"] == {"citizens.batch": 1}, stats
    assert stats["items"] == {"citizens.batch": 3}, stats
    # The same batch again: the first answers, and no one looked up again.
    sandbox.reset()
    again = desk.graphql.as_client(*WRITER).data(
        'mutation($items: [SubmissionInput!]!) { submitBatch(items: $items) {'
        ' status repeated } }', {"items": items})["submitBatch"]
    assert [(a["status"], a["repeated"]) for a in again] == [
        ("ACCEPTED", True), ("ACCEPTED", True), ("REJECTED", True)]
    assert sandbox.stats("population")["requests"] == {}


def test_everyone_a_batch_looks_up_is_in_its_audit_record(desk: Desk, sandbox: Any) -> None:
    """A registration refused for its own form after the batch's look-ahead asked the
    registry about its person still names that person in the audit record."""
    citizens = list(_unregistered_citizens(desk.databases))[3:5]
    agency = _agency_with_room(desk.databases)
    broken = {**new_file(citizens[1], agency), "salaryStep": 99}  # off the ladder
    items = [{"kind": "register-employee", "idempotencyKey": uuid.uuid4().hex,
              "submission": sign_submission(registration(c, change), desk.key)}
             for c, change in ((citizens[0], new_file(citizens[0], agency)),
                               (citizens[1], broken))]
    request = request_id("lookahead")
    sandbox.reset()
    response = desk.graphql.as_client(*WRITER).post(
        'mutation($items: [SubmissionInput!]!) { submitBatch(items: $items) {'
        ' status reasons { code } } }', {"items": items}, headers={"x-request-id": request})
    answers = response.json()["data"]["submitBatch"]
    assert [a["status"] for a in answers] == ["ACCEPTED", "REJECTED"], answers
    assert sandbox.stats("population")["items"] == {"citizens.batch": 2}
    assert {c["personal_id"] for c in citizens} <= record(desk.databases.national,
                                                          request).subjects


# -- asset declarations ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def declarant(desk: Desk) -> tuple[dict[str, Any], Key]:
    employee = _hanoi_employee(desk, room_to_grow=False)
    key = generate_signer_key("ES256")
    _register_key(desk.databases, "employee", employee["employee_code"], key)
    return employee, key


def _declaration(desk: Desk, employee: dict[str, Any], total: int) -> dict[str, Any]:
    current = desk.employee(employee["employee_code"])
    return desk.payload(current, "asset-declaration", {
        "year": date.today().year - 1, "declaredOn": date.today().isoformat(), "landPlots": 1,
        "houses": 1, "totalAssetsVnd": total, "annualIncomeVnd": 240_000_000})


def test_a_co_signed_declaration_is_recorded_once_per_year(
        desk: Desk, declarant: tuple[dict[str, Any], Key]) -> None:
    employee, key = declarant
    for total in (1_500_000_000, 1_700_000_000):
        payload = _declaration(desk, employee, total)
        result = send(desk.graphql, WRITER, DECLARE, sign_submission(payload, desk.key),
                      co_signature=sign_submission(payload, key))
        assert result["status"] == "ACCEPTED", result
    rows = fetch_rows(desk.databases.national,
                      "SELECT total_assets_vnd FROM asset_declaration WHERE employee_code = $1"
                      " AND year = $2", employee["employee_code"], date.today().year - 1)
    assert [r["total_assets_vnd"] for r in rows] == [1_700_000_000]


@pytest.mark.parametrize(("case", "code"), [("missing", "EMPLOYEE_SIGNATURE_REQUIRED"),
                                            ("other-employee", "WRONG_SIGNER"),
                                            ("agency-key", "WRONG_SIGNER"),
                                            ("other-payload", "PAYLOAD_MISMATCH")])
def test_a_declaration_without_the_employees_signature_is_refused(
        desk: Desk, declarant: tuple[dict[str, Any], Key], case: str, code: str) -> None:
    employee, key = declarant
    payload = _declaration(desk, employee, 9_000_000_000)
    co_signature: str | None = None
    if case == "other-employee":
        other = generate_signer_key("ES256")
        _register_key(desk.databases, "employee", "SOMEONE-ELSE", other)
        co_signature = sign_submission(payload, other)
    elif case == "agency-key":
        co_signature = sign_submission(payload, desk.key)
    elif case == "other-payload":
        co_signature = sign_submission({**payload, "jti": "another"}, key)
    before = snapshot(desk.databases)
    result = send(desk.graphql, WRITER, DECLARE, sign_submission(payload, desk.key),
                  co_signature=co_signature)
    assert_refused(desk.databases, before, result, code)


# -- transfers ------------------------------------------------------------------------------------

def _ministry_employee(desk: Desk) -> dict[str, Any]:
    (row,) = fetch_rows(desk.databases.national,
                        "SELECT e.employee_code FROM employee e JOIN agency a ON a.code ="
                        " e.agency_code WHERE a.authority = 'G01' AND e.status = 'active'"
                        " AND NOT EXISTS (SELECT 1 FROM transfer t WHERE t.employee_code ="
                        " e.employee_code) ORDER BY e.employee_code LIMIT 1")
    return desk.employee(row["employee_code"])


def test_a_transfer_is_released_by_one_agency_and_received_by_the_other(
        desk: Desk, moha_key: Key) -> None:
    employee = _ministry_employee(desk)
    (origin,) = fetch_rows(desk.databases.national,
                           "SELECT agency_code FROM employee WHERE employee_code = $1",
                           employee["employee_code"])
    target = _agency_with_room(desk.databases)
    effective = (date.today() + timedelta(days=1)).isoformat()
    # Hà Nội may not release a ministry's employee.
    release = desk.payload(employee, "transfer-out", {
        "toAgencyCode": target, "decisionNumber": "45/QĐ-BNV", "effectiveFrom": effective})
    before = snapshot(desk.databases)
    refused = send(desk.graphql, WRITER, RELEASE, sign_submission(release, desk.key))
    assert_refused(desk.databases, before, refused, "NOT_AUTHORIZED")
    # The Ministry releases them to a Hà Nội agency...
    released = send(desk.graphql, ADMIN, RELEASE,
                    sign_submission({**release, "iss": MOHA_AGENCY}, moha_key))
    assert released["status"] == "ACCEPTED", released
    assert released["version"] == employee["version"] + 1
    (pending,) = fetch_rows(desk.databases.national,
                            "SELECT from_agency, to_agency, status, released_by::text FROM"
                            " transfer WHERE employee_code = $1", employee["employee_code"])
    assert dict(pending) == {"from_agency": origin["agency_code"], "to_agency": target,
                             "status": "pending", "released_by": released["id"]}
    # ... a second release while it is pending is refused ...
    before = snapshot(desk.databases)
    twice = send(desk.graphql, ADMIN, RELEASE, sign_submission(
        desk.payload(desk.employee(employee["employee_code"]), "transfer-out", {
            "toAgencyCode": _agency_with_room(desk.databases, "G02"),
            "decisionNumber": "46/QĐ-BNV", "effectiveFrom": effective}, iss=MOHA_AGENCY),
        moha_key))
    assert_refused(desk.databases, before, twice, "TRANSFER_PENDING")
    # ... and Hà Nội receives them: no version needed, it could not read the file before.
    receive = desk.payload(employee, "transfer-in", {
        "agencyCode": target, "unitName": "Phòng Pháp chế", "positionCode": "CHUYEN_VIEN",
        "effectiveFrom": effective})
    del receive["baseVersion"]
    request = request_id("receive")
    received = send(desk.graphql, WRITER, RECEIVE, sign_submission(receive, desk.key),
                    request=request)
    assert received["status"] == "ACCEPTED", received
    assert received["version"] == employee["version"] + 2
    after = fetch_rows(desk.databases.national,
                       "SELECT agency_code, unit_name, version FROM employee"
                       " WHERE employee_code = $1", employee["employee_code"])
    assert dict(after[0]) == {"agency_code": target, "unit_name": "Phòng Pháp chế",
                              "version": employee["version"] + 2}
    posts = fetch_rows(desk.databases.national,
                       "SELECT agency_code, from_date, to_date FROM work_history"
                       " WHERE employee_code = $1 AND (to_date IS NULL OR to_date >="
                       " current_date) ORDER BY from_date", employee["employee_code"])
    assert (posts[-1]["agency_code"], posts[-1]["to_date"]) == (target, None)
    assert sum(p["to_date"] is None for p in posts) == 1
    (done,) = fetch_rows(desk.databases.national,
                         "SELECT status, received_by::text FROM transfer WHERE employee_code"
                         " = $1", employee["employee_code"])
    assert dict(done) == {"status": "completed", "received_by": received["id"]}
    history = fetch_rows(desk.databases.national,
                         "SELECT entity FROM record_version WHERE submission_id = $1::uuid"
                         " ORDER BY id", received["id"])
    assert history[0]["entity"] == "employee"
    assert {h["entity"] for h in history} == {"employee", "work_history", "transfer"}
    assert "Mutation.receiveTransfer" in record(desk.databases.national, request).fields_of(
        employee["personal_id"])
    # The file is now Hà Nội's to read.
    reader = desk.graphql.as_client("hanoi-doha", "personnel-management")
    assert reader.data('query($c: String!) { civilServant(employeeCode: $c) { agency { code }'
                       ' } }', {"c": employee["employee_code"]})["civilServant"] == {
        "agency": {"code": target}}
    # Receiving again: no pending transfer left.
    before = snapshot(desk.databases)
    again = send(desk.graphql, WRITER, RECEIVE, sign_submission(
        {**receive, "jti": uuid.uuid4().hex}, desk.key))
    assert_refused(desk.databases, before, again, "NOT_FOUND", "change.agencyCode")


def test_a_transfer_in_without_a_pending_transfer_is_refused(desk: Desk) -> None:
    employee = _ministry_employee(desk)
    receive = desk.payload(employee, "transfer-in", {
        "agencyCode": _agency_with_room(desk.databases), "unitName": "Phòng 2",
        "positionCode": "CHUYEN_VIEN", "effectiveFrom": date.today().isoformat()})
    before = snapshot(desk.databases)
    result = send(desk.graphql, WRITER, RECEIVE, sign_submission(receive, desk.key))
    assert_refused(desk.databases, before, result, "NOT_FOUND", "change.agencyCode")
    # The same answer whatever the payload says of the person, or whether the file exists:
    # a transfer-in is no way to learn about files outside one's scope.
    for employee_part in ({**receive["employee"], "personalId": "001099000001"},
                          {"employeeCode": "NOSUCH01", "personalId": "001099000001"}):
        probe = {**receive, "jti": uuid.uuid4().hex, "employee": employee_part}
        result = send(desk.graphql, WRITER, RECEIVE, sign_submission(probe, desk.key))
        assert_refused(desk.databases, before, result, "NOT_FOUND", "change.agencyCode")
    # Nor may Hà Nội take anyone into an agency outside its authority.
    outside = {**receive, "jti": uuid.uuid4().hex,
               "change": {**receive["change"], "agencyCode": MOHA_AGENCY}}
    result = send(desk.graphql, WRITER, RECEIVE, sign_submission(outside, desk.key))
    assert_refused(desk.databases, before, result, "NOT_AUTHORIZED", "change.agencyCode")


def test_a_registration_waits_for_the_registry_rather_than_being_refused(
        desk: Desk, sandbox: Any) -> None:
    """With the registry down nothing is decided: the answer is SOURCE_UNAVAILABLE, nothing is
    kept under the idempotency key, and the same request later is decided normally."""
    citizen = next(_unregistered_citizens(desk.databases))
    token = sign_submission(registration(
        citizen, new_file(citizen, _agency_with_room(desk.databases))), desk.key)
    key = uuid.uuid4().hex
    writer = desk.graphql.as_client(*WRITER)
    before = snapshot(desk.databases)
    sandbox.switch("population", outage=True)
    body = writer.post(REGISTER, {"s": token, "k": key}).json()
    assert body["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE", body
    assert snapshot(desk.databases) == before
    assert not fetch_rows(desk.databases.national,
                          "SELECT 1 FROM submission WHERE idempotency_key = $1", key)
    sandbox.switch("population", outage=False)
    answer = writer.data(REGISTER, {"s": token, "k": key})["registerEmployee"]
    assert answer["status"] == "ACCEPTED", answer
