"""Hypothesis strategies for GraphQL requests built from a client's own schema (as its
introspection shows it), for the schema-aware fuzz (test_schema_fuzz.py).

Documents are valid or nearly valid, so most of them reach execution: random root fields,
nested selections down to a bounded depth, aliases, named and inline fragments, @skip and
@include, arguments of the right type passed inline or as declared variables. Hostile values
sit where the types allow them (Int bounds, NUL, very long and metacharacter-laden strings,
malformed personal IDs and dates, unknown enum values, input objects with missing or extra
fields, empty and long lists), and now and then the document or its variables are a little
wrong: a value of the wrong type, a missing required argument or variable, a variable declared
with the wrong type, an unknown operation name.

Every response key names one field (with one set of arguments) per type across the document,
so fragments merging selections never conflict unless a deliberate mistake says so.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
)
from hypothesis import strategies as st

from tests.e2e.policy_cases import Payload

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_ROOT_FIELDS", "Request", "Samples", "oversized",
           "requests"]

T = TypeVar("T")
_PERMILLE = st.sampled_from(range(1000))

# The hub's default bounds on one operation (hub/query_cost.py Limits; README "Limits").
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_ROOT_FIELDS = 20
MAX_COST = 50_000

INT_EDGES = [0, 1, -1, 2, 3, 5, 10, 20, 99, 100, 101, 1000, 2**31 - 1, -(2**31)]
INT_OUT_OF_RANGE = [2**31, -(2**31) - 1, 2**53 + 1, 10**30]
FLOAT_EDGES = [0.0, -0.0, 0.5, -1.5, 1e-300, 1.7976931348623157e308, 3.14]
HOSTILE_STRINGS = [
    "", " ", "'", '"', "\\", "%", "_", "%_%", "' OR '1'='1", "'; DROP TABLE civil_servant; --",
    "$1", "\u0000", "Nguy\u0000n", "\x7f\x1b[31m", ".*", "(a+)+$", "[", "\\d{3}", "^$|",
    "🙂", "Nguyễn Văn A", "ＮＧＵＹỄＮ", "\u202eevil", "\ufeff01", "null", "undefined", "NaN",
    "${jndi:ldap://x}", "<script>alert(1)</script>", "../../etc/passwd", "E0000001",
    "01", "79", "000.00.00.G02", "000.00.01.H01", "01.003", "\n\r\t", "a" * 300, "x" * 10_000,
    "🙂" * 2_000, "9" * 40, "-1", "1e309", "true", "{}", "[]", "\u00a0",
]
PERSONAL_IDS_MALFORMED = ["", "123", "0010850123456", "abcdefghijkl", "001085O12345",
                          "999085012345", "０１０８５０１２３４５", "001085012345' OR '1'='1",
                          "00108501234\u0000", " 001085012345", "-01085012345", "1e11",
                          "001085012345" * 100]
DATES_VALID = ["2026-01-01", "2024-02-29", "1900-01-01", "0001-01-01", "9999-12-31"]
DATES = [*DATES_VALID, "2026-02-29",
         "2026-13-01", "2026-00-10", "", "yesterday", "20260101", "+002026-01-01",
         "2026-01-01T00:00:00", "1970-01-01", "2026-W01-1", "-0001-01-01", "2026-1-1"]
DATETIMES_VALID = ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+07:00",
                   "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                   "9999-12-31T23:59:59.999999Z"]
DATETIMES = [*DATETIMES_VALID, "2026-01-01",
             "1970-01-01T00:00:00.000001Z", "2026-01-01T25:00:00Z", "not a time", "",
             "2026-01-01T00:00:00+99:00", "2026-06-15 12:00", "0000-00-00T00:00:00Z"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Things shaped like compact JWS that no registered key signed (submissions must be signed).
FAKE_JWS = [
    "", "not-a-jws", "a.b.c", "..", "a.b", "a.b.c.d.e",
    _b64(b'{"alg":"none"}') + "." + _b64(b'{"employeeCode":"E0000001"}') + ".",
    _b64(b'{"alg":"ES256","kid":"nope"}') + "." + _b64(b'{"kind":"evaluation"}') + "."
    + _b64(b"\x00" * 64),
    _b64(b'{"alg":"HS256","kid":"../../etc/passwd"}') + "." + _b64(b"[]") + "." + _b64(b"x"),
    _b64(b"not json") + "." + _b64(b"{}") + "." + _b64(b"sig"),
    _b64(b'{"alg":"ES256"}') + "." + _b64(b'{"a":' * 200 + b"1" + b"}" * 200) + ".sig",
]


@dataclass(frozen=True)
class Samples:
    """Keys read from the seeded data, so that arguments sometimes find real rows."""

    employee_codes: tuple[str, ...] = ()
    personal_ids: tuple[str, ...] = ()
    agency_codes: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # provinces, ranks and the like
    ids: tuple[str, ...] = ()  # cursors and other opaque strings the hub handed out


@dataclass(frozen=True)
class Request(Payload):
    """One operation as sent: ``variables`` is usually an object, and not sent when None."""

    variables: Any = None
    mutation: bool = False

    def __str__(self) -> str:  # what a failure prints
        variables = json.dumps(self.variables, ensure_ascii=False, default=repr)
        return (f"\n--- document ---\n{self.query}\n--- variables ---\n{variables[:5_000]}"
                f"\n--- operationName --- {self.operation_name!r}\n")


def _graphql_string(value: str) -> str:
    """A GraphQL string literal (JSON's escapes are GraphQL's too)."""
    return json.dumps(value, ensure_ascii=False)


@dataclass
class _Builder:
    draw: st.DrawFn
    schema: GraphQLSchema
    samples: Samples
    hostile: bool = True  # False: only valid documents and values (mistakes left out)
    max_depth: int = 4
    definitions: list[str] = field(default_factory=list)  # $v: Type
    variables: dict[str, Any] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)
    counter: int = 0
    constant: bool = False  # inside a variable's default value: no variables there

    # -- small draws ------------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        """True with probability about ``p`` (hypothesis shrinks it towards False)."""
        # Uniform (hypothesis biases integers towards their bounds); shrinks towards 0: False.
        return self.draw(_PERMILLE) >= 1000 - p * 1000

    def mistake(self, p: float) -> bool:
        return self.hostile and self.chance(p)

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def pick(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(options))

    # -- values -----------------------------------------------------------------------------

    def string(self, scalar: str = "String") -> str:
        pools: list[list[str]] = [HOSTILE_STRINGS]
        if scalar == "ID":
            pools.append(list(self.samples.ids) or ["1"])
            pools.append(["1", "0", "-1", "00000000-0000-0000-0000-000000000000", "9" * 30])
        else:
            for pool in (self.samples.employee_codes, self.samples.agency_codes,
                         self.samples.codes, self.samples.personal_ids):
                if pool:
                    pools.append(list(pool))
        choice = self.draw(st.integers(0, len(pools)))
        if choice == len(pools):
            return self.draw(st.text(max_size=30))
        return str(self.pick(pools[choice]))

    def scalar_value(self, scalar: GraphQLScalarType) -> Any:
        """A Python value of the scalar (valid as far as its GraphQL type goes)."""
        name = scalar.name
        if name == "Int":
            return self.pick(INT_EDGES)
        if name == "Float":
            return self.pick(FLOAT_EDGES + [float(i) for i in INT_EDGES])
        if name == "Boolean":
            return self.draw(st.booleans())
        if name == "PersonalId":
            pool = list(self.samples.personal_ids) or ["001085012345"]
            return self.pick(pool) if not self.hostile or self.chance(0.6) else self.pick(
                [*PERSONAL_IDS_MALFORMED, "001085999999", "079199000001"])
        if name == "Date":
            return self.pick(DATES if self.hostile else DATES_VALID)
        if name == "DateTime":
            return self.pick(DATETIMES if self.hostile else DATETIMES_VALID)
        if name == "ID" and self.chance(0.2):
            return self.pick([0, 1, -1, 2**31 - 1])
        return self.string(name)

    def wrong_value(self) -> Any:
        """A JSON value of some other type than the one wanted."""
        return self.pick([None, True, 0, -1, 2**31, 10**30, 1.5, "", "ten", [], [1, "a"], {},
                          {"zz": 1}, [[[]]], {"a": {"b": {"c": None}}}, "🙂" * 50])

    def json_value(self, kind: GraphQLInputType, depth: int = 0, *,
                   nullable: bool = True) -> Any:
        """A value for a variable of this type, as JSON."""
        if self.mistake(0.04):
            return self.wrong_value()
        if isinstance(kind, GraphQLNonNull):
            if self.mistake(0.03):
                return None
            return self.json_value(kind.of_type, depth, nullable=False)
        if nullable and self.chance(0.05):
            return None
        if isinstance(kind, GraphQLList):
            if self.chance(0.15):  # a single item where a list is wanted coerces to a list
                return self.json_value(kind.of_type, depth + 1)
            size = self.draw(st.integers(0, 3 if depth else 6))
            if self.chance(0.05):
                size = self.draw(st.integers(20, 120))
            return [self.json_value(kind.of_type, depth + 1)
                    for _ in range(size)]
        if isinstance(kind, GraphQLInputObjectType):
            return {name: self.json_value(f.type, depth + 1)
                    for name, f in self._input_fields(kind).items()} | (
                {"zzUnknown": 1} if self.mistake(0.05) else {})
        if isinstance(kind, GraphQLEnumType):
            if self.mistake(0.1):
                return self.pick(["WIZARD", "active", "", "ACTIVE ", 1])
            return self.pick(sorted(kind.values))
        assert isinstance(kind, GraphQLScalarType)
        value = self.scalar_value(kind)
        if kind.name == "Int" and self.mistake(0.1):
            return self.pick([*INT_OUT_OF_RANGE, 1.5, "1", 1e+300])
        return value

    def literal(self, kind: GraphQLInputType, depth: int = 0, *, nullable: bool = True) -> str:
        """The same, as a GraphQL literal in the document."""
        if self.mistake(0.03):
            return self.pick(["null", '"x"', "1", "1.5", "true", "{zz: 1}", "[1, 2]", "WIZARD",
                              "{}", "[]"])
        if isinstance(kind, GraphQLNonNull):
            return self.literal(kind.of_type, depth, nullable=False)
        if nullable and self.chance(0.04):
            return "null"
        if isinstance(kind, GraphQLList):
            if self.chance(0.15):
                return self.literal(kind.of_type, depth + 1)
            size = self.draw(st.integers(0, 3 if depth else 5))
            return "[" + ", ".join(self.literal(kind.of_type, depth + 1)
                                   for _ in range(size)) + "]"
        if isinstance(kind, GraphQLInputObjectType):
            parts = [f"{name}: {self.value_or_variable(f.type, depth + 1)}"
                     for name, f in self._input_fields(kind).items()]
            if self.mistake(0.05):
                parts.append("zzUnknown: 1")
            return "{" + ", ".join(parts) + "}"
        if isinstance(kind, GraphQLEnumType):
            if self.mistake(0.1):
                return self.pick(["WIZARD", "active", '"ACTIVE"', "true", "null_"])
            return str(self.pick(sorted(kind.values)))
        assert isinstance(kind, GraphQLScalarType)
        if kind.name == "Int" and self.mistake(0.1):
            return str(self.pick(INT_OUT_OF_RANGE))
        value = self.scalar_value(kind)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(float(value)) if isinstance(value, float) else str(value)
        return _graphql_string(str(value))

    def _input_fields(self, kind: GraphQLInputObjectType) -> dict[str, Any]:
        chosen = {}
        for name, f in kind.fields.items():
            required = isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
            if (required and not self.mistake(0.05)) or (not required and self.chance(0.4)):
                chosen[name] = f
        return chosen

    def value_or_variable(self, kind: GraphQLInputType, depth: int = 0) -> str:
        if self.constant or not self.chance(0.35):
            return self.literal(kind, depth)
        name = self.fresh("v")
        declared = str(kind)
        if self.mistake(0.05):
            declared = self.pick(["String", "Int!", "[String]", "Boolean", "CivilServantFilter",
                                  str(get_named_type(kind)), "Unknown"])
        default = ""
        if isinstance(kind, GraphQLNonNull) and self.mistake(0.2):
            # A nullable variable with a default may fill a non-null position (validation
            # lets it); sent as null, it must fail as the client's error, not the hub's.
            self.constant = True
            default = " = " + self.literal(kind.of_type, depth + 1, nullable=False)
            self.constant = False
            self.definitions.append(f"${name}: {kind.of_type}{default}")
            self.variables[name] = None
            return f"${name}"
        if not isinstance(kind, GraphQLNonNull) and self.chance(0.15):
            self.constant = True
            default = " = " + self.literal(kind, depth + 1)
            self.constant = False
        self.definitions.append(f"${name}: {declared}{default}")
        if self.mistake(0.06):
            return f"${name}"  # declared but no value sent: required ones must fail cleanly
        self.variables[name] = self.json_value(kind, depth)
        return f"${name}"

    def arguments(self, args: dict[str, GraphQLArgument]) -> str:
        parts = []
        for name, argument in args.items():
            required = (isinstance(argument.type, GraphQLNonNull)
                        and argument.default_value is Undefined)
            if required and self.mistake(0.03):
                continue
            if required or self.chance(0.45):
                parts.append(f"{name}: {self.value_or_variable(argument.type)}")
        if self.mistake(0.005):
            parts.append("zzUnknown: 1")
        return f"({', '.join(parts)})" if parts else ""

    # -- selections -------------------------------------------------------------------------

    def directive(self) -> str:
        if not self.chance(0.12):
            return ""
        name = self.pick(["skip", "include"])
        if self.chance(0.5):
            return f" @{name}(if: {self.pick(['true', 'false'])})"
        variable = self.fresh("b")
        declared = "Boolean!" if not self.mistake(0.1) else self.pick(
            ["Boolean", "Int", "String", "Boolean = false"])
        self.definitions.append(f"${variable}: {declared}")
        value: Any = self.draw(st.booleans())
        if self.mistake(0.1) or (declared.endswith("= false") and self.chance(0.5)):
            value = self.pick([None, "yes", 1, [], {}])
        if not self.mistake(0.05):
            self.variables[variable] = value
        return f" @{name}(if: ${variable})"

    def field(self, parent: GraphQLObjectType, name: str, depth: int) -> str:
        definition: GraphQLField = parent.fields[name]
        args = self.arguments(definition.args)
        target = get_named_type(definition.type)
        sub = ""
        if isinstance(target, GraphQLObjectType):
            sub = " " + self.selection_set(target, depth + 1)
        signature = name + args
        alias = None
        if self.chance(0.15) or self.keys.setdefault((parent.name, name), signature) != signature:
            alias = self.fresh("a")
        prefix = f"{alias}: " if alias else ""
        return f"{prefix}{name}{args}{self.directive()}{sub}"

    def selection_set(self, kind: GraphQLObjectType, depth: int) -> str:
        names = sorted(kind.fields)
        if depth >= self.max_depth:
            # Deep enough: leaves only (or just __typename).
            names = [n for n in names
                     if not isinstance(get_named_type(kind.fields[n].type), GraphQLObjectType)]
        parts: list[str] = []
        if names:
            chosen = self.draw(st.lists(st.sampled_from(names), min_size=1,
                                        max_size=min(4, len(names))))
            parts = [self.field(kind, n, depth) for n in chosen]
        if not parts or self.chance(0.1):
            parts.append(f"{self.fresh('t')}: __typename" if self.chance(0.3) else "__typename")
        if depth < self.max_depth and self.chance(0.1):  # an inline fragment, typed or not
            on = f"on {kind.name} " if self.chance(0.6) else ""
            if self.mistake(0.05):
                on = f"on {self.pick(self._object_types())} "  # maybe impossible: validation
            parts.append(f"... {on}{self.directive()}{self.selection_set(kind, depth + 1)}")
        if depth < self.max_depth and self.chance(0.08):  # a named fragment
            fragment = self.fresh("F")
            body = self.selection_set(kind, depth + 1)
            self.fragments.append(f"fragment {fragment} on {kind.name} {body}")
            parts.append(f"...{fragment}{self.directive()}")
        if self.mistake(0.02):
            parts.append(self.pick(["zzNoSuchField", "...Undefined", "__schema", "a: b: c"]))
        return "{ " + " ".join(parts) + " }"

    def _object_types(self) -> list[str]:
        return sorted(name for name, t in self.schema.type_map.items()
                      if isinstance(t, GraphQLObjectType) and not name.startswith("__"))

    def operation(self, root: GraphQLObjectType, keyword: str, max_root: int = 3) -> Request:
        names = sorted(root.fields)
        chosen = self.draw(st.lists(st.sampled_from(names), min_size=1, max_size=max_root))
        body = "{ " + " ".join(self.field(root, n, 1) for n in chosen) + " }"
        name = self.fresh("Op") if self.chance(0.4) or self.definitions else None
        header = keyword
        if name is not None:
            header += f" {name}"
        if self.definitions:
            header += f"({', '.join(self.definitions)})"
        if keyword == "query" and name is None and self.chance(0.5):
            header = ""  # the shorthand
        document = f"{header} {body}".strip()
        operation_name = name if name is not None and self.chance(0.7) else None
        if self.chance(0.08):  # another operation beside it: the name picks the one to run
            document += " query Other { __typename }"
            operation_name = name
        if self.mistake(0.03):
            operation_name = self.pick(["Nope", "", "Other"])
        document = " ".join([document, *self.fragments])
        variables: Any = self.variables if self.variables or self.chance(0.5) else None
        if self.mistake(0.02):
            variables = self.pick([[], "x", 1, [self.variables]])
        return Request(document, variables, operation_name, keyword == "mutation")


def requests(schema: GraphQLSchema, samples: Samples, *, hostile: bool = True,
             max_depth: int = 4) -> st.SearchStrategy[Request]:
    """Queries (and mutations, when the schema has them) over ``schema``."""

    @st.composite
    def build(draw: st.DrawFn) -> Request:
        # About one document in three carries mistakes (invalid values, unknown names, wrong
        # variable types...); the others are valid, so that they reach execution, with hostile
        # values where the types let them through (strings, IDs, Int bounds).
        mistakes = hostile and draw(st.integers(0, 99)) < 35
        builder = _Builder(draw, schema, samples, mistakes, max_depth)
        mutation = schema.mutation_type
        if mutation is not None and builder.chance(0.25):
            return builder.operation(mutation, "mutation", max_root=2)
        assert schema.query_type is not None
        return builder.operation(schema.query_type, "query")

    return build()


# -- operations over the bounds --------------------------------------------------------------


def _heights(schema: GraphQLSchema, cap: int) -> dict[str, int]:
    """How deep a selection can go from each object type (capped: cycles reach the cap)."""
    objects = {n: t for n, t in schema.type_map.items()
               if isinstance(t, GraphQLObjectType) and not n.startswith("__")}
    height = dict.fromkeys(objects, 1)
    for _ in range(cap):
        for name, kind in objects.items():
            below = [height[t.name] for f in kind.fields.values()
                     if isinstance(t := get_named_type(f.type), GraphQLObjectType)
                     and t.name in height]
            height[name] = min(cap, 1 + max(below, default=0))
    return height


def _leaf(kind: GraphQLObjectType) -> str:
    leaves = sorted(n for n, f in kind.fields.items()
                    if not isinstance(get_named_type(f.type), GraphQLObjectType)
                    and not any(isinstance(a.type, GraphQLNonNull) for a in f.args.values()))
    return leaves[0] if leaves else "__typename"


def _is_list(definition: GraphQLField) -> bool:
    kind = definition.type
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


def oversized(schema: GraphQLSchema, samples: Samples) -> st.SearchStrategy[Request]:
    """A valid operation over one of the bounds (depth, aliases, root fields, estimated cost);
    over the aliases when this schema has no way over the bound drawn."""
    query = schema.query_type
    assert query is not None

    @st.composite
    def build(draw: st.DrawFn) -> Request:
        builder = _Builder(draw, schema, samples, hostile=False, max_depth=1)
        bound = draw(st.sampled_from(["aliases", "root fields", "depth", "cost"]))
        found: Request | None = None
        if bound == "root fields":
            count = draw(st.integers(MAX_ROOT_FIELDS + 1, MAX_ALIASES))
            names = sorted(query.fields)
            fields = []
            for index in range(count):
                name = draw(st.sampled_from(names))
                definition = query.fields[name]
                target = get_named_type(definition.type)
                sub = (f" {{ {_leaf(target)} }}" if isinstance(target, GraphQLObjectType)
                       else "")
                fields.append(f"r{index}: {name}{builder.arguments(definition.args)}{sub}")
            found = _finish(builder, "{ " + " ".join(fields) + " }")
        elif bound == "depth":
            target_depth = draw(st.integers(MAX_DEPTH + 1, MAX_DEPTH + 8))
            heights = _heights(schema, target_depth + 1)
            found = _chain(builder, query, target_depth, lambda kind, remaining: [
                n for n, f in kind.fields.items()
                if isinstance(t := get_named_type(f.type), GraphQLObjectType)
                and heights[t.name] >= remaining])
        elif bound == "cost":
            found = _costly(builder, query)
        if found is not None:
            return found
        count = draw(st.integers(MAX_ALIASES + 1, MAX_ALIASES + 40))
        return Request("{ " + " ".join(f"t{i}: __typename" for i in range(count)) + " }")

    return build()


def _finish(builder: _Builder, body: str) -> Request:
    header = f"query({', '.join(builder.definitions)}) " if builder.definitions else ""
    return Request(header + body, builder.variables or None)


def _chain(builder: _Builder, root: GraphQLObjectType, depth: int,
           candidates: Callable[[GraphQLObjectType, int], list[str]]) -> Request | None:
    """One path of object fields ``depth`` deep from the root, ending in a leaf."""
    opening, kind = [], root
    for level in range(depth):
        names = sorted(candidates(kind, depth - level))
        if not names:
            return None
        name = builder.draw(st.sampled_from(names))
        definition = kind.fields[name]
        opening.append(f"{name}{builder.arguments(definition.args)} {{")
        target = get_named_type(definition.type)
        assert isinstance(target, GraphQLObjectType)
        kind = target
    body = " ".join(opening) + f" {_leaf(kind)} " + "}" * depth
    return _finish(builder, "{ " + body + " }")


def _costly(builder: _Builder, root: GraphQLObjectType) -> Request | None:
    """Lists in lists: each level multiplies what the fields below may cost, until far over
    the budget (10 per list without a page of its own, ``first: 100`` where there is one)."""
    opening: list[str] = []
    kind, times, page = root, 1, None
    for _ in range(MAX_DEPTH - 1):
        if times > MAX_COST * 4:
            break
        options = []
        for name, definition in kind.fields.items():
            target = get_named_type(definition.type)
            if not isinstance(target, GraphQLObjectType) or any(
                    isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined
                    and name not in ("first",) for a in definition.args.values()):
                continue
            paged = "first" in definition.args
            if _is_list(definition) or paged:
                options.append(name)
        if not options:
            return None
        name = builder.draw(st.sampled_from(sorted(options)))
        definition = kind.fields[name]
        paged = "first" in definition.args
        if _is_list(definition):
            times *= page if page is not None else 10
        page = 100 if paged else (page if not _is_list(definition) else None)
        opening.append(f"{name}{'(first: 100)' if paged else ''} {{")
        target = get_named_type(definition.type)
        assert isinstance(target, GraphQLObjectType)
        kind = target
    if times <= MAX_COST * 4:
        return None
    leaves = sorted(n for n, f in kind.fields.items()
                    if not isinstance(get_named_type(f.type), GraphQLObjectType)
                    and not f.args) or ["__typename"]
    body = " ".join(opening) + " " + " ".join(leaves) + " " + "}" * len(opening)
    return Request("{ " + body + " }")
