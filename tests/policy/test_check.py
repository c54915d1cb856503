"""`hub policy check`: the shipped policies are clean; each kind of broken policy is named
precisely, in the file it is in, with the right exit code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.policy.helpers import Outcome, write_policy

Run = Callable[..., Outcome]
Policy = dict[str, Any]


def _grants(policy: Policy, purpose: str = "review") -> dict[str, Any]:
    grants: dict[str, Any] = policy["purposes"][purpose]["grants"]
    return grants


def _findings(outcome: Outcome, level: str) -> list[str]:
    return [line for line in outcome.lines if line.startswith(f"{level} ")]


def test_shipped_policies_have_no_errors_or_warnings(hub_policy: Run) -> None:
    outcome = hub_policy("check", "--strict")
    assert outcome.code == 0, outcome.out
    assert _findings(outcome, "ERROR") == []
    assert _findings(outcome, "WARNING") == []
    assert "0 error(s), 0 warning(s)" in outcome.lines[-1]


def test_a_valid_policy_passes_and_lists_unseen_sensitive_fields(hub_policy: Run,
                                                                  tmp_path: Path,
                                                                  base: Policy) -> None:
    write_policy(tmp_path, base)
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 0
    assert _findings(outcome, "ERROR") == _findings(outcome, "WARNING") == []
    assert (f"INFO {tmp_path.name}: CivilServant.religion: sensitive (religious_beliefs): no "
            "client may see it") in outcome.lines
    assert (f"INFO {tmp_path.name}: Person.currentAddress: sensitive (location): no client may "
            "see it") in outcome.lines
    assert outcome.lines[-1] == ("1 policy file(s), 1 client purpose(s) compiled: 0 error(s), "
                                 "0 warning(s), 11 note(s)")


def test_yaml_syntax_error(hub_policy: Run, tmp_path: Path) -> None:
    write_policy(tmp_path, "client:\n  id: test-client\n  name: [unclosed\n", "test-client")
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 1
    assert _findings(outcome, "ERROR") == ["ERROR test-client.yaml: not valid YAML at line 4"]


def _mask(name: str, mask: str) -> Callable[[Policy], None]:
    return lambda p: _grants(p)["CivilServant"].update(masks={name: mask})


def _rows(type_name: str, *rows: dict[str, Any]) -> Callable[[Policy], None]:
    return lambda p: _grants(p)[type_name].update(rows=list(rows))


BROKEN: dict[str, tuple[Callable[[Policy], None], str]] = {
    "schema violation": (
        _mask("fullName", "blur"),
        "ERROR test-client.yaml: purposes/review/grants/CivilServant/masks/fullName: 'blur' is "
        "not one of ['last4', 'year-only', 'redact', 'hash']"),
    "missing required key": (
        lambda p: p["purposes"]["review"].pop("description"),
        "ERROR test-client.yaml: purposes/review: 'description' is a required property"),
    "unknown type": (
        lambda p: _grants(p).update(Employee={"fields": ["name"]}),
        "ERROR test-client.yaml: review: Employee: no such type in the schema"),
    "unknown field": (
        lambda p: _grants(p)["CivilServant"]["fields"].append("nickname"),
        "ERROR test-client.yaml: review: CivilServant: no field 'nickname'"),
    "sensitive field without legal basis": (
        lambda p: _grants(p)["CivilServant"]["fields"].append("religion"),
        "ERROR test-client.yaml: review: CivilServant: religion is sensitive "
        "(religious_beliefs): state its legal basis under legal_basis"),
    "mask on a link": (
        _mask("agency", "redact"),
        "ERROR test-client.yaml: review: CivilServant: agency is not a stored value: it cannot "
        "be masked"),
    "year-only mask on a string": (
        _mask("fullName", "year-only"),
        "ERROR test-client.yaml: review: CivilServant: mask year-only cannot apply to fullName "
        "(String)"),
    "row condition on an unknown field": (
        _rows("CivilServant", {"field": "grade", "equals": "A"}),
        "ERROR test-client.yaml: review: CivilServant: row condition on unknown field 'grade'"),
    "row condition on an unknown client attribute": (
        _rows("CivilServant", {"field": "agency.provinceCode", "equals": {"attribute": "region"}}),
        "ERROR test-client.yaml: review: CivilServant: row condition uses client attribute "
        "'region', which the client does not have"),
    "row condition with a value the enum lacks": (
        _rows("CivilServant", {"field": "status", "equals": "RETIRING"}),
        "ERROR test-client.yaml: review: CivilServant: status: 'RETIRING' is not a value of "
        "ServiceStatus"),
    "a number compared with a string field (unquoted YAML 01)": (
        _rows("Agency", {"field": "provinceCode", "equals": 1}),
        "ERROR test-client.yaml: review: Agency: provinceCode: 1 is not a value of String "
        '(quote text in YAML: "01", not 01)'),
    "a row condition on a date": (
        _rows("CivilServant", {"field": "birthDate", "equals": "1980-01-01"}),
        "ERROR test-client.yaml: review: CivilServant: birthDate: row conditions on Date "
        "fields are not supported"),
    "a masked key shown unmasked through a link": (
        lambda p: _grants(p)["CivilServant"].update(masks={"agencyCode": "redact"},
                                                    fields=["agencyCode", "agency"]),
        "ERROR test-client.yaml: review: CivilServant: agencyCode (masked redact) and "
        "Agency.code (unmasked) hold the same value, joined by agency: mask them alike"),
    "a masked personal ID shown by the person it links to": (
        lambda p: _grants(p).update(
            CivilServant={"fields": ["personalId", "person"], "masks": {"personalId": "last4"}},
            Person={"fields": ["personalId"]}),
        "ERROR test-client.yaml: review: CivilServant: personalId (masked last4) and "
        "Person.personalId (unmasked) hold the same value, joined by person: mask them alike"),
    "a masked personal ID shown by the person linking back to it": (
        lambda p: _grants(p).update(
            Query={"fields": ["person"]},
            Person={"fields": ["personalId", "civilServant"]},
            CivilServant={"fields": ["personalId", "fullName"], "masks": {"personalId": "last4"}}),
        "ERROR test-client.yaml: review: Person: personalId (unmasked) and "
        "CivilServant.personalId (masked last4) hold the same value, joined by civilServant: "
        "mask them alike"),
    "a hashed agency code read back through an agency's employees": (
        lambda p: _grants(p).update(
            Query={"fields": ["agencies"]},
            Agency={"fields": ["code", "employees"]},
            CivilServant={"fields": ["employeeCode", "agencyCode"],
                          "masks": {"agencyCode": "hash"}}),
        "ERROR test-client.yaml: review: Agency: code (unmasked) and CivilServant.agencyCode "
        "(masked hash) hold the same value, joined by employees: mask them alike"),
    "a hashed parent code read back through the parent's children": (
        lambda p: _grants(p).update(
            Query={"fields": ["agencies"]},
            Agency={"fields": ["code", "parentCode", "children"],
                    "masks": {"parentCode": "hash"}}),
        "ERROR test-client.yaml: review: Agency: code (unmasked) and Agency.parentCode "
        "(masked hash) hold the same value, joined by children: mask them alike"),
    "a lookup by a masked key": (
        lambda p: _grants(p).update(
            Query={"fields": ["civilServantByPersonalId"]},
            CivilServant={"fields": ["personalId", "fullName"],
                          "masks": {"personalId": "last4"}}),
        "ERROR test-client.yaml: review: Query: civilServantByPersonalId looks rows up by "
        "personalId, which reveals CivilServant.personalId: grant that unmasked, or do not "
        "grant civilServantByPersonalId"),
    "a lookup by a key the client may not read": (
        lambda p: _grants(p)["Agency"].update(fields=["name"]),
        "ERROR test-client.yaml: review: Query: agency looks rows up by code, which reveals "
        "Agency.code: grant that unmasked, or do not grant agency"),
    "a masked birth date beside the registry's unmasked one": (
        lambda p: _grants(p).update(
            CivilServant={"fields": ["employeeCode", "birthDate", "person"],
                          "masks": {"birthDate": "year-only"}},
            Person={"fields": ["birthDate"]}),
        "ERROR test-client.yaml: review: CivilServant: birthDate (masked year-only) and "
        "Person.birthDate (unmasked) hold the same fact from different sources: mask them "
        "alike"),
    "a masked date a granted field is computed from": (
        lambda p: _grants(p).update(
            CivilServant={"fields": ["fullName", "disciplines"]},
            Discipline={"fields": ["effectiveFrom", "inEffect"],
                        "masks": {"effectiveFrom": "year-only"}}),
        "ERROR test-client.yaml: review: Discipline: effectiveFrom is masked (year-only) but "
        "inEffect is computed from it"),
    "grant on reference data": (
        lambda p: _grants(p).update(Rank={"fields": ["code"]}),
        "ERROR test-client.yaml: review: Rank: reference data needs no grant: remove it"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_policy_is_an_error_naming_the_file(case: str, hub_policy: Run, tmp_path: Path,
                                                  base: Policy) -> None:
    breaks, expected = BROKEN[case]
    breaks(base)
    write_policy(tmp_path, base)
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 1
    assert _findings(outcome, "ERROR") == [expected]
    assert "1 error(s)" in outcome.lines[-1]


def test_one_broken_file_does_not_hide_another(hub_policy: Run, tmp_path: Path,
                                               base: Policy) -> None:
    write_policy(tmp_path, "purposes: [\n", "broken")
    base["purposes"]["review"]["grants"]["CivilServant"]["fields"].append("nickname")
    write_policy(tmp_path, base)
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 1
    assert _findings(outcome, "ERROR") == [
        "ERROR broken.yaml: not valid YAML at line 2",
        "ERROR test-client.yaml: review: CivilServant: no field 'nickname'"]


def test_file_named_after_another_client(hub_policy: Run, tmp_path: Path,
                                         base: Policy) -> None:
    write_policy(tmp_path, base, "someone-else")
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 1
    assert _findings(outcome, "ERROR") == [
        "ERROR someone-else.yaml: the file of client test-client must be named "
        "test-client.yaml"]


def test_missing_folder(hub_policy: Run, tmp_path: Path) -> None:
    outcome = hub_policy("check", "--dir", tmp_path / "nowhere")
    assert outcome.code == 1
    assert _findings(outcome, "ERROR") == [f"ERROR {tmp_path / 'nowhere'}: no such policy folder"]


def test_empty_folder_warns(hub_policy: Run, tmp_path: Path) -> None:
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 0
    assert _findings(outcome, "WARNING") == [
        f"WARNING {tmp_path.name}: no policy file: every client is refused"]
    assert hub_policy("check", "--strict", "--dir", tmp_path).code == 1


WARNED: dict[str, tuple[Callable[[Policy], None], list[str]]] = {
    "contradictory equals": (
        _rows("CivilServant", {"field": "status", "equals": "ACTIVE"},
              {"field": "status", "equals": "RETIRED"}),
        ["review: CivilServant.status: contradictory row conditions: `status = ACTIVE` and "
         "`status = RETIRED` match no row together"]),
    "equals and in that do not intersect": (
        _rows("CivilServant", {"field": "status", "equals": "ACTIVE"},
              {"field": "status", "in": ["RETIRED", "SUSPENDED"]}),
        ["review: CivilServant.status: contradictory row conditions: `status = ACTIVE` and "
         "`status in [RETIRED, SUSPENDED]` match no row together"]),
    "three sets with nothing in common": (
        _rows("CivilServant", {"field": "status", "in": ["ACTIVE", "RETIRED"]},
              {"field": "status", "in": ["RETIRED", "SUSPENDED"]},
              {"field": "status", "in": ["SUSPENDED", "ACTIVE"]}),
        ["review: CivilServant.status: contradictory row conditions: `status in [ACTIVE, "
         "RETIRED]`, `status in [RETIRED, SUSPENDED]`, `status in [SUSPENDED, ACTIVE]` match "
         "no row together"]),
    "contradiction through a client attribute": (
        _rows("Agency", {"field": "provinceCode", "equals": {"attribute": "province_code"}},
              {"field": "provinceCode", "equals": "79"}),
        ["review: Agency.provinceCode: contradictory row conditions: `provinceCode = "
         "client.province_code` and `provinceCode = 79` match no row together"]),
    "duplicate values in `in`, and a condition another implies": (
        _rows("CivilServant", {"field": "status", "equals": "ACTIVE"},
              {"field": "status", "in": ["RETIRED", "ACTIVE", "RETIRED"]}),
        ["review: CivilServant.status: `status in [RETIRED, ACTIVE, RETIRED]` lists RETIRED "
         "more than once",
         "review: CivilServant.status: useless row condition: `status in [RETIRED, ACTIVE, "
         "RETIRED]` is implied by `status = ACTIVE`"]),
    "a repeated condition": (
        _rows("CivilServant", {"field": "status", "equals": "ACTIVE"},
              {"field": "status", "equals": "ACTIVE"}),
        ["review: CivilServant.status: useless row condition: `status = ACTIVE` repeats "
         "`status = ACTIVE`"]),
    "a set holding every value of a non-null enum": (
        _rows("CivilServant", {"field": "status", "in": ["ACTIVE", "SUSPENDED", "ON_LEAVE",
                                                         "RETIRED", "RESIGNED", "DECEASED"]}),
        ["review: CivilServant.status: useless row condition: `status in [ACTIVE, SUSPENDED, "
         "ON_LEAVE, RETIRED, RESIGNED, DECEASED]` allows every value the field can hold"]),
    "a granted type nothing leads to, with row conditions": (
        lambda p: _grants(p).update(Discipline={
            "fields": ["reason"], "rows": [{"field": "reason", "equals": "late"}]}),
        ["review: Discipline: granted, but no field the client can see leads to it: grant one "
         "of CivilServant.disciplines",
         "review: Discipline: row conditions on a type the client cannot reach: they never "
         "apply"]),
    "a link to a type with no grant": (
        lambda p: _grants(p)["CivilServant"]["fields"].append("awards"),
        ["review: CivilServant.awards: granted, but not in the client's schema: it leads to "
         "Award, which this purpose grants nothing of: grant Award fields or drop awards"]),
    "pages of a type the purpose grants nothing of": (
        lambda p: p["purposes"]["review"].update(grants={
            "Query": {"fields": ["civilServants", "agencies"]}, "Agency": {"fields": ["code"]}}),
        ["review: Query.civilServants: granted, but not in the client's schema: it leads to "
         "pages of CivilServant, which this purpose grants nothing of: grant CivilServant "
         "fields or drop civilServants"]),
    "a chain of links emptied from its end": (
        lambda p: p["purposes"].update(lookup={"description": "Looking up.", "grants": {
            "Query": {"fields": ["person", "ranks"]},
            "Person": {"fields": ["civilServant"]},
            "CivilServant": {"fields": ["agency"]}}}),
        ["lookup: Query.person: granted, but not in the client's schema: none of the fields "
         "of Person, which it leads to, stays visible",
         "lookup: Person.civilServant: granted, but not in the client's schema: none of the "
         "fields of CivilServant, which it leads to, stays visible",
         "lookup: CivilServant.agency: granted, but not in the client's schema: it leads to "
         "Agency, which this purpose grants nothing of: grant Agency fields or drop agency",
         "lookup: no test case exercises this purpose"]),
    "a legal basis for a field that is not sensitive": (
        lambda p: _grants(p)["CivilServant"].update(
            legal_basis={"fullName": "Decree 27/2026/ND-CP, art. 6"}),
        ["review: CivilServant.fullName: legal basis given for a field that is not sensitive: "
         "remove it (or tag the field @sensitive in the schema if it should be)"]),
    "a purpose with no test case": (
        lambda p: p["purposes"].update(audit={
            "description": "Auditing.", "grants": {"Query": {"fields": ["ranks"]}}}),
        ["audit: no test case exercises this purpose"]),
    "a test naming an undeclared purpose": (
        lambda p: p["tests"].append({"name": "other", "purpose": "audit",
                                     "query": "{ ranks { code } }", "expect": {}}),
        ["audit: test 'other': the client declares no purpose 'audit' (declared: review): fix "
         "the purpose, or expect `refused`"]),
    "a test that expects nothing": (
        lambda p: p["tests"].append({"name": "idle", "purpose": "review",
                                     "query": "{ agency(code: \"000.00.00.G01\") { name } }",
                                     "expect": {}}),
        ["review: test 'idle': expects nothing: it only checks that the query validates"]),
}


@pytest.mark.parametrize("case", list(WARNED))
def test_lint_warnings(case: str, hub_policy: Run, tmp_path: Path, base: Policy) -> None:
    changes, expected = WARNED[case]
    changes(base)
    write_policy(tmp_path, base)
    outcome = hub_policy("check", "--dir", tmp_path)
    assert _findings(outcome, "ERROR") == []
    assert _findings(outcome, "WARNING") == [f"WARNING test-client.yaml: {w}" for w in expected]
    assert outcome.code == 0
    assert hub_policy("check", "--strict", "--dir", tmp_path).code == 1


def test_a_refused_test_for_an_undeclared_purpose_is_fine(hub_policy: Run, tmp_path: Path,
                                                         base: Policy) -> None:
    base["tests"].append({"name": "no audit", "purpose": "audit", "query": "{ ranks { code } }",
                          "expect": {"refused": "FORBIDDEN"}})
    write_policy(tmp_path, base)
    assert _findings(hub_policy("check", "--dir", tmp_path), "WARNING") == []
