"""A schema-aware fuzz of GraphQL documents and variables (issue 7): never a 5xx, never a stack
trace, SQL or exception name in an answer, only the documented error codes and never
INTERNAL, and no field outside the client's own schema in the data.

Documents are built from each client's schema as its introspection shows it
(tests/e2e/schema_strategies.py), valid or nearly so, so that most of them reach execution:
sent as POST and GET, alone and in batches, with odd bodies and hostile variable JSON, as
clients with different policies. Operations over the bounds must be refused with
QUERY_TOO_COMPLEX. A failing example prints its document and variables.

``HUB_SCHEMA_FUZZ_EXAMPLES`` multiplies the number of examples (a long local run: 20).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_client_schema,
    get_introspection_query,
    parse,
)
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tests.conftest import ADMIN, Tokens
from tests.e2e.schema_strategies import Request, Samples, oversized, requests

CODES = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "SOURCE_UNAVAILABLE",
         "SOURCE_TIMEOUT", "RATE_LIMITED", "QUERY_TOO_COMPLEX", "CONFLICT", "VALIDATION_FAILED"}
# What must never reach a client (unless the request itself carried it, echoed in a message).
LEAKS = ["Traceback", 'File "', "SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", " WHERE ",
         "asyncpg", "psycopg", "sqlalchemy", "site-packages", "/work/", ".py:", ".py\"",
         "0x7f", "<built-in", "<object", "object at 0x", "NoneType", "Did you mean"]
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Violation|Warning)\b")
# Clients with different views: everything (and mutations), a province's own rows, writes
# for the province, masked salaries, an inspectorate, and the citizens' portal's one query.
CLIENTS = [ADMIN, ("hanoi-doha", "personnel-management"), ("hanoi-doha", "personnel-updates"),
           ("mof-payroll", "salary-budget"), ("gov-inspectorate", "inspection"),
           ("national-portal", "data-subject-access")]
SCALE = max(1, int(os.environ.get("HUB_SCHEMA_FUZZ_EXAMPLES", "1")))
FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
            HealthCheck.data_too_large, HealthCheck.filter_too_much]


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples * SCALE, deadline=None, suppress_health_check=FIXTURES)


class World:
    """The hub, a connection to it, and each client's schema as its introspection shows it."""

    def __init__(self, http: httpx.Client, url: str, tokens: Tokens,
                 schemas: dict[tuple[str, str], GraphQLSchema], samples: Samples) -> None:
        self.http, self.url, self.tokens = http, url, tokens
        self.schemas, self.samples = schemas, samples
        self.outcomes: Counter[str] = Counter()  # what the answers were: printed at the end

    def __repr__(self) -> str:  # a failure prints the request, not the clients' secrets
        return f"World({self.url})"

    def headers(self, client: tuple[str, str]) -> dict[str, str]:
        return self.tokens.headers(*client)


def _introspect(http: httpx.Client, url: str, headers: dict[str, str]) -> GraphQLSchema:
    response = http.post(f"{url}/graphql", json={"query": get_introspection_query()},
                         headers=headers)
    assert response.status_code == 200, response.text
    return build_client_schema(response.json()["data"])


def _samples(http: httpx.Client, url: str, headers: dict[str, str]) -> Samples:
    response = http.post(f"{url}/graphql", headers=headers, json={"query": """{
      civilServants(first: 40) { edges { cursor node { employeeCode personalId agencyCode
        rank { code } } } }
      agencies { code } provinces { code } }"""})
    data = response.json()["data"]
    edges = data["civilServants"]["edges"]
    nodes = [e["node"] for e in edges]
    return Samples(
        employee_codes=tuple(n["employeeCode"] for n in nodes),
        personal_ids=tuple(n["personalId"] for n in nodes),
        agency_codes=tuple(a["code"] for a in data["agencies"][:40]),
        codes=tuple(sorted({p["code"] for p in data["provinces"]}
                           | {n["rank"]["code"] for n in nodes if n["rank"]})),
        ids=tuple(e["cursor"] for e in edges[:10]))


@pytest.fixture(scope="module")
def world(hub_url: str, tokens: Tokens) -> Iterator[World]:
    with httpx.Client(timeout=60) as http:
        schemas = {c: _introspect(http, hub_url, tokens.headers(*c)) for c in CLIENTS}
        world = World(http, hub_url, tokens, schemas,
                      _samples(http, hub_url, tokens.headers(*ADMIN)))
        yield world
    print(f"\nschema fuzz outcomes: {dict(world.outcomes.most_common())}")


# -- what every answer must be -----------------------------------------------------------------


def _sent_text(sent: Any) -> str:
    return json.dumps(sent, ensure_ascii=False, default=repr) + json.dumps(sent, default=repr)


def check_response(response: httpx.Response, sent: Any) -> Any:
    """Status, JSON body, nothing leaked: for any request. Returns the decoded body."""
    assert response.status_code < 500, response.text[:3000]
    assert response.headers["content-type"].startswith("application/json"), response.text[:500]
    body = response.json()
    sent_text = _sent_text(sent).lower()
    for leak in LEAKS:
        assert leak not in response.text or leak.lower() in sent_text, (leak, response.text[:3000])
    for answer in body if isinstance(body, list) else [body]:
        assert isinstance(answer, dict), body
        errors = answer.get("errors", [])
        assert isinstance(errors, list), answer
        for error in errors:
            code = error.get("extensions", {}).get("code")
            assert code in CODES, error  # INTERNAL is not among them: never expected
            for name in EXCEPTION_NAME.findall(error["message"]):
                assert name.lower() in sent_text, (name, error)
        if "data" not in answer or answer["data"] is None:
            assert errors, answer
    return body


def check_answer(answer: dict[str, Any], request: Request, schema: GraphQLSchema,
                 status: int) -> None:
    """One operation's answer: data only when the document ran, and then only keys the
    document asked for, each a field of the client's schema."""
    codes = {e["extensions"]["code"] for e in answer.get("errors", [])}
    if "QUERY_TOO_COMPLEX" in codes:
        assert status == 400, answer
        assert answer.get("data") is None, answer
    data = answer.get("data")
    if data is None:
        return
    assert status == 200, answer
    try:
        document = parse(request.query)
    except GraphQLError as error:
        raise AssertionError(f"data for a document that does not parse: {answer}") from error
    operation = _operation(document, request.operation_name)
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    assert root is not None, answer
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    _walk(data, [operation.selection_set], root, fragments, "data")


def _outcome(answer: dict[str, Any]) -> str:
    codes = sorted({e["extensions"]["code"] for e in answer.get("errors", [])})
    ran = "data" if answer.get("data") is not None else "no data"
    return f"{ran}: {', '.join(codes) or 'no errors'}"


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        assert len(operations) == 1, "data for an ambiguous operation"
        return operations[0]
    matching = [o for o in operations if o.name is not None and o.name.value == name]
    assert len(matching) == 1, f"data for an unknown operation {name!r}"
    return matching[0]


def _collect(selection_sets: list[SelectionSetNode], on: GraphQLObjectType,
             fragments: dict[str, FragmentDefinitionNode]) -> dict[str, list[FieldNode]]:
    """Field nodes by response key (fragments whose type applies expanded; directives are
    not evaluated: a key may be absent, never extra)."""
    fields: dict[str, list[FieldNode]] = {}
    todo = list(selection_sets)
    while todo:
        for selection in todo.pop().selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if selection.type_condition in (None,) or (
                        selection.type_condition is not None
                        and selection.type_condition.name.value == on.name):
                    todo.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                if fragment.type_condition.name.value == on.name:
                    todo.append(fragment.selection_set)
    return fields


def _walk(value: Any, selection_sets: list[SelectionSetNode], on: GraphQLObjectType,
          fragments: dict[str, FragmentDefinitionNode], path: str) -> None:
    assert isinstance(value, dict), (path, value)
    asked = _collect(selection_sets, on, fragments)
    for key, item in value.items():
        assert key in asked, f"{path}.{key}: not asked for (asked: {sorted(asked)})"
        name = asked[key][0].name.value
        assert all(n.name.value == name for n in asked[key]), (path, key)
        if name == "__typename":
            assert item == on.name, (path, key, item)
            continue
        assert name in on.fields, f"{path}.{key}: {on.name}.{name} is not in the client's schema"
        below = [n.selection_set for n in asked[key] if n.selection_set is not None]
        _walk_value(item, on.fields[name].type, below, fragments, f"{path}.{key}")


def _walk_value(value: Any, kind: GraphQLOutputType, below: list[SelectionSetNode],
                fragments: dict[str, FragmentDefinitionNode], path: str) -> None:
    if value is None:
        return
    if isinstance(kind, GraphQLNonNull):
        _walk_value(value, kind.of_type, below, fragments, path)
    elif isinstance(kind, GraphQLList):
        assert isinstance(value, list), (path, value)
        for index, item in enumerate(value):
            _walk_value(item, kind.of_type, below, fragments, f"{path}[{index}]")
    elif isinstance(kind, GraphQLObjectType):
        _walk(value, below, kind, fragments, path)
    else:
        assert not isinstance(value, dict), (path, value)  # a leaf is not an object


# -- the fuzz ------------------------------------------------------------------------------------


def _post(world: World, client: tuple[str, str], body: Any) -> httpx.Response:
    return world.http.post(f"{world.url}/graphql", json=body, headers=world.headers(client))


def _drawn_request(world: World, data: st.DataObject
                   ) -> tuple[tuple[str, str], GraphQLSchema, Request]:
    """A client, its schema, and an operation built from that schema (printed on failure)."""
    client = data.draw(st.sampled_from(CLIENTS), label="client")
    schema = world.schemas[client]
    request = data.draw(requests(schema, world.samples), label="request")
    note(str(request))
    return client, schema, request


@fuzz(400)
@given(data=st.data())
def test_documents_built_from_each_clients_schema(world: World, data: st.DataObject) -> None:
    client, schema, request = _drawn_request(world, data)
    response = _post(world, client, request.body())
    answer = check_response(response, request.body())
    check_answer(answer, request, schema, response.status_code)
    world.outcomes[_outcome(answer)] += 1


@fuzz(120)
@given(data=st.data())
def test_documents_sent_with_get(world: World, data: st.DataObject) -> None:
    client, schema, request = _drawn_request(world, data)
    params = {"query": request.query}
    if request.variables is not None:
        params["variables"] = json.dumps(request.variables)
    if request.operation_name is not None:
        params["operationName"] = request.operation_name
    if len(str(httpx.QueryParams(params))) > 8_000:  # over what HTTP servers take in a URL
        params = {"query": request.query[:2_000]}  # cut: mostly a syntax error now
        request = Request(params["query"])
    response = world.http.get(f"{world.url}/graphql", params=params,
                              headers=world.headers(client))
    answer = check_response(response, params)
    if request.mutation and "data" in answer:
        raise AssertionError(f"a mutation ran from a GET: {answer}")
    check_answer(answer, request, schema, response.status_code)


@fuzz(60)
@given(data=st.data())
def test_batches(world: World, data: st.DataObject) -> None:
    client = data.draw(st.sampled_from(CLIENTS), label="client")
    schema = world.schemas[client]
    batch = data.draw(st.lists(requests(schema, world.samples, max_depth=3), min_size=1,
                               max_size=4), label="batch")
    note("".join(str(r) for r in batch))
    body = [r.body() for r in batch]
    response = _post(world, client, body)
    answers = check_response(response, body)
    assert isinstance(answers, list), answers
    assert len(answers) == len(batch), answers
    for request, answer in zip(batch, answers, strict=True):
        check_answer(answer, request, schema,
                     400 if answer.get("data") is None else 200)


def _odd_bodies(request: Request) -> st.SearchStrategy[Any]:
    query = request.query
    junk: st.SearchStrategy[Any] = st.sampled_from([
        None, 0, -1, 2**63, 1.5, "", "x", [], [None], {}, {"a": [{}]}, True, "🙂" * 100,
        "\u0000"])
    return st.one_of(
        st.sampled_from([[], [1], [[request.body()]], [request.body()] * 21, [None],
                         [request.body(), "x"], {"query": None}, {"query": [query]},
                         {"query": {"query": query}}, {"variables": {}}, {}]),
        junk.map(lambda v: {"query": query, "variables": v}),
        junk.map(lambda v: {"query": query, "operationName": v}),
        junk.map(lambda v: {"query": query, "extensions": v}),
        junk.map(lambda v: {"query": query, "extensions": {"purpose": v}}),
        junk.map(lambda v: {"query": query, "extensions": {"persistedQuery": v}}),
        junk.map(lambda v: {"query": query, "extensions": {"persistedQuery": {
            "version": 1, "sha256Hash": v}}}),
        junk.map(lambda v: {"documentId": v, "variables": request.variables}),
        st.text(alphabet="0123456789abcdef", max_size=70).map(
            lambda h: {"documentId": f"sha256:{h}"}),
        junk.map(lambda v: {"query": query, "zzUnknown": v}),
    )


@fuzz(80)
@given(data=st.data())
def test_odd_bodies(world: World, data: st.DataObject) -> None:
    client = data.draw(st.sampled_from(CLIENTS), label="client")
    request = data.draw(requests(world.schemas[client], world.samples, max_depth=2))
    body = data.draw(_odd_bodies(request), label="body")
    response = _post(world, client, body)
    check_response(response, body)


def _nested(depth: int, leaf: str, kind: str) -> str:
    opening, closing = ("[", "]") if kind == "list" else ('{"a":', "}")
    return opening * depth + leaf + closing * depth


HOSTILE_JSON = st.one_of(
    st.tuples(st.sampled_from([1, 50, 255, 256, 1_000, 1_100, 5_000, 20_000]),
              st.sampled_from(["1", '"x"', "null", "{}", "[]"]),
              st.sampled_from(["list", "object"])).map(lambda t: _nested(*t)),
    st.sampled_from(["1e400", "-1e400", "123456789012345678901234567890", "-0", "1e-400",
                     "18446744073709551616", "-9223372036854775809", "9223372036854775807",
                     "2147483648", "1.0", "0.1e1", '"\\u0000"', '"\\ud800"', '"\\udfff\\ud800"',
                     '"' + "\\u00e9" * 5_000 + '"', "NaN", "Infinity", '{"a": 1, "a": [2]}',
                     "[" + ",".join(["1"] * 50_000) + "]", "true", "false", '""', "[]", "{}"]),
)


@fuzz(80)
@given(data=st.data())
def test_hostile_variable_json(world: World, data: st.DataObject) -> None:
    """Variables a JSON library may choke on: deep nesting, numbers out of any range,
    escaped NUL and lone surrogates, duplicate keys, variables that are not an object."""
    client = data.draw(st.sampled_from(CLIENTS[:4]), label="client")
    request = data.draw(requests(world.schemas[client], world.samples, hostile=False))
    raw = data.draw(HOSTILE_JSON, label="value")
    names = sorted(request.variables) if isinstance(request.variables, dict) else []
    in_a_variable = data.draw(st.booleans())
    if names and in_a_variable:
        target = data.draw(st.sampled_from(names), label="variable")
        others = {k: v for k, v in request.variables.items() if k != target}
        fields = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in others.items()]
        variables = "{" + ", ".join([*fields, f"{json.dumps(target)}: {raw}"]) + "}"
    else:
        variables = raw if data.draw(st.booleans()) else '{"zz": ' + raw + "}"
    content = ('{"query": ' + json.dumps(request.query) + ', "variables": ' + variables
               + "}").encode()
    note(f"{request}\nraw variables: {variables[:2_000]}")
    response = world.http.post(f"{world.url}/graphql", content=content, headers={
        **world.headers(client), "content-type": "application/json"})
    check_response(response, {"query": request.query, "variables": variables[:1_000]})


@fuzz(60)
@given(data=st.data())
def test_operations_over_the_bounds_are_too_complex(world: World, data: st.DataObject) -> None:
    client = data.draw(st.sampled_from(CLIENTS[:5]), label="client")
    request = data.draw(oversized(world.schemas[client], world.samples), label="request")
    note(str(request))
    response = _post(world, client, request.body())
    answer = check_response(response, request.body())
    assert response.status_code == 400, answer
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["QUERY_TOO_COMPLEX"], answer
    assert "over the limit" in answer["errors"][0]["message"], answer


# -- what the fuzz found ---------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {"query": "query A { __typename } query B { __typename }"},
    {"query": "query A { __typename } query B { __typename }", "operationName": "C"},
    {"query": "query A { __typename }", "operationName": ""},
    {"query": "{ __typename }", "operationName": "A"},
])
def test_no_operation_selected_is_a_client_error(world: World, body: dict[str, Any]) -> None:
    """A valid document that names no operation to run (several, and no operationName; or an
    operationName it does not hold) was an assertion in the hub: a 500 INTERNAL."""
    for method in ("POST", "GET"):
        response = (_post(world, ADMIN, body) if method == "POST" else world.http.get(
            f"{world.url}/graphql", params=body, headers=world.headers(ADMIN)))
        answer = check_response(response, body)
        assert response.status_code == 400, answer
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["BAD_USER_INPUT"], answer
    batch = _post(world, ADMIN, [body, {"query": "{ __typename }"}])
    first, second = check_response(batch, body)
    assert first["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", first
    assert second["data"] == {"__typename": "Query"}, second


@pytest.mark.parametrize("depth", [255, 600, 1_000, 1_022])
@pytest.mark.parametrize("variable", ["n", "f", "unused"])
def test_deeply_nested_variables_are_a_client_error(world: World, depth: int,
                                                    variable: str) -> None:
    """Variables nested deeper than orjson writes (254 levels) failed the audit record's
    digest of them (its fallback, repr, recursed too): a 500 INTERNAL."""
    query = ("query($n: Int, $f: CivilServantFilter) { civilServants(first: $n, filter: $f) "
             "{ totalCount } }")
    for nested in ("[" * depth + "1" + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        content = ('{"query": ' + json.dumps(query) + ', "variables": {"' + variable + '": '
                   + nested + "}}")
        response = world.http.post(f"{world.url}/graphql", content=content.encode(), headers={
            **world.headers(ADMIN), "content-type": "application/json"})
        answer = check_response(response, query)
        assert response.status_code == (200 if variable == "unused" else 400), answer


def test_the_variables_digest_takes_any_depth() -> None:
    from hub.audit.request_meta import variables_digest

    shallow = {"b": [1, {"z": None, "a": "é\u0000"}], "a": 1.5}
    deep: Any = 1
    for _ in range(1_000):
        deep = [deep]
    other: Any = 2
    for _ in range(1_000):
        other = [other]
    key = b"k" * 32
    assert variables_digest(key, shallow) == variables_digest(key, dict(reversed(shallow.items())))
    assert variables_digest(key, {"d": deep}) == variables_digest(key, {"d": deep})
    assert variables_digest(key, {"d": deep}) != variables_digest(key, {"d": other})
