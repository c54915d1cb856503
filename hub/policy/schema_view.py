"""A client's own GraphQL schema: the full schema with only the granted fields in it.

Built at the graphql-core level from the full schema's types: same names, same resolvers,
same scalars and enums, fewer fields. A field outside the grants is not hidden at run time,
it does not exist, so introspection, GraphiQL and validation all agree on it. A masked field
is shown with the type its mask produces and reads the masked value the loaders put beside
the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    get_named_type,
)

from resolvers.entities import column_of
from resolvers.grants import ROW_KEY_EXTENSION, masked_key
from resolvers.masks import MASKS

__all__ = ["Allowed", "Visible", "build_client_schema"]

# type name -> field name -> mask (None: shown as it is)
Visible = Mapping[str, Mapping[str, str | None]]
# (type or "Type.field" of an argument, field or argument name) -> may the client have it?
Allowed = Callable[[str, str], bool]

_MASK_TYPES = {"String": GraphQLString, "Int": GraphQLInt}


def _rewrap(type_: Any, named: GraphQLNamedType) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return GraphQLNonNull(_rewrap(type_.of_type, named))
    if isinstance(type_, GraphQLList):
        return GraphQLList(_rewrap(type_.of_type, named))
    return named


def _row_reader(key: str) -> Callable[..., Any]:
    def read(source: Any, *_: Any, **__: Any) -> Any:
        return source.get(key)

    read._is_default = True  # type: ignore[attr-defined]  # a plain read: the plan's fast path
    return read


class _Builder:
    def __init__(self, full: GraphQLSchema, visible: Visible, allowed: Allowed) -> None:
        self._full = full
        self._visible = visible
        self._allowed = allowed
        self._objects: dict[str, GraphQLObjectType] = {}
        self._inputs: dict[str, GraphQLInputObjectType | None] = {}

    def object(self, name: str) -> GraphQLObjectType:
        built = self._objects.get(name)
        if built is None:
            original = self._full.type_map[name]
            assert isinstance(original, GraphQLObjectType)
            built = GraphQLObjectType(
                name, fields=lambda: self._fields(original), description=original.description,
                is_type_of=original.is_type_of, extensions=original.extensions)
            self._objects[name] = built
        return built

    def _fields(self, original: GraphQLObjectType) -> dict[str, GraphQLField]:
        fields = {}
        visible = self._visible[original.name]
        for name, field in original.fields.items():  # the full schema's order
            if name not in visible:
                continue
            mask = visible[name]
            if mask is not None:
                key = masked_key(column_of(field, name), mask)
                fields[name] = GraphQLField(
                    _rewrap(field.type, _MASK_TYPES[MASKS[mask].shown_as]),
                    resolve=_row_reader(key),
                    description=f"{field.description or ''} (masked: {mask})".strip(),
                    extensions={**field.extensions, ROW_KEY_EXTENSION: key})
                continue
            args = self._arguments(f"{original.name}.{name}", field.args)
            fields[name] = GraphQLField(
                self._output(field.type), args=args, resolve=field.resolve,
                subscribe=field.subscribe, description=field.description,
                deprecation_reason=field.deprecation_reason, extensions=field.extensions)
        return fields

    def _output(self, type_: GraphQLOutputType) -> Any:
        named = get_named_type(type_)
        if isinstance(named, GraphQLObjectType):
            return _rewrap(type_, self.object(named.name))
        return type_

    def _arguments(self, owner: str, args: Mapping[str, GraphQLArgument]
                   ) -> dict[str, GraphQLArgument]:
        kept = {}
        for name, argument in args.items():
            if not self._allowed(owner, name):
                continue
            type_ = self._input(argument.type)
            if type_ is None:
                continue
            kept[name] = GraphQLArgument(
                type_, default_value=argument.default_value, description=argument.description,
                deprecation_reason=argument.deprecation_reason, out_name=argument.out_name,
                extensions=argument.extensions)
        return kept

    def _input(self, type_: GraphQLInputType) -> Any:
        """The input type with the fields the client may filter by; None if none is left
        (the argument is then dropped: every such argument is optional)."""
        named = get_named_type(type_)
        if not isinstance(named, GraphQLInputObjectType):
            return type_
        if named.name not in self._inputs:
            kept = {name: field for name, field in named.fields.items()
                    if self._allowed(named.name, name)}
            if kept and any(isinstance(f.type, GraphQLNonNull) for f in named.fields.values()
                            if f not in kept.values()):
                kept = {}  # a required input field cannot be dropped: drop the argument
            self._inputs[named.name] = None if not kept else GraphQLInputObjectType(
                named.name, description=named.description, out_type=named.out_type,
                extensions=named.extensions,
                fields={name: GraphQLInputField(
                    f.type, default_value=f.default_value, description=f.description,
                    out_name=f.out_name, deprecation_reason=f.deprecation_reason,
                    extensions=f.extensions) for name, f in kept.items()})
        built = self._inputs[named.name]
        return None if built is None else _rewrap(type_, built)


def build_client_schema(full: GraphQLSchema, visible: Visible, allowed: Allowed
                        ) -> GraphQLSchema:
    """``visible`` must be closed: every object type a visible field leads to is in it."""
    builder = _Builder(full, visible, allowed)
    query = builder.object("Query")
    # A client that may submit changes has the mutations of the kinds it may submit.
    mutation = builder.object("Mutation") if visible.get("Mutation") else None
    schema = GraphQLSchema(query=query, mutation=mutation, directives=full.directives,
                           description=full.description, extensions=full.extensions)
    # Resolvers that ask strawberry's Info for the schema find the full one: it holds the same
    # types, and nothing there discloses data.
    schema._strawberry_schema = getattr(full, "_strawberry_schema", None)  # type: ignore[attr-defined]
    return schema
