"""The size of an operation before it runs (hub/query_cost.py), on the hub's own schema:
depth, aliases, root fields and the estimated cost, with fragments, pages and variables."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse

from hub.query_cost import Limits, Measure, QueryMeter
from resolvers.schema import build_schema

SCHEMA = build_schema()._schema
METER = QueryMeter(SCHEMA, default_page=20, max_page=100, list_size=10)


def measure(query: str, variables: dict[str, Any] | None = None) -> Measure:
    document = parse(query)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return METER.measure(document, operation, variables)


def test_a_flat_query() -> None:
    assert measure("{ ranks { code name } }") == Measure(depth=2, aliases=0, root_fields=1,
                                                        cost=1 + 10 * 2)


def test_a_page_costs_its_size_and_the_lists_below_their_assumed_size() -> None:
    query = ("query($n: Int) { civilServants(first: $n) { totalCount nodes { employeeCode "
             "disciplines { reason } } } }")
    # civilServants 1, totalCount 1, nodes 1, then per node: employeeCode, disciplines, and
    # per discipline (10 assumed) its reason.
    assert measure(query, {"n": 50}).cost == 3 + 50 * 2 + 50 * 10
    assert measure(query, {}).cost == 3 + 20 * 2 + 20 * 10       # the default page
    assert measure(query, {"n": 10_000}).cost == 3 + 100 * 2 + 100 * 10  # capped as run
    literal = query.replace("query($n: Int) ", "").replace("$n", "5")
    assert measure(literal).cost == 3 + 5 * 2 + 5 * 10


def test_fragments_inline_fragments_and_aliases_are_counted_where_spread() -> None:
    query = """query { a: agency(code: "X") { ...A } b: agency(code: "Y") { ...A __typename } }
               fragment A on Agency { code children { ... on Agency { name } } }"""
    measured = measure(query)
    assert measured.root_fields == 2
    assert measured.aliases == 2
    assert measured.depth == 3
    assert measured.cost == 2 * (1 + 1 + 1 + 10)


def test_depth_follows_the_deepest_path_and_introspection_is_not_measured() -> None:
    nested = '{ agency(code: "X") { ' + "children { " * 11 + "code" + " }" * 12 + " }"
    assert measure(nested).depth == 13
    assert measure("{ __schema { types { name fields { name type { ofType { ofType { "
                   "name } } } } } } }") == Measure(0, 0, 0, 0)


@pytest.mark.parametrize(("measured", "over"), [
    (Measure(12, 30, 20, 50_000), None),
    (Measure(13, 0, 1, 1), "depth is 13, over the limit of 12"),
    (Measure(1, 31, 1, 1), "aliases is 31, over the limit of 30"),
    (Measure(1, 0, 21, 1), "root fields is 21, over the limit of 20"),
    (Measure(1, 0, 1, 50_001), "estimated cost is 50001, over the limit of 50000"),
])
def test_each_bound_at_and_just_over(measured: Measure, over: str | None) -> None:
    found = measured.over(Limits())
    assert (found is None) if over is None else (found is not None and over in found)


def test_measures_are_cached_per_document_and_page_sizes() -> None:
    document = parse("query($n: Int) { civilServants(first: $n) { nodes { employeeCode } } }")
    (operation,) = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    first = METER.measure(document, operation, {"n": 3})
    assert METER.measure(document, operation, {"n": 3}) is first
    assert METER.measure(document, operation, {"n": 4}).cost == first.cost + 1
