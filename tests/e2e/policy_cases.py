"""Random GraphQL documents for the policy property test (test_policy_properties.py): valid
over the full schema, aimed at views with masks and row filters, with aliases, fragments,
directives, variables, several operations and batches, and at times a field outside the view.
Keys of the seeded data are placeholders (``⟪pool:index⟫``), resolved per test.
"""


from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    get_named_type,
    parse,
)
from hypothesis import strategies as st

from hub.policy.compile import ClientView, PolicyEngine
from hub.policy.load import load_policy_dir
from resolvers.query import REVEALED_WHERE_SHOWN, REVEALS
from resolvers.schema import build_schema

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


def visible_of(view: ClientView | None) -> Mapping[str, Mapping[str, str | None]] | None:
    return None if view is None else view.visible


def reveals_ok(visible: Mapping[str, Mapping[str, str | None]] | None, owner: str,
               name: str) -> bool:
    """May a client use this argument or filter field? Only if it sees, unmasked, every field
    whose values the argument would let it learn."""
    needs = REVEALS.get((owner, name))
    if visible is None or needs is None:
        return True
    if (owner, name) in REVEALED_WHERE_SHOWN:
        return all(visible.get(t, {}).get(f) is None for t, f in needs)
    return all(f in visible.get(t, {}) and visible[t][f] is None for t, f in needs)


def reachable_types(view: ClientView) -> set[str]:
    """Object types of the client's schema: those a visible field leads to from Query (and
    from Mutation, for a client that may submit changes)."""
    roots = ["Query", *(["Mutation"] if view.visible.get("Mutation") else [])]
    seen, todo = set(roots), list(roots)
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
        elif owner == "Query.accessHistory":
            args.append(f'personalId: "⟪pid:{draw(index)}⟫"')
        elif owner == "Query.appointmentCheck":
            args.append(f'personalId: "⟪pid:{draw(index)}⟫"')
            if draw(st.booleans()):
                args.append('asOf: "2026-11-01"')
        elif owner == "Query.person":
            args.append(f'personalId: "⟪person:{draw(index)}⟫"')
        elif owner == "Query.agency":
            args.append(f'code: "⟪agency:{draw(index)}⟫"')
        elif owner == "Query.dataQuality":
            args.append(f'agencyCode: "⟪agency:{draw(index)}⟫"')
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


