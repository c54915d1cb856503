"""Property: whatever document a client sends, the hub answers with its view and nothing more.

Random documents, valid over the *full* schema, go over HTTP to the real hub as a random
(client, purpose) — every view the policies compile, and purposes a client has not declared.
The expected outcome is computed here from each view's ``visible`` fields (the engine's account
of what it grants, itself checked against the policy file's grants below) and the schema's
``REVEALS`` table, not from the client's compiled GraphQL schema, so a schema or an answer
that drifts from its policy shows up:

- a document touching a field, argument or filter field outside the view fails validation as a
  whole (no ``data``), and its errors name nothing outside the client's schema but what the
  document itself named;
- otherwise every key of ``data`` (walked beside the document: aliases, fragments, @skip and
  @include resolved) is a field of the view, masked values have their mask's form (and, checked
  against the administration client, the real value's last four digits or year), and every
  civil servant and agency returned satisfies the view's row conditions, looked up in
  PostgreSQL.

Keys of the seeded data are not known when hypothesis builds documents, so documents carry
placeholders (``⟪pool:index⟫``) resolved per test against keys read from the databases.
"""


from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings

from hub.databases import DatabaseSet
from resolvers.entities import REFERENCE_TYPES
from resolvers.mutations import ANY_KIND_FIELDS, MUTATION_KINDS, SUBMISSION_TYPES
from tests.conftest import Tokens
from tests.e2e.policy_cases import (
    INPUT_TYPES,
    INTROSPECTED_FIELDS,
    OBJECT_TYPES,
    VIEWS,
    Case,
    Payload,
    cases,
    reachable_types,
)
from tests.e2e.policy_checks import World, row_condition_failed, run_case, seeded_pools


def test_views_grant_nothing_the_policy_files_do_not() -> None:
    """The oracle below trusts each view's ``visible``: hold it to the policy file itself.
    Every visible field of a granted type is in that type's grant, with the grant's mask;
    only reference data (code lists, page structure) is visible without a grant."""
    for view in VIEWS.values():
        for type_name, fields in view.visible.items():
            if type_name in REFERENCE_TYPES or type_name in SUBMISSION_TYPES:
                continue
            if type_name == "Mutation":  # one mutation per kind of change the view may write,
                # and those the policy grants by name (settling synchronisation conflicts)
                named = view.purpose.grants.get("Mutation")
                writes = {f for f, kind in MUTATION_KINDS.items() if kind in view.writes}
                assert set(fields) == writes | (set(ANY_KIND_FIELDS) if writes else set()) | (
                    set(named.fields) if named is not None else set()), view.client.client_id
                continue
            grant = view.purpose.grants[type_name]
            assert set(fields) <= grant.fields, (view.client.client_id, type_name)
            assert {f: m for f, m in fields.items() if m is not None} == {
                f: m for f, m in grant.masks.items() if f in fields}, (type_name, fields)


@pytest.fixture(scope="module")
def world(databases: DatabaseSet, hub_url: str, tokens: Tokens) -> Iterator[World]:
    pools, employees, agencies = seeded_pools(databases)
    with httpx.Client(timeout=60) as http:
        world = World(http, hub_url, tokens, pools, employees, agencies)
        yield world
    print(f"\npolicy properties checked: {dict(sorted(world.checked.items()))}")


# -- the property, and the attacks it must always cover -----------------------------------------

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
            HealthCheck.data_too_large]


def _one(client: str, purpose: str, query: str, variables: dict[str, Any] | None = None,
         operation_name: str | None = None) -> Case:
    return Case(client, purpose, (Payload(query, variables, operation_name),))


HANOI = ("hanoi-doha", "personnel-management")
PAYROLL = ("mof-payroll", "salary-budget")
INSPECTION = ("gov-inspectorate", "inspection")
STATISTICS = ("moha-personnel-db", "statistics")
IDENTITY_CHECK = ("mps-identity", "identity-verification")
INSURANCE = ("vss-insurance", "social-insurance")
SCHEMA_TYPES = "{ __schema { types { " + INTROSPECTED_FIELDS + " } } }"


@settings(max_examples=400, deadline=None, suppress_health_check=FIXTURES)
@given(case=cases())
# an alias: a forbidden field under a granted field's name, and __typename under a forbidden one
@example(case=_one(*HANOI, "{ civilServants(first: 2) { nodes { fullName: religion } } }"))
@example(case=_one(*PAYROLL, "{ civilServants(first: 2) { nodes { personalId: fullName } } }"))
@example(case=_one(*HANOI, "{ civilServants(first: 2) { nodes { religion: __typename "
                           "zzEmployeeCode: employeeCode } } }"))
# a forbidden field inside a named fragment, an inline fragment, an untyped inline fragment
@example(case=_one(*PAYROLL, "{ civilServants(first: 2) { nodes { ...F } } } "
                             "fragment F on CivilServant { employeeCode fullName }"))
@example(case=_one(*INSPECTION, "{ civilServants(first: 2) { nodes { employeeCode "
                                "... on CivilServant { salaryCoefficient } } } }"))
@example(case=_one(*INSURANCE, "{ civilServants(first: 2) { nodes { ... @include(if: true) "
                               "{ partyMembership { branch } } } } }"))
# behind @include(if: false) and @skip(if: true), literal and variable
@example(case=_one(*INSURANCE, "{ civilServants(first: 1) { nodes { fullName "
                               "health @include(if: false) { status } } } }"))
@example(case=_one(*HANOI, "query($s: Boolean!) { civilServants(first: 1) { nodes { fullName "
                           "religion @skip(if: $s) } } }", {"s": True}))
# in a second operation of the document, the first one selected by operationName
@example(case=_one(*PAYROLL, "query A { civilServants(first: 1) { nodes { employeeCode } } } "
                             "query B { civilServants(first: 1) { nodes { fullName } } }",
                   operation_name="A"))
# in a batch: each operation answered as if sent alone
@example(case=Case(*HANOI, (
    Payload('{ civilServant(employeeCode: "⟪emp:0⟫") { zzEmployeeCode: employeeCode '
            "personalId } }"),
    Payload('{ civilServant(employeeCode: "⟪emp:0⟫") { religion } }'),
    Payload("{ agencies(filter: {provinceCode: \"44\"}) { zzAgencyCode: code name } }")),
    batch=True))
# a forbidden root field, a forbidden argument, a forbidden filter field
@example(case=_one(*HANOI, '{ person(personalId: "⟪person:0⟫") { fullName } }'))
@example(case=_one(*STATISTICS, '{ civilServants(first: 1, after: "⟪cursor:0⟫") { totalCount } }'))
@example(case=_one(*PAYROLL, '{ civilServants(filter: {namePrefix: "Ng"}) { totalCount } }'))
# ... and the same filter field passed in a variable (refused when the variables are coerced)
@example(case=_one(*PAYROLL, "query($f: CivilServantFilter) { civilServants(first: 2, filter: $f) "
                             "{ nodes { employeeCode } } }", {"f": {"namePrefix": "Ng"}}))
# introspection lists exactly the view
@example(case=_one(*IDENTITY_CHECK, '{ __type(name: "CivilServant") { ' + INTROSPECTED_FIELDS
                   + " } }"))
@example(case=_one(*HANOI, '{ a: __type(name: "CivilServant") { ' + INTROSPECTED_FIELDS
                   + ' } b: __type(name: "PartyMembership") { name } }'))
@example(case=_one(*INSPECTION, SCHEMA_TYPES))
@example(case=_one(*STATISTICS, SCHEMA_TYPES))
@example(case=_one(*IDENTITY_CHECK, SCHEMA_TYPES))
# masks, and rows reached through links
@example(case=_one(*INSPECTION, "{ civilServants(first: 5) { nodes { zzEmployeeCode: "
                                "employeeCode personalId birthDate } } }"))
@example(case=_one(*PAYROLL, '{ agency(code: "⟪agency:0⟫") { employees(first: 3) { nodes { '
                             "zzEmployeeCode: employeeCode personalId status } } } }"))
@example(case=_one(*HANOI, '{ agency(code: "000.00.00.H01") { zzAgencyCode: code children { '
                           "zzAgencyCode: code employees(first: 2) { nodes { zzEmployeeCode: "
                           "employeeCode agency { zzAgencyCode: code parent { zzAgencyCode: code "
                           "} } } } } } }"))
# an undeclared purpose
@example(case=_one("mps-identity", "administration", "{ __typename }"))
def test_a_client_gets_its_view_and_nothing_more(world: World, case: Case) -> None:
    run_case(world, case)


@pytest.mark.parametrize("target", sorted(VIEWS), ids="/".join)
def test_introspection_lists_exactly_the_view(world: World, target: tuple[str, str]) -> None:
    """For every view: __schema lists the view's types and fields, __type of anything else is
    null, and the input types offer only the filters the view may use."""
    view = VIEWS[target]
    absent = sorted(set(OBJECT_TYPES) - reachable_types(view))
    lookups = " ".join(f'{name}: __type(name: "{name}") {{ {INTROSPECTED_FIELDS} }}'
                       for name in sorted(OBJECT_TYPES) + INPUT_TYPES)
    run_case(world, _one(*target, SCHEMA_TYPES[:-1] + lookups + " }"))
    answer = world.post(*target, {"query": "{ " + lookups + " }"}).json()
    if view.client.documents_required:  # it runs its trusted documents only: no exploring
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"], answer
        return
    assert all(answer["data"][name] is None for name in absent), answer


@pytest.mark.parametrize("target", [HANOI, PAYROLL], ids="/".join)
def test_counts_honour_the_row_filters(world: World, target: tuple[str, str]) -> None:
    """totalCount and headcount count only the rows the view may see: a count over rows a
    client cannot read would tell it about them."""
    view = VIEWS[target]
    passing = {c for c in world.employees
               if row_condition_failed(world, view, "CivilServant", c) is None}
    answer = world.post(*target, {"query": "{ civilServants { totalCount } "
                                           '  a: agency(code: "000.00.01.G02") { headcount '
                                           "employees { totalCount } } }"}).json()
    assert answer["data"]["civilServants"]["totalCount"] == len(passing), answer
    staffed = sum(1 for c in passing if world.employees[c]["agency_code"] == "000.00.01.G02")
    agency = answer["data"]["a"]
    if agency is not None:
        assert agency["headcount"] == agency["employees"]["totalCount"] == staffed, answer
