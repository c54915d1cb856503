"""Policies granting access history: the lookup by personal ID is refused to a client that
sees personal IDs masked, and events can be neither filtered nor masked in ways that would
not hold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.policy.helpers import Outcome, write_policy

Run = Callable[..., Outcome]
Policy = dict[str, Any]
EVENT = {"fields": ["at", "system", "purpose", "fieldGroups", "fields", "agencyCode"]}


def _errors(outcome: Outcome) -> list[str]:
    return [line for line in outcome.lines if line.startswith("ERROR ")]


def _grant(policy: Policy, **grants: Any) -> None:
    policy["purposes"]["review"]["grants"].update(grants)
    policy["tests"] = []


def test_a_portal_holding_no_personal_id_may_look_history_up(
        hub_policy: Run, tmp_path: Path, base: Policy) -> None:
    base["purposes"]["review"]["grants"] = {"Query": {"fields": ["accessHistory"]},
                                            "AccessEvent": EVENT}
    base["tests"] = []
    write_policy(tmp_path, base)
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 0, outcome.out


def test_a_client_seeing_personal_ids_masked_may_not(hub_policy: Run, tmp_path: Path,
                                                     base: Policy) -> None:
    _grant(base, Query={"fields": ["civilServants", "accessHistory"]}, AccessEvent=EVENT,
           CivilServant={"fields": ["employeeCode", "personalId"],
                         "masks": {"personalId": "last4"}})
    write_policy(tmp_path, base)
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 1
    assert _errors(outcome) == [
        "ERROR test-client.yaml: review: Query: accessHistory looks rows up by personalId, "
        "which reveals CivilServant.personalId, Person.personalId, AgencyRecord.personalId: "
        "show none of them masked, or do not grant accessHistory"]


@pytest.mark.parametrize(("change", "expected"), [
    ({"rows": [{"field": "fieldGroups", "equals": "salary"}]},
     "AccessEvent: row condition on fieldGroups, which is not a stored value"),
    ({"rows": [{"field": "fields", "equals": "CivilServant.fullName"}]},
     "AccessEvent: row condition on fields, which is not a stored value"),
    ({"rows": [{"field": "at", "equals": "2026-01-01"}]},
     "AccessEvent: at: row conditions on DateTime fields are not supported"),
    ({"masks": {"fields": "redact"}},
     "AccessEvent: mask redact cannot apply to fields (String)"),
    ({"masks": {"fieldGroups": "redact"}},
     "AccessEvent: fieldGroups is not a stored value: it cannot be masked"),
])
def test_events_refuse_filters_and_masks_that_cannot_hold(
        change: dict[str, Any], expected: str, hub_policy: Run, tmp_path: Path,
        base: Policy) -> None:
    _grant(base, Query={"fields": ["accessHistory"]}, AccessEvent={**EVENT, **change})
    write_policy(tmp_path, base)
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 1
    assert _errors(outcome) == [f"ERROR test-client.yaml: review: {expected}"]


def test_events_may_be_filtered_by_system_and_masked_per_value(
        hub_policy: Run, tmp_path: Path, base: Policy) -> None:
    _grant(base, Query={"fields": ["accessHistory"]},
           AccessEvent={"fields": ["at", "system", "endUser"], "masks": {"endUser": "redact"},
                        "rows": [{"field": "system", "in": ["mof-payroll"]}]})
    write_policy(tmp_path, base)
    outcome = hub_policy("check", "--dir", tmp_path)
    assert outcome.code == 0, outcome.out
