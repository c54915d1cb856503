"""Who may check an appointment, as the shipped policies compile, and the rules that keep a
check from undoing a mask: its lookup needs the personal ID unmasked, its values hold the same
facts as the records they come from, and its types cannot be masked (withheld instead)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema

from hub.policy.compile import PolicyEngine
from hub.policy.load import PolicyError, load_policy_dir
from tests.policy.helpers import BASE, write_policy

# (client, purpose) -> (Query.appointmentCheck, CivilServant.appointmentCheck)
EXPECTED = {
    ("moha-personnel-db", "administration"): (True, True),
    ("hanoi-doha", "personnel-management"): (True, True),
    ("gov-inspectorate", "inspection"): (False, True),
}


def test_only_the_granted_views_have_the_check(schema: GraphQLSchema) -> None:
    engine = PolicyEngine(load_policy_dir(), schema, b"test")
    for view in engine.views():
        key = (view.client.client_id, view.purpose.name)
        root, nested = EXPECTED.get(key, (False, False))
        assert view.shows("Query", "appointmentCheck") is root, key
        assert view.shows("CivilServant", "appointmentCheck") is nested, key
        if not (root or nested):
            assert view.object_type("AppointmentCheck") is None, key


def test_the_city_sees_which_system_handles_a_case_not_what_it_is(
        schema: GraphQLSchema) -> None:
    city = PolicyEngine(load_policy_dir(), schema, b"test").view("hanoi-doha",
                                                                "personnel-management")
    assert city.shows("PendingDisciplineCase", "system")
    assert not city.shows("PendingDisciplineCase", "description")


def _compile(schema: GraphQLSchema, tmp_path: Path, grants: dict[str, Any]) -> PolicyEngine:
    policy = copy.deepcopy(BASE)
    policy["purposes"]["review"]["grants"] = grants
    policy.pop("tests")
    write_policy(tmp_path, policy)
    return PolicyEngine(load_policy_dir(tmp_path), schema, b"test")


CHECK_GRANTS: dict[str, Any] = {
    "Query": {"fields": ["appointmentCheck", "civilServants"]},
    "CivilServant": {"fields": ["employeeCode", "personalId", "appointmentCheck"]},
    "AppointmentCheck": {"fields": ["verdict", "disciplines", "pendingCases"]},
    "AppointmentDecision": {"fields": ["source", "decisionNumber", "reason"]},
    "PendingDisciplineCase": {"fields": ["system", "description"]},
}


def test_a_lookup_by_a_masked_personal_id_is_refused(schema: GraphQLSchema,
                                                     tmp_path: Path) -> None:
    grants = copy.deepcopy(CHECK_GRANTS)
    grants["CivilServant"]["masks"] = {"personalId": "last4"}
    with pytest.raises(PolicyError, match="appointmentCheck looks rows up by personalId"):
        _compile(schema, tmp_path, grants)
    del grants["Query"]["fields"][0]  # reached by employee code instead: fine
    view = _compile(schema, tmp_path, grants).view("test-client", "review")
    assert view.shows("CivilServant", "appointmentCheck")


@pytest.mark.parametrize(("type_name", "field", "other", "other_field"), [
    ("Discipline", "reason", "AppointmentDecision", "reason"),
    ("AgencyRecord", "pendingDiscipline", "PendingDisciplineCase", "description"),
])
def test_a_check_may_not_undo_a_mask_on_its_records(schema: GraphQLSchema, tmp_path: Path,
                                                    type_name: str, field: str, other: str,
                                                    other_field: str) -> None:
    grants = copy.deepcopy(CHECK_GRANTS)
    grants["CivilServant"]["fields"] += ["disciplines", "agencyRecord"]
    grants[type_name] = {"fields": [field], "masks": {field: "redact"}}
    with pytest.raises(PolicyError, match="hold the same fact") as refused:
        _compile(schema, tmp_path, grants)
    assert {type_name, other} <= set(str(refused.value).replace(".", " ").replace(":", " ")
                                     .split())
    grants[other]["fields"].remove(other_field)  # withheld there: fine
    _compile(schema, tmp_path, grants)


def test_the_checks_values_cannot_be_masked(schema: GraphQLSchema, tmp_path: Path) -> None:
    grants = copy.deepcopy(CHECK_GRANTS)
    grants["AppointmentDecision"]["masks"] = {"reason": "redact"}
    with pytest.raises(PolicyError, match="cannot be masked: withhold reason"):
        _compile(schema, tmp_path, grants)
