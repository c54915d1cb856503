"""``hub policy explain``: who may see ``Type.field`` (or a type), for which purpose, how;
and who may submit a kind of change (``write:position-change``), on which rows, co-signed or
not, on which legal basis.

Answered from the compiled views, not from the files: a field is visible to a client when it
is in that client's schema, which is what the hub serves. Grants that the engine dropped (a
link to a type with no grant, a type nothing leads to) are shown as such, so the answer never
claims more than a client can actually read.
"""

from __future__ import annotations

import textwrap
from difflib import get_close_matches

from graphql import GraphQLField, GraphQLObjectType, get_named_type

from hub.policy.compile import ClientView, sensitive_category
from hub.policy.paths import fields_leading_to, object_types
from hub.policy.workspace import Workspace
from hub.policy.writes import WRITE_KINDS, WriteKind, write_subject
from resolvers.entities import REFERENCE_TYPES
from resolvers.query import REVEALS

__all__ = ["UnknownTarget", "explain"]

WIDTH = 100


class UnknownTarget(Exception):
    """The schema has no such type or field."""


def _wrapped(label: str, text: str, indent: int = 6) -> list[str]:
    prefix = " " * indent + label
    return textwrap.wrap(text, WIDTH, initial_indent=prefix,
                         subsequent_indent=" " * (indent + 2), break_on_hyphens=False)


def _who(view: ClientView) -> str:
    return f"{view.client.client_id}/{view.purpose.name}"


def _reached_through(view: ClientView, type_name: str) -> list[str]:
    if type_name == "Query":
        return []
    ways = fields_leading_to(object_types(view.schema), type_name)
    return _wrapped("reached through: ", ", ".join(ways))


def _rows(view: ClientView, type_name: str) -> list[str]:
    if type_name == "Query":
        return []  # the root has no rows: each type it leads to has its own filter
    scope = view.row_scope.get(type_name)
    return _wrapped(f"rows of {type_name}: ", "; ".join(scope) if scope else "all rows")


def _records_behind(field: GraphQLField) -> list[str]:
    """The record types a link returns, looking through page structure (a connection's
    nodes): their row filters decide which records the link discloses."""
    found: list[str] = []
    queue, seen = [get_named_type(field.type)], set()
    while queue:
        named = queue.pop(0)
        if not isinstance(named, GraphQLObjectType) or named.name in seen:
            continue
        seen.add(named.name)
        if named.name in REFERENCE_TYPES:
            queue.extend(get_named_type(f.type) for f in named.fields.values())
        else:
            found.append(named.name)
    return found


def _granted(view: ClientView, type_name: str, field_name: str) -> bool:
    grant = view.purpose.grants.get(type_name)
    return grant is not None and field_name in grant.fields


def _withheld(view: ClientView, type_name: str, field_name: str) -> str:
    needs = REVEALS.get((type_name, field_name))
    if needs is None:
        return "not in its schema"
    shown = ", ".join(f"{t}.{f}" for t, f in needs)
    return f"withheld: it would reveal {shown}, which this purpose does not grant unmasked"


def _not_visible(names: list[str]) -> list[str]:
    return _wrapped("not visible to: ", ", ".join(names), indent=2) if names else []


def _explain_reference(views: list[ClientView], type_name: str, field_name: str
                       ) -> list[str]:
    target = f"{type_name}.{field_name}" if field_name else type_name
    lines = [f"{target}: public reference data, seen by anyone granted a path to {type_name}"]
    unreachable = []
    for view in views:
        client_type = view.object_type(type_name)
        if client_type is None:
            unreachable.append(_who(view))
            continue
        if field_name and field_name not in client_type.fields:
            lines.extend(_wrapped(f"{_who(view)}: ", _withheld(view, type_name, field_name),
                                  indent=2))
            continue
        lines.append(f"  {_who(view)}: reachable")
        lines.extend(_reached_through(view, type_name))
    if unreachable:
        lines.extend(_wrapped("not reachable for: ", ", ".join(unreachable), indent=2))
    return lines


def _field_header(type_name: str, field_name: str, field: GraphQLField) -> str:
    category = sensitive_category(field)
    kind = f"sensitive ({category}), needs a legal basis" if category else "not sensitive"
    return f"{type_name}.{field_name} ({field.type}): {kind}"


def _explain_field(views: list[ClientView], object_type: GraphQLObjectType, field_name: str
                   ) -> list[str]:
    type_name = object_type.name
    lines = [_field_header(type_name, field_name, object_type.fields[field_name])]
    hidden: list[str] = []
    seen = 0
    for view in views:
        client_type = view.object_type(type_name)
        if client_type is None or field_name not in client_type.fields:
            if _granted(view, type_name, field_name):
                lines.append(f"  {_who(view)}: granted, but not in its schema: see "
                             "`hub policy check`")
            else:
                hidden.append(_who(view))
            continue
        seen += 1
        mask = view.visible[type_name][field_name]
        lines.append(f"  {_who(view)}: " + ("visible" if mask is None else f"masked ({mask})"))
        basis = view.purpose.grants[type_name].legal_basis.get(field_name)
        if basis is not None:
            lines.extend(_wrapped("legal basis: ", basis))
        lines.extend(_rows(view, type_name))
        for record_type in _records_behind(client_type.fields[field_name]):
            if record_type != type_name:
                lines.extend(_rows(view, record_type))
        lines.extend(_reached_through(view, type_name))
    if not seen:
        lines.append(f"  no client may see {type_name}.{field_name}")
    return lines + _not_visible(hidden)


def _describe_fields(view: ClientView, object_type: GraphQLObjectType,
                     client_type: GraphQLObjectType) -> list[str]:
    shown = []
    for name, field in object_type.fields.items():  # schema order
        if name not in client_type.fields:
            continue
        notes = [note for note in (view.visible[object_type.name][name],
                                   "sensitive" if sensitive_category(field) else None) if note]
        shown.append(name + (f" ({', '.join(notes)})" if notes else ""))
    return _wrapped("", ", ".join(shown))


def _explain_type(views: list[ClientView], object_type: GraphQLObjectType) -> list[str]:
    type_name = object_type.name
    sensitive = [name for name, field in object_type.fields.items() if sensitive_category(field)]
    total = len(object_type.fields)
    header = f"{type_name}: {total} fields"
    if sensitive:
        header += f", {len(sensitive)} sensitive ({', '.join(sensitive)})"
    lines = [header]
    hidden: list[str] = []
    for view in views:
        client_type = view.object_type(type_name)
        if client_type is None:
            if type_name in view.purpose.grants:
                lines.append(f"  {_who(view)}: granted, but nothing it can see leads there: "
                             "see `hub policy check`")
            else:
                hidden.append(_who(view))
            continue
        lines.append(f"  {_who(view)}: {len(client_type.fields)} of {total} fields")
        lines.extend(_describe_fields(view, object_type, client_type))
        bases = view.purpose.grants[type_name].legal_basis
        for name in (n for n in object_type.fields if n in bases and n in client_type.fields):
            lines.extend(_wrapped(f"legal basis for {name}: ", bases[name]))
        lines.extend(_rows(view, type_name))
        lines.extend(_reached_through(view, type_name))
    if len(hidden) == len(views):
        lines.append(f"  no client may see {type_name}")
    return lines + _not_visible(hidden)


def _unknown(kind: str, name: str, candidates: list[str]) -> UnknownTarget:
    close = get_close_matches(name, candidates, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return UnknownTarget(f"the schema has no {kind} {name!r}{hint}")


def _explain_write(views: list[ClientView], kind: WriteKind) -> list[str]:
    on = ("the agency the employee joins" if kind.subject_type == "Agency"
          else "the employee's record")
    cosign = ("; always co-signed by the employee (their own declaration)" if kind.declaration
              else "")
    lines = [f"{write_subject(kind.name)}: {kind.label}; row scope on {on} "
             f"({kind.subject_type}){cosign}"]
    hidden = []
    for view in views:
        grant = view.writes.get(kind.name)
        if grant is None:
            hidden.append(_who(view))
            continue
        signed = ("signed by the agency and co-signed by the employee" if grant.cosign
                  else "signed by the agency")
        lines.extend(_wrapped(f"{_who(view)}: ", f"may submit it, {signed}", indent=2))
        lines.extend(_wrapped("legal basis: ", grant.legal_basis))
        scope = "; ".join(grant.scope) if grant.scope else (
            "every agency of the country" if kind.subject_type == "Agency"
            else "every employee of the country")
        lines.extend(_wrapped(f"rows of {kind.subject_type}: ", scope))
    if len(hidden) == len(views):
        lines.append(f"  no client may submit {kind.name}")
    return lines + (_wrapped("may not submit it: ", ", ".join(hidden), indent=2)
                    if hidden else [])


def _explain_writes(views: list[ClientView]) -> list[str]:
    """Every change kind, and who may submit it."""
    lines = ["change kinds, and who may submit them (`hub policy explain write:KIND` for the "
             "details):"]
    for kind in WRITE_KINDS.values():
        who = [_who(view) + ("" if view.writes[kind.name].scope else " (every record)")
               for view in views if kind.name in view.writes]
        lines.extend(_wrapped(f"{write_subject(kind.name)}: ", ", ".join(who) or "no client",
                              indent=2))
    return lines


def explain(workspace: Workspace, target: str) -> list[str]:
    """The answer for ``Type``, ``Type.field``, ``write:KIND`` (who may submit changes of
    that kind) or ``write`` (every kind), as lines; UnknownTarget if there is none."""
    if target in ("write", "write:", "writes"):
        return _explain_writes(workspace.views())
    if target.startswith("write:"):
        kind = WRITE_KINDS.get(target.removeprefix("write:"))
        if kind is None:
            name = target.removeprefix("write:")
            close = get_close_matches(name, list(WRITE_KINDS), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise UnknownTarget(f"there is no change kind {name!r}{hint}; the kinds: "
                                f"{', '.join(WRITE_KINDS)}")
        return _explain_write(workspace.views(), kind)
    type_name, dot, field_name = target.partition(".")
    types = object_types(workspace.schema)
    object_type = types.get(type_name)
    if object_type is None:
        if type_name in workspace.schema.type_map:
            raise UnknownTarget(f"{type_name} is not an object type: policies grant fields of "
                                "object types only")
        raise _unknown("type", type_name, list(types))
    if dot and field_name not in object_type.fields:
        raise _unknown(f"field of {type_name}", field_name, list(object_type.fields))
    views = workspace.views()
    if type_name in REFERENCE_TYPES:
        return _explain_reference(views, type_name, field_name)
    if field_name:
        return _explain_field(views, object_type, field_name)
    return _explain_type(views, object_type)
