"""The plan executor answers exactly as graphql-core does: same data, same errors, same nulls.

Random documents over the real schema (aliases, fragments, __typename, repeated fields, nested
links) run through both executors against the real sources, healthy and failing.
"""

from __future__ import annotations

import asyncio
import gc
import os
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from aiodataloader import DataLoader
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.app import HubRuntime
from hub.config import Settings
from hub.databases import DatabaseSet
from hub.errors import format_error
from hub.execution import OperationRunner
from resolvers.loaders import Loaders
from resolvers.schema import build_schema
from tests.conftest import Sandbox

FIXTURES = [HealthCheck.function_scoped_fixture]
SCALARS = {
    "CivilServant": ["employeeCode", "personalId", "fullName", "birthDate", "sex", "category",
                     "status", "salaryStep", "salaryCoefficient", "updatedAt", "ethnicity"],
    "Person": ["personalId", "fullName", "birthDate", "currentAddress", "alive", "deathDate"],
    "Agency": ["code", "name", "kind", "headcountQuota", "parentCode"],
    "AgencyRecord": ["system", "localId", "positionCode", "salaryCoefficient", "updatedAt"],
    "Rank": ["code", "name", "ladder"],
    "Discipline": ["decisionNumber", "effectiveFrom", "effectiveTo", "inEffect"],
    "Evaluation": ["year", "grade"],
}
OBJECTS: dict[str, dict[str, str]] = {
    "CivilServant": {"person": "Person", "agency": "Agency", "agencyRecord": "AgencyRecord",
                     "rank": "Rank", "disciplines": "Discipline", "evaluations": "Evaluation"},
    "Person": {"civilServant": "CivilServant", "spouse": "Person", "father": "Person"},
    "Agency": {"parent": "Agency", "children": "Agency"},
    "AgencyRecord": {}, "Rank": {}, "Discipline": {}, "Evaluation": {},
}


@st.composite
def selections(draw: st.DrawFn, type_name: str, depth: int) -> str:
    fields = draw(st.lists(st.sampled_from(SCALARS[type_name]), min_size=1, max_size=4))
    parts = []
    for name in fields:
        # An alias always names the same field, so repeated selections merge as GraphQL asks.
        alias = draw(st.sampled_from(["", f"also_{name}: "]))
        parts.append(alias + name)
    if draw(st.booleans()):
        parts.append("__typename")
    links = OBJECTS[type_name]
    if depth > 0 and links:
        for name in draw(st.lists(st.sampled_from(sorted(links)), max_size=2)):
            inner = draw(selections(links[name], depth - 1))
            parts.append(f"{name} {{ {inner} }}")
    if draw(st.booleans()):
        parts.append(f"... on {type_name} {{ {parts[0]} }}")
    return " ".join(parts)


@st.composite
def documents(draw: st.DrawFn) -> str:
    root = draw(st.sampled_from(["page", "one", "agencies", "person"]))
    if root == "page":
        first = draw(st.integers(min_value=0, max_value=30))
        filter_ = draw(st.sampled_from(["", ', filter: {provinceCode: "01"}']))
        inner = draw(selections("CivilServant", 2))
        return (f"{{ civilServants(first: {first}{filter_}) {{ totalCount pageInfo "
                f"{{ hasNextPage endCursor }} edges {{ cursor node {{ {inner} }} }} }} }}")
    if root == "one":
        inner = draw(selections("CivilServant", 3))
        return f'{{ civilServant(employeeCode: "CB00000003") {{ {inner} }} }}'
    if root == "agencies":
        inner = draw(selections("Agency", 2))
        return (f'{{ agencies(filter: {{provinceCode: "01", kind: PROVINCE_DEPARTMENT}}) '
                f"{{ {inner} employees(first: 2) {{ edges {{ node {{ fullName }} }} }} }} }}")
    return ('query($id: PersonalId!) { person(personalId: $id) { '
            f'{draw(selections("Person", 2))} }} }}')


class Pair:
    def __init__(self, runtime: HubRuntime, loop: asyncio.AbstractEventLoop,
                 personal_id: str) -> None:
        schema = build_schema()
        self.runtime = runtime
        self.loop = loop
        self.personal_id = personal_id
        self.plan = OperationRunner(schema, plan_executor=True)
        self.core = OperationRunner(schema, plan_executor=False)

    async def run(self, runner: OperationRunner, query: str) -> dict[str, Any]:
        prepared = runner.prepare(query)
        assert prepared.document is not None, [e.error.message for e in prepared.errors]
        variables = {"id": self.personal_id} if "$id" in query else None
        data, errors = await runner.execute(prepared.document, variables=variables,
                                            operation_name=None,
                                            context=self.runtime.new_context())
        formatted = sorted((format_error(e, "r") for e in errors), key=repr)
        return {"data": data, "errors": formatted}

    async def both(self, query: str) -> tuple[dict[str, Any], dict[str, Any]]:
        return await self.run(self.plan, query), await self.run(self.core, query)


@pytest.fixture(scope="module")
def pair(databases: DatabaseSet, sandbox_session: Sandbox) -> Iterator[Pair]:
    from tests.e2e.oracle import fetch_one

    # Both executors run on one runtime against failing sources: no retries and no breaker,
    # whose state the first run would leave to the second.
    env = {"HUB_DATABASE_URL": databases.national, **databases.source_env(),
           **sandbox_session.ports.source_env(),
           "POPULATION_TIMEOUT_SECONDS": "0.5", "HUB_SOURCE_RETRIES": "0",
           "HUB_BREAKER_FAILURES": "1000000"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    loop = asyncio.new_event_loop()
    runtime = HubRuntime(Settings.from_env())
    loop.run_until_complete(runtime.open())
    married = fetch_one(databases.population,
                        "SELECT c.personal_id FROM citizen c WHERE spouse_id IS NOT NULL AND "
                        "father_id IS NOT NULL ORDER BY 1 LIMIT 1")
    assert married is not None
    try:
        yield Pair(runtime, loop, married["personal_id"])
    finally:
        loop.run_until_complete(runtime.close())
        loop.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _same(pair: Pair, query: str) -> None:
    plan, core = pair.loop.run_until_complete(pair.both(query))
    assert plan == core, query


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(documents())
def test_same_answers_as_graphql_core(pair: Pair, query: str) -> None:
    _same(pair, query)


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES)
@given(documents())
def test_same_errors_and_nulls_when_sources_fail(pair: Pair, sandbox: Sandbox,
                                                 query: str) -> None:
    sandbox.switch("population", outage=True)
    sandbox.switch("agency_graphql", malformed=True)
    _same(pair, query)


def test_non_null_violations_propagate_alike(pair: Pair, sandbox: Sandbox) -> None:
    # A failing link under a non-null list item must null the nearest nullable ancestor.
    sandbox.switch("population", outage=True)
    _same(pair, '{ civilServants(first: 5) { edges { node { fullName person { fullName } } } } }')
    _same(pair, '{ civilServant(employeeCode: "CB00000003") { person { spouse { fullName } } } }')


def test_the_plan_path_is_taken_and_falls_back_when_it_must(
        pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    from resolvers.plan import run

    completed: list[str] = []
    original = run.PlanRun.complete_root

    def spy(self: run.PlanRun, root: Any, value: Any) -> Any:
        completed.append(root.key)
        return original(self, root, value)

    monkeypatch.setattr(run.PlanRun, "complete_root", spy)
    _same(pair, '{ civilServants(first: 3) { edges { node { fullName person { alive } } } } }')
    assert completed == ["civilServants"]
    completed.clear()
    # Introspection is not planned: graphql-core answers it.
    _same(pair, '{ ranks { code __type: __typename } __schema { queryType { name } } }')
    assert completed == ["ranks"]


def test_sources_are_asked_only_for_the_columns_the_query_needs(
        pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: dict[str, set[str]] = {}
    sources = pair.runtime.sources
    assert sources is not None

    def spy(name: str, target: Any, method: str, position: int) -> None:
        original = getattr(target, method)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            asked.setdefault(name, set()).update(args[position])
            return await original(*args, **kwargs)

        monkeypatch.setattr(target, method, wrapper)

    spy("employee", sources.national, "fetch_page", 1)
    spy("citizen", sources.population, "fetch_many", 1)
    for system in sources.agency_systems.systems:
        spy("agency_record", system, "fetch_many", 1)
    query = """{ civilServants(first: 40, filter: {provinceCode: "01"}) { edges { node {
        fullName rank { name } person { alive } agencyRecord { positionCode } } } } }"""
    result = pair.loop.run_until_complete(pair.run(pair.plan, query))
    assert result["errors"] == []
    assert asked == {
        "employee": {"employee_code", "personal_id", "agency_code", "full_name", "rank_code"},
        "citizen": {"personal_id", "death_date"},
        "agency_record": {"personal_id", "position_code"},
    }


def test_plans_that_read_variables_are_not_reused(pair: Pair) -> None:
    query = """query($n: Int, $show: Boolean!) {
      agencies(filter: {provinceCode: "01", kind: PROVINCE_DEPARTMENT}) {
        code employees(first: $n) { edges { node { employeeCode fullName @include(if: $show)
      } } } } }"""

    async def both(variables: dict[str, Any]) -> tuple[Any, Any]:
        answers = []
        for runner in (pair.plan, pair.core):
            prepared = runner.prepare(query)
            assert prepared.document is not None
            data, errors = await runner.execute(prepared.document, variables=variables,
                                                operation_name=None,
                                                context=pair.runtime.new_context())
            assert errors == []
            answers.append(data)
        return answers[0], answers[1]

    first = pair.loop.run_until_complete(both({"n": 1, "show": True}))
    second = pair.loop.run_until_complete(both({"n": 2, "show": False}))
    assert first[0] == first[1]
    assert second[0] == second[1]
    pages = [a["employees"]["edges"] for a in second[0]["agencies"]]
    assert max(len(edges) for edges in pages) == 2
    assert all("fullName" not in e["node"] for edges in pages for e in edges)


def test_a_fragment_spread_twice_under_one_key_counts_once(pair: Pair,
                                                           sandbox: Sandbox) -> None:
    sandbox.switch("population", outage=True)
    _same(pair, """{ a: civilServant(employeeCode: "CB00000003") { ...F }
                     a: civilServant(employeeCode: "CB00000003") { ...F } }
                   fragment F on CivilServant { person { fullName } }""")


def _data_loaders(loaders: Loaders) -> list[DataLoader[Any, Any]]:
    found: list[DataLoader[Any, Any]] = []
    for value in vars(loaders).values():
        if isinstance(value, DataLoader):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(v for v in value.values() if isinstance(v, DataLoader))
    return found


@pytest.mark.parametrize("runner", ["plan", "core"])
def test_an_answered_request_frees_what_its_loaders_hold_without_the_collector(
        pair: Pair, runner: str) -> None:
    # Each DataLoader and its batching twin refer to each other; released, a request's
    # loaders, rows and futures go as soon as nothing uses them, not at the collector's
    # next pass (with it off here, only release can free them).
    query = ('{ civilServants(first: 5, filter: {provinceCode: "01"}) { edges { node { '
             'fullName person { fullName } agencyRecord { system } } } } }')

    async def answer() -> list[weakref.ref[DataLoader[Any, Any]]]:
        context = pair.runtime.new_context()
        executing = getattr(pair, runner)
        prepared = executing.prepare(query)
        assert prepared.document is not None
        data, errors = await executing.execute(prepared.document, variables=None,
                                               operation_name=None, context=context)
        assert not errors, errors
        assert data is not None
        held = [weakref.ref(loader) for loader in _data_loaders(context.loaders)]
        assert len(held) >= 2, "the query used loaders"
        context.release()
        return held

    gc.collect()
    gc.disable()
    try:
        held = pair.loop.run_until_complete(answer())
        assert [ref for ref in held if ref() is not None] == []
    finally:
        gc.enable()
