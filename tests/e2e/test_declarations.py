"""The employee's own form-2C declarations, end to end: a period of their personal history and
a relative, each signed by the agency and co-signed by the employee, written with their
history and readable under policy; every refusal kept with a precise reason and the national
database unchanged by it; the mutations and the read fields only in the schemas that grant
them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from joserfc.jwk import Key

from hub.databases import DatabaseSet
from hub.updates.keys import generate_signer_key
from hub.updates.signatures import sign_submission
from tests.conftest import GraphQLClient
from tests.e2e.audit_records import fetch_rows, record, request_id
from tests.e2e.test_submissions import WRITER, Desk
from tests.e2e.test_submissions import desk as desk  # the fixture
from tests.e2e.test_submissions_more import ADMIN, RESULT, _register_key, send

HISTORY = f"""mutation($s: String!, $k: String!, $e: String) {{
  declarePersonalHistory(submission: $s, idempotencyKey: $k, employeeSignature: $e) {{
    {RESULT} }} }}"""
FAMILY = f"""mutation($s: String!, $k: String!, $e: String) {{
  declareFamilyMember(submission: $s, idempotencyKey: $k, employeeSignature: $e) {{
    {RESULT} }} }}"""
MUTATION = {"personal-history": HISTORY, "family": FAMILY}
MANAGER = ("hanoi-doha", "personnel-management")
READ = """query($code: String!) { civilServant(employeeCode: $code) {
  personalHistory { id fromDate toDate activity place version updatedBy }
  familyMembers { id relation fullName birthYear occupation workplaceOrAddress personalId
                  deceased deathYear version updatedBy }
  history(first: 20) { versions { entity recordKey changedFields
                                  changes { field before after } } } } }"""

PERIOD = {"fromDate": "2005-09-05", "toDate": "2009-06-30", "activity": "Sinh viên",
          "place": "Học viện Hành chính Quốc gia"}
# The employee's father (born 1950: older than any employee of the seed), no personal ID.
FATHER = {"relation": "father", "fullName": "Trần Văn Bình", "birthYear": 1950,
          "occupation": "Nghỉ hưu", "workplaceOrAddress": "Xã Đông Anh, Hà Nội"}
CHANGES: dict[str, dict[str, Any]] = {"personal-history": PERIOD, "family": FATHER}
TABLE = {"personal-history": "personal_history", "family": "family_member"}


def snapshot(databases: DatabaseSet) -> dict[str, Any]:
    """What a refusal must leave unchanged: the declarations (and their versions), the files'
    versions and the history."""
    (row,) = fetch_rows(databases.national, """
        SELECT (SELECT count(*) FROM personal_history) AS periods,
               (SELECT sum(version) FROM personal_history) AS period_versions,
               (SELECT count(*) FROM family_member) AS relatives,
               (SELECT sum(version) FROM family_member) AS relative_versions,
               (SELECT sum(version) FROM employee) AS versions,
               (SELECT count(*) FROM record_version) AS history""")
    return dict(row)


def _declarant(desk: Desk, offset: int) -> tuple[dict[str, Any], Key]:
    """A Hà Nội employee the other tests leave alone, with a registered key of their own."""
    rows = fetch_rows(desk.databases.national,
                      "SELECT e.employee_code FROM employee e JOIN agency a ON"
                      " a.code = e.agency_code WHERE a.authority = 'H01' AND e.status ="
                      " 'active' ORDER BY e.employee_code DESC LIMIT 1 OFFSET $1", offset)
    employee = desk.employee(rows[0]["employee_code"])
    key = generate_signer_key("ES256")
    _register_key(desk.databases, "employee", employee["employee_code"], key)
    return employee, key


@pytest.fixture(scope="module")
def declarant(desk: Desk) -> tuple[dict[str, Any], Key]:
    return _declarant(desk, 0)


@pytest.fixture(scope="module")
def bystander(desk: Desk) -> tuple[dict[str, Any], Key]:
    return _declarant(desk, 1)


def _declare(desk: Desk, employee: dict[str, Any], key: Key | None, kind: str,
             change: dict[str, Any], *, request: str | None = None,
             client: tuple[str, str] = WRITER) -> dict[str, Any]:
    payload = desk.payload(desk.employee(employee["employee_code"]), kind, change)
    return send(desk.graphql, client, MUTATION[kind], sign_submission(payload, desk.key),
                co_signature=None if key is None else sign_submission(payload, key),
                request=request)


def _read(graphql: GraphQLClient, client: tuple[str, str], code: str) -> dict[str, Any]:
    civil_servant: dict[str, Any] = graphql.as_client(*client).data(
        READ, {"code": code})["civilServant"]
    return civil_servant


def test_a_declared_period_lands_with_its_history_and_reads_back(
        desk: Desk, declarant: tuple[dict[str, Any], Key]) -> None:
    employee, key = declarant
    before = desk.employee(employee["employee_code"])
    request = request_id("declare-history")
    result = _declare(desk, employee, key, "personal-history", PERIOD, request=request)
    assert result["status"] == "ACCEPTED", result
    assert result["version"] == before["version"] + 1
    assert desk.employee(employee["employee_code"])["version"] == before["version"] + 1
    (row,) = fetch_rows(desk.databases.national,
                        "SELECT id, from_date, to_date, activity, place, version, updated_by"
                        " FROM personal_history WHERE id = $1", int(result["record"]))
    assert (row["from_date"], row["to_date"]) == (date(2005, 9, 5), date(2009, 6, 30))
    assert (row["activity"], row["place"], row["version"], row["updated_by"]) == (
        "Sinh viên", "Học viện Hành chính Quốc gia", 1, "hanoi-doha")
    (kept,) = fetch_rows(desk.databases.national,
                         "SELECT entity, record_key, previous::text, current::text,"
                         " jsonb_array_length(signed_by) AS signatures FROM record_version"
                         " WHERE submission_id = $1::uuid", result["id"])
    assert (kept["entity"], kept["record_key"], kept["previous"]) == (
        "personal_history", result["record"], None)
    assert orjson.loads(kept["current"])["activity"] == "Sinh viên"
    assert kept["signatures"] == 2  # the agency's and the employee's
    assert "Mutation.declarePersonalHistory" in record(
        desk.databases.national, request).fields_of(employee["personal_id"])

    read = _read(desk.graphql, ADMIN, employee["employee_code"])
    (entry,) = [e for e in read["personalHistory"] if e["id"] == result["record"]]
    assert entry == {"id": result["record"], "fromDate": "2005-09-05", "toDate": "2009-06-30",
                     "activity": "Sinh viên", "place": "Học viện Hành chính Quốc gia",
                     "version": 1, "updatedBy": "hanoi-doha"}
    (version,) = [v for v in read["history"]["versions"]
                  if v["entity"] == "personal_history" and v["recordKey"] == result["record"]]
    assert {"fromDate", "toDate", "activity", "place"} <= set(version["changedFields"])
    assert {"field": "activity", "before": None, "after": "Sinh viên"} in version["changes"]


def test_a_declared_relative_lands_and_reads_back_under_each_policy(
        desk: Desk, declarant: tuple[dict[str, Any], Key]) -> None:
    employee, key = declarant
    # A deceased mother with her personal ID (born 1952, a woman: digit 1).
    mother = {"relation": "mother", "fullName": "Lê Thị  Hoa ", "birthYear": 1952,
              "personalId": "001152004321", "deceased": True, "deathYear": 2021}
    result = _declare(desk, employee, key, "family", mother)
    assert result["status"] == "ACCEPTED", result
    (row,) = fetch_rows(desk.databases.national,
                        "SELECT relation, full_name, birth_year, occupation, personal_id,"
                        " deceased, death_year FROM family_member WHERE id = $1",
                        int(result["record"]))
    assert dict(row) == {"relation": "mother", "full_name": "Lê Thị  Hoa", "birth_year": 1952,
                         "occupation": "", "personal_id": "001152004321", "deceased": True,
                         "death_year": 2021}
    admin = _read(desk.graphql, ADMIN, employee["employee_code"])
    (member,) = [m for m in admin["familyMembers"] if m["id"] == result["record"]]
    assert (member["relation"], member["personalId"], member["deathYear"]) == (
        "MOTHER", "001152004321", 2021)
    assert any(v["entity"] == "family_member" and v["recordKey"] == result["record"]
               for v in admin["history"]["versions"])
    # Hà Nội's personnel management sees the relative, her ID masked to the last four.
    request = request_id("read-relatives")
    response = desk.graphql.as_client(*MANAGER).post(
        "query($c: String!) { civilServant(employeeCode: $c) {"
        " familyMembers { id relation fullName personalId deceased } } }",
        {"c": employee["employee_code"]}, headers={"x-request-id": request})
    manager = response.json()["data"]["civilServant"]
    (seen,) = [m for m in manager["familyMembers"] if m["id"] == result["record"]]
    assert seen["relation"] == "MOTHER"
    assert seen["personalId"] != "001152004321"
    assert seen["personalId"].endswith("4321")
    # The read is in the audit record under the employee and under the mother herself (her
    # real ID, though the reader saw it masked), so her own access history shows it.
    audited = record(desk.databases.national, request)
    for person in (employee["personal_id"], "001152004321"):
        assert {"FamilyMember.fullName", "FamilyMember.personalId"} <= audited.fields_of(person)


@pytest.mark.parametrize("kind", ["personal-history", "family"])
def test_a_correction_restates_the_employees_own_entry(
        desk: Desk, declarant: tuple[dict[str, Any], Key],
        bystander: tuple[dict[str, Any], Key], kind: str) -> None:
    employee, key = declarant
    added = _declare(desk, employee, key, kind, CHANGES[kind])
    assert added["status"] == "ACCEPTED", added
    id_field = "entryId" if kind == "personal-history" else "memberId"
    corrected = {**CHANGES[kind], id_field: int(added["record"]),
                 **({"toDate": "2009-07-31"} if kind == "personal-history"
                    else {"occupation": "Nông dân"})}
    result = _declare(desk, employee, key, kind, corrected)
    assert result["status"] == "ACCEPTED", result
    assert result["record"] == added["record"]
    table = TABLE[kind]
    (row,) = fetch_rows(desk.databases.national,
                        f"SELECT version FROM {table} WHERE id = $1", int(added["record"]))
    assert row["version"] == 2
    (kept,) = fetch_rows(desk.databases.national,
                         "SELECT previous::text FROM record_version WHERE submission_id ="
                         " $1::uuid", result["id"])
    previous = orjson.loads(kept["previous"])
    assert previous == ({**previous, "to_date": "2009-06-30"} if kind == "personal-history"
                        else {**previous, "occupation": "Nghỉ hưu"})
    # Another employee's entry is not theirs to restate: nothing changes.
    other, other_key = bystander
    before = snapshot(desk.databases)
    refused = _declare(desk, other, other_key, kind, corrected)
    assert refused["status"] == "REJECTED", refused
    assert {(r["code"], r["path"]) for r in refused["reasons"]} == {("NOT_FOUND", "change")}
    assert snapshot(desk.databases) == before


@pytest.mark.parametrize("kind", ["personal-history", "family"])
@pytest.mark.parametrize(("case", "code"), [("missing", "EMPLOYEE_SIGNATURE_REQUIRED"),
                                            ("other-employee", "WRONG_SIGNER"),
                                            ("agency-key", "WRONG_SIGNER"),
                                            ("other-payload", "PAYLOAD_MISMATCH")])
def test_a_declaration_needs_the_employees_own_signature(
        desk: Desk, declarant: tuple[dict[str, Any], Key],
        bystander: tuple[dict[str, Any], Key], kind: str, case: str, code: str) -> None:
    employee, key = declarant
    payload = desk.payload(desk.employee(employee["employee_code"]), kind, CHANGES[kind])
    signers: dict[str, Callable[[], str | None]] = {
        "missing": lambda: None,
        "other-employee": lambda: sign_submission(payload, bystander[1]),
        "agency-key": lambda: sign_submission(payload, desk.key),
        "other-payload": lambda: sign_submission({**payload, "jti": uuid.uuid4().hex}, key),
    }
    co_signature = signers[case]()
    before = snapshot(desk.databases)
    result = send(desk.graphql, WRITER, MUTATION[kind], sign_submission(payload, desk.key),
                  co_signature=co_signature)
    assert result["status"] == "REJECTED", result
    assert code in {r["code"] for r in result["reasons"]}, result
    assert snapshot(desk.databases) == before
    (kept,) = fetch_rows(desk.databases.national,
                         "SELECT status, reasons::text FROM submission WHERE id = $1::uuid",
                         result["id"])
    assert (kept["status"], code in kept["reasons"]) == ("rejected", True)


_TOMORROW = (date.today() + timedelta(days=1)).isoformat()
Case = tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str, str]
MALFORMED: list[Case] = [
    ("personal-history", lambda c: {**c, "activity": "x" * 600}, "INVALID", "change.activity"),
    ("personal-history", lambda c: {**c, "activity": "Sinh viên\u2028Trưởng phòng"},
     "INVALID", "change.activity"),
    ("personal-history", lambda c: {**c, "fromDate": "0000-01-01"}, "INVALID_DATE",
     "change.fromDate"),
    ("personal-history", lambda c: {**c, "fromDate": _TOMORROW, "toDate": None},
     "DATE_ORDER", "change.fromDate"),
    ("personal-history", lambda c: {**c, "toDate": "2005-09-04"}, "DATE_ORDER",
     "change.toDate"),
    ("personal-history", lambda c: {k: v for k, v in c.items() if k != "fromDate"},
     "REQUIRED", "change.fromDate"),
    ("personal-history", lambda c: {**c, "entryId": "1 OR 1=1"}, "INVALID", "change.entryId"),
    ("family", lambda c: {**c, "relation": "neighbour"}, "UNKNOWN_CODE", "change.relation"),
    ("family", lambda c: {**c, "fullName": "y" * 5000}, "INVALID", "change.fullName"),
    ("family", lambda c: {**c, "birthYear": 1850}, "INVALID", "change.birthYear"),
    ("family", lambda c: {**c, "birthYear": "1950"}, "INVALID", "change.birthYear"),
    ("family", lambda c: {**c, "deathYear": 2020}, "INVALID", "change.deathYear"),
    ("family", lambda c: {**c, "deceased": True, "deathYear": 1949}, "DATE_ORDER",
     "change.deathYear"),
    ("family", lambda c: {**c, "personalId": "12345"}, "INVALID_PERSONAL_ID",
     "change.personalId"),
    ("family", lambda c: {**c, "personalId": "001150000123"}, "INVALID_PERSONAL_ID",
     "change.personalId"),  # a woman's number for a father
    ("family", lambda c: {**c, "relation": "child"}, "DATE_ORDER", "change.birthYear"),
    ("family", lambda c: {**c, "memberId": 2**62 + 1}, "INVALID", "change.memberId"),
    # Beyond 64 bits: the inbox could not keep the payload as it is.
    ("family", lambda c: {**c, "memberId": 2**70}, "MALFORMED", "submission"),
]


@pytest.mark.parametrize(("kind", "mangle", "code", "path"), MALFORMED,
                         ids=[f"{k}-{c}-{p}-{i}" for i, (k, _, c, p) in enumerate(MALFORMED)])
def test_a_malformed_declaration_is_refused_precisely_and_changes_nothing(
        desk: Desk, declarant: tuple[dict[str, Any], Key], kind: str,
        mangle: Callable[[dict[str, Any]], dict[str, Any]], code: str, path: str) -> None:
    employee, key = declarant
    before = snapshot(desk.databases)
    result = _declare(desk, employee, key, kind, mangle(dict(CHANGES[kind])))
    assert result["status"] == "REJECTED", result
    assert [(r["code"], r["path"]) for r in result["reasons"]] == [(code, path)], result
    assert all(r["message"] for r in result["reasons"])
    assert snapshot(desk.databases) == before


def test_a_batch_of_declarations_is_decided_item_by_item(
        desk: Desk, declarant: tuple[dict[str, Any], Key],
        bystander: tuple[dict[str, Any], Key]) -> None:
    items = []
    for (employee, key), change in ((declarant, PERIOD),
                                    (bystander, {**PERIOD, "activity": "Bộ đội"})):
        payload = desk.payload(desk.employee(employee["employee_code"]), "personal-history",
                               change)
        items.append({"kind": "personal-history", "idempotencyKey": uuid.uuid4().hex,
                      "submission": sign_submission(payload, desk.key),
                      "employeeSignature": sign_submission(payload, key)})
    sibling = desk.payload(desk.employee(bystander[0]["employee_code"]), "family",
                           {"relation": "sibling", "fullName": "Phạm Thị Mai",
                            "birthYear": 1990, "personalId": "001190000777"})
    items.append({"kind": "family", "idempotencyKey": uuid.uuid4().hex,
                  "submission": sign_submission(sibling, desk.key)})  # no co-signature
    answers = desk.graphql.as_client(*WRITER).data(
        "mutation($items: [SubmissionInput!]!) { submitBatch(items: $items) {"
        " status record reasons { code } } }", {"items": items})["submitBatch"]
    assert [a["status"] for a in answers] == ["ACCEPTED", "ACCEPTED", "REJECTED"], answers
    assert answers[2]["reasons"] == [{"code": "EMPLOYEE_SIGNATURE_REQUIRED"}]
    rows = fetch_rows(desk.databases.national,
                      "SELECT activity FROM personal_history WHERE id = ANY($1::bigint[])",
                      [int(a["record"]) for a in answers[:2]])
    assert sorted(r["activity"] for r in rows) == ["Bộ đội", "Sinh viên"]


@pytest.mark.parametrize("client", [("mof-payroll", "salary-budget"),
                                    ("vss-insurance", "social-insurance"), MANAGER])
def test_a_client_without_the_grant_has_neither_the_mutations_nor_the_fields(
        desk: Desk, declarant: tuple[dict[str, Any], Key], client: tuple[str, str]) -> None:
    employee, key = declarant
    fields = desk.graphql.as_client(*client).query(
        "{ __schema { mutationType { fields { name } } } }")["data"]["__schema"]["mutationType"]
    names = {f["name"] for f in fields["fields"]} if fields else set()
    assert not names & {"declarePersonalHistory", "declareFamilyMember"}
    before = snapshot(desk.databases)
    payload = desk.payload(desk.employee(employee["employee_code"]), "family", FATHER)
    response = desk.graphql.as_client(*client).post(
        FAMILY, {"s": sign_submission(payload, desk.key), "k": uuid.uuid4().hex,
                 "e": sign_submission(payload, key)})
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert snapshot(desk.databases) == before
    if client != MANAGER:  # personnel management reads them; the others do not
        read = desk.graphql.as_client(*client).query(
            "{ civilServants(first: 1) { nodes { familyMembers { fullName }"
            " personalHistory { activity } } } }")
        assert read["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


def test_the_writers_schemas_show_the_mutations(desk: Desk) -> None:
    for client in (WRITER, ADMIN):
        fields = desk.graphql.as_client(*client).data(
            "{ __schema { mutationType { fields { name } } } }")["__schema"]["mutationType"]
        names = {f["name"] for f in fields["fields"]}
        assert {"declarePersonalHistory", "declareFamilyMember", "declareAssets"} <= names


def test_the_same_relative_declared_again_is_a_duplicate(
        desk: Desk, bystander: tuple[dict[str, Any], Key]) -> None:
    """Declared once with a personal ID, once without (by name and year): each repeat is
    refused as DUPLICATE naming the entry to correct, and nothing changes."""
    employee, key = bystander
    sister: dict[str, Any] = {"relation": "sibling", "fullName": "Phạm Thị Lan",
                              "birthYear": 1990, "personalId": "001190007777",
                              "occupation": "Giáo viên"}
    in_law: dict[str, Any] = {"relation": "sibling_in_law", "fullName": "Đỗ Văn Tâm",
                              "birthYear": 1980}
    for relative in (sister, in_law):
        first = _declare(desk, employee, key, "family", relative)
        assert first["status"] == "ACCEPTED", first
        before = snapshot(desk.databases)
        again = _declare(desk, employee, key, "family",
                         {**relative, "fullName": relative["fullName"].upper(),
                          "occupation": "Kế toán"})
        assert again["status"] == "REJECTED", again
        (reason,) = again["reasons"]
        assert reason["code"] == "DUPLICATE"
        assert f"memberId {first['record']}" in reason["message"]
        assert snapshot(desk.databases) == before
