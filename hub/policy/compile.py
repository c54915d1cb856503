"""Compiling policies against the schema: per client and purpose, a schema and grants.

Every (client, purpose) view is compiled when a policy set is loaded, so a set that does not
fit the schema (an unknown field, a sensitive field without a legal basis, a mask that cannot
apply, a row condition on something that is not a column) is refused as a whole before it can
serve a request. A request then only looks its view up: the authorisation work per request is
a dictionary read.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
)

from adapters import Condition, RowFilter, eq, one_of, related
from hub.policy.load import PolicyError
from hub.policy.model import AttributeRef, ClientPolicy, PolicySet, Purpose, RowCondition
from hub.policy.schema_view import Visible, build_client_schema, python_name
from resolvers.entities import ENTITY_OF_TYPE, NATIONAL_ENTITIES, REFERENCE_TYPES, STRUCTURE_FOR
from resolvers.grants import Grants, MaskedColumn
from resolvers.links import KEYED_RESOLVERS, LINKS
from resolvers.masks import MASKS
from resolvers.query import REVEALS
from resolvers.shaping import SHAPED_FROM

__all__ = ["ClientView", "PolicyEngine", "Refusal", "sensitive_category"]


# GraphQL scalar -> the Python types a policy literal for it may have
_LITERAL_TYPES: dict[str, tuple[type, ...]] = {
    "String": (str,), "ID": (str,), "PersonalId": (str,), "Int": (int,),
    "Float": (int, float), "Boolean": (bool,)}


def _masking(mask: str | None) -> str:
    return "unmasked" if mask is None else f"masked {mask}"


class Refusal(Exception):
    """The caller may not use the hub for this purpose (403, FORBIDDEN)."""


@dataclass(frozen=True, slots=True)
class ClientView:
    """What one client may do for one purpose: its schema, its loaders' grants, and a
    readable account of both (for `hub policy explain` and the policy tests)."""

    client: ClientPolicy
    purpose: Purpose
    schema: GraphQLSchema
    grants: Grants
    visible: Visible
    row_scope: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def sensitive_category(field_def: GraphQLField) -> str | None:
    definition = field_def.extensions.get("strawberry-definition")
    for directive in getattr(definition, "directives", None) or ():
        category = getattr(directive, "category", None)
        if category is not None:
            return str(category.value)
    return None


def _object_types(schema: GraphQLSchema) -> dict[str, GraphQLObjectType]:
    return {name: t for name, t in schema.type_map.items()
            if isinstance(t, GraphQLObjectType) and not name.startswith("__")}


class _Compiler:
    """Compiles one (client, purpose); collects every problem instead of stopping at one."""

    def __init__(self, full: GraphQLSchema, client: ClientPolicy, purpose: Purpose,
                 secret: bytes) -> None:
        self.full = full
        self.types = _object_types(full)
        self.client = client
        self.purpose = purpose
        self.secret = secret
        self.problems: list[str] = []

    def problem(self, type_name: str, message: str) -> None:
        self.problems.append(f"{self.client.source.name}: purpose {self.purpose.name}: "
                             f"{type_name}: {message}")

    # -- which fields are visible ----------------------------------------------------------

    def _granted(self) -> dict[str, dict[str, str | None]]:
        granted: dict[str, dict[str, str | None]] = {}
        for type_name, grant in self.purpose.grants.items():
            object_type = self.types.get(type_name)
            if object_type is None:
                self.problem(type_name, "no such type in the schema")
                continue
            if type_name in REFERENCE_TYPES:
                self.problem(type_name, "reference data needs no grant: remove it")
                continue
            fields: dict[str, str | None] = {}
            for name in sorted(grant.fields):
                field_def = object_type.fields.get(name)
                if field_def is None:
                    self.problem(type_name, f"no field {name!r}")
                    continue
                category = sensitive_category(field_def)
                if category is not None and name not in grant.legal_basis:
                    self.problem(type_name, f"{name} is sensitive ({category}): state its "
                                            "legal basis under legal_basis")
                    continue
                fields[name] = None
            for name, mask in grant.masks.items():
                self._check_mask(type_name, object_type, name, mask, fields)
            for name in grant.legal_basis:
                if name not in grant.fields:
                    self.problem(type_name, f"legal basis given for {name}, which is not granted")
            granted[type_name] = fields
        return granted

    def _check_mask(self, type_name: str, object_type: GraphQLObjectType, name: str,
                    mask: str, fields: dict[str, str | None]) -> None:
        if name not in fields:
            if name not in self.purpose.grants[type_name].fields:
                self.problem(type_name, f"mask on {name}, which is not granted")
            return
        field_def = object_type.fields[name]
        named = get_named_type(field_def.type)
        if (type_name, name) in LINKS or (type_name, python_name(field_def, name)) in SHAPED_FROM:
            self.problem(type_name, f"{name} is not a stored value: it cannot be masked")
            return
        allowed = MASKS[mask].applies_to
        if not isinstance(named, (GraphQLScalarType, GraphQLEnumType)) or (
                allowed is not None and named.name not in allowed):
            self.problem(type_name, f"mask {mask} cannot apply to {name} ({named.name})")
            return
        fields[name] = mask

    def _revealed_ok(self, granted: Mapping[str, Mapping[str, str | None]]) -> Any:
        def allowed(owner: str, name: str) -> bool:
            needs = REVEALS.get((owner, name))
            return needs is None or all(
                f in granted.get(t, {}) and granted[t][f] is None for t, f in needs)

        return allowed

    def visible(self) -> tuple[dict[str, dict[str, str | None]], Any]:
        granted = self._granted()
        allowed = self._revealed_ok(granted)
        visible: dict[str, dict[str, str | None]] = {}
        for type_name, object_type in self.types.items():
            if type_name in REFERENCE_TYPES:
                payload = STRUCTURE_FOR.get(type_name)
                if payload is None or granted.get(payload):
                    visible[type_name] = {n: None for n in object_type.fields
                                          if allowed(type_name, n)}
            elif type_name in granted:
                visible[type_name] = dict(granted[type_name])
        # A field leading to a type the client may see nothing of goes too; repeat until
        # nothing changes (a type can empty out because its only field led to such a type).
        changed = True
        while changed:
            changed = False
            for type_name, fields in visible.items():
                for name in list(fields):
                    target = get_named_type(self.types[type_name].fields[name].type)
                    if isinstance(target, GraphQLObjectType) and not visible.get(target.name):
                        del fields[name]
                        changed = True
        visible = {t: f for t, f in visible.items() if f}
        # What the client's schema will hold: nothing in it may undo a mask or a denial.
        self._check_lookups(visible, allowed)
        self._check_masks_hold(visible)
        if not visible.get("Query"):
            self.problem("Query", "no root field is granted: the purpose would allow nothing")
        return visible, allowed

    def _check_lookups(self, visible: dict[str, dict[str, str | None]], allowed: Any) -> None:
        """A granted field whose required argument would reveal what the client may not read
        (a lookup by a masked personal ID) is a contradiction the policy must resolve: the
        field cannot be served without the argument."""
        for type_name, fields in visible.items():
            for name in fields:
                for argument_name, argument in self.types[type_name].fields[name].args.items():
                    required = (isinstance(argument.type, GraphQLNonNull)
                                and argument.default_value is Undefined)
                    if required and not allowed(f"{type_name}.{name}", argument_name):
                        needs = ", ".join(f"{t}.{f}" for t, f in REVEALS[
                            (f"{type_name}.{name}", argument_name)])
                        self.problem(type_name, f"{name} looks rows up by {argument_name}, "
                                                f"which reveals {needs}: grant that unmasked, "
                                                f"or do not grant {name}")

    def _check_masks_hold(self, visible: dict[str, dict[str, str | None]]) -> None:
        """A value masked in one place must not be readable another way. A link joins two
        fields holding the same value — its key on one side, the field that shows the key on
        the other (CivilServant.personalId and, through ``person``, Person.personalId; through
        Agency.employees, Agency.code and CivilServant.agencyCode) — so where both are visible
        they must be masked alike, whichever way the link points. A field computed from a
        masked column (Discipline.inEffect from effectiveFrom) would undo the mask too."""
        for type_name, fields in visible.items():
            object_type = self.types[type_name]
            columns = {name: python_name(object_type.fields[name], name) for name in fields}
            for via in fields:
                for column, target, shown in self._joined(type_name, via):
                    shown_mask = visible.get(target, {}).get(shown, "absent")
                    for own, own_column in columns.items():
                        if own_column == column and own != via and shown_mask != "absent" \
                                and fields[own] != shown_mask:
                            self.problem(type_name, f"{own} ({_masking(fields[own])}) and "
                                                    f"{target}.{shown} "
                                                    f"({_masking(shown_mask)}) hold the same "
                                                    f"value, joined by {via}: mask them alike")
            for masked, mask in fields.items():
                if mask is None:
                    continue
                for other in fields:
                    if other != masked and columns[masked] in SHAPED_FROM.get(
                            (type_name, columns[other]), ()):
                        self.problem(type_name, f"{masked} is masked ({mask}) but {other} is "
                                                "computed from it")

    def _joined(self, type_name: str, field: str) -> list[tuple[str, str, str]]:
        """(key column, linked type, field of it showing the key) for each key ``field``
        follows; nothing for a field that is not a link."""
        link = LINKS.get((type_name, field))
        if link is None:
            return list(KEYED_RESOLVERS.get((type_name, field), ()))
        target = self._target(type_name, field)
        return [(column, target, shown)
                for column, shown in zip(link.key_columns, link.shows, strict=True)
                if shown is not None]

    def _target(self, type_name: str, field: str) -> str:
        return str(get_named_type(self.types[type_name].fields[field].type).name)

    # -- grants for the loaders ------------------------------------------------------------

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
        column = python_name(field_def, name)
        named = get_named_type(field_def.type)
        if ((type_name, name) in LINKS or (type_name, column) in SHAPED_FROM
                or not isinstance(named, (GraphQLScalarType, GraphQLEnumType))):
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

    def row_filters(self) -> tuple[dict[str, RowFilter], dict[str, tuple[str, ...]]]:
        filters: dict[str, RowFilter] = {}
        scope: dict[str, tuple[str, ...]] = {}
        for type_name, grant in self.purpose.grants.items():
            if not grant.rows or type_name not in self.types:
                continue
            entity = ENTITY_OF_TYPE.get(type_name)
            if entity is None:
                self.problem(type_name, "rows of this type cannot be filtered")
                continue
            conditions = [self._condition(type_name, c) for c in grant.rows]
            filters[entity] = tuple(c for c in conditions if c is not None)
            scope[type_name] = tuple(self._describe(c) for c in grant.rows)
        return filters, scope

    def _describe(self, condition: RowCondition) -> str:
        text = condition.describe()
        if isinstance(condition.value, AttributeRef):
            actual = self.client.attributes.get(condition.value.attribute)
            shown = ("[" + ", ".join(map(str, actual)) + "]" if isinstance(actual, tuple)
                     else str(actual))
            text += f" ({shown})"
        return text

    def grants(self, visible: Visible, row_filters: dict[str, RowFilter]) -> Grants:
        columns: dict[str, set[str]] = {}
        masks: dict[str, list[MaskedColumn]] = {}
        # One key per client and purpose: pseudonyms given for one purpose (statistics) cannot
        # be joined with what the same client reads for another, nor with another client's.
        client_secret = hmac.new(
            self.secret, f"{self.client.client_id}\0{self.purpose.name}".encode(),
            hashlib.sha256).digest()
        for type_name, fields in visible.items():
            entity = ENTITY_OF_TYPE.get(type_name)
            if entity is None:
                continue
            wanted = columns.setdefault(entity, set())
            object_type = self.types[type_name]
            for name, mask in fields.items():
                column = python_name(object_type.fields[name], name)
                link = LINKS.get((type_name, name))
                if link is not None:
                    wanted.update(link.key_columns)
                else:
                    wanted.update(SHAPED_FROM.get((type_name, column), (column,)))
                if mask is not None:
                    masks.setdefault(entity, []).append(
                        MaskedColumn(column, mask, MASKS[mask].make(client_secret)))
        return Grants(columns={e: frozenset(c) for e, c in columns.items()},
                      row_filters=row_filters,
                      masks={e: tuple(m) for e, m in masks.items()})

    def compile(self) -> ClientView | None:
        visible, allowed = self.visible()
        row_filters, scope = self.row_filters()
        if self.problems:
            return None
        schema = build_client_schema(self.full, visible, allowed)
        return ClientView(self.client, self.purpose, schema,
                          self.grants(visible, row_filters), visible, scope)


class PolicyEngine:
    """Every client's views for one policy set, compiled up front; pure after loading."""

    def __init__(self, policies: PolicySet, schema: GraphQLSchema, secret: bytes) -> None:
        self.policies = policies
        self.schema = schema
        problems: list[str] = []
        views: dict[tuple[str, str], ClientView] = {}
        for client in policies.clients.values():
            for purpose in client.purposes.values():
                compiler = _Compiler(schema, client, purpose, secret)
                view = compiler.compile()
                problems.extend(compiler.problems)
                if view is not None:
                    views[(client.client_id, purpose.name)] = view
        if problems:
            raise PolicyError(problems)
        self._views = views

    @property
    def digest(self) -> str:
        return self.policies.digest

    def purposes_of(self, client_id: str) -> frozenset[str]:
        client = self.policies.clients.get(client_id)
        return frozenset(client.purposes) if client is not None else frozenset()

    def view(self, client_id: str, purpose: str | None) -> ClientView:
        """The client's view for ``purpose``; Refusal says plainly why there is none."""
        client = self.policies.clients.get(client_id)
        if client is None:
            raise Refusal(f"client {client_id} has no access policy: ask the security team "
                          "for one")
        if not purpose:
            raise Refusal("declare the purpose of use (header X-Purpose, or extensions.purpose "
                          f"in the request); declared purposes for this client: "
                          f"{', '.join(sorted(client.purposes))}")
        view = self._views.get((client_id, purpose))
        if view is None:
            raise Refusal(f"purpose {purpose!r} is not declared for client {client_id}; "
                          f"declared purposes: {', '.join(sorted(client.purposes))}")
        return view

    def views(self) -> list[ClientView]:
        return list(self._views.values())
