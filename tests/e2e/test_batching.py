"""One source call per source per level of a query, whatever the list sizes."""

from __future__ import annotations

from tests.conftest import GraphQLClient, Sandbox

REFERENCE = """query Reference($after: String) {
  civilServants(first: 100, filter: {provinceCode: "01"}, after: $after) {
    edges { node {
      employeeCode personalId fullName birthDate sex category status agencyCode unitName
      salaryStep salaryCoefficient hiredOn
      person { fullName birthDate sex currentAddress permanentAddress nationality }
      agencyRecord { system positionCode rankCode pendingDiscipline }
    } }
  }
}"""


def test_hundred_civil_servants_with_person_and_agency_record(graphql: GraphQLClient,
                                                              sandbox: Sandbox) -> None:
    result = graphql.query(REFERENCE)
    assert "errors" not in result, result["errors"]
    nodes = [e["node"] for e in result["data"]["civilServants"]["edges"]]
    assert len(nodes) == 100
    touched = {n["agencyRecord"]["system"] for n in nodes if n["agencyRecord"]}
    # Hà Nội's own system and the ministries' in Hà Nội (Finance's, Health's database).
    assert {"mof-hrmis", "hanoi-hrm"} <= touched <= {"mof-hrmis", "hanoi-hrm", "moh-hris"}
    calls = result["extensions"]["sourceCalls"]
    # The province filter costs one agency look-up; the page itself is one query.
    assert calls == {"national": 2, "population": 1, **dict.fromkeys(touched, 1)}

    # The sandboxes count what they were asked, independently of the hub.
    population = sandbox.stats("population")
    assert population["requests"] == {"citizens.batch": 1}
    assert population["items"] == {"citizens.batch": 100}
    assert sandbox.stats("agency_rest")["requests"] == {"nhan_su.tra_cuu": 1}
    assert sandbox.stats("agency_graphql")["requests"] == {"graphql": 1,
                                                           "staffByCitizenIds": 1}


def test_nested_levels_cost_one_call_each(graphql: GraphQLClient) -> None:
    result = graphql.query("""{
      agencies(filter: {provinceCode: "01", kind: PROVINCE_DEPARTMENT}) {
        code headcount parent { code name }
        employees(first: 5) { edges { node { employeeCode person { fullName }
                                             agency { code } } } }
      } }""")
    assert "errors" not in result, result["errors"]
    agencies = result["data"]["agencies"]
    assert len(agencies) > 3
    calls = result["extensions"]["sourceCalls"]
    # agencies + headcount + parents + employee pages = 4 queries (the employees' agencies are
    # the listed ones, already known), and one registry call for every person on every page.
    assert calls["national"] == 4
    assert calls["population"] == 1


def test_repeated_keys_are_fetched_once(graphql: GraphQLClient, sandbox: Sandbox) -> None:
    result = graphql.query("""{
      a: civilServants(first: 50) { edges { node { person { fullName } } } }
      b: civilServants(first: 50) { edges { node { person { fullName } } } } }""")
    assert "errors" not in result
    assert result["extensions"]["sourceCalls"]["population"] == 1
    assert sandbox.stats("population")["items"] == {"citizens.batch": 50}


def test_the_plan_path_reuses_what_resolvers_fetched(graphql: GraphQLClient) -> None:
    # Root resolvers and nested levels share what they fetch: the agency the filter checked
    # is not fetched again for every node, nor the headcount for totalCount.
    result = graphql.query("""{ agencies(filter: {provinceCode: "01",
                                                 kind: PROVINCE_DEPARTMENT}) {
        headcount employees(first: 3) { totalCount nodes { agency { name } } } } }""")
    assert "errors" not in result
    # agencies, headcount (shared with totalCount), pages; node agencies are already known
    assert result["extensions"]["sourceCalls"] == {"national": 3}
