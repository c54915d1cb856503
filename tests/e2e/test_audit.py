"""Every operation sent to the hub gets exactly one audit record, committed before its answer:
who asked (client, agency, end user, purpose), what (operation, document and variables
digests), how it ended (outcome, status, error codes), which sources it touched and which
fields of which people it disclosed — and never a value of the answer.

Each test sends its own X-Request-Id and reads its record from PostgreSQL as the owner.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from graphql import parse, print_ast

from hub.audit.request_meta import document_digest, variables_digest, variables_key
from hub.databases import DatabaseSet
from hub.mask_secret import load_mask_secret
from tests.conftest import GraphQLClient, HubAuthFiles, Sandbox
from tests.e2e.audit_records import (
    Record,
    batch_records,
    check_disclosed,
    check_no_values,
    disclosed_in,
    record,
    request_id,
)
from tests.e2e.oracle import fetch

ADMIN_AGENCY = "000.00.00.G01"  # moha-personnel-db's agency (policies/moha-personnel-db.yaml)
HEX32 = re.compile(r"[0-9a-f]{32}")
PAGE = """query Page($n: Int) { civilServants(first: $n, filter: {provinceCode: "01"}) { nodes {
  employeeCode personalId fullName birthDate person { currentAddress alive }
  agencyRecord { system positionCode } agency { code name } } } }"""


@pytest.fixture(scope="module")
def personal_ids(databases: DatabaseSet) -> dict[str, str]:
    """Employee code -> personal ID, as the national database holds them."""
    return {r["employee_code"]: r["personal_id"] for r in fetch(
        databases.national, "SELECT employee_code, personal_id FROM employee")}


@pytest.fixture(scope="module")
def authority(databases: DatabaseSet) -> dict[str, str]:
    """Personal ID -> the authority of the civil servant's agency."""
    return {r["personal_id"]: r["authority"] for r in fetch(
        databases.national, "SELECT e.personal_id, a.authority FROM employee e"
                            " JOIN agency a ON a.code = e.agency_code")}


def post(graphql: GraphQLClient, body: Any, request: str,
         headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{graphql.base_url}/graphql", json=body, timeout=30,
                      headers={**graphql.headers(), "x-request-id": request, **(headers or {})})


def answered(graphql: GraphQLClient, databases: DatabaseSet, query: str,
             variables: dict[str, Any] | None = None, *, stem: str,
             operation_name: str | None = None,
             headers: Mapping[str, str] | None = None) -> tuple[dict[str, Any], Record]:
    request = request_id(stem)
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation_name is not None:
        body["operationName"] = operation_name
    response = post(graphql, body, request, headers)
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == request
    return response.json(), record(databases.national, request)


def document_hash(query: str, hub_auth: HubAuthFiles) -> str:
    """The document digest the hub records: HMAC (with the session hub's digest key) of the
    SHA-256 of the printed document."""
    printed = hashlib.sha256(print_ast(parse(query)).encode()).hexdigest()
    digest = document_digest(variables_key(load_mask_secret(hub_auth.keys_dir / "mask.secret")),
                             printed)
    assert digest is not None
    return digest


# -- 1. the record of an answered query ------------------------------------------------------


def test_an_answered_query_has_one_exact_record(graphql: GraphQLClient, databases: DatabaseSet,
                                                hub_auth: HubAuthFiles) -> None:
    answer, entry = answered(graphql, databases, PAGE, {"n": 3}, stem="page",
                             operation_name="Page")
    assert "errors" not in answer, answer
    assert entry["v"] == 1
    assert entry["client"] == "moha-personnel-db"
    assert entry["agency"] == ADMIN_AGENCY
    assert entry["purpose"] == "administration"
    assert entry["endUser"] is None
    assert entry["operation"]["type"] == "query"
    assert entry["operation"]["name"] == "Page"
    assert entry["operation"]["document"] == document_hash(PAGE, hub_auth)
    assert entry["status"] == 200
    assert entry["outcome"] == "allowed"
    assert entry["errors"] == []
    assert entry["denied"] is None
    assert entry["sources"] == answer["extensions"]["sourceCalls"]
    assert set(entry["sources"]) >= {"national", "population"}, entry["sources"]
    assert entry["latencyUs"] > 0
    assert HEX32.fullmatch(entry["trace"])
    # The row's own columns repeat the entry.
    assert entry.columns["client_id"] == "moha-personnel-db"
    assert entry.columns["purpose"] == "administration"
    assert entry.columns["outcome"] == "allowed"
    assert sorted(entry.columns["subject_ids"]) == sorted(entry.subjects)
    nodes = answer["data"]["civilServants"]["nodes"]
    assert len(nodes) == 3
    assert entry.subjects == {n["personalId"] for n in nodes}


def test_the_document_digest_ignores_layout_and_the_variables_digest_follows_the_values(
        graphql: GraphQLClient, databases: DatabaseSet, hub_auth: HubAuthFiles) -> None:
    compact = "query Page($n: Int) { civilServants(first: $n) { nodes { employeeCode } } }"
    spread = ("# the same query, laid out otherwise\nquery Page( $n : Int )\n{\n  "
              "civilServants(first: $n) {\n    nodes { employeeCode } # codes only\n  }\n}\n")
    _, one = answered(graphql, databases, compact, {"n": 1}, stem="layout")
    _, two = answered(graphql, databases, spread, {"n": 1}, stem="layout")
    _, three = answered(graphql, databases, compact, {"n": 2}, stem="layout")
    _, bare = answered(graphql, databases, "{ civilServants(first: 1) { nodes { employeeCode } "
                                           "} }", stem="layout")
    assert one["operation"]["document"] == two["operation"]["document"] == three[
        "operation"]["document"] == document_hash(compact, hub_auth)
    assert bare["operation"]["document"] != one["operation"]["document"]
    assert one["operation"]["variables"] == two["operation"]["variables"]
    assert one["operation"]["variables"] != three["operation"]["variables"]
    assert bare["operation"]["variables"] is None
    assert bare["operation"]["name"] is None
    # A keyed digest (HMAC with a key derived from the hub's mask secret): confirmable by
    # whoever holds the secret, not by trying candidate values.
    key = variables_key(load_mask_secret(hub_auth.keys_dir / "mask.secret"))
    assert one["operation"]["variables"] == variables_digest(key, {"n": 1})
    assert one["operation"]["variables"] != hashlib.sha256(b'{"n":1}').hexdigest()


def test_request_trace_and_end_user_are_recorded(graphql: GraphQLClient,
                                                 databases: DatabaseSet) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    _, entry = answered(graphql, databases, "{ ranks { code } }", stem="meta", headers={
        "traceparent": f"00-{trace}-00f067aa0ba902b7-01", "x-end-user": "nguyen.van.a@moha"})
    assert entry["trace"] == trace
    assert entry["endUser"] == "nguyen.van.a@moha"
    assert entry["outcome"] == "allowed"
    assert entry.subjects == set()


def test_a_malformed_request_id_is_replaced(graphql: GraphQLClient,
                                            databases: DatabaseSet) -> None:
    for malformed in ("has spaces in it", "x" * 129, "a/b"):
        response = post(graphql, {"query": "{ ranks { code } }"}, malformed)
        assert response.status_code == 200, response.text
        given = response.headers["x-request-id"]
        assert given != malformed
        assert HEX32.fullmatch(given), given
        entry = record(databases.national, given)
        assert entry["outcome"] == "allowed"
    # A malformed traceparent is replaced too.
    request = request_id("trace")
    response = post(graphql, {"query": "{ ranks { code } }"}, request,
                    {"traceparent": "00-not-a-trace-01"})
    entry = record(databases.national, request)
    assert HEX32.fullmatch(entry["trace"]), entry["trace"]


@pytest.mark.parametrize("end_user", ["alice\tbob", "u" * 300], ids=["control", "too-long"])
def test_an_invalid_end_user_is_refused_and_recorded(graphql: GraphQLClient,
                                                     databases: DatabaseSet,
                                                     end_user: str) -> None:
    request = request_id("end-user")
    response = post(graphql, {"query": PAGE, "variables": {"n": 1}}, request,
                    {"x-end-user": end_user})
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    entry = record(databases.national, request)
    assert entry["outcome"] == "refused"
    assert entry["status"] == 400
    assert entry["errors"] == ["BAD_USER_INPUT"]
    assert entry["client"] == "moha-personnel-db"
    assert entry["endUser"] is None  # never the value refused
    assert entry["disclosed"] == []
    assert end_user not in entry.text


# -- 2. refused and failed requests are recorded too ------------------------------------------


def _refused(entry: Record, status: int, code: str, client: str) -> None:
    assert entry["outcome"] == "refused"
    assert entry["status"] == status
    assert entry["errors"] == [code]
    assert entry["client"] == client
    assert entry["disclosed"] == []
    assert entry.columns["subject_ids"] == []


def test_no_token_and_a_bad_token(hub_url: str, databases: DatabaseSet) -> None:
    for authorization in (None, "Bearer not.a.token"):
        request = request_id("unauthenticated")
        headers = {"x-request-id": request, "x-purpose": "administration"}
        if authorization is not None:
            headers["authorization"] = authorization
        response = httpx.post(f"{hub_url}/graphql", json={"query": "{ ranks { code } }"},
                              headers=headers, timeout=30)
        assert response.status_code == 401, response.text
        assert response.headers["x-request-id"] == request
        entry = record(databases.national, request)
        _refused(entry, 401, "UNAUTHENTICATED", "-")
        assert entry["agency"] is None
        assert entry["denied"] is not None
        assert entry["denied"]["reason"]


def test_an_undeclared_purpose_names_the_client(graphql: GraphQLClient,
                                                databases: DatabaseSet) -> None:
    payroll = graphql.as_client("mof-payroll", "salary-budget")
    request = request_id("purpose")
    response = post(payroll, {"query": "{ ranks { code } }"}, request,
                    {"x-purpose": "inspection"})
    assert response.status_code == 403, response.text
    entry = record(databases.national, request)
    _refused(entry, 403, "FORBIDDEN", "mof-payroll")
    assert "inspection" in entry["denied"]["reason"]
    assert entry["purpose"] == "inspection"  # what was asked for, though refused


def test_a_field_outside_the_grants_is_named_as_denied(graphql: GraphQLClient,
                                                       databases: DatabaseSet,
                                                       hub_auth: HubAuthFiles) -> None:
    payroll = graphql.as_client("mof-payroll", "salary-budget")
    request = request_id("denied")
    query = "{ civilServants(first: 2) { nodes { employeeCode fullName religion } } }"
    response = post(payroll, {"query": query}, request)
    assert response.status_code == 400, response.text
    entry = record(databases.national, request)
    _refused(entry, 400, "VALIDATION_FAILED", "mof-payroll")
    assert entry["agency"] == "000.00.00.G02"
    assert entry["purpose"] == "salary-budget"
    assert entry["denied"]["fields"] == ["CivilServant.fullName", "CivilServant.religion"]
    assert entry["operation"]["document"] == document_hash(query, hub_auth)
    assert entry["sources"] == {}


def test_a_filter_or_cursor_outside_the_grants_is_named_as_denied(
        graphql: GraphQLClient, databases: DatabaseSet) -> None:
    payroll = graphql.as_client("mof-payroll", "salary-budget")
    request = request_id("denied-filter")
    query = '{ civilServants(first: 2, filter: {namePrefix: "Ng"}) { nodes { personalId } } }'
    response = post(payroll, {"query": query}, request)
    assert response.status_code == 400, response.text
    entry = record(databases.national, request)
    _refused(entry, 400, "VALIDATION_FAILED", "mof-payroll")
    assert entry["denied"]["fields"] == ["CivilServantFilter.namePrefix"]


def test_a_parse_error_and_a_mutation(graphql: GraphQLClient, databases: DatabaseSet) -> None:
    request = request_id("parse")
    response = post(graphql, {"query": "{ civilServants(first: "}, request)
    assert response.status_code == 400, response.text
    entry = record(databases.national, request)
    _refused(entry, 400, response.json()["errors"][0]["extensions"]["code"],
             "moha-personnel-db")
    assert entry["operation"]["document"] is None
    # The schema has no mutations: over GET (and POST) one fails validation, and is recorded.
    request = request_id("mutation")
    response = httpx.get(f"{graphql.base_url}/graphql", timeout=30,
                         params={"query": "mutation { civilServant }"},
                         headers={**graphql.headers(), "x-request-id": request})
    assert response.status_code in (400, 405), response.text
    entry = record(databases.national, request)
    assert entry["outcome"] == "refused"
    assert entry["operation"]["type"] == "mutation"
    assert entry["disclosed"] == []


def test_a_get_query_is_recorded(graphql: GraphQLClient, databases: DatabaseSet) -> None:
    request = request_id("get")
    query = "{ civilServants(first: 2) { nodes { personalId } } }"
    response = httpx.get(f"{graphql.base_url}/graphql", params={"query": query}, timeout=30,
                         headers={**graphql.headers(), "x-request-id": request})
    assert response.status_code == 200, response.text
    entry = record(databases.national, request)
    assert entry["outcome"] == "allowed"
    assert entry.subjects == {n["personalId"] for n in
                              response.json()["data"]["civilServants"]["nodes"]}


@pytest.mark.parametrize(("content", "content_type", "status"), [
    (b'{"query": "{ ranks { code } }"', "application/json", 400),
    (b"query={ ranks { code } }", "application/x-www-form-urlencoded", 415),
    (b"[]", "application/json", 400),
    (b'"a string"', "application/json", 400),
], ids=["invalid-json", "content-type", "empty-batch", "not-an-object"])
def test_a_malformed_body_is_recorded(graphql: GraphQLClient, databases: DatabaseSet,
                                      content: bytes, content_type: str, status: int) -> None:
    request = request_id("body")
    response = httpx.post(f"{graphql.base_url}/graphql", content=content, timeout=30,
                          headers={**graphql.headers(), "content-type": content_type,
                                   "x-request-id": request})
    assert response.status_code == status, response.text
    entry = record(databases.national, request)
    assert entry["outcome"] == "refused"
    assert entry["status"] == status
    assert entry["errors"] == ["BAD_USER_INPUT"]
    assert entry["disclosed"] == []
    # Refused before admission, yet the token was good: the client is named.
    assert entry["client"] == "moha-personnel-db"


def test_a_batch_has_one_record_per_operation(graphql: GraphQLClient,
                                              databases: DatabaseSet) -> None:
    request = request_id("batch")
    batch = [{"query": "{ civilServants(first: 2) { nodes { personalId fullName } } }"},
             {"query": "{ civilServants(first: 1) { nodes { nosuchfield } } }"},
             {"query": "query Ranks { ranks { code } }", "operationName": "Ranks"}]
    response = post(graphql, batch, request)
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == request
    answers = response.json()
    first, second, third = batch_records(databases.national, request, 3)
    assert first["outcome"] == "allowed"
    assert first.subjects == {n["personalId"] for n in
                              answers[0]["data"]["civilServants"]["nodes"]}
    assert second["outcome"] == "refused"
    assert second["errors"] == ["VALIDATION_FAILED"]
    assert third["outcome"] == "allowed"
    assert third["operation"]["name"] == "Ranks"
    assert third.subjects == set()
    assert {r["trace"] for r in (first, second, third)} == {first["trace"]}


def test_a_failing_source_gives_a_partial_record(graphql: GraphQLClient, databases: DatabaseSet,
                                                 sandbox: Sandbox,
                                                 personal_ids: dict[str, str]) -> None:
    sandbox.switch("population", outage=True)
    answer, entry = answered(graphql, databases, PAGE, {"n": 5}, stem="outage")
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"SOURCE_UNAVAILABLE"}
    nodes = answer["data"]["civilServants"]["nodes"]
    assert nodes
    assert all(n["person"] is None for n in nodes)
    assert entry["outcome"] == "partial"
    assert entry["status"] == 200
    assert entry["errors"] == ["SOURCE_UNAVAILABLE"]
    assert entry["sources"] == answer["extensions"]["sourceCalls"]
    # What was disclosed is recorded, what the failing source did not give is not.
    shown = disclosed_in(answer["data"], PAGE, {"n": 5}, None, personal_ids)
    check_disclosed(entry, shown, exact=True)
    for node in nodes:
        fields = entry.fields_of(node["personalId"])
        assert "CivilServant.fullName" in fields
        assert not any(f.startswith("Person.") for f in fields), fields


def test_a_failed_query_with_null_data(graphql: GraphQLClient, databases: DatabaseSet) -> None:
    request = request_id("failed")
    response = post(graphql, {"query": "{ civilServants(first: 100000) { nodes { fullName } } }"},
                    request)
    body = response.json()
    assert body["data"] is None, body
    entry = record(databases.national, request)
    assert entry["outcome"] == "failed"
    assert entry["status"] == response.status_code
    assert entry["errors"] == sorted({e["extensions"]["code"] for e in body["errors"]})
    assert entry.subjects == set()


# -- 3. exactly what the answer disclosed, never a value -------------------------------------

HANOI = ("hanoi-doha", "personnel-management")
RECRUITMENT = ("hanoi-doha", "recruitment")
INSPECTION = ("gov-inspectorate", "inspection")
FAMILY = """{ civilServants(first: 4) { nodes { employeeCode fullName
  person { personalId fullName father { personalId fullName birthDate }
           mother { personalId fullName permanentAddress } }
  agency { code name employees(first: 3) { nodes { employeeCode personalId givenName } } } } } }"""
FRAGMENTS = """query Q($yes: Boolean!, $no: Boolean!) { civilServants(first: 3) { nodes {
  employeeCode ...Names ... on CivilServant { birthDate rank { code name } }
  religion @include(if: $no) ethnicity @skip(if: $yes) sex @include(if: $yes)
  ... @skip(if: $no) { agencyRecord { system unitName } } } } }
fragment Names on CivilServant { a: fullName b: fullName givenName }"""


@pytest.mark.parametrize(("who", "query", "variables"), [
    (None, "{ civilServants(first: 3) { nodes { employeeCode a: fullName b: fullName "
           "c: birthDate } } }", None),
    (None, FRAGMENTS, {"yes": True, "no": False}),
    (None, FAMILY, None),
    (HANOI, """{ civilServants(first: 6) { nodes { employeeCode personalId fullName
       person { personalId fullName birthDate }
       agency { code employees(first: 2) { nodes { employeeCode fullName } } } } } }""", None),
    (INSPECTION, """{ civilServants(first: 4) { nodes { employeeCode personalId fullName
       birthDate disciplines { decisionNumber reason } agency { code name } } } }""", None),
], ids=["aliases", "fragments-directives", "family-and-colleagues", "row-filter", "masks"])
def test_the_record_holds_exactly_what_the_answer_shows(
        graphql: GraphQLClient, databases: DatabaseSet, personal_ids: dict[str, str],
        authority: dict[str, str], who: tuple[str, str] | None, query: str,
        variables: dict[str, Any] | None) -> None:
    client = graphql if who is None else graphql.as_client(*who)
    answer, entry = answered(client, databases, query, variables, stem="exact")
    assert "errors" not in answer, answer
    shown = disclosed_in(answer["data"], query, variables, None, personal_ids)
    assert shown.pairs, "the answer shows somebody"
    assert not shown.unidentified, shown.identified
    check_disclosed(entry, shown, exact=True)
    # Each field under each person, exactly (subjects have no more fields than shown).
    for subject in entry.subjects:
        assert entry.fields_of(subject) == shown.fields_of(subject), subject
    assert sorted(entry.columns["subject_ids"]) == sorted(entry.subjects)
    agency = {"hanoi-doha": "000.00.01.H01", "gov-inspectorate": "000.00.00.G05"}.get(
        client.client_id, ADMIN_AGENCY)
    assert check_no_values(entry, answer["data"], allowed={agency}) > 0
    for subject in entry.subjects:  # real personal IDs, never masked ones
        assert re.fullmatch(r"\d{12}", subject), subject
    if who == HANOI:
        assert {authority[s] for s in entry.subjects if s in authority} == {"H01"}
    if who == INSPECTION:
        nodes = answer["data"]["civilServants"]["nodes"]
        assert all(n["personalId"] not in entry.subjects for n in nodes)  # masked in answer
        assert entry.subjects == {personal_ids[n["employeeCode"]] for n in nodes}


def test_father_and_mother_are_subjects_of_their_own(graphql: GraphQLClient,
                                                     databases: DatabaseSet,
                                                     personal_ids: dict[str, str]) -> None:
    answer, entry = answered(graphql, databases, FAMILY, stem="family")
    parents = [(n["person"], n["person"][side]) for n in answer["data"]["civilServants"]["nodes"]
               if n["person"] for side in ("father", "mother") if n["person"][side]]
    assert parents, "some civil servant has a parent in the registry"
    for person, parent in parents:
        assert parent["personalId"] != person["personalId"]
        fields = entry.fields_of(parent["personalId"])
        assert "Person.fullName" in fields
        assert not any(f.startswith("CivilServant.") for f in fields), fields
        # The child's record holds the link, not the parent's fields.
        assert "Person.father" in entry.fields_of(person["personalId"]) or (
            "Person.mother" in entry.fields_of(person["personalId"]))


def test_a_lookup_that_finds_nobody_is_recorded(graphql: GraphQLClient,
                                                databases: DatabaseSet) -> None:
    citizens = {r["personal_id"] for r in fetch(databases.population,
                                                "SELECT personal_id FROM citizen")}
    employed = {r["personal_id"] for r in fetch(databases.national,
                                                "SELECT personal_id FROM employee")}
    nobody = next(f"0010{n:08d}" for n in range(85_999_999, 0, -1)
                  if f"0010{n:08d}" not in citizens)
    stranger = min(citizens - employed)
    query = ("query($p: PersonalId!, $s: PersonalId!) { person(personalId: $p) { fullName } "
             "civilServantByPersonalId(personalId: $s) { fullName } }")
    answer, entry = answered(graphql, databases, query, {"p": nobody, "s": stranger},
                             stem="lookup")
    assert answer["data"] == {"person": None, "civilServantByPersonalId": None}, answer
    # A civil servant not found is an error (NOT_FOUND); a person not found is a null.
    codes = sorted({e["extensions"]["code"] for e in answer.get("errors", [])})
    assert codes == ["NOT_FOUND"], answer
    assert entry["outcome"] == "partial"
    assert entry["errors"] == codes
    assert entry.subjects == {nobody, stranger}
    assert entry.fields_of(nobody) == {"Query.person"}
    assert entry.fields_of(stranger) == {"Query.civilServantByPersonalId"}
    assert sorted(entry.columns["subject_ids"]) == sorted([nobody, stranger])


def test_a_row_filter_holds_back_subjects_too(graphql: GraphQLClient, databases: DatabaseSet,
                                              personal_ids: dict[str, str],
                                              authority: dict[str, str]) -> None:
    """Hà Nội's recruitment looks people up: someone serving elsewhere is found in the
    registry, but their civil-service record is held back, and so out of the record."""
    outside = sorted(p for p, a in authority.items() if a != "H01")[:2]
    inside = sorted(p for p, a in authority.items() if a == "H01")[:1]
    lookups = " ".join(f'p{n}: person(personalId: "{p}") {{ personalId fullName '
                       f"civilServant {{ employeeCode fullName agency {{ code }} }} }}"
                       for n, p in enumerate(outside + inside))
    query = "{ " + lookups + " }"
    answer, entry = answered(graphql.as_client(*RECRUITMENT), databases, query, stem="rows")
    data = answer["data"]
    assert [data[f"p{n}"]["civilServant"] is None for n in range(3)] == [True, True, False]
    shown = disclosed_in(data, query, None, None, personal_ids)
    check_disclosed(entry, shown, exact=True)
    for subject in outside:
        assert entry.fields_of(subject) == {"Query.person", "Person.personalId",
                                            "Person.fullName", "Person.civilServant"}
    assert {"CivilServant.fullName", "Agency.code"} <= entry.fields_of(inside[0])
