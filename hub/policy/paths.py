"""How types are reached in a schema: the object types, and the fields that lead to each.

A type's data is disclosed only through a field that leads to it, so "who can reach Agency?"
is asked of the fields pointing at Agency in one client's schema, and "how could it be
reached?" of the same fields in the full schema.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import GraphQLObjectType, GraphQLSchema, get_named_type

__all__ = ["fields_leading_to", "object_types"]


def object_types(schema: GraphQLSchema) -> dict[str, GraphQLObjectType]:
    """Object types in schema order, introspection types left out."""
    return {name: t for name, t in schema.type_map.items()
            if isinstance(t, GraphQLObjectType) and not name.startswith("__")}


def fields_leading_to(types: Mapping[str, GraphQLObjectType], type_name: str) -> list[str]:
    """``Owner.field`` for every field of ``types`` whose values are ``type_name``s."""
    return [f"{owner}.{name}" for owner, object_type in types.items()
            for name, field in object_type.fields.items()
            if get_named_type(field.type).name == type_name]
