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

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    get_nullable_type,
)

from adapters import RowFilter
from hub.policy.load import PolicyError, Problem
from hub.policy.model import ClientPolicy, PolicySet, Purpose
from hub.policy.rows import RowFilterCompiler
from hub.policy.schema_view import Allowed, Visible, build_client_schema
from hub.policy.writes import WriteGrant, compile_writes
from resolvers.entities import (
    ENTITY_OF_TYPE,
    REFERENCE_TYPES,
    SAME_FACTS,
    STRUCTURE_FOR,
    column_of,
)
from resolvers.grants import Grants, MaskedColumn
from resolvers.links import KEYED_RESOLVERS, LINKS
from resolvers.masks import MASKS
from resolvers.mutations import ANY_KIND_FIELDS, MUTATION_KINDS, SUBMISSION_TYPES
from resolvers.query import REVEALED_WHERE_SHOWN, REVEALS
from resolvers.shaping import SHAPED_FROM

__all__ = ["ClientView", "PolicyEngine", "Refusal", "WriteGrant", "sensitive_category"]


def _masking(mask: str | None) -> str:
    return "unmasked" if mask is None else f"masked {mask}"


class Refusal(Exception):
    """The caller may not use the hub for this purpose (403, FORBIDDEN)."""


@dataclass(frozen=True, slots=True)
class ClientView:
    """What one client may do for one purpose: its schema, its loaders' grants, and a
    readable account of both (for `hub policy explain` and the policy tests); and the changes
    it may submit (``writes``: change kind -> WriteGrant; a kind not there is refused)."""

    client: ClientPolicy
    purpose: Purpose
    schema: GraphQLSchema
    grants: Grants
    visible: Visible
    row_scope: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    writes: Mapping[str, WriteGrant] = field(default_factory=dict)

    def object_type(self, type_name: str) -> GraphQLObjectType | None:
        """The type as the client's schema has it (None: the client cannot reach it)."""
        found = self.schema.type_map.get(type_name)
        return found if isinstance(found, GraphQLObjectType) else None

    def shows(self, type_name: str, field_name: str) -> bool:
        """Is Type.field in the client's schema?"""
        object_type = self.object_type(type_name)
        return object_type is not None and field_name in object_type.fields


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
        self.problems: list[Problem] = []

    def problem(self, type_name: str, message: str) -> None:
        self.problems.append(Problem(self.client.source.name, message, self.purpose.name,
                                     type_name))

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
        if type_name not in ENTITY_OF_TYPE:
            # Masks are applied where a source entity's rows are shaped (the loaders); a type
            # built otherwise (an appointment check's) would show the field empty, not masked.
            self.problem(type_name, f"values of {type_name} cannot be masked: withhold {name} "
                                    "instead")
            return
        if (type_name, name) in LINKS or (type_name, column_of(field_def, name)) in SHAPED_FROM:
            self.problem(type_name, f"{name} is not a stored value: it cannot be masked")
            return
        allowed = MASKS[mask].applies_to
        if not isinstance(named, (GraphQLScalarType, GraphQLEnumType)) or isinstance(
                get_nullable_type(field_def.type), GraphQLList) or (
                allowed is not None and named.name not in allowed):
            self.problem(type_name, f"mask {mask} cannot apply to {name} ({named.name})")
            return
        fields[name] = mask

    def _revealed_ok(self, granted: Mapping[str, Mapping[str, str | None]]) -> Allowed:
        def allowed(owner: str, name: str) -> bool:
            needs = REVEALS.get((owner, name))
            if needs is None:
                return True
            if (owner, name) in REVEALED_WHERE_SHOWN:  # masked nowhere (granted or not)
                return all(granted.get(t, {}).get(f) is None for t, f in needs)
            return all(f in granted.get(t, {}) and granted[t][f] is None for t, f in needs)

        return allowed

    def visible(self) -> tuple[dict[str, dict[str, str | None]], Allowed]:
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

    def _check_lookups(self, visible: dict[str, dict[str, str | None]],
                       allowed: Allowed) -> None:
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
                        fix = ("show none of them masked"
                               if (f"{type_name}.{name}", argument_name) in REVEALED_WHERE_SHOWN
                               else "grant that unmasked")
                        self.problem(type_name, f"{name} looks rows up by {argument_name}, "
                                                f"which reveals {needs}: {fix}, "
                                                f"or do not grant {name}")

    def _check_masks_hold(self, visible: dict[str, dict[str, str | None]]) -> None:
        """A value masked in one place must not be readable another way.

        - A link joins two fields holding the same value: its key on one side, the field that
          shows the key on the other (CivilServant.personalId and, through ``person``,
          Person.personalId; through Agency.employees, Agency.code and
          CivilServant.agencyCode). Where both are visible they must be masked alike,
          whichever way the link points.
        - Sources hold the same facts (SAME_FACTS: the national database's birth date and the
          population registry's): masked alike too.
        - A field computed from a masked column (Discipline.inEffect from effectiveFrom) would
          undo the mask."""
        reported: set[frozenset[tuple[str, str]]] = set()

        def differ(one: tuple[str, str], other: tuple[str, str], why: str) -> None:
            mask, other_mask = visible[one[0]][one[1]], visible[other[0]][other[1]]
            pair = frozenset({one, other})
            if mask != other_mask and pair not in reported:
                reported.add(pair)
                self.problem(one[0], f"{one[1]} ({_masking(mask)}) and {other[0]}.{other[1]} "
                                     f"({_masking(other_mask)}) hold the same {why}: mask "
                                     "them alike")

        for type_name, fields in visible.items():
            object_type = self.types[type_name]
            columns = {name: column_of(object_type.fields[name], name) for name in fields}
            for via in fields:
                for column, target, shown in self._joined(type_name, via):
                    if shown not in visible.get(target, {}):
                        continue
                    for own, own_column in columns.items():
                        if own_column == column and own != via:
                            differ((type_name, own), (target, shown),
                                   f"value, joined by {via}")
            for masked, mask in fields.items():
                if mask is None:
                    continue
                for other in fields:
                    if other != masked and columns[masked] in SHAPED_FROM.get(
                            (type_name, columns[other]), ()):
                        self.problem(type_name, f"{masked} is masked ({mask}) but {other} is "
                                                "computed from it")
        for group in SAME_FACTS:
            holders = sorted((t, f) for t, f in group if f in visible.get(t, {}))
            for holder in holders[1:]:
                differ(holders[0], holder, "fact from different sources")

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
                column = column_of(object_type.fields[name], name)
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

    def _add_mutations(self, visible: dict[str, dict[str, str | None]],
                       writes: Mapping[str, WriteGrant]) -> None:
        """The mutation of each kind of change the purpose may submit, and the answer's types
        (which hold nothing but the submission's own outcome)."""
        fields: dict[str, str | None] = {name: None for name, kind in MUTATION_KINDS.items()
                                         if kind in writes}
        if writes:
            fields.update(dict.fromkeys(ANY_KIND_FIELDS))
        if not fields:
            return
        # Mutations granted by name (settling a synchronisation conflict) stay beside them.
        visible["Mutation"] = {**visible.get("Mutation", {}), **fields}
        for answer in SUBMISSION_TYPES:
            visible[answer] = {name: None for name in self.types[answer].fields}

    def compile(self) -> ClientView | None:
        visible, allowed = self.visible()
        row_filters, scope = RowFilterCompiler(self.types, self.client, self.purpose,
                                               self.problem).compile()
        writes = compile_writes(self.types, self.client, self.purpose, self.problem)
        if self.problems:
            return None
        self._add_mutations(visible, writes)
        schema = build_client_schema(self.full, visible, allowed)
        return ClientView(self.client, self.purpose, schema,
                          self.grants(visible, row_filters), visible, scope, writes)


class PolicyEngine:
    """Every client's views for one policy set, compiled up front; pure after loading."""

    def __init__(self, policies: PolicySet, schema: GraphQLSchema, secret: bytes) -> None:
        self.policies = policies
        self.schema = schema
        problems: list[Problem] = []
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
        return self.policies.purposes_of(client_id)

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

    def write_grant(self, client_id: str, purpose: str | None, kind: str) -> WriteGrant | None:
        """What ``client_id`` may submit of ``kind`` for ``purpose``: None when nothing (no
        policy, a purpose it does not declare, a kind that purpose does not grant, or no such
        kind). ``view`` says why a client or purpose is refused."""
        view = self._views.get((client_id, purpose or ""))
        return None if view is None else view.writes.get(kind)
