"""Compiling a policy's row conditions into the row filters loaders push down to sources.

A condition names a field of the type (``status``) or, one link away in the national
database, a field of the linked type (``agency.authority``); it compares it with literals of
the field's own type, or with one of the client's attributes. Each becomes an adapter
``Condition`` on a source column — a sub-select when it follows a link — so no policy text
ever reaches a source query as text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    get_nullable_type,
)

from adapters import Condition, RowFilter, eq, one_of, related
from hub.policy.model import AttributeRef, ClientPolicy, Purpose, RowCondition
from resolvers.entities import ENTITY_OF_TYPE, NATIONAL_ENTITIES, column_of
from resolvers.links import LINKS
from resolvers.shaping import SHAPED_FROM

__all__ = ["RowFilterCompiler"]

# GraphQL scalar -> the Python types a policy literal for it may have
_LITERAL_TYPES: dict[str, tuple[type, ...]] = {
    "String": (str,), "ID": (str,), "PersonalId": (str,), "Int": (int,),
    "Float": (int, float), "Boolean": (bool,)}


class RowFilterCompiler:
    """The row filters (per source entity) and their readable account (per type) of one
    client's purpose; each problem is reported through ``problem(type name, message)``."""

    def __init__(self, types: Mapping[str, GraphQLObjectType], client: ClientPolicy,
                 purpose: Purpose, problem: Callable[[str, str], None]) -> None:
        self.types = types
        self.client = client
        self.purpose = purpose
        self.problem = problem

    def _attribute(self, type_name: str, ref: AttributeRef) -> Any:
        if ref.attribute not in self.client.attributes:
            self.problem(type_name, f"row condition uses client attribute {ref.attribute!r}, "
                                    "which the client does not have")
            return None
        return self.client.attributes[ref.attribute]

    def _column(self, type_name: str, name: str) -> tuple[str, GraphQLField] | None:
        object_type = self.types[type_name]
        field_def = object_type.fields.get(name)
        if field_def is None:
            self.problem(type_name, f"row condition on unknown field {name!r}")
            return None
        column = column_of(field_def, name)
        named = get_named_type(field_def.type)
        if ((type_name, name) in LINKS or (type_name, column) in SHAPED_FROM
                or not isinstance(named, (GraphQLScalarType, GraphQLEnumType))
                or isinstance(get_nullable_type(field_def.type), GraphQLList)):
            self.problem(type_name, f"row condition on {name}, which is not a stored value")
            return None
        return column, field_def

    def _internal(self, field_def: GraphQLField, value: Any) -> Any:
        """The value a source holds for a policy's literal, or None if the literal is not a
        value of the field's type. A policy names enum values as GraphQL does (ACTIVE); text
        must be text (an unquoted 01 in YAML is the number 1, never equal to "01")."""
        named = get_named_type(field_def.type)
        if isinstance(named, GraphQLEnumType):
            member = named.values.get(str(value))
            return None if member is None else member.value
        expected = _LITERAL_TYPES.get(named.name)
        if expected is None or isinstance(value, bool) != (bool in expected):
            return None
        return value if isinstance(value, expected) else None

    def _condition(self, type_name: str, condition: RowCondition) -> Condition | None:
        value = condition.value
        if isinstance(value, AttributeRef):
            value = self._attribute(type_name, value)
            if value is None:
                return None
        if condition.op == "in" and not isinstance(value, tuple):
            value = (value,)
        if condition.op == "equals" and isinstance(value, tuple):
            self.problem(type_name, f"{condition.field}: `equals` needs one value, the "
                                    "attribute holds a list: use `in`")
            return None
        link_name, _, inner = condition.field.partition(".")
        if not inner:
            found = self._column(type_name, condition.field)
            if found is None:
                return None
            return self._compare(type_name, condition, found, value)
        link = LINKS.get((type_name, link_name))
        entity = ENTITY_OF_TYPE.get(type_name)
        if link is None or link.target_key is None or len(link.key_columns) != 1:
            self.problem(type_name, f"row condition through {link_name}, which is not a link "
                                    "a condition can follow")
            return None
        target = get_named_type(self.types[type_name].fields[link_name].type)
        target_entity = ENTITY_OF_TYPE.get(target.name)
        if entity not in NATIONAL_ENTITIES or target_entity not in NATIONAL_ENTITIES:
            self.problem(type_name, f"row condition through {link_name}: only the national "
                                    "database can follow a link")
            return None
        found = self._column(target.name, inner)
        if found is None:
            return None
        compared = self._compare(type_name, condition, found, value)
        if compared is None:
            return None
        assert target_entity is not None
        return related(link.key_columns[0], target_entity, link.target_key, (compared,))

    def _compare(self, type_name: str, condition: RowCondition,
                 found: tuple[str, GraphQLField], value: Any) -> Condition | None:
        column, field_def = found
        values = value if isinstance(value, tuple) else (value,)
        internal = tuple(self._internal(field_def, v) for v in values)
        if any(v is None for v in internal):
            named = get_named_type(field_def.type).name
            if named not in _LITERAL_TYPES and not isinstance(get_named_type(field_def.type),
                                                              GraphQLEnumType):
                self.problem(type_name, f"{condition.field}: row conditions on {named} "
                                        "fields are not supported")
            else:
                text = named in ("String", "ID", "PersonalId")
                hint = " (quote text in YAML: \"01\", not 01)" if text else ""
                self.problem(type_name, f"{condition.field}: {value!r} is not a value of "
                                        f"{named}{hint}")
            return None
        if condition.op == "equals":
            return eq(column, internal[0])
        return one_of(column, internal)

    def compile(self) -> tuple[dict[str, RowFilter], dict[str, tuple[str, ...]]]:
        filters: dict[str, RowFilter] = {}
        scope: dict[str, tuple[str, ...]] = {}
        for type_name, grant in self.purpose.grants.items():
            if not grant.rows or type_name not in self.types:
                continue
            entity = ENTITY_OF_TYPE.get(type_name)
            if entity is None:
                self.problem(type_name, "rows of this type cannot be filtered")
                continue
            filters[entity], scope[type_name] = self.conditions(type_name, grant.rows)
        return filters, scope

    def conditions(self, type_name: str, rows: tuple[RowCondition, ...]
                   ) -> tuple[RowFilter, tuple[str, ...]]:
        """One type's conditions as a row filter for its entity, and their readable account
        (the write grants' row scopes are compiled by this too)."""
        conditions = [self._condition(type_name, c) for c in rows]
        return (tuple(c for c in conditions if c is not None),
                tuple(self._describe(c) for c in rows))

    def _describe(self, condition: RowCondition) -> str:
        text = condition.describe()
        if isinstance(condition.value, AttributeRef):
            actual = self.client.attributes.get(condition.value.attribute)
            shown = ("[" + ", ".join(map(str, actual)) + "]" if isinstance(actual, tuple)
                     else str(actual))
            text += f" ({shown})"
        return text

