"""Write grants: which changes a client may submit, for whom — loaded, validated, compiled into
the engine, linted, explained, shown in the matrix and asserted by `hub policy test`."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema

from adapters import Condition
from adapters.filters import Related
from adapters.postgres import _Sql
from hub.policy.compile import PolicyEngine
from hub.policy.load import SCHEMA_FILE, PolicyError, load_policy_dir
from hub.policy.writes import DECLARATION_KINDS, WRITE_KINDS
from tests.policy.helpers import BASE, Outcome, write_policy

Run = Callable[..., Outcome]
Policy = dict[str, Any]

BASIS = "Decree 27/2026/ND-CP — agencies update the data of their own employees"
OWN_EMPLOYEES = [{"field": "agency.authority", "equals": {"attribute": "authority"}}]
OWN_AGENCIES = [{"field": "authority", "equals": {"attribute": "authority"}}]
# The SQL the national database adapter builds from a row filter (whitelisted columns)
SQL = _Sql({"employee": {"agency_code": "text", "status": "text"},
            "agency": {"code": "text", "authority": "text", "parent_code": "text",
                       "kind": "text"}})


def _policy(writes: dict[str, Any], agency: str = "000.00.01.H01") -> Policy:
    """The small base policy, run by a provincial department, with ``writes`` on ``review``."""
    policy = copy.deepcopy(BASE)
    policy["client"]["agency"] = agency
    policy["client"]["attributes"] = {"authority": "H01", "authorities": ["H01", "H79"]}
    policy["purposes"]["review"]["writes"] = writes
    policy["tests"].append({"name": "writes", "purpose": "review",
                            "expect": {"writes": {kind: "allowed" for kind in writes
                                                  if kind in WRITE_KINDS}}})
    return policy


def _engine(schema: GraphQLSchema, directory: Path, policy: Policy) -> PolicyEngine:
    write_policy(directory, policy)
    return PolicyEngine(load_policy_dir(directory), schema, b"test")


def _problems(schema: GraphQLSchema, directory: Path, policy: Policy) -> list[str]:
    write_policy(directory, policy)
    with pytest.raises(PolicyError) as raised:
        PolicyEngine(load_policy_dir(directory), schema, b"test")
    return [str(problem) for problem in raised.value.problems]


def _sql(entity: str, row_filter: tuple[Condition, ...]) -> tuple[list[str], list[Any]]:
    args: list[Any] = []
    return SQL.where(entity, row_filter, args), args


# -- the format ----------------------------------------------------------------------------

def test_the_schema_names_exactly_the_engine_s_kinds() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$defs"]["writeKind"]["enum"] == list(WRITE_KINDS)
    writes = schema["$defs"]["purpose"]["properties"]["writes"]
    assert set(writes["properties"]) == DECLARATION_KINDS == {
        "personal-history", "family", "asset-declaration"}
    assert {name for name, kind in WRITE_KINDS.items() if kind.subject_type == "Agency"} == {
        "register-employee", "transfer-in"}


@pytest.mark.parametrize(("writes", "message"), [
    ({"promotion": {"legal_basis": BASIS}},
     "test-client.yaml: purposes/review/writes: 'promotion' is not a change kind; the kinds: "
     + ", ".join(WRITE_KINDS)),
    ({"family": {"cosign": "none", "legal_basis": BASIS}},
     "test-client.yaml: purposes/review/writes/family/cosign: family is the employee's own "
     "declaration: it needs the employee's co-signature, which a policy cannot waive (remove "
     "`cosign: none`)"),
    ({"evaluation": {"cosign": "agency", "legal_basis": BASIS}},
     "test-client.yaml: purposes/review/writes/evaluation/cosign: 'agency' is not one of "
     "['employee', 'none']"),
    ({"evaluation": {"rows": OWN_EMPLOYEES}},
     "test-client.yaml: purposes/review/writes/evaluation: 'legal_basis' is a required "
     "property"),
    ({"evaluation": {"legal_basis": BASIS, "fields": ["year"]}},
     "test-client.yaml: purposes/review/writes/evaluation: Additional properties are not "
     "allowed ('fields' was unexpected)"),
    ({"evaluation": {"legal_basis": BASIS, "rows": [{"field": "status"}]}},
     "test-client.yaml: purposes/review/writes/evaluation/rows/0: {'field': 'status'} is not "
     "valid under any of the given schemas"),
    ({}, "test-client.yaml: purposes/review/writes: {} should be non-empty"),
])
def test_the_loader_refuses_a_malformed_write_grant(schema: GraphQLSchema, tmp_path: Path,
                                                    writes: dict[str, Any], message: str
                                                    ) -> None:
    assert _problems(schema, tmp_path, _policy(writes)) == [message]


@pytest.mark.parametrize(("kind", "rows", "message"), [
    ("register-employee", OWN_EMPLOYEES,
     "rows of register-employee are conditions on the agency the employee joins (Agency "
     "fields, `authority`), not on the employee: 'agency.authority' is a CivilServant field"),
    ("transfer-in", [{"field": "status", "equals": "ACTIVE"}],
     "rows of transfer-in are conditions on the agency the employee joins (Agency fields, "
     "e.g. `authority`), not on the employee: 'status' is a CivilServant field"),
    ("position-change", OWN_AGENCIES,
     "rows of position-change are conditions on the employee (CivilServant fields): for the "
     "employee's agency write `agency.authority`"),
    ("award", [{"field": "nickname", "equals": "x"}], "row condition on unknown field "
                                                      "'nickname'"),
    ("award", [{"field": "agency.authority", "equals": {"attribute": "ministry"}}],
     "row condition uses client attribute 'ministry', which the client does not have"),
    ("award", [{"field": "status", "equals": "RETIRED_EARLY"}],
     "status: 'RETIRED_EARLY' is not a value of ServiceStatus"),
    ("award", [{"field": "agency.authority", "equals": {"attribute": "authorities"}}],
     "agency.authority: `equals` needs one value, the attribute holds a list: use `in`"),
    ("award", [{"field": "disciplines", "equals": "x"}],
     "row condition on disciplines, which is not a stored value"),
])
def test_the_engine_refuses_a_row_scope_that_cannot_compile(schema: GraphQLSchema,
                                                            tmp_path: Path, kind: str,
                                                            rows: list[Any], message: str
                                                            ) -> None:
    problems = _problems(schema, tmp_path, _policy({kind: {"rows": rows, "legal_basis": BASIS}}))
    assert problems == [f"test-client.yaml: purpose review: write:{kind}: {message}"]


def test_a_test_case_needs_a_query_to_check_what_a_query_discloses(
        schema: GraphQLSchema, tmp_path: Path) -> None:
    policy = _policy({"evaluation": {"legal_basis": BASIS}})
    policy["tests"].append({"name": "no query", "purpose": "review",
                            "expect": {"visible": ["Query.ranks"]}})
    assert _problems(schema, tmp_path, policy) == [
        "test-client.yaml: tests/2: 'query' is a required property"]


# -- what the engine compiles --------------------------------------------------------------

def test_a_scope_on_the_employee_compiles_to_the_read_side_s_row_filter(
        schema: GraphQLSchema, tmp_path: Path) -> None:
    engine = _engine(schema, tmp_path, _policy({
        "position-change": {"rows": [*OWN_EMPLOYEES, {"field": "status",
                                                      "in": ["ACTIVE", "ON_LEAVE"]}],
                            "legal_basis": BASIS}}))
    grant = engine.write_grant("test-client", "review", "position-change")
    assert grant is not None
    assert (grant.kind, grant.entity, grant.subject_type) == ("position-change", "employee",
                                                              "CivilServant")
    assert grant.rows[0] == Condition("agency_code", "related",
                                      Related("agency", "code",
                                              (Condition("authority", "eq", "H01"),)))
    assert grant.rows[1].op == "in"
    assert _sql("employee", grant.rows)[0] == [
        '"agency_code" IN (SELECT "code" FROM "agency" WHERE "authority" = $1)',
        '"status" = ANY($2)']
    assert grant.scope == ("agency.authority = client.authority (H01)",
                           "status in [ACTIVE, ON_LEAVE]")
    assert (grant.cosign, grant.legal_basis, grant.unscoped) == (False, BASIS, False)
    view = engine.view("test-client", "review")
    assert dict(view.writes) == {"position-change": grant}


def test_a_scope_on_the_agency_joined(schema: GraphQLSchema, tmp_path: Path) -> None:
    engine = _engine(schema, tmp_path, _policy({
        "register-employee": {"rows": OWN_AGENCIES, "legal_basis": BASIS},
        "transfer-in": {"rows": [{"field": "parent.authority", "in": {"attribute": "authorities"}},
                                 {"field": "kind", "equals": "PROVINCE_DEPARTMENT"}],
                        "legal_basis": BASIS}}))
    register = engine.write_grant("test-client", "review", "register-employee")
    assert register is not None
    assert (register.entity, register.subject_type) == ("agency", "Agency")
    assert _sql("agency", register.rows) == (['"authority" = $1'], ["H01"])
    assert register.scope == ("authority = client.authority (H01)",)
    transfer = engine.write_grant("test-client", "review", "transfer-in")
    assert transfer is not None
    assert _sql("agency", transfer.rows) == (
        ['"parent_code" IN (SELECT "code" FROM "agency" WHERE "authority" = ANY($1))',
         '"kind" = $2'], [["H01", "H79"], "province_department"])  # as the database holds it
    assert transfer.scope == ("parent.authority in client.authorities ([H01, H79])",
                              "kind = PROVINCE_DEPARTMENT")


def test_co_signature(schema: GraphQLSchema, tmp_path: Path) -> None:
    engine = _engine(schema, tmp_path, _policy({
        "family": {"legal_basis": BASIS},                       # a declaration: always
        "asset-declaration": {"cosign": "employee", "legal_basis": BASIS},
        "evaluation": {"cosign": "employee", "legal_basis": BASIS},   # asked for
        "award": {"cosign": "none", "legal_basis": BASIS},
        "training": {"legal_basis": BASIS}}))

    def cosign(kind: str) -> bool:
        grant = engine.write_grant("test-client", "review", kind)
        assert grant is not None
        return grant.cosign

    assert [cosign(k) for k in ("family", "asset-declaration", "evaluation", "award",
                                "training")] == [True, True, True, False, False]


def test_no_grant_is_none(schema: GraphQLSchema, tmp_path: Path) -> None:
    engine = _engine(schema, tmp_path, _policy({"evaluation": {"legal_basis": BASIS}}))
    assert engine.write_grant("test-client", "review", "evaluation") is not None
    assert engine.write_grant("test-client", "review", "award") is None       # not granted
    assert engine.write_grant("test-client", "review", "promotion") is None   # no such kind
    assert engine.write_grant("test-client", "audit", "evaluation") is None   # no such purpose
    assert engine.write_grant("test-client", None, "evaluation") is None
    assert engine.write_grant("nobody", "review", "evaluation") is None       # no policy
    assert engine.view("test-client", "review").writes.keys() == {"evaluation"}


def test_the_shipped_grants(schema: GraphQLSchema) -> None:
    engine = PolicyEngine(load_policy_dir(SCHEMA_FILE.parent), schema, b"test")
    for kind in WRITE_KINDS:
        city = engine.write_grant("hanoi-doha", "personnel-updates", kind)
        ministry = engine.write_grant("moha-personnel-db", "administration", kind)
        assert city is not None, kind
        assert ministry is not None, kind
        assert ministry.rows == ()
        agency_side = kind in ("register-employee", "transfer-in")
        assert city.scope == (("authority = client.authority (H01)",) if agency_side
                              else ("agency.authority = client.authority (H01)",))
        assert city.cosign is ministry.cosign is (kind in DECLARATION_KINDS)
        assert "Decree 27/2026/ND-CP" in city.legal_basis
        for client_id, purpose in (("hanoi-doha", "personnel-management"),
                                   ("mof-payroll", "salary-budget"),
                                   ("moha-personnel-db", "statistics"),
                                   ("gov-inspectorate", "inspection")):
            assert engine.write_grant(client_id, purpose, kind) is None


# -- hub policy check ----------------------------------------------------------------------

def _warnings(outcome: Outcome) -> list[str]:
    return [line for line in outcome.lines if line.startswith("WARNING ")]


def test_the_lint_of_write_grants(hub_policy: Run, tmp_path: Path) -> None:
    write_policy(tmp_path, _policy({
        "position-change": {"legal_basis": BASIS},
        "transfer-in": {"legal_basis": BASIS},
        "evaluation": {"rows": [{"field": "status", "equals": "ACTIVE"},
                                {"field": "status", "equals": "RETIRED"}],
                       "legal_basis": BASIS},
        "award": {"rows": [*OWN_EMPLOYEES, {"field": "status", "in": ["ACTIVE", "ACTIVE"]}],
                  "legal_basis": BASIS}}))
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 0
    prefix = "WARNING test-client.yaml: review:"
    assert sorted(_warnings(outcome)) == sorted([
        f"{prefix} write:position-change: no row scope: a provincial client may submit it for "
        "every employee of the country; scope it to its own (e.g. `agency.authority` equals "
        "{attribute: authority})",
        f"{prefix} write:transfer-in: no row scope: a provincial client may submit it into "
        "every agency of the country; scope it to its own (e.g. `authority` equals "
        "{attribute: authority})",
        f"{prefix} write:evaluation: contradictory row conditions: `status = ACTIVE` and "
        "`status = RETIRED` match no row together",
        f"{prefix} write:award: `status in [ACTIVE, ACTIVE]` lists ACTIVE more than once"])
    assert outcome.lines[-1].startswith("1 policy file(s), 1 client purpose(s) compiled: "
                                        "0 error(s), 4 warning(s)")


def test_a_ministry_may_hold_an_unscoped_grant(hub_policy: Run, tmp_path: Path) -> None:
    write_policy(tmp_path, _policy({"position-change": {"legal_basis": BASIS}},
                                   agency="000.00.00.G01"))
    outcome = hub_policy("check", "--strict", "--dir", tmp_path)
    assert outcome.code == 0, outcome.out
    assert _warnings(outcome) == []


def test_errors_in_write_grants_fail_the_check(hub_policy: Run, tmp_path: Path) -> None:
    write_policy(tmp_path, _policy({"register-employee": {"rows": OWN_EMPLOYEES,
                                                          "legal_basis": BASIS}}))
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 1
    assert ("ERROR test-client.yaml: review: write:register-employee: rows of register-employee "
            "are conditions on the agency the employee joins (Agency fields, `authority`), not "
            "on the employee: 'agency.authority' is a CivilServant field") in outcome.lines


def test_writes_without_a_test_are_flagged(hub_policy: Run, tmp_path: Path) -> None:
    policy = _policy({"evaluation": {"rows": OWN_EMPLOYEES, "legal_basis": BASIS}})
    policy["tests"].pop()
    write_policy(tmp_path, policy)
    outcome = hub_policy("check", "--dir", tmp_path)
    assert _warnings(outcome) == [
        "WARNING test-client.yaml: review: no test case checks this purpose's writes (expect "
        "`writes`)"]


# -- hub policy explain --------------------------------------------------------------------

def test_explain_a_change_kind(hub_policy: Run) -> None:
    outcome = hub_policy("explain", "write:position-change")
    assert outcome.code == 0
    lines = outcome.lines
    assert lines[0] == ("write:position-change: a change of position, rank or salary step; row "
                        "scope on the employee's record (CivilServant)")
    city = lines.index("  hanoi-doha/personnel-updates: may submit it, signed by the agency")
    assert lines[city + 1:city + 3] == [
        "      legal basis: Decree 27/2026/ND-CP — agencies update the data of their own "
        "employees",
        "      rows of CivilServant: agency.authority = client.authority (H01)"]
    ministry = lines.index("  moha-personnel-db/administration: may submit it, signed by the "
                           "agency")
    assert lines[ministry + 3] == "      rows of CivilServant: every employee of the country"
    refused = next(i for i, line in enumerate(lines) if line.startswith("  may not submit it: "))
    assert "mof-payroll/salary-budget" in " ".join(lines[refused:])
    assert "hanoi-doha/personnel-management" in " ".join(lines[refused:])


def test_explain_a_declaration_and_an_agency_side_kind(hub_policy: Run) -> None:
    family = hub_policy("explain", "write:family").lines
    assert family[0].endswith("; always co-signed by the employee (their own declaration)")
    assert ("  hanoi-doha/personnel-updates: may submit it, signed by the agency and co-signed "
            "by the employee") in family
    transfer = hub_policy("explain", "write:transfer-in").lines
    assert transfer[0] == ("write:transfer-in: taking a transferred employee into an agency; row "
                           "scope on the agency the employee joins (Agency)")
    assert "      rows of Agency: authority = client.authority (H01)" in transfer
    assert "      rows of Agency: every agency of the country" in transfer


def test_explain_every_kind(hub_policy: Run, tmp_path: Path) -> None:
    write_policy(tmp_path, _policy({"evaluation": {"rows": OWN_EMPLOYEES, "legal_basis": BASIS},
                                    "award": {"legal_basis": BASIS}}))
    outcome = hub_policy("explain", "write", "--dir", tmp_path)
    assert outcome.code == 0
    assert outcome.lines[0].startswith("change kinds, and who may submit them")
    assert "  write:evaluation: test-client/review" in outcome.lines
    assert "  write:award: test-client/review (every record)" in outcome.lines
    assert "  write:family: no client" in outcome.lines
    assert len(outcome.lines) == 1 + len(WRITE_KINDS)
    nobody = hub_policy("explain", "write:family", "--dir", tmp_path).lines
    assert nobody[1:] == ["  no client may submit family",
                          "  may not submit it: test-client/review"]


def test_explain_an_unknown_kind(hub_policy: Run) -> None:
    outcome = hub_policy("explain", "write:transfer")
    assert outcome.code == 2
    assert outcome.err.startswith("error: there is no change kind 'transfer' (did you mean "
                                  "transfer-in, transfer-out?); the kinds: register-employee, ")


# -- hub policy matrix ---------------------------------------------------------------------

def test_the_matrix_ends_with_the_change_kinds(hub_policy: Run, tmp_path: Path) -> None:
    policy = _policy({"evaluation": {"rows": OWN_EMPLOYEES, "legal_basis": BASIS},
                      "award": {"legal_basis": BASIS},
                      "family": {"legal_basis": BASIS}})
    policy["purposes"]["second"] = {"description": "A second purpose.",
                                    "grants": {"Query": {"fields": ["ranks"]}}}
    write_policy(tmp_path, policy)
    outcome = hub_policy("matrix", "--dir", tmp_path)
    assert outcome.code == 0
    rows = {line.split()[0]: line.split()[1:] for line in outcome.lines
            if line.startswith("write:")}
    assert list(rows) == [f"write:{kind}" for kind in WRITE_KINDS]
    assert rows["write:evaluation"] == ["rows"]
    assert rows["write:award"] == ["✓"]
    assert rows["write:family"] == ["✓+co"]
    assert rows["write:training"] == []
    assert outcome.lines[-1].startswith("write:asset-declaration")


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.write_cells: list[str] = []
        self._in_write = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_write = tag == "td" and ("class", "write") in attrs

    def handle_data(self, data: str) -> None:
        if self._in_write:
            self.write_cells.append(data)
            self._in_write = False


def test_the_html_matrix_shows_the_write_grants(hub_policy: Run, tmp_path: Path) -> None:
    write_policy(tmp_path, _policy({"evaluation": {"rows": OWN_EMPLOYEES, "legal_basis": BASIS},
                                    "family": {"legal_basis": BASIS}}))
    target = tmp_path / "matrix.html"
    assert hub_policy("matrix", "--dir", tmp_path, "--html", target).code == 0
    page = target.read_text(encoding="utf-8")
    assert "Changes the client may submit (write grants)" in page
    assert '<th scope="row">write:evaluation</th>' in page
    cells = _Cells()
    cells.feed(page)
    assert cells.write_cells == ["rows", "✓+co"]


# -- hub policy test -----------------------------------------------------------------------

def test_the_shipped_write_cases_pass(hub_policy: Run) -> None:
    outcome = hub_policy("test")
    assert outcome.code == 0, outcome.out
    assert ("PASS hanoi-doha.yaml: personnel-updates: the city submits changes to its own "
            "employees, and registers into its own agencies") in outcome.lines
    assert ("PASS moha-personnel-db.yaml: administration: the administrator may submit every "
            "kind of change, for any record of the country") in outcome.lines
    assert ("PASS mof-payroll.yaml: salary-budget: payroll consumes salary data: it submits no "
            "change") in outcome.lines


def test_write_expectations_that_do_not_hold(hub_policy: Run, tmp_path: Path) -> None:
    policy = _policy({"evaluation": {"rows": OWN_EMPLOYEES, "legal_basis": BASIS}})
    policy["tests"] = [{
        "name": "wrong about writes", "purpose": "review",
        "expect": {"writes": {"evaluation": "denied", "award": "allowed"},
                   "write_rows": {"evaluation": [], "training": []}}}]
    write_policy(tmp_path, policy)
    outcome = hub_policy("test", "--dir", tmp_path)
    assert outcome.code == 1
    assert outcome.lines == [
        "FAIL test-client.yaml: review: wrong about writes",
        "    - writes: award should be allowed, but the purpose does not grant it",
        "    - writes: evaluation should be denied, but the purpose allows it "
        "(agency.authority = client.authority (H01))",
        "    - write rows of evaluation: expected every record, the grant holds "
        "['agency.authority = client.authority (H01)']",
        "    - write rows of training: the purpose does not grant training",
        "1 test case(s): 0 passed, 1 failed"]


def test_a_case_without_a_query(hub_policy: Run, tmp_path: Path) -> None:
    policy = _policy({"evaluation": {"rows": OWN_EMPLOYEES, "legal_basis": BASIS}})
    policy["tests"] = [
        {"name": "rows without a query", "purpose": "review",
         "expect": {"rows": {"CivilServant": []}, "masked": {},
                    "write_rows": {"evaluation": ["agency.authority = client.authority (H01)"]}}},
        {"name": "refused without a query", "purpose": "audit",
         "expect": {"refused": "FORBIDDEN"}}]
    write_policy(tmp_path, policy)
    outcome = hub_policy("test", "--dir", tmp_path)
    assert outcome.code == 0, outcome.out
    assert outcome.lines[-1] == "2 test case(s): 2 passed, 0 failed"
