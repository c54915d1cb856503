"""What a compiled view holds: the engine's own rules, beyond what policy files state."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema

from hub.policy.compile import PolicyEngine
from hub.policy.load import SCHEMA_FILE, load_policy_dir
from resolvers.masks import MASKS
from tests.policy.helpers import BASE, write_policy


def _view(schema: GraphQLSchema, tmp_path: Path, grants: dict[str, Any]) -> GraphQLSchema:
    policy = copy.deepcopy(BASE)
    policy["purposes"]["review"]["grants"] = grants
    policy.pop("tests")
    write_policy(tmp_path, policy)
    engine = PolicyEngine(load_policy_dir(tmp_path), schema, b"test")
    return engine.view("test-client", "review").schema


def _fields(schema: GraphQLSchema, type_name: str) -> set[str]:
    type_ = schema.type_map.get(type_name)
    return set(type_.fields) if isinstance(type_, GraphQLObjectType) else set()


def test_no_page_of_civil_servants_without_a_civil_servant_grant(schema: GraphQLSchema,
                                                                  tmp_path: Path) -> None:
    # A connection's totalCount would count rows of a type the client may not read.
    view = _view(schema, tmp_path, {"Query": {"fields": ["agencies", "civilServants"]},
                                    "Agency": {"fields": ["code", "name", "employees"]}})
    assert _fields(view, "Query") == {"agencies"}
    assert _fields(view, "Agency") == {"code", "name"}
    for structural in ("CivilServantConnection", "CivilServantEdge", "PageInfo"):
        assert structural not in view.type_map


def test_cursors_and_after_need_the_employee_code(schema: GraphQLSchema,
                                                  tmp_path: Path) -> None:
    view = _view(schema, tmp_path, {"Query": {"fields": ["civilServants"]},
                                    "CivilServant": {"fields": ["fullName"]}})
    query = view.type_map["Query"]
    assert isinstance(query, GraphQLObjectType)
    assert "after" not in query.fields["civilServants"].args
    assert _fields(view, "CivilServantEdge") == {"node"}
    assert _fields(view, "PageInfo") == {"hasNextPage"}


def test_reference_data_is_visible_through_a_granted_field(schema: GraphQLSchema,
                                                           tmp_path: Path) -> None:
    view = _view(schema, tmp_path, {"Query": {"fields": ["civilServants"]},
                                    "CivilServant": {"fields": ["employeeCode", "rank"]}})
    assert {"code", "name", "ladder"} <= _fields(view, "Rank")
    assert "Province" not in view.type_map  # nothing granted leads there


def test_the_policy_schema_offers_exactly_the_masks_the_engine_has() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    offered = [schema["$defs"]["typeGrant"]["properties"]["masks"]["additionalProperties"]["enum"],
               schema["$defs"]["test"]["properties"]["expect"]["properties"]["masked"][
                   "additionalProperties"]["enum"]]
    for masks in offered:
        assert sorted(masks) == sorted(MASKS)
