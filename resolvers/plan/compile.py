"""Compiling a selection set into a plan for one object type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from math import isfinite
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    InlineFragmentNode,
    Node,
    SelectionSetNode,
    VariableNode,
)
from graphql.execution.values import get_argument_values, get_directive_values
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective

from resolvers.entities import column_of
from resolvers.grants import ROW_KEY_EXTENSION
from resolvers.links import LINKS, Link

__all__ = ["FieldKind", "FieldPlan", "ObjectPlan", "PlanCompiler", "Unsupported"]


class Unsupported(Exception):
    """The selection needs something the plan executor does not do: use graphql-core."""


class FieldKind(Enum):
    VALUE = 1      # read from the parent dict (leaf or nested object)
    LINK = 2       # batched through a loader, a level at a time
    RESOLVER = 3   # the field's own resolver, called per object
    TYPENAME = 4


@dataclass(slots=True, eq=False)
class ObjectPlan:
    type_name: str
    fields: list[FieldPlan] = field(default_factory=list)
    fetches: bool = False   # does this object or anything below need fetching?
    builder: Callable[..., dict[str, Any]] | None = None  # generated on first use
    disclosed: frozenset[str] | None = None  # "Type.field" names, for the audit log


@dataclass(slots=True, eq=False)
class FieldPlan:
    key: str                        # response key (alias or name)
    name: str                       # dict key in the parent row (python name)
    kind: FieldKind
    nullable: bool
    is_list: bool
    item_nullable: bool
    nodes: list[FieldNode]
    parent_type: GraphQLObjectType
    field_def: GraphQLField | None
    serialize: Callable[[Any], Any] | None = None
    sub: ObjectPlan | None = None
    link: Link | None = None
    args: dict[str, Any] = field(default_factory=dict)
    type_name: str = ""

    @property
    def graphql_name(self) -> str:
        return self.nodes[0].name.value


_SERIALIZERS: dict[int, tuple[Any, Callable[[Any], Any]]] = {}
_INT32 = 2**31


def _serializer(named: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """The output coercion of a leaf type (made once per type)."""
    cached = _SERIALIZERS.get(id(named))
    if cached is not None and cached[0] is named:
        return cached[1]
    serializer = _make_serializer(named)
    _SERIALIZERS[id(named)] = (named, serializer)
    return serializer


def _make_serializer(named: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """The output coercion of a leaf type, with the common exact-type cases short-cut."""
    if isinstance(named, GraphQLEnumType):
        names = {value.value: name for name, value in named.values.items()}
        serialize = named.serialize

        def enum(value: Any) -> Any:
            try:
                return names[value]
            except (KeyError, TypeError):
                return serialize(value)

        return enum
    slow = named.serialize
    if named is GraphQLInt:
        def int32(value: Any) -> Any:  # GraphQL Int is 32-bit: larger values go to coercion
            return value if type(value) is int and -_INT32 <= value < _INT32 else slow(value)

        return int32
    if named is GraphQLFloat:
        def finite(value: Any) -> Any:  # NaN and infinities are not GraphQL Floats
            return value if type(value) is float and isfinite(value) else slow(value)

        return finite
    fast = {GraphQLString: str, GraphQLBoolean: bool}.get(named)
    if fast is None:
        return slow

    def scalar(value: Any) -> Any:
        return value if type(value) is fast else slow(value)

    return scalar


class PlanCompiler:
    """Builds plans for one operation, with that request's variables."""

    def __init__(self, schema: Any, fragments: dict[str, FragmentDefinitionNode],
                 variables: Any) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables
        # Whether a plan made here read any variable (in an argument or @skip/@include below
        # the root): only plans that did not can be reused for another request.
        self.read_variables = False

    def group(self, type_: GraphQLObjectType, nodes: Sequence[Any]) -> dict[str, list[FieldNode]]:
        """The fields selected on ``type_`` under ``nodes`` (fields or an operation), by
        response key, with fragments expanded and @skip/@include applied."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()  # shared, as in graphql-core: a fragment counts once
        for node in nodes:
            if node.selection_set is not None:
                self._collect(type_, node.selection_set, grouped, visited)
        return grouped

    def object_plan(self, type_: GraphQLObjectType, nodes: Sequence[FieldNode]) -> ObjectPlan:
        plan = ObjectPlan(type_.name)
        for key, field_nodes in self.group(type_, nodes).items():
            plan.fields.append(self._field_plan(type_, key, field_nodes))
        plan.fetches = any(f.kind in (FieldKind.LINK, FieldKind.RESOLVER)
                           or (f.sub is not None and f.sub.fetches) for f in plan.fields)
        return plan

    def _included(self, node: Any) -> bool:
        if not node.directives:
            return True
        if _has_variable(node.directives):
            self.read_variables = True
        for directive in node.directives:
            if directive.name.value not in ("skip", "include"):
                raise Unsupported(f"directive @{directive.name.value}")
        skip = get_directive_values(GraphQLSkipDirective, node, self._variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self._variables)
        return not (include and include.get("if") is False)

    def _applies(self, type_: GraphQLObjectType, condition: Any) -> bool:
        if condition is None:
            return True
        name = condition.name.value
        return name == type_.name or any(i.name == name for i in type_.interfaces)

    def _collect(self, type_: GraphQLObjectType, selection_set: SelectionSetNode,
                 grouped: dict[str, list[FieldNode]], visited: set[str]) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(type_, selection.type_condition):
                    self._collect(type_, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(type_, fragment.type_condition):
                    self._collect(type_, fragment.selection_set, grouped, visited)
            else:
                raise Unsupported(type(selection).__name__)

    def _field_plan(self, parent: GraphQLObjectType, key: str,
                    nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            return FieldPlan(key, name, FieldKind.TYPENAME, False, False, False, nodes, parent,
                             None, type_name=parent.name)
        if name.startswith("__"):
            raise Unsupported("introspection below the root")
        field_def = parent.fields[name]
        nullable, is_list, item_nullable, named = _shape(field_def.type)
        python_name = field_def.extensions.get(ROW_KEY_EXTENSION) or column_of(field_def, name)
        link = LINKS.get((parent.name, name))
        if link is not None and not field_def.args:
            kind = FieldKind.LINK
        elif getattr(field_def.resolve, "_is_default", False) or field_def.resolve is None:
            kind = FieldKind.VALUE
        else:
            kind = FieldKind.RESOLVER
        plan = FieldPlan(key, python_name, kind, nullable, is_list, item_nullable, nodes,
                         parent, field_def, link=link if kind is FieldKind.LINK else None)
        if kind is FieldKind.RESOLVER and (field_def.args or nodes[0].arguments):
            if _has_variable(nodes[0].arguments):
                self.read_variables = True
            plan.args = get_argument_values(field_def, nodes[0], self._variables)
        if isinstance(named, GraphQLObjectType):
            plan.sub = self.object_plan(named, nodes)
        elif isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
            plan.serialize = _serializer(named)
        else:
            raise Unsupported(f"abstract type {named}")
        return plan


def _has_variable(node: Any) -> bool:
    """Does this AST (node, or list of nodes) refer to a variable anywhere?"""
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, (list, tuple)):
        return any(_has_variable(n) for n in node)
    if isinstance(node, Node):
        return any(_has_variable(getattr(node, key)) for key in node.keys
                   if key != "loc")
    return False


def _shape(type_: GraphQLOutputType) -> tuple[bool, bool, bool, Any]:
    """(nullable, is list, item nullable, named type); nested lists are not planned."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        item = inner.of_type
        item_nullable = not isinstance(item, GraphQLNonNull)
        named = item.of_type if isinstance(item, GraphQLNonNull) else item
        if isinstance(named, (GraphQLList, GraphQLNonNull)):
            raise Unsupported("nested lists")
        return nullable, True, item_nullable, named
    return nullable, False, False, inner
