"""`hub policy explain`: who may see a field or a type, for which purpose, masked how, on
which rows, on which legal basis."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.policy.helpers import Outcome, write_policy

Run = Callable[..., Outcome]


def test_a_masked_field_across_the_shipped_policies(hub_policy: Run) -> None:
    outcome = hub_policy("explain", "CivilServant.personalId")
    assert outcome.code == 0
    lines = outcome.lines
    assert lines[0] == "CivilServant.personalId (PersonalId!): not sensitive"
    assert "  gov-inspectorate/inspection: masked (last4)" in lines
    assert "  mof-payroll/salary-budget: masked (hash)" in lines
    assert "  moha-personnel-db/administration: visible" in lines
    payroll = lines.index("  mof-payroll/salary-budget: masked (hash)")
    assert lines[payroll + 1] == ("      rows of CivilServant: status in [ACTIVE, SUSPENDED, "
                                  "ON_LEAVE]")
    hanoi = lines.index("  hanoi-doha/personnel-management: visible")
    assert lines[hanoi + 1] == ("      rows of CivilServant: agency.authority = "
                                "client.authority (H01)")
    hidden = next(i for i, line in enumerate(lines) if line.startswith("  not visible to: "))
    assert "moha-personnel-db/statistics" in " ".join(lines[hidden:])  # wrapped at 100


def test_a_sensitive_field_shows_its_legal_basis(hub_policy: Run) -> None:
    outcome = hub_policy("explain", "CivilServant.religion")
    assert outcome.code == 0
    assert outcome.lines[:4] == [
        "CivilServant.religion (String!): sensitive (religious_beliefs), needs a legal basis",
        "  moha-personnel-db/administration: visible",
        "      legal basis: Decree 27/2026/ND-CP, art. 6 — identity group of the national "
        "database",
        "      rows of CivilServant: all rows"]


def test_a_field_nobody_may_see(hub_policy: Run, tmp_path: Path,
                                base: dict[str, Any]) -> None:
    write_policy(tmp_path, base)
    outcome = hub_policy("explain", "HealthRecord.bloodType", "--dir", tmp_path)
    assert outcome.code == 0
    assert outcome.lines == [
        "HealthRecord.bloodType (String): sensitive (health), needs a legal basis",
        "  no client may see HealthRecord.bloodType",
        "  not visible to: test-client/review"]


def test_a_whole_type(hub_policy: Run, tmp_path: Path, base: dict[str, Any]) -> None:
    grants = base["purposes"]["review"]["grants"]
    grants["CivilServant"]["masks"] = {"birthDate": "year-only"}
    grants["CivilServant"]["fields"].append("religion")
    grants["CivilServant"]["legal_basis"] = {"religion": "Decree 27/2026/ND-CP, art. 6"}
    grants["CivilServant"]["rows"] = [{"field": "status", "in": ["ACTIVE", "ON_LEAVE"]}]
    write_policy(tmp_path, base)
    outcome = hub_policy("explain", "CivilServant", "--dir", tmp_path)
    assert outcome.code == 0
    assert outcome.lines == [
        "CivilServant: 40 fields, 5 sensitive (ethnicity, religion, partyMembership, health, "
        "assetDeclarations)",
        "  test-client/review: 6 of 40 fields",
        "      employeeCode, fullName, birthDate (year-only), religion (sensitive), status, "
        "agency",
        "      legal basis for religion: Decree 27/2026/ND-CP, art. 6",
        "      rows of CivilServant: status in [ACTIVE, ON_LEAVE]",
        "      reached through: CivilServantConnection.nodes, CivilServantEdge.node"]


def test_a_granted_type_nothing_leads_to(hub_policy: Run, tmp_path: Path,
                                         base: dict[str, Any]) -> None:
    base["purposes"]["review"]["grants"]["Discipline"] = {"fields": ["reason"]}
    write_policy(tmp_path, base)
    outcome = hub_policy("explain", "Discipline.reason", "--dir", tmp_path)
    assert outcome.lines[1:] == [
        "  test-client/review: granted, but not in its schema: see `hub policy check`",
        "  no client may see Discipline.reason"]


def test_a_link_shows_the_row_filter_of_the_records_it_returns(hub_policy: Run) -> None:
    outcome = hub_policy("explain", "Query.civilServants")
    lines = outcome.lines
    payroll = lines.index("  mof-payroll/salary-budget: visible")
    # through the connection's nodes to CivilServant; the root itself has no rows
    assert lines[payroll + 1] == ("      rows of CivilServant: status in [ACTIVE, SUSPENDED, "
                                  "ON_LEAVE]")
    assert not any("rows of Query" in line for line in lines)
    agency = hub_policy("explain", "CivilServant.agency").lines
    hanoi = agency.index("  hanoi-doha/personnel-management: visible")
    assert agency[hanoi + 1:hanoi + 3] == [
        "      rows of CivilServant: agency.authority = client.authority (H01)",
        "      rows of Agency: authority = client.authority (H01)"]


def test_reference_data(hub_policy: Run) -> None:
    outcome = hub_policy("explain", "Rank.code")
    assert outcome.code == 0
    assert outcome.lines[0] == "Rank.code: public reference data, seen by anyone granted a " \
                               "path to Rank"
    assert "  mof-payroll/salary-budget: reachable" in outcome.lines
    # the list of clients wraps onto indented lines
    start = next(i for i, line in enumerate(outcome.lines)
                 if line.startswith("  not reachable for: "))
    unreachable = " ".join(outcome.lines[start:start + 3])
    assert "mps-identity/identity-verification" in unreachable


def test_reference_field_withheld_because_it_would_reveal_a_field(
        hub_policy: Run, tmp_path: Path, base: dict[str, Any]) -> None:
    # Pages of civil servants without their employee codes: a cursor would carry one.
    base["purposes"]["review"]["grants"]["CivilServant"]["fields"].remove("employeeCode")
    write_policy(tmp_path, base)
    outcome = hub_policy("explain", "CivilServantEdge.cursor", "--dir", tmp_path)
    assert outcome.lines[1:] == [
        "  test-client/review: withheld: it would reveal CivilServant.employeeCode, which this "
        "purpose does", "    not grant unmasked"]


@pytest.mark.parametrize(("target", "message"), [
    ("CivilServant.religon",
     "error: the schema has no field of CivilServant 'religon' (did you mean religion?)"),
    ("Employee", "error: the schema has no type 'Employee'"),
    ("Employee.name", "error: the schema has no type 'Employee'"),
    ("CivilServantFilter.namePrefix",
     "error: CivilServantFilter is not an object type: policies grant fields of object types "
     "only"),
])
def test_an_unknown_target_is_a_wrong_question(target: str, message: str,
                                               hub_policy: Run) -> None:
    outcome = hub_policy("explain", target)
    assert outcome.code == 2
    assert outcome.out == ""
    assert outcome.err.strip() == message


def test_broken_policies_are_not_explained(hub_policy: Run, tmp_path: Path) -> None:
    write_policy(tmp_path, "client: [\n", "broken")
    outcome = hub_policy("explain", "CivilServant.fullName", "--dir", tmp_path)
    assert outcome.code == 1
    assert outcome.out == ""
    assert "broken.yaml: not valid YAML at line 2" in outcome.err
