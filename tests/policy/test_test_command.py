"""`hub policy test`: the policy files' own cases, decided statically against the views, each
failure reported as a precise two-way difference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.policy.load import POLICY_DIR, policy_files
from tests.policy.helpers import Outcome, write_policy

Run = Callable[..., Outcome]
Policy = dict[str, Any]


def _case(name: str, query: str, purpose: str = "review", **expect: Any) -> dict[str, Any]:
    return {"name": name, "purpose": purpose, "query": query, "expect": expect}


def _run_one(hub_policy: Run, tmp_path: Path, base: Policy, case: dict[str, Any]) -> Outcome:
    base["tests"] = [case]
    write_policy(tmp_path, base)
    return hub_policy("test", "--dir", tmp_path)


def test_every_shipped_case_passes(hub_policy: Run) -> None:
    outcome = hub_policy("test")
    assert outcome.code == 0, outcome.out
    assert not any(line.startswith("FAIL") for line in outcome.lines)
    # every shipped file has cases, and every case ran
    assert {line.split()[1] for line in outcome.lines if line.startswith("PASS")} == {
        f"{path.name}:" for path in policy_files(POLICY_DIR)}
    assert outcome.lines[-1].endswith("passed, 0 failed")


def test_one_client(hub_policy: Run) -> None:
    outcome = hub_policy("test", "--client", "mof-payroll")
    assert outcome.code == 0
    assert outcome.lines == [
        "PASS mof-payroll.yaml: salary-budget: payroll reads salaries, with the personal ID "
        "pseudonymised",
        "PASS mof-payroll.yaml: salary-budget: payroll sees no names, religion or health",
        "PASS mof-payroll.yaml: inspection: payroll has no other purpose",
        "PASS mof-payroll.yaml: salary-budget: payroll consumes salary data: it submits no "
        "change",
        "PASS mof-payroll.yaml: salary-budget: payroll reads no file's history and has no "
        "submissions inbox",
        "5 test case(s): 5 passed, 0 failed"]


def test_unknown_client_is_a_wrong_question(hub_policy: Run) -> None:
    outcome = hub_policy("test", "--client", "nobody")
    assert outcome.code == 2
    assert outcome.err.startswith(f"error: no policy for client 'nobody' in {POLICY_DIR}")


def test_a_passing_case(hub_policy: Run, tmp_path: Path, base: Policy) -> None:
    outcome = hub_policy("test", "--dir", tmp_path) if write_policy(tmp_path, base) else None
    assert outcome is not None
    assert outcome.code == 0
    assert outcome.lines == ["PASS test-client.yaml: review: reads names",
                             "1 test case(s): 1 passed, 0 failed"]


FAILING: dict[str, tuple[dict[str, Any], list[str]]] = {
    "visible, both ways": (
        _case("names", "{ civilServants { nodes { fullName status } } }",
              visible=["Query.civilServants", "CivilServantConnection.nodes",
                       "CivilServant.fullName", "CivilServant.employeeCode"]),
        ["visible: expected but not disclosed: CivilServant.employeeCode; disclosed but not "
         "expected: CivilServant.status"]),
    "visible, but the query is denied": (
        _case("names", "{ civilServants { nodes { religion } } }",
              visible=["Query.civilServants"]),
        ["the query does not validate against the client's schema: Cannot query field "
         "'religion' on type 'CivilServant'."]),
    "denied, but the query validates": (
        _case("no names", "{ civilServants { nodes { fullName } } }",
              denied=["CivilServant.fullName"]),
        ["denied: expected the query to be refused for CivilServant.fullName, but it "
         "validates"]),
    "denied, both ways": (
        _case("no religion", "{ civilServants { nodes { religion sex } } }",
              denied=["CivilServant.religion", "CivilServant.ethnicity"]),
        ["denied: expected but not denied: CivilServant.ethnicity; denied but not expected: "
         "CivilServant.sex"]),
    "denied, with another validation error": (
        _case("no religion", "{ civilServants(first: \"x\") { nodes { religion } } }",
              denied=["CivilServant.religion"]),
        ["denied: the query also fails validation for other reasons: Int cannot represent "
         "non-integer value: \"x\""]),
    "expected names that are no field at all": (
        _case("typo", "{ civilServants { nodes { fullNam } } }",
              denied=["CivilServant.fullNam"]),
        ["denied: CivilServant.fullNam is not a field of the schema at all"]),
    "masked differently": (
        _case("masks", "{ civilServants { nodes { birthDate fullName } } }",
              masked={"CivilServant.fullName": "hash"}),
        ["masked: CivilServant.fullName should be masked hash, but it is masked redact",
         "masked: the query selects CivilServant.birthDate, masked year-only, which `masked` "
         "does not list"]),
    "masked, on a field the client lacks": (
        _case("masks", "{ civilServants { nodes { fullName } } }",
              masked={"CivilServant.personalId": "last4"}),
        ["masked: CivilServant.personalId should be masked (last4), but the client's schema "
         "does not have it",
         "masked: the query selects CivilServant.fullName, masked redact, which `masked` does "
         "not list"]),
    "rows": (
        _case("rows", "{ civilServants { nodes { fullName } } }",
              rows={"CivilServant": ["status in [ACTIVE]"], "Agency": []}),
        ["rows of Agency: expected all rows, the view holds ['provinceCode = "
         "client.province_code (01)']",
         "rows of CivilServant: expected ['status in [ACTIVE]'], the view holds ['status = "
         "ACTIVE']"]),
    "rows of a type that does not exist": (
        _case("rows", "{ ranks { code } }", rows={"Agnecy": []}),
        ["rows: Agnecy is not a type of the schema"]),
    "refused, but the purpose is declared": (
        _case("refused", "{ ranks { code } }", refused="FORBIDDEN"),
        ["refused: expected FORBIDDEN for purpose 'review', but the client has a view for it"]),
    "an undeclared purpose, not expected refused": (
        _case("audit", "{ ranks { code } }", purpose="audit", visible=["Query.ranks"]),
        ["the purpose is refused: purpose 'audit' is not declared for client test-client; "
         "declared purposes: review"]),
    "a query that does not parse": (
        _case("syntax", "{ civilServants { nodes { fullName }", visible=[]),
        ["the query does not parse: Syntax Error: Expected Name, found <EOF>."]),
    "no operation of that name": (
        {**_case("operation", "query A { ranks { code } }", visible=["Query.ranks"]),
         "operation": "B"},
        ["the document has no operation named 'B'"]),
    "variables that do not fit": (
        {**_case("variables", "query($n: Int) { civilServants(first: $n) { totalCount } }",
                 visible=["Query.civilServants", "CivilServantConnection.totalCount"]),
         "variables": {"n": "five"}},
        ["variables do not fit the operation: Variable '$n' has invalid value: Int cannot "
         "represent non-integer value: 'five'"]),
}


@pytest.mark.parametrize("case", list(FAILING))
def test_failing_case_reports_the_difference(case: str, hub_policy: Run, tmp_path: Path,
                                             base: Policy) -> None:
    grants = base["purposes"]["review"]["grants"]
    grants["CivilServant"]["masks"] = {"fullName": "redact", "birthDate": "year-only"}
    grants["CivilServant"]["rows"] = [{"field": "status", "equals": "ACTIVE"}]
    grants["Agency"]["rows"] = [{"field": "provinceCode", "equals": {"attribute":
                                                                     "province_code"}}]
    test, failures = FAILING[case]
    outcome = _run_one(hub_policy, tmp_path, base, test)
    assert outcome.code == 1
    assert outcome.lines == [f"FAIL test-client.yaml: {test['purpose']}: {test['name']}",
                             *(f"    - {failure}" for failure in failures),
                             "1 test case(s): 0 passed, 1 failed"]


PASSING: dict[str, dict[str, Any]] = {
    "refused for an undeclared purpose": _case("no audit", "{ ranks { code } }",
                                               purpose="audit", refused="FORBIDDEN"),
    "denied fields only, nested under a denied field too": _case(
        "denied", "{ person(personalId: \"001080012345\") { fullName } "
                  "civilServants { nodes { religion } } }",
        denied=["Query.person", "CivilServant.religion"]),
    "masks, rows and visible together": _case(
        "all", "query Q { civilServants { nodes { fullName agency { name } } } }",
        visible=["Query.civilServants", "CivilServantConnection.nodes", "CivilServant.fullName",
                 "CivilServant.agency", "Agency.name"],
        masked={"CivilServant.fullName": "redact"},
        rows={"Agency": ["provinceCode = client.province_code (01)"], "CivilServant": []}),
    "the chosen operation, fragments, variables and @skip": {
        **_case("operations",
                "query A { ranks { code } } "
                "query B($full: Boolean!) { civilServants { nodes { ...N } } } "
                "fragment N on CivilServant { employeeCode agency @include(if: $full) { name } "
                "__typename }",
                visible=["Query.civilServants", "CivilServantConnection.nodes",
                         "CivilServant.employeeCode"]),
        "operation": "B", "variables": {"full": False}},
}


@pytest.mark.parametrize("case", list(PASSING))
def test_passing_case(case: str, hub_policy: Run, tmp_path: Path, base: Policy) -> None:
    base["purposes"]["review"]["grants"]["CivilServant"]["masks"] = {"fullName": "redact"}
    base["purposes"]["review"]["grants"]["Agency"]["rows"] = [
        {"field": "provinceCode", "equals": {"attribute": "province_code"}}]
    outcome = _run_one(hub_policy, tmp_path, base, PASSING[case])
    assert outcome.code == 0, outcome.out
    assert outcome.lines[-1] == "1 test case(s): 1 passed, 0 failed"


def test_a_client_that_does_not_compile_fails_without_running(hub_policy: Run, tmp_path: Path,
                                                             base: Policy) -> None:
    base["purposes"]["review"]["grants"]["CivilServant"]["fields"].append("nickname")
    write_policy(tmp_path, base)
    outcome = hub_policy("test", "--dir", tmp_path)
    assert outcome.code == 1
    assert outcome.lines == [
        "ERROR test-client.yaml: review: CivilServant: no field 'nickname'",
        "ERROR test-client.yaml: its 1 test case(s) cannot run: the policy does not compile",
        "0 test case(s): 0 passed, 0 failed; 1 client(s) not tested"]


def test_a_broken_file_elsewhere_does_not_stop_one_clients_tests(hub_policy: Run,
                                                                 tmp_path: Path,
                                                                 base: Policy) -> None:
    write_policy(tmp_path, base)
    write_policy(tmp_path, "client: [\n", "broken")
    assert hub_policy("test", "--dir", tmp_path).code == 1
    outcome = hub_policy("test", "--dir", tmp_path, "--client", "test-client")
    assert outcome.code == 0
    broken = hub_policy("test", "--dir", tmp_path, "--client", "broken")
    assert broken.code == 1
    assert broken.lines[0] == "ERROR broken.yaml: not valid YAML at line 2"
