"""Property: whatever document a client sends, the hub answers with its view and nothing more.

Random documents, valid over the *full* schema, go over HTTP to the real hub as a random
(client, purpose) — every view the policies compile, and purposes a client has not declared.
The expected outcome is computed here from each view's ``visible`` fields (the engine's account
of what it grants, itself checked against the policy file's grants below) and the schema's
``REVEALS`` table, not from the client's compiled GraphQL schema, so a schema or an answer
that drifts from its policy shows up:

- a document touching a field, argument or filter field outside the view fails validation as a
  whole (no ``data``), and its errors name nothing outside the client's schema but what the
  document itself named;
- otherwise every key of ``data`` (walked beside the document: aliases, fragments, @skip and
  @include resolved) is a field of the view, masked values have their mask's form (and, checked
  against the administration client, the real value's last four digits or year), and every
  civil servant and agency returned satisfies the view's row conditions, looked up in
  PostgreSQL.

Keys of the seeded data are not known when hypothesis builds documents, so documents carry
placeholders (``⟪pool:index⟫``) resolved per test against keys read from the databases.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
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
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from hub.databases import DatabaseSet
from hub.policy.compile import ClientView, PolicyEngine
from hub.policy.load import load_policy_dir
from hub.policy.model import AttributeRef
from resolvers.entities import REFERENCE_TYPES
from resolvers.masks import MASKS, REDACTED
from resolvers.pagination import encode_cursor
from resolvers.query import REVEALS
from resolvers.schema import build_schema
from tests.conftest import ADMIN, Tokens
from tests.e2e.oracle import fetch

FULL: GraphQLSchema = build_schema()._schema
ENGINE = PolicyEngine(load_policy_dir(), FULL, b"property-test: masks are not compared")
VIEWS: dict[tuple[str, str], ClientView] = {
    (v.client.client_id, v.purpose.name): v for v in ENGINE.views()}
_ALL_PURPOSES = sorted({purpose for _, purpose in VIEWS})
# Purposes some client declares and another does not: the latter must be refused (403).
UNDECLARED = sorted((client, purpose) for client in {c for c, _ in VIEWS}
                    for purpose in _ALL_PURPOSES if (client, purpose) not in VIEWS)
# Views that mask values or filter rows have more to get wrong: they are drawn more often.
WEIGHTED_VIEWS = [key for key, view in sorted(VIEWS.items())
                  for _ in range(1 + any(m for f in view.visible.values() for m in f.values())
                                 + bool(view.grants.row_filters))]

OBJECT_TYPES: dict[str, GraphQLObjectType] = {
    name: t for name, t in FULL.type_map.items()
    if isinstance(t, GraphQLObjectType) and not name.startswith("__")}
INPUT_TYPES = sorted(name for name, t in FULL.type_map.items()
                     if isinstance(t, GraphQLInputObjectType))
# Page structure: entering one does not count towards the depth of a document.
STRUCTURAL = {"CivilServantConnection", "CivilServantEdge", "PageInfo"}
MAX_DEPTH = 4
LINK_WEIGHT = {"employees": 4, "children": 3, "civilServant": 4, "spouse": 3, "parent": 3,
               "agency": 3, "person": 3, "nodes": 3, "civilServants": 3, "agencies": 2}
# Keys every selection of these types gets (when the view shows them unmasked), so each
# returned object can be looked up in PostgreSQL and beside the administration client's answer.
IDENTITY = {"CivilServant": ("zzEmployeeCode", "employeeCode"),
            "Agency": ("zzAgencyCode", "code")}
# How the administration client reads one object by its identity (masked values are compared
# with the real ones it sees).
ADMIN_LOOKUP = {"CivilServant": 'civilServant(employeeCode: "{}")', "Agency": 'agency(code: "{}")'}
VARIABLE_TYPES = {"yes": "Boolean!", "no": "Boolean!", "pid": "PersonalId!", "n": "Int"}
VARIABLE_VALUES: dict[str, Any] = {"yes": True, "no": False, "pid": "⟪pid:3⟫", "n": 2}
CODES = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "SOURCE_UNAVAILABLE",
         "SOURCE_TIMEOUT", "RATE_LIMITED", "QUERY_TOO_COMPLEX", "CONFLICT", "VALIDATION_FAILED"}
PLACEHOLDER = re.compile(r"⟪(\w+):(\d+)⟫")
MASK_FORMS = {"last4": re.compile(r"\*+\w{4}"), "hash": re.compile(r"[0-9a-f]{32}")}
INTROSPECTED_FIELDS = ("name kind fields { name type { name kind ofType { name kind ofType "
                       "{ name kind ofType { name } } } } } inputFields { name }")


# -- what a view allows, computed from the policy (not from the client's compiled schema) ----


def test_views_grant_nothing_the_policy_files_do_not() -> None:
    """The oracle below trusts each view's ``visible``: hold it to the policy file itself.
    Every visible field of a granted type is in that type's grant, with the grant's mask;
    only reference data (code lists, page structure) is visible without a grant."""
    for view in VIEWS.values():
        for type_name, fields in view.visible.items():
            if type_name in REFERENCE_TYPES:
                continue
            grant = view.purpose.grants[type_name]
            assert set(fields) <= grant.fields, (view.client.client_id, type_name)
            assert {f: m for f, m in fields.items() if m is not None} == {
                f: m for f, m in grant.masks.items() if f in fields}, (type_name, fields)


def visible_of(view: ClientView | None) -> Mapping[str, Mapping[str, str | None]] | None:
    return None if view is None else view.visible


def reveals_ok(visible: Mapping[str, Mapping[str, str | None]] | None, owner: str,
               name: str) -> bool:
    """May a client use this argument or filter field? Only if it sees, unmasked, every field
    whose values the argument would let it learn."""
    needs = REVEALS.get((owner, name))
    if visible is None or needs is None:
        return True
    return all(f in visible.get(t, {}) and visible[t][f] is None for t, f in needs)


def reachable_types(view: ClientView) -> set[str]:
    """Object types of the client's schema: those a visible field leads to from Query."""
    seen, todo = {"Query"}, ["Query"]
    while todo:
        type_name = todo.pop()
        for name in view.visible.get(type_name, {}):
            target = get_named_type(OBJECT_TYPES[type_name].fields[name].type)
            if isinstance(target, GraphQLObjectType) and target.name not in seen:
                seen.add(target.name)
                todo.append(target.name)
    return seen


# -- documents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"query": self.query}
        if self.variables is not None:
            body["variables"] = self.variables
        if self.operation_name is not None:
            body["operationName"] = self.operation_name
        return body


@dataclass(frozen=True)
class Case:
    client: str
    purpose: str
    payloads: tuple[Payload, ...]
    batch: bool = False  # sent as a JSON array, even when it holds one operation
    get: bool = False  # sent as GET /graphql?query=... (one operation)


class _Builder:
    """One document under construction, valid over the full schema by construction: a
    response key names one field (with one set of arguments) per type across the document,
    so no two selections can conflict however fragments merge them."""

    def __init__(self, draw: st.DrawFn, visible: Mapping[str, Mapping[str, str | None]] | None,
                 attack: bool) -> None:
        self.draw = draw
        self.visible = visible
        self.attacks = 1 if attack else 0
        self.keys: dict[tuple[str, str], tuple[str, str]] = {}
        self.fragments: list[tuple[str, str, str]] = []  # (name, type, body)
        self.variable_types = dict(VARIABLE_TYPES)
        self.variable_values = dict(VARIABLE_VALUES)
        self.counter = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def fields(self, type_name: str, free: bool) -> list[str]:
        names = list(OBJECT_TYPES[type_name].fields)
        if free or self.visible is None:
            return names
        shown = self.visible.get(type_name, {})
        return [n for n in names if n in shown]

    def arg_ok(self, owner: str, name: str, free: bool) -> bool:
        return free or reveals_ok(self.visible, owner, name)

    def key(self, type_name: str, name: str, args: str) -> str:
        """A response key for ``name(args)``: its own name, an alias, or — the attack of
        choice — the name of another field of the type."""
        others = [n for n in OBJECT_TYPES[type_name].fields if n != name]
        style = self.draw(st.sampled_from(["own", "own", "own", "alias", "other"]))
        wanted = name
        if style == "alias":
            wanted = f"{name}_"
        elif style == "other" and others:
            wanted = self.draw(st.sampled_from(others))
        for candidate in (wanted, name, self.fresh(f"k{name}_")):
            if self.keys.setdefault((type_name, candidate), (name, args)) == (name, args):
                return candidate
        raise AssertionError("unreachable: a fresh key is always free")

    def directive(self) -> str:
        if self.draw(st.integers(0, 9)) < 8:
            return ""
        return self.draw(st.sampled_from(
            [" @include(if: true)", " @include(if: false)", " @skip(if: true)",
             " @skip(if: false)", " @include(if: $yes)", " @include(if: $no)",
             " @skip(if: $yes)", " @skip(if: $no)"]))

    def field(self, type_name: str, name: str, depth: int, free: bool) -> str:
        field_def = OBJECT_TYPES[type_name].fields[name]
        args = self.arguments(type_name, name, free)
        key = self.key(type_name, name, args)
        head = (name if key == name else f"{key}: {name}") + args + self.directive()
        target = get_named_type(field_def.type)
        if not isinstance(target, GraphQLObjectType):
            return head
        inner = depth if target.name in STRUCTURAL else depth + 1
        return f"{head} {{ {self.selection(target.name, inner, free)} }}"

    def arguments(self, type_name: str, name: str, free: bool) -> str:
        draw, owner = self.draw, f"{type_name}.{name}"
        index = st.integers(0, 99)
        args: list[str] = []
        if owner == "Query.civilServant":
            args.append(f'employeeCode: "⟪emp:{draw(index)}⟫"')
        elif owner == "Query.civilServantByPersonalId":
            args.append(draw(st.sampled_from(["personalId: $pid",
                                              f'personalId: "⟪pid:{draw(index)}⟫"'])))
        elif owner == "Query.person":
            args.append(f'personalId: "⟪person:{draw(index)}⟫"')
        elif owner == "Query.agency":
            args.append(f'code: "⟪agency:{draw(index)}⟫"')
        elif owner == "Query.agencies":
            found = self.filter("AgencyFilter", [
                ("provinceCode", '"01"', "01"), ("provinceCode", '"44"', "44"),
                ("kind", "PROVINCE_DEPARTMENT", "PROVINCE_DEPARTMENT"),
                ("kind", "MINISTRY", "MINISTRY"),
                ("parentCode", f'"⟪parent:{draw(index)}⟫"', f"⟪parent:{draw(index)}⟫")], free)
            args += [found] if found else []
        elif owner in ("Query.civilServants", "Agency.employees"):
            args.append(draw(st.sampled_from(["first: 0", "first: 1", "first: 2", "first: 3",
                                              "first: 5", "first: $n", "first: 2"])))
            if draw(st.integers(0, 4)) == 0 and (self.arg_ok(owner, "after", free)
                                                 or self.attack_now()):
                args.append(f'after: "⟪cursor:{draw(index)}⟫"')
            if owner == "Query.civilServants" and draw(st.booleans()):
                unit, rank = f"⟪unit:{draw(index)}⟫", f"⟪rank:{draw(index)}⟫"
                found = self.filter("CivilServantFilter", [
                    ("provinceCode", '"01"', "01"), ("provinceCode", '"44"', "44"),
                    ("status", "ACTIVE", "ACTIVE"), ("status", "RETIRED", "RETIRED"),
                    ("category", "CIVIL_SERVANT", "CIVIL_SERVANT"),
                    ("namePrefix", '"Nguyễn"', "Nguyễn"), ("agencyCode", f'"{unit}"', unit),
                    ("rankCode", f'"{rank}"', rank)], free)
                args += [found] if found else []
        return f"({', '.join(args)})" if args else ""

    def attack_now(self) -> bool:
        """Spend the document's one attack here? (A third of the chances it is offered.)"""
        if self.attacks and self.draw(st.integers(0, 2)) == 0:
            self.attacks -= 1
            return True
        return False

    def filter(self, input_name: str, options: list[tuple[str, str, Any]],
               free: bool) -> str | None:
        """A filter argument, written out or passed as a variable: only the fields the view
        may filter by, unless this is where the document attacks."""
        chosen = self.draw(st.lists(st.sampled_from(options), min_size=1, max_size=2,
                                    unique_by=lambda o: o[0]))
        forbidden = [o for o in chosen if not self.arg_ok(input_name, o[0], free)]
        if forbidden and not self.attack_now():
            chosen = [o for o in chosen if o not in forbidden]
        if not chosen:
            return None
        if self.draw(st.booleans()):
            variable = self.fresh("f")
            self.variable_types[variable] = input_name
            self.variable_values[variable] = {name: value for name, _, value in chosen}
            return f"filter: ${variable}"
        return f"filter: {{{', '.join(f'{name}: {text}' for name, text, _ in chosen)}}}"

    def introspection(self) -> str:
        if self.draw(st.integers(0, 5)) == 0:
            key = self.fresh("schema")
            self.keys[("Query", key)] = ("__schema", "")
            return f"{key}: __schema {{ types {{ {INTROSPECTED_FIELDS} }} }}"
        type_name = self.draw(st.sampled_from(sorted(OBJECT_TYPES) + INPUT_TYPES))
        key = self.fresh("type")
        self.keys[("Query", key)] = ("__type", type_name)
        return f'{key}: __type(name: "{type_name}") {{ {INTROSPECTED_FIELDS} }}'

    def selection(self, type_name: str, depth: int, free: bool = False) -> str:
        draw = self.draw
        leaves, links = [], []
        for name in self.fields(type_name, free):
            target = get_named_type(OBJECT_TYPES[type_name].fields[name].type)
            if not isinstance(target, GraphQLObjectType):
                # A masked value is what must keep its form whichever way it is reached.
                masked = self.visible is not None and self.visible.get(type_name, {}).get(name)
                leaves.extend([name] * (4 if masked else 1))
            elif depth + (target.name not in STRUCTURAL) <= MAX_DEPTH:
                # The links named in LINK_WEIGHT lead to rows a filter must hold back, or to
                # objects whose masks must survive the way there: follow them more often.
                links.extend([name] * LINK_WEIGHT.get(name, 1))
        picks = draw(st.lists(st.sampled_from(leaves), min_size=0 if links else 1,
                              max_size=min(3, len(set(leaves))), unique=True)) if leaves else []
        if links:
            at_least = int(not picks or draw(st.integers(0, 3)) > 0)  # mostly go deeper
            picks += draw(st.lists(st.sampled_from(links), min_size=at_least,
                                   max_size=min(2 if depth else 3, len(set(links))),
                                   unique=True))
        parts = [self.field(type_name, name, depth, free) for name in picks]
        forbidden = [n for n in OBJECT_TYPES[type_name].fields
                     if n not in self.fields(type_name, False)]
        if not free and forbidden and self.attack_now():
            # Outside the view, with whatever the document does around it: an alias, a
            # fragment, a directive, another operation.
            parts.append(self.field(type_name, draw(st.sampled_from(forbidden)), depth, True))
        if type_name == "Query" and draw(st.integers(0, 6)) == 0:
            parts.append(self.introspection())
        if not parts or draw(st.integers(0, 3)) == 0:
            key = draw(st.sampled_from(["__typename", "kind", "fullName", "name"]))
            parts.append(self.typename(type_name, key))
        identity = IDENTITY.get(type_name)
        if identity is not None and not free and self.shown_plain(type_name, identity[1]):
            self.keys[(type_name, identity[0])] = (identity[1], "")
            parts.append(f"{identity[0]}: {identity[1]}")
        return " ".join(self.wrap(type_name, part) for part in draw(st.permutations(parts)))

    def shown_plain(self, type_name: str, name: str) -> bool:
        return self.visible is None or (name in self.visible.get(type_name, {})
                                        and self.visible[type_name][name] is None)

    def typename(self, type_name: str, wanted: str) -> str:
        # `__typename` under a key that names a (perhaps forbidden) field of the type.
        for candidate in (wanted, "__typename"):
            if self.keys.setdefault((type_name, candidate), ("__typename", "")) == (
                    "__typename", ""):
                return "__typename" if candidate == "__typename" else f"{candidate}: __typename"
        return "__typename"

    def wrap(self, type_name: str, part: str) -> str:
        """The selection as it is, or inside an inline fragment, a new named fragment or a
        named fragment written earlier for the type (each possibly under a directive)."""
        how = self.draw(st.sampled_from(["plain"] * 5 + ["inline", "untyped", "named", "reuse"]))
        if how == "inline":
            return f"... on {type_name}{self.directive()} {{ {part} }}"
        if how == "untyped":
            return f"...{self.directive()} {{ {part} }}"
        if how == "named":
            name = self.fresh("F")
            self.fragments.append((name, type_name, part))
            return f"...{name}{self.directive()}"
        reusable = [n for n, t, _ in self.fragments if t == type_name]
        if how == "reuse" and reusable:
            return f"{part} ...{self.draw(st.sampled_from(reusable))}{self.directive()}"
        return part

    def document(self, operations: list[str]) -> tuple[str, dict[str, set[str]]]:
        """The document text with each operation's variables declared."""
        bodies = {name: self.selection("Query", 0) for name in operations}
        fragments = " ".join(f"fragment {n} on {t} {{ {body} }}"
                             for n, t, body in self.fragments)
        draft = " ".join(f"query {n} {{ {b} }}" for n, b in bodies.items()) + " " + fragments
        used = variables_by_operation(parse(draft))
        text = []
        for name, body in bodies.items():
            declared = ", ".join(f"${v}: {self.variable_types[v]}" for v in sorted(used[name]))
            head = f"query {name}({declared})" if declared else (
                "" if len(operations) == 1 and self.draw(st.booleans()) else f"query {name}")
            text.append(f"{head} {{ {body} }}")
        return " ".join(text) + (" " + fragments if fragments else ""), used


def variables_by_operation(document: DocumentNode) -> dict[str, set[str]]:
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}

    def walk(node: Any, seen: set[str], found: set[str]) -> None:
        if isinstance(node, VariableNode):
            found.add(node.name.value)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
            seen.add(node.name.value)
            walk(fragments[node.name.value], seen, found)
        if hasattr(node, "keys"):
            for key in node.keys:
                value = getattr(node, key, None)
                for child in value if isinstance(value, (list, tuple)) else [value]:
                    if hasattr(child, "kind"):
                        walk(child, seen, found)

    used: dict[str, set[str]] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            found: set[str] = set()
            walk(definition.selection_set, set(), found)
            used[definition.name.value if definition.name else ""] = found
    return used


def _payload(builder: _Builder, draw: st.DrawFn, operations: list[str]) -> Payload:
    text, used = builder.document(operations)
    selected = draw(st.sampled_from(operations))
    variables = {v: builder.variable_values[v] for v in sorted(used[selected])}
    return Payload(text, variables or None, selected if len(operations) > 1 else None)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    # Mostly declared views (the interesting answers); an undeclared purpose now and then.
    client, purpose = draw(st.sampled_from(UNDECLARED) if draw(st.integers(0, 9)) == 0
                           else st.sampled_from(WEIGHTED_VIEWS))
    visible = visible_of(VIEWS.get((client, purpose)))
    shape = draw(st.sampled_from(["one", "one", "one", "operationName", "batch"]))

    def builder() -> _Builder:
        return _Builder(draw, visible, attack=draw(st.integers(0, 2)) == 0)

    if shape == "one":
        return Case(client, purpose, (_payload(builder(), draw, ["Q"]),),
                    get=draw(st.integers(0, 3)) == 0)
    if shape == "operationName":
        return Case(client, purpose, (_payload(builder(), draw, ["A", "B"]),))
    payloads = tuple(_payload(builder(), draw, [f"P{i}"]) for i in range(draw(st.integers(1, 3))))
    return Case(client, purpose, payloads, batch=True)


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


def _pools(databases: DatabaseSet) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]],
                                            dict[str, dict[str, Any]]]:
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


@pytest.fixture(scope="module")
def world(databases: DatabaseSet, hub_url: str, tokens: Tokens) -> Iterator[World]:
    pools, employees, agencies = _pools(databases)
    with httpx.Client(timeout=60) as http:
        world = World(http, hub_url, tokens, pools, employees, agencies)
        yield world
    print(f"\npolicy properties checked: {dict(sorted(world.checked.items()))}")


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
    if outside:
        world.count("refused: outside the view")
        check_refused(view, payload, body, outside)
        return
    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
    assert "VALIDATION_FAILED" not in codes, f"within the view, yet refused: {body['errors']}"
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


# -- the property, and the attacks it must always cover -----------------------------------------

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
            HealthCheck.data_too_large]


def _one(client: str, purpose: str, query: str, variables: dict[str, Any] | None = None,
         operation_name: str | None = None) -> Case:
    return Case(client, purpose, (Payload(query, variables, operation_name),))


HANOI = ("hanoi-doha", "personnel-management")
PAYROLL = ("mof-payroll", "salary-budget")
INSPECTION = ("gov-inspectorate", "inspection")
STATISTICS = ("moha-personnel-db", "statistics")
IDENTITY_CHECK = ("mps-identity", "identity-verification")
INSURANCE = ("vss-insurance", "social-insurance")
SCHEMA_TYPES = "{ __schema { types { " + INTROSPECTED_FIELDS + " } } }"


@settings(max_examples=400, deadline=None, suppress_health_check=FIXTURES)
@given(case=cases())
# an alias: a forbidden field under a granted field's name, and __typename under a forbidden one
@example(case=_one(*HANOI, "{ civilServants(first: 2) { nodes { fullName: religion } } }"))
@example(case=_one(*PAYROLL, "{ civilServants(first: 2) { nodes { personalId: fullName } } }"))
@example(case=_one(*HANOI, "{ civilServants(first: 2) { nodes { religion: __typename "
                           "zzEmployeeCode: employeeCode } } }"))
# a forbidden field inside a named fragment, an inline fragment, an untyped inline fragment
@example(case=_one(*PAYROLL, "{ civilServants(first: 2) { nodes { ...F } } } "
                             "fragment F on CivilServant { employeeCode fullName }"))
@example(case=_one(*INSPECTION, "{ civilServants(first: 2) { nodes { employeeCode "
                                "... on CivilServant { salaryCoefficient } } } }"))
@example(case=_one(*INSURANCE, "{ civilServants(first: 2) { nodes { ... @include(if: true) "
                               "{ partyMembership { branch } } } } }"))
# behind @include(if: false) and @skip(if: true), literal and variable
@example(case=_one(*INSURANCE, "{ civilServants(first: 1) { nodes { fullName "
                               "health @include(if: false) { status } } } }"))
@example(case=_one(*HANOI, "query($s: Boolean!) { civilServants(first: 1) { nodes { fullName "
                           "religion @skip(if: $s) } } }", {"s": True}))
# in a second operation of the document, the first one selected by operationName
@example(case=_one(*PAYROLL, "query A { civilServants(first: 1) { nodes { employeeCode } } } "
                             "query B { civilServants(first: 1) { nodes { fullName } } }",
                   operation_name="A"))
# in a batch: each operation answered as if sent alone
@example(case=Case(*HANOI, (
    Payload('{ civilServant(employeeCode: "⟪emp:0⟫") { zzEmployeeCode: employeeCode '
            "personalId } }"),
    Payload('{ civilServant(employeeCode: "⟪emp:0⟫") { religion } }'),
    Payload("{ agencies(filter: {provinceCode: \"44\"}) { zzAgencyCode: code name } }")),
    batch=True))
# a forbidden root field, a forbidden argument, a forbidden filter field
@example(case=_one(*HANOI, '{ person(personalId: "⟪person:0⟫") { fullName } }'))
@example(case=_one(*STATISTICS, '{ civilServants(first: 1, after: "⟪cursor:0⟫") { totalCount } }'))
@example(case=_one(*PAYROLL, '{ civilServants(filter: {namePrefix: "Ng"}) { totalCount } }'))
# ... and the same filter field passed in a variable (refused when the variables are coerced)
@example(case=_one(*PAYROLL, "query($f: CivilServantFilter) { civilServants(first: 2, filter: $f) "
                             "{ nodes { employeeCode } } }", {"f": {"namePrefix": "Ng"}}))
# introspection lists exactly the view
@example(case=_one(*IDENTITY_CHECK, '{ __type(name: "CivilServant") { ' + INTROSPECTED_FIELDS
                   + " } }"))
@example(case=_one(*HANOI, '{ a: __type(name: "CivilServant") { ' + INTROSPECTED_FIELDS
                   + ' } b: __type(name: "PartyMembership") { name } }'))
@example(case=_one(*INSPECTION, SCHEMA_TYPES))
@example(case=_one(*STATISTICS, SCHEMA_TYPES))
@example(case=_one(*IDENTITY_CHECK, SCHEMA_TYPES))
# masks, and rows reached through links
@example(case=_one(*INSPECTION, "{ civilServants(first: 5) { nodes { zzEmployeeCode: "
                                "employeeCode personalId birthDate } } }"))
@example(case=_one(*PAYROLL, '{ agency(code: "⟪agency:0⟫") { employees(first: 3) { nodes { '
                             "zzEmployeeCode: employeeCode personalId status } } } }"))
@example(case=_one(*HANOI, '{ agency(code: "000.00.00.H01") { zzAgencyCode: code children { '
                           "zzAgencyCode: code employees(first: 2) { nodes { zzEmployeeCode: "
                           "employeeCode agency { zzAgencyCode: code parent { zzAgencyCode: code "
                           "} } } } } } }"))
# an undeclared purpose
@example(case=_one("mps-identity", "administration", "{ __typename }"))
def test_a_client_gets_its_view_and_nothing_more(world: World, case: Case) -> None:
    run_case(world, case)


@pytest.mark.parametrize("target", sorted(VIEWS), ids="/".join)
def test_introspection_lists_exactly_the_view(world: World, target: tuple[str, str]) -> None:
    """For every view: __schema lists the view's types and fields, __type of anything else is
    null, and the input types offer only the filters the view may use."""
    view = VIEWS[target]
    absent = sorted(set(OBJECT_TYPES) - reachable_types(view))
    lookups = " ".join(f'{name}: __type(name: "{name}") {{ {INTROSPECTED_FIELDS} }}'
                       for name in sorted(OBJECT_TYPES) + INPUT_TYPES)
    run_case(world, _one(*target, SCHEMA_TYPES[:-1] + lookups + " }"))
    answer = world.post(*target, {"query": "{ " + lookups + " }"}).json()
    assert all(answer["data"][name] is None for name in absent), answer


@pytest.mark.parametrize("target", [HANOI, PAYROLL], ids="/".join)
def test_counts_honour_the_row_filters(world: World, target: tuple[str, str]) -> None:
    """totalCount and headcount count only the rows the view may see: a count over rows a
    client cannot read would tell it about them."""
    view = VIEWS[target]
    passing = {c for c in world.employees
               if row_condition_failed(world, view, "CivilServant", c) is None}
    answer = world.post(*target, {"query": "{ civilServants { totalCount } "
                                           '  a: agency(code: "000.00.01.G02") { headcount '
                                           "employees { totalCount } } }"}).json()
    assert answer["data"]["civilServants"]["totalCount"] == len(passing), answer
    staffed = sum(1 for c in passing if world.employees[c]["agency_code"] == "000.00.01.G02")
    agency = answer["data"]["a"]
    if agency is not None:
        assert agency["headcount"] == agency["employees"]["totalCount"] == staffed, answer
