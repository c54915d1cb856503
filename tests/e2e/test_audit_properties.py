"""Property: whatever document a client sends, its audit record holds what the answer showed,
under the person it showed it of, and nothing the client's view does not have.

The documents are the policy property test's (tests/e2e/policy_cases.py: aliases, fragments,
directives, variables, several operations, batches, GET, fields outside the view, undeclared
purposes), sent with a request id of the test's own. Each answer is walked beside its document
(tests/e2e/audit_records.py): every civil servant, known by the employee code the generator
always selects, must have each of its selected fields in the record under its personal ID,
and so must the objects below it that are about no one else (its agency, rank, disciplines, ...);
a person or agency-system record reached from a civil servant is the same person, a father or
spouse is another. What cannot be tied to a person from the answer must still be in some group
of the record, and no record names a field outside the view.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx
from graphql import parse
from hypothesis import example, given, note, settings

from hub.databases import DatabaseSet
from hub.policy.compile import ClientView
from hub.policy.model import document_id
from tests.e2e import test_policy_properties as policy_properties
from tests.e2e.audit_records import (
    Record,
    check_disclosed,
    disclosed_in,
    fetch_rows,
    record,
    records,
    request_id,
)
from tests.e2e.policy_cases import FULL, OBJECT_TYPES, VIEWS, Case, Payload, cases
from tests.e2e.policy_checks import World, outside_view

# The policy property test's world (seeded keys, ground truth, an HTTP client): the fixture
# itself, reused under its own name.
world = policy_properties.world
OUTCOMES = {"allowed", "partial", "refused", "failed"}


def _one(client: str, purpose: str, query: str,
         variables: dict[str, Any] | None = None) -> Case:
    return Case(client, purpose, (Payload(query, variables),))


def _send(world: World, case: Case, payloads: list[Payload], request: str) -> httpx.Response:
    headers = {**world.tokens.headers(case.client, case.purpose), "x-request-id": request}
    body: Any = [p.body() for p in payloads] if case.batch else payloads[0].body()
    if case.get:
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        return world.http.get(f"{world.hub_url}/graphql", params=params, headers=headers)
    return world.http.post(f"{world.hub_url}/graphql", json=body, headers=headers)


@functools.cache
def _relatives(dsn: str) -> dict[str, str | None]:
    """Each declared relative's personal ID (or None) by member id, as the seed left them
    (the audit names a relative by it even when the answer masks or omits it)."""
    return {str(row["id"]): row["personal_id"]
            for row in fetch_rows(dsn, "SELECT id, personal_id FROM family_member")}


def _check_record(world: World, case: Case, payload: Payload, answer: dict[str, Any],
                  entry: Record, personal_ids: dict[str, str],
                  relatives: dict[str, str | None]) -> None:
    assert entry["client"] == case.client
    assert entry["outcome"] in OUTCOMES
    codes = sorted({e["extensions"]["code"] for e in answer.get("errors", [])})
    assert entry["errors"] == codes
    view = VIEWS.get((case.client, case.purpose))
    if view is None or "data" not in answer:
        world.count("audit: refused")
        assert entry["outcome"] == "refused", entry.entry
        assert entry["disclosed"] == []
        assert entry.columns["subject_ids"] == []
        untrusted = (view is not None and view.client.documents_required
                     and document_id(payload.query) not in view.client.documents)
        if view is not None and not untrusted:  # a validation failure: what it asked outside
            asked = {f for f in outside_view(view, parse(payload.query)) if "(" not in f
                     and f.split(".")[0] in OBJECT_TYPES}
            denied = set(entry["denied"]["fields"]) if entry["denied"] else set()
            if asked:
                assert denied, f"{sorted(asked)} are outside the view, the record names none"
            for named in denied:  # names of the schema the client's schema lacks
                assert_outside(view, named)
        return
    data = answer["data"]
    # Without data: failed when execution ran, refused when the variables were refused.
    expected = ({"allowed"} if not codes else {"partial"} if data is not None
                else {"failed", "refused"})
    assert entry["outcome"] in expected, (entry["outcome"], codes)
    assert entry["purpose"] == case.purpose
    assert entry["agency"] == view.client.agency
    outside = sorted(f for f in entry.fields if not view.shows(*f.split(".")))
    assert not outside, f"the record names fields outside the view: {outside}"
    if data is None:
        return
    shown = disclosed_in(data, payload.query, payload.variables, payload.operation_name,
                         personal_ids, relatives)
    for kind, count in shown.identified.items():
        for _ in range(count):
            world.count(f"audit: {kind} objects")
    # Exact when the answer names everyone it is about: no field of an unnamed person's
    # object, and no unnamed person's object showing no field (``{ civilServant(...) {
    # __typename } }`` shows that the person exists, and the record names them).
    exact = (not codes and not shown.unidentified
             and not any(kind.endswith("?") for kind in shown.identified))
    # Lookups count against the ID looked up, whether or not they found anyone.
    check_disclosed(entry, shown, exact=exact)
    world.count("audit: answered, exact" if exact else "audit: answered")


def run_audit_case(world: World, dsn: str, case: Case) -> None:
    personal_ids = {code: str(row["personal_id"]) for code, row in world.employees.items()}
    relatives = _relatives(dsn)
    payloads = [world.resolved(p) for p in case.payloads]
    request = request_id("prop")
    for payload in payloads:
        note(f"{case.client}/{case.purpose} {request}: "
             f"{json.dumps(payload.body(), ensure_ascii=False)}")
    response = _send(world, case, payloads, request)
    assert response.status_code < 500, response.text
    assert response.headers["x-request-id"] == request
    body = response.json()
    answers = body if case.batch else [body]
    if case.batch:
        assert records(dsn, request) == [], "a batch itself has no record"
        ids = [f"{request}/{i}" for i in range(len(payloads))]
    else:
        ids = [request]
    assert len(answers) == len(ids), body
    for payload, answer, one in zip(payloads, answers, ids, strict=True):
        entry = record(dsn, one)
        try:
            _check_record(world, case, payload, answer, entry, personal_ids, relatives)
        except AssertionError as error:
            raise AssertionError(
                f"{error}\nrequest {one}: {json.dumps(payload.body(), ensure_ascii=False)}\n"
                f"answer: {json.dumps(answer, ensure_ascii=False)[:2000]}\n"
                f"record: {entry.text[:2000]}") from None


def assert_outside(view: ClientView, named: str) -> None:
    """``Type.field``, ``Type.field(argument)`` or ``Input.field``: in the full schema,
    not in the client's."""
    path, _, argument = named.partition("(")
    type_name, name = path.split(".")
    full_type, own_type = FULL.get_type(type_name), view.schema.get_type(type_name)
    assert name in getattr(full_type, "fields", {}), named
    if argument:
        argument = argument.rstrip(")")
        assert argument in full_type.fields[name].args, named  # type: ignore[union-attr]
        assert argument not in own_type.fields[name].args, named  # type: ignore[union-attr]
    elif type_name in OBJECT_TYPES:
        assert not view.shows(type_name, name), named
    else:  # an input type's field
        assert name not in getattr(own_type, "fields", {}), named


@settings(max_examples=150, deadline=None, suppress_health_check=policy_properties.FIXTURES)
@given(case=cases())
# a person, their father and mother: three subjects
@example(case=_one("moha-personnel-db", "administration",
                   '{ person(personalId: "⟪person:13⟫") { personalId fullName '
                   "father { personalId fullName } mother { birthDate } "
                   "civilServant { zzEmployeeCode: employeeCode rank { name } } } }"))
# masked personal IDs: the employee code names the person
@example(case=_one("gov-inspectorate", "inspection",
                   "{ civilServants(first: 3) { nodes { zzEmployeeCode: employeeCode personalId "
                   "birthDate disciplines { reason } agency { name } } } }"))
# rows reached through links, under a row filter
@example(case=_one("hanoi-doha", "personnel-management",
                   '{ agency(code: "000.00.00.H01") { zzAgencyCode: code children { '
                   "employees(first: 2) { nodes { zzEmployeeCode: employeeCode person { "
                   "fullName } agencyRecord { system } } } } } }"))
# the same person twice, under aliases and fragments
@example(case=_one("moha-personnel-db", "administration",
                   'query($yes: Boolean!) { a: civilServant(employeeCode: "⟪emp:0⟫") { '
                   "zzEmployeeCode: employeeCode ...F } b: civilServant(employeeCode: "
                   '"⟪emp:0⟫") { zzEmployeeCode: employeeCode religion @include(if: $yes) } } '
                   "fragment F on CivilServant { fullName }", {"yes": True}))
# declared relatives: by an unmasked ID, by member id under a mask
@example(case=_one("moha-personnel-db", "administration",
                   "{ civilServants(first: 3) { nodes { zzEmployeeCode: employeeCode "
                   "familyMembers { personalId fullName } } } }"))
@example(case=_one("hanoi-doha", "personnel-management",
                   "{ civilServants(first: 3) { nodes { zzEmployeeCode: employeeCode "
                   "familyMembers { id personalId relation } } } }"))
def test_every_record_holds_what_its_answer_showed(world: World, databases: DatabaseSet,
                                                  case: Case) -> None:
    run_audit_case(world, databases.national, case)
