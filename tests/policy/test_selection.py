"""What a query selects, walked statically over a client's schema."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, parse

from hub.policy.selection import SelectionError, selected_fields


def _selected(schema: GraphQLSchema, query: str, operation: str | None = None,
              **variables: object) -> list[str]:
    return sorted(selected_fields(schema, parse(query), operation, variables))


def test_fields_through_fragments_and_inline_fragments(schema: GraphQLSchema) -> None:
    query = """
        { civilServants { nodes { ...Who ... on CivilServant { rank { code } } } } }
        fragment Who on CivilServant { fullName ...Where }
        fragment Where on CivilServant { agency { name } ...Who }
    """
    assert _selected(schema, query) == [
        "Agency.name", "CivilServant.agency", "CivilServant.fullName", "CivilServant.rank",
        "CivilServantConnection.nodes", "Query.civilServants", "Rank.code"]


def test_typename_and_introspection_disclose_nothing(schema: GraphQLSchema) -> None:
    query = "{ __typename __schema { types { name } } ranks { __typename code } }"
    assert _selected(schema, query) == ["Query.ranks", "Rank.code"]


def test_skip_and_include(schema: GraphQLSchema) -> None:
    query = """query($on: Boolean = true) {
        ranks { code @skip(if: true) name @include(if: $on) ... @include(if: false) { ladder } }
        provinces @skip(if: $on) { code }
        ...Q @include(if: $on)
    }
    fragment Q on Query { legacyProvinces { code } }"""
    assert _selected(schema, query) == ["LegacyProvince.code", "Query.legacyProvinces",
                                        "Query.ranks", "Rank.name"]
    assert _selected(schema, query, on=False) == ["Province.code", "Query.provinces",
                                                  "Query.ranks"]


def test_only_the_chosen_operation(schema: GraphQLSchema) -> None:
    query = "query A { ranks { code } } query B { provinces { name } }"
    assert _selected(schema, query, "B") == ["Province.name", "Query.provinces"]
    with pytest.raises(SelectionError, match="several operations"):
        _selected(schema, query)
    with pytest.raises(SelectionError, match="no operation named 'C'"):
        _selected(schema, query, "C")


def test_required_variables_must_be_given(schema: GraphQLSchema) -> None:
    query = "query($id: PersonalId!) { civilServantByPersonalId(personalId: $id) { fullName } }"
    with pytest.raises(SelectionError, match=r"\$id"):
        _selected(schema, query)
    assert _selected(schema, query, id="001080012345") == [
        "CivilServant.fullName", "Query.civilServantByPersonalId"]
