"""The oracle of the policy property test: the seeded data as ground truth, and the checks
that an answer holds the view's fields only, masked as the view says, rows within its filter.
"""


from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    parse,
    validate,
)
from hypothesis import note
from hypothesis.errors import InvalidArgument

from hub.databases import DatabaseSet
from hub.policy.compile import ClientView
from hub.policy.model import AttributeRef, document_id
from resolvers.masks import MASKS, REDACTED
from resolvers.pagination import encode_cursor
from tests.conftest import ADMIN, Tokens
from tests.e2e.oracle import fetch
from tests.e2e.policy_cases import (
    ADMIN_LOOKUP,
    CODES,
    FULL,
    IDENTITY,
    MASK_FORMS,
    OBJECT_TYPES,
    PLACEHOLDER,
    VIEWS,
    Case,
    Payload,
    reachable_types,
    reveals_ok,
)

# -- the seeded data: keys for documents, and the ground truth ----------------------------------


@dataclass
class World:
    http: httpx.Client
    hub_url: str
    tokens: Tokens
    pools: dict[str, list[str]]
    employees: dict[str, dict[str, Any]]
    agencies: dict[str, dict[str, Any]]
    # (client, purpose, type, field, real value) -> pseudonym seen, and (client, purpose,
    # pseudonym) -> real value: a pseudonym must be stable and never stand for two values.
    hashes: dict[tuple[str, str, str, str, str], str] = field(default_factory=dict)
    unhashed: dict[tuple[str, str, str], str] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)

    def resolve(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            pool = self.pools[match.group(1)]
            return pool[int(match.group(2)) % len(pool)]

        return PLACEHOLDER.sub(one, text)

    def resolved(self, payload: Payload) -> Payload:
        def value(item: Any) -> Any:
            if isinstance(item, str):
                return self.resolve(item)
            if isinstance(item, dict):
                return {k: value(v) for k, v in item.items()}
            return item

        variables = None if payload.variables is None else value(payload.variables)
        return Payload(self.resolve(payload.query), variables, payload.operation_name)

    def post(self, client: str, purpose: str, body: Any) -> httpx.Response:
        return self.http.post(f"{self.hub_url}/graphql", json=body,
                              headers=self.tokens.headers(client, purpose))

    def count(self, what: str) -> None:
        self.checked[what] = self.checked.get(what, 0) + 1


def seeded_pools(databases: DatabaseSet
                 ) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]],
                            dict[str, dict[str, Any]]]:
    """Keys for documents (pools named as their placeholders name them), and the employees
    and agencies as PostgreSQL holds them: the ground truth rows are checked against."""
    employees = {r["employee_code"]: r for r in fetch(
        databases.national, "SELECT * FROM employee ORDER BY employee_code")}
    agencies = {r["code"]: r for r in fetch(databases.national,
                                            "SELECT * FROM agency ORDER BY code")}
    citizens = fetch(databases.population,
                     "SELECT personal_id, spouse_id, father_id FROM citizen ORDER BY personal_id")

    def authority(code: str) -> str:
        return str(agencies[employees[code]["agency_code"]]["authority"])

    # The city's own staff (.H01), and everyone else — central ministries located in Hà Nội
    # first, as they are the ones a province-by-location filter would let through.
    hanoi = [c for c in employees if authority(c) == "H01"]
    elsewhere = sorted((c for c in employees if authority(c) != "H01"),
                       key=lambda c: (agencies[employees[c]["agency_code"]]["province_code"]
                                      != "01", c))
    # Employees payroll may not see (retired, resigned) and some it may (suspended, on leave).
    gone = [c for c, r in employees.items() if r["status"] in ("retired", "resigned")]
    away = [c for c, r in employees.items() if r["status"] in ("suspended", "on_leave")]
    chosen = hanoi[:5] + elsewhere[:5] + gone[:4] + away[:2] + hanoi[-2:] + elsewhere[-2:]
    employed = {r["personal_id"]: c for c, r in employees.items()}
    spouse_of = {c["personal_id"]: c["spouse_id"] for c in citizens}
    # People outside the civil service married to someone in it: Person.spouse.civilServant.
    spouses_of_employees = [p for p, s in spouse_of.items() if s in employed and p not in employed]
    spouse_hanoi = [p for p in spouses_of_employees
                    if authority(employed[spouse_of[p]]) == "H01"]
    with_family = [c["personal_id"] for c in citizens
                   if c["father_id"] and c["spouse_id"] and c["personal_id"] in employed]
    strangers = [c["personal_id"] for c in citizens if c["personal_id"] not in employed]
    staffed = sorted({r["agency_code"] for r in employees.values()})
    units = ([a for a in staffed if agencies[a]["authority"] == "H01"][:4]
             + [a for a in staffed if agencies[a]["authority"] != "H01"][:4])
    parents = sorted({str(a["parent_code"]) for a in agencies.values() if a["parent_code"]})
    pools = {
        "emp": [*chosen, "CB99999999"],
        "pid": [employees[c]["personal_id"] for c in chosen] + strangers[:2],
        # Person.civilServant must hold back employees outside a view's rows: people serving
        # in and outside Hà Nội, out of service, and people married to someone serving.
        "person": ([employees[c]["personal_id"] for c in hanoi[:2] + elsewhere[:3] + gone[:2]]
                   + spouses_of_employees[:4] + spouse_hanoi[:3] + with_family[:3]
                   + strangers[:2]),
        "unit": units,
        "agency": [*units, "000.00.00.H01", "000.00.00.H44", "000.00.00.G01", "000.00.01.G02",
                   "000.99.99.H99"],
        "parent": ["000.00.00.H01", "000.00.00.H44", "000.00.00.G01",
                   *[p for p in parents if agencies[p]["authority"] == "H01"][:2],
                   *[p for p in parents if agencies[p]["authority"] != "H01"][:2]],
        "cursor": [encode_cursor(c) for c in (hanoi[3], elsewhere[3], gone[0])],
        "rank": sorted({str(r["rank_code"]) for r in employees.values()})[:4],
    }
    assert all(pools.values()), {k: len(v) for k, v in pools.items()}
    assert all(a in agencies for a in pools["agency"][:-1]), "an agency of the pools is gone"
    return pools, employees, agencies


# -- checking an answer -------------------------------------------------------------------------


def _included(node: Any, variables: Mapping[str, Any]) -> bool:
    for directive in node.directives or ():
        argument = next(a for a in directive.arguments if a.name.value == "if")
        value = argument.value
        condition = (bool(variables[value.name.value]) if isinstance(value, VariableNode)
                     else isinstance(value, BooleanValueNode) and value.value)
        if directive.name.value == "skip" and condition:
            return False
        if directive.name.value == "include" and not condition:
            return False
    return True


def collect(type_name: str, selection_sets: Iterable[SelectionSetNode],
            fragments: Mapping[str, FragmentDefinitionNode],
            variables: Mapping[str, Any]) -> dict[str, list[FieldNode]]:
    """The response keys of an object, as the GraphQL spec's CollectFields finds them."""
    found: dict[str, list[FieldNode]] = {}
    spread: set[str] = set()

    def visit(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if not _included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                found.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or condition.name.value == type_name:
                    visit(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in spread:
                    continue
                spread.add(name)
                fragment = fragments[name]
                if fragment.type_condition.name.value == type_name:
                    visit(fragment.selection_set)

    for selection_set in selection_sets:
        visit(selection_set)
    return found


def outside_view(view: ClientView, document: DocumentNode) -> list[str]:
    """What the document asks that the view does not allow: fields, arguments, filter fields
    (walked over the full schema, every operation and fragment, skipped or not)."""
    found: list[str] = []
    visible = view.visible

    def value_fields(value: ValueNode, input_name: str) -> None:
        if isinstance(value, ObjectValueNode):
            for item in value.fields:
                if not reveals_ok(visible, input_name, item.name.value):
                    found.append(f"{input_name}.{item.name.value}")

    def walk(type_name: str, selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name.startswith("__"):
                    continue  # __typename, and introspection: both every client's
                if name not in visible.get(type_name, {}):
                    found.append(f"{type_name}.{name}")
                field_def = OBJECT_TYPES[type_name].fields[name]
                for argument in selection.arguments or ():
                    named = get_named_type(field_def.args[argument.name.value].type)
                    if not reveals_ok(visible, f"{type_name}.{name}", argument.name.value) or (
                            isinstance(named, GraphQLInputObjectType) and not any(
                                reveals_ok(visible, named.name, f) for f in named.fields)):
                        found.append(f"{type_name}.{name}({argument.name.value})")
                    value_fields(argument.value, named.name)
                target = get_named_type(field_def.type)
                if isinstance(target, GraphQLObjectType):
                    walk(target.name, selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                walk(condition.name.value if condition else type_name, selection.selection_set)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk("Query", definition.selection_set)
        elif isinstance(definition, FragmentDefinitionNode):
            walk(definition.type_condition.name.value, definition.selection_set)
    return found


def outside_view_in_variables(view: ClientView, operation: OperationDefinitionNode,
                              variables: Mapping[str, Any]) -> list[str]:
    """Filter fields the view may not use, passed in variables (a coercion error, not a
    validation one: the values are not in the document)."""
    found = []
    for definition in operation.variable_definitions or ():
        named = get_named_type(FULL.get_type(_type_name(definition.type)))
        value = variables.get(definition.variable.name.value)
        if isinstance(named, GraphQLInputObjectType) and isinstance(value, dict):
            found += [f"${definition.variable.name.value}.{k}" for k in value
                      if not reveals_ok(view.visible, named.name, k)]
    return found


def _type_name(node: Any) -> str:
    while not hasattr(node, "name") or node.name is None:
        node = node.type
    return str(node.name.value)


def schema_names(schema: GraphQLSchema) -> set[str]:
    names: set[str] = set()
    for name, type_ in schema.type_map.items():
        names.add(name)
        for field_name, field_def in getattr(type_, "fields", {}).items():
            names.add(field_name)
            names.update(getattr(field_def, "args", {}))
        if isinstance(type_, GraphQLEnumType):
            names.update(type_.values)
    for directive in schema.directives:
        names.add(directive.name)
        names.update(directive.args)
    return names


class Checker:
    """Checks one answer against the view; collects masked values to compare afterwards."""

    def __init__(self, world: World, view: ClientView, document: DocumentNode,
                 variables: Mapping[str, Any]) -> None:
        self.world = world
        self.view = view
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        # (type, identity, field, mask, masked value)
        self.masked: list[tuple[str, str, str, str, Any]] = []

    def walk(self, value: Any, type_: GraphQLOutputType, nodes: list[FieldNode],
             path: str) -> None:
        if value is None:
            return
        if isinstance(type_, GraphQLNonNull):
            self.walk(value, type_.of_type, nodes, path)
            return
        if isinstance(type_, GraphQLList):
            assert isinstance(value, list), path
            for i, item in enumerate(value):
                self.walk(item, type_.of_type, nodes, f"{path}[{i}]")
            return
        if not isinstance(type_, GraphQLObjectType):
            return
        self.object(value, type_, [n.selection_set for n in nodes if n.selection_set], path)

    def object(self, value: Any, type_: GraphQLObjectType,
               selection_sets: list[SelectionSetNode], path: str) -> None:
        assert isinstance(value, dict), path
        type_name = type_.name
        expected = collect(type_name, selection_sets, self.fragments, self.variables)
        assert set(value) == set(expected), (
            f"{path}: keys {sorted(value)} but the document selects {sorted(expected)}")
        shown = self.view.visible.get(type_name, {})
        identity: str | None = None
        masked: list[tuple[str, str, Any]] = []
        for key, nodes in expected.items():
            name, item = nodes[0].name.value, value[key]
            if name == "__typename":
                assert item == type_name, f"{path}.{key}"
                continue
            if type_name == "Query" and name in ("__schema", "__type"):
                self.introspection(name, item, nodes[0], f"{path}.{key}")
                continue
            assert name in shown, f"{path}.{key}: {type_name}.{name} is outside the view"
            field_def = type_.fields.get(name)
            assert field_def is not None, f"{type_name}.{name} is in the view, not the schema"
            mask = shown[name]
            if mask is not None:
                self.mask_form(mask, item, f"{path}.{key}")
                masked.append((name, mask, item))
            elif IDENTITY.get(type_name, ("", ""))[1] == name:
                identity = item
            self.walk(item, field_def.type, nodes, f"{path}.{key}")
        if identity is not None:
            self.rows(type_name, identity, path)
            self.masked.extend((type_name, identity, n, m, v) for n, m, v in masked)

    def mask_form(self, mask: str, value: Any, path: str) -> None:
        self.world.count(f"mask {mask}")
        if value is None:
            return
        if mask == "year-only":
            assert isinstance(value, int), (path, value)
            assert not isinstance(value, bool), (path, value)
        elif mask == "redact":
            assert value == REDACTED, (path, value)
        else:
            assert isinstance(value, str), (path, value)
            assert MASK_FORMS[mask].fullmatch(value), (path, value)

    def rows(self, type_name: str, identity: str, path: str) -> None:
        """The object satisfies every row condition of the view, read from PostgreSQL."""
        grant = self.view.purpose.grants.get(type_name)
        if grant is None or not grant.rows:
            return
        self.world.count(f"row {type_name}")
        failed = row_condition_failed(self.world, self.view, type_name, identity)
        assert failed is None, f"{path}: {failed}"

    def introspection(self, name: str, value: Any, node: FieldNode, path: str) -> None:
        reachable = reachable_types(self.view)
        if name == "__type":
            assert node.arguments, path
            argument = node.arguments[0].value
            assert isinstance(argument, StringValueNode)
            asked = argument.value
            if asked in OBJECT_TYPES and asked not in reachable:
                assert value is None, f"{path}: type {asked} is outside the view: {value}"
            if value is not None:
                self.introspected_type(value, reachable, path)
            return
        self.world.count("introspection __schema")
        types = value["types"]
        listed = {t["name"] for t in types if t["kind"] == "OBJECT"
                  and not t["name"].startswith("__")}
        assert listed == reachable, (f"{path}: object types {sorted(listed - reachable)} are "
                                     f"not the view's, {sorted(reachable - listed)} missing")
        for type_ in types:
            if not type_["name"].startswith("__"):
                self.introspected_type(type_, reachable, path)

    def introspected_type(self, type_: dict[str, Any], reachable: set[str], path: str) -> None:
        self.world.count("introspection type")
        name = type_["name"]
        if type_["kind"] == "OBJECT":
            shown = self.view.visible.get(name, {})
            fields = {f["name"]: f for f in type_["fields"]}
            assert name in reachable, f"{path}: {name} is outside the view"
            assert set(fields) == set(shown), (
                f"{path}: {name} lists {sorted(fields)}, the view {sorted(shown)}")
            for field_name, mask in shown.items():
                of = fields[field_name]["type"]
                while of.get("ofType") is not None:
                    of = of["ofType"]
                expected = (MASKS[mask].shown_as if mask is not None else get_named_type(
                    OBJECT_TYPES[name].fields[field_name].type).name)
                assert of["name"] == expected, (f"{path}: {name}.{field_name} is shown as "
                                                f"{of['name']}, expected {expected}")
        elif type_["kind"] == "INPUT_OBJECT":
            for item in type_["inputFields"]:
                assert reveals_ok(self.view.visible, name, item["name"]), (
                    f"{path}: {name}.{item['name']} reveals fields outside the view")


def row_condition_failed(world: World, view: ClientView, type_name: str,
                         identity: str) -> str | None:
    """Which row condition of the view the object (as PostgreSQL holds it) fails, if any."""
    if type_name == "CivilServant":
        row = world.employees.get(identity)
        if row is None:
            return f"employee {identity} is not in the database"
        linked = {"agency": world.agencies[row["agency_code"]]}
    else:
        row = world.agencies.get(identity)
        if row is None:
            return f"agency {identity} is not in the database"
        linked = {}
    for condition in view.purpose.grants[type_name].rows:
        link, _, inner = condition.field.partition(".")
        source, name = (linked[link], inner) if inner else (row, link)
        actual = source[re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()]
        wanted = condition.value
        if isinstance(wanted, AttributeRef):
            wanted = view.client.attributes[wanted.attribute]
        allowed = {str(v).lower() for v in (wanted if isinstance(wanted, tuple) else (wanted,))}
        if str(actual).lower() not in allowed:
            return (f"{type_name} {identity} has {condition.field} = {actual!r}, outside the "
                    f"view's rows ({condition.describe()})")
    return None


def check_errors(body: dict[str, Any], path: str) -> None:
    for error in body.get("errors", []):
        code = error.get("extensions", {}).get("code")
        assert code in CODES, f"{path}: {error}"
        assert "Did you mean" not in error["message"], f"{path}: {error}"


def check_refused(view: ClientView, payload: Payload, body: dict[str, Any],
                  outside: list[str]) -> None:
    assert "data" not in body, f"uses {outside}, yet answered: {body}"
    assert body["errors"], body
    allowed_names = schema_names(view.schema) | set(re.findall(r"\w+", payload.query))
    for error in body["errors"]:
        assert error["extensions"]["code"] == "VALIDATION_FAILED", (outside, error)
        for quoted in re.findall(r"'([^']*)'", error["message"]):
            for name in re.findall(r"\w+", quoted):
                assert name in allowed_names, f"the error names {name!r}: {error['message']}"


def check_answer(world: World, view: ClientView, payload: Payload, body: dict[str, Any]) -> None:
    document = parse(payload.query)
    assert not validate(FULL, document), "the generator wrote a document invalid over the full " \
                                         "schema"
    outside = outside_view(view, document)
    check_errors(body, "answer")
    client = view.client
    if client.documents_required and document_id(payload.query) not in client.documents:
        world.count("refused: not a trusted document")
        assert "data" not in body, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
        return
    if outside:
        world.count("refused: outside the view")
        check_refused(view, payload, body, outside)
        return
    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
    assert "VALIDATION_FAILED" not in codes, f"within the view, yet refused: {body['errors']}"
    if codes == {"QUERY_TOO_COMPLEX"}:  # refused before it ran, for its size alone
        world.count("refused: too complex")
        assert "data" not in body, body
        return
    assert "data" in body, body
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(o for o in operations if payload.operation_name is None
                     or (o.name is not None and o.name.value == payload.operation_name))
    smuggled = outside_view_in_variables(view, operation, payload.variables or {})
    if smuggled:
        world.count("refused: variables outside the view")
        assert body["data"] is None, f"uses {smuggled}, yet answered: {body}"
        assert codes == {"BAD_USER_INPUT"}, body
        return
    world.count("answered")
    checker = Checker(world, view, document, payload.variables or {})
    if body["data"] is not None:
        query_type = view.schema.query_type
        assert query_type is not None
        checker.object(body["data"], query_type, [operation.selection_set], "data")
    compare_masked(world, view, checker.masked)


def compare_masked(world: World, view: ClientView,
                   masked: list[tuple[str, str, str, str, Any]]) -> None:
    """Masked values beside the real ones, as the administration client reads them."""
    sample = list(dict.fromkeys((t, i, f, m, v) for t, i, f, m, v in masked))[:8]
    if not sample:
        return
    lookups = " ".join(f"m{n}: {ADMIN_LOOKUP[t].format(i)} {{ {f} }}"
                       for n, (t, i, f, _, _) in enumerate(sample))
    response = world.post(*ADMIN, {"query": f"{{ {lookups} }}"})
    assert response.status_code == 200, response.text
    real = response.json()["data"]
    for n, (type_name, identity, name, mask, shown) in enumerate(sample):
        actual = real[f"m{n}"][name]
        where = f"{type_name} {identity} {name} ({mask})"
        world.count(f"mask {mask} compared")
        if actual is None:
            assert shown is None, f"{where}: {shown!r} for a null"
        elif mask == "last4":
            text = str(actual)
            assert shown == "*" * (len(text) - 4) + text[-4:], f"{where}: {shown!r}"
        elif mask == "year-only":
            assert shown == int(str(actual)[:4]), f"{where}: {shown!r} for {actual!r}"
        elif mask == "redact":
            assert shown == REDACTED, f"{where}: {shown!r}"
        elif mask == "hash":
            client = (view.client.client_id, view.purpose.name)
            seen = world.hashes.setdefault((*client, type_name, name, str(actual)), shown)
            assert seen == shown, f"{where}: {shown!r} here, {seen!r} before"
            owner = world.unhashed.setdefault((*client, str(shown)), str(actual))
            assert owner == str(actual), f"{where}: {shown!r} stands for two values"
            assert shown != actual


def run_case(world: World, case: Case) -> None:
    payloads = [world.resolved(p) for p in case.payloads]
    for payload in payloads:
        with contextlib.suppress(InvalidArgument):  # outside hypothesis: the assertion tells
            note(f"{case.client}/{case.purpose}: "
                 f"{json.dumps(payload.body(), ensure_ascii=False)}")
    body: Any = ([p.body() for p in payloads] if case.batch else payloads[0].body())
    if case.get:
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        response = world.http.get(f"{world.hub_url}/graphql", params=params,
                                  headers=world.tokens.headers(case.client, case.purpose))
    else:
        response = world.post(case.client, case.purpose, body)
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text, response.text
    assert 'File "' not in response.text, response.text
    answers = response.json()
    view = VIEWS.get((case.client, case.purpose))
    if view is None:
        world.count("refused: undeclared purpose")
        # A batch answers 200 with each operation's own refusal (only a 401 is batch-wide).
        assert response.status_code == (200 if case.batch else 403), response.text
        for answer in answers if case.batch else [answers]:
            assert "data" not in answer, answer
            assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"], answer
        return
    if case.batch:
        assert isinstance(answers, list), answers
        assert len(answers) == len(payloads), answers
    for payload, answer in zip(payloads, answers if case.batch else [answers], strict=True):
        try:
            check_answer(world, view, payload, answer)
        except AssertionError as error:
            raise AssertionError(
                f"{error}\nclient {case.client}, purpose {case.purpose}\n"
                f"request: {json.dumps(payload.body(), ensure_ascii=False)}\n"
                f"answer: {json.dumps(answer, ensure_ascii=False)[:3000]}") from None


