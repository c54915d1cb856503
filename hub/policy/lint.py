"""``hub policy check``'s lint: policies that compile, yet do not do what their author meant.

The engine refuses what cannot work (errors: an unknown change kind, a waived co-signature on
an employee's own declaration, a row condition on no field). What is left to catch here
compiles fine and is still wrong or dead: grants nothing can reach, grants silently dropped,
row conditions (of reads or writes) that match nothing or restrict nothing, a provincial
client allowed to change every record of the country, legal bases for data that needs none,
purposes (and writes) no test exercises. Each is a warning; the sensitive fields no client
sees are listed for information.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import combinations
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    parse,
    validate,
)

from hub.policy.compile import ClientView, PolicyEngine, sensitive_category
from hub.policy.findings import LEVELS, Finding, from_problem
from hub.policy.model import AttributeRef, ClientPolicy, RowCondition, TypeGrant
from hub.policy.paths import fields_leading_to, object_types
from hub.policy.workspace import Workspace
from hub.policy.writes import WriteGrant, write_subject
from resolvers.entities import REFERENCE_TYPES, STRUCTURE_FOR

__all__ = ["lint_workspace"]

# A value as a row condition holds it, tagged with its type: the compiler admits only
# literals of the field's type, but True and 1 still compare equal in Python.
_Key = tuple[str, Any]


def _warning(view: ClientView, subject: str, message: str) -> Finding:
    return Finding("WARNING", view.client.source.name, view.purpose.name, subject, message)


def _listing(names: Iterable[str]) -> str:
    return ", ".join(names) or "no field"


# -- reachability --------------------------------------------------------------------------

def _unreachable(view: ClientView, full_types: dict[str, GraphQLObjectType],
                 type_name: str, grant: TypeGrant) -> list[Finding]:
    if type_name == "Query" or type_name in view.schema.type_map:
        return []
    found = []
    if view.visible.get(type_name):  # else every field of it was dropped, each said why
        ways = _listing(fields_leading_to(full_types, type_name))
        found.append(_warning(view, type_name, "granted, but no field the client can see leads "
                                               f"to it: grant one of {ways}"))
    if grant.rows:
        found.append(_warning(view, type_name, "row conditions on a type the client cannot "
                                               "reach: they never apply"))
    return found


def _dropped(view: ClientView, object_type: GraphQLObjectType, grant: TypeGrant
             ) -> list[Finding]:
    found = []
    visible = view.visible.get(object_type.name, {})
    for name, field in object_type.fields.items():
        if name not in grant.fields or name in visible:
            continue
        target = get_named_type(field.type)
        # Only fields leading to objects are ever dropped: the compiler refuses a policy in
        # which a granted value could not be served.
        assert isinstance(target, GraphQLObjectType), f"{object_type.name}.{name} dropped"
        payload = STRUCTURE_FOR.get(target.name)
        if payload is not None and payload not in view.purpose.grants:
            why = (f"it leads to pages of {payload}, which this purpose grants nothing of: "
                   f"grant {payload} fields or drop {name}")
        elif target.name in view.purpose.grants or target.name in REFERENCE_TYPES:
            why = f"none of the fields of {target.name}, which it leads to, stays visible"
        else:
            why = (f"it leads to {target.name}, which this purpose grants nothing of: grant "
                   f"{target.name} fields or drop {name}")
        found.append(_warning(view, f"{object_type.name}.{name}",
                              f"granted, but not in the client's schema: {why}"))
    return found


# -- row conditions ------------------------------------------------------------------------

def _values(view: ClientView, condition: RowCondition) -> frozenset[_Key]:
    value = condition.value
    if isinstance(value, AttributeRef):
        value = view.client.attributes[value.attribute]  # compiled: the attribute exists
    values = value if isinstance(value, tuple) else (value,)
    return frozenset((type(v).__name__, v) for v in values)


def _condition_field(object_type: GraphQLObjectType, path: str) -> GraphQLField | None:
    link, _, inner = path.partition(".")
    field: GraphQLField | None = object_type.fields.get(link)
    if field is None or not inner:
        return field
    target = get_named_type(field.type)
    if not isinstance(target, GraphQLObjectType):
        return None
    inner_field: GraphQLField | None = target.fields.get(inner)
    return inner_field


def _every_value(field: GraphQLField | None) -> frozenset[_Key] | None:
    """All the values a non-null enum or Boolean column can hold (None: unbounded)."""
    if field is None or not isinstance(field.type, GraphQLNonNull):
        return None  # a nullable column: even a complete list still excludes the empty rows
    named = get_named_type(field.type)
    if isinstance(named, GraphQLEnumType):
        return frozenset(("str", name) for name in named.values)
    if named is GraphQLBoolean:
        return frozenset({("bool", True), ("bool", False)})
    return None


def _duplicates(view: ClientView, subject: str, condition: RowCondition) -> list[Finding]:
    if condition.op != "in" or not isinstance(condition.value, tuple):
        return []
    counts = Counter((type(v).__name__, v) for v in condition.value)
    repeated = [str(value) for (_, value), n in counts.items() if n > 1]
    if not repeated:
        return []
    return [_warning(view, subject, f"`{condition.describe()}` lists {', '.join(repeated)} "
                                    "more than once")]


def _same_field(view: ClientView, subject: str, group: list[RowCondition]) -> list[Finding]:
    """Conditions on one field: do they contradict each other, or does one add nothing?"""
    sets = [(c, _values(view, c)) for c in group]
    found = [_warning(view, subject, f"contradictory row conditions: `{a.describe()}` and "
                                     f"`{b.describe()}` match no row together")
             for (a, va), (b, vb) in combinations(sets, 2) if not va & vb]
    if found:
        return found
    if not frozenset.intersection(*(v for _, v in sets)):
        shown = "`, `".join(c.describe() for c in group)
        return [_warning(view, subject, f"contradictory row conditions: `{shown}` match no row "
                                        "together")]
    for j, (b, vb) in enumerate(sets):
        # b adds nothing when another condition already allows no more than b does
        for i, (a, va) in enumerate(sets):
            if i != j and va <= vb and (va != vb or i < j):
                verb = "repeats" if va == vb else "is implied by"
                found.append(_warning(view, subject, f"useless row condition: "
                                                     f"`{b.describe()}` {verb} "
                                                     f"`{a.describe()}`"))
                break
    return found


def _rows(view: ClientView, object_type: GraphQLObjectType, rows: tuple[RowCondition, ...],
          label: str | None = None) -> list[Finding]:
    """Conditions that match nothing together, or restrict nothing; each finding's subject is
    ``label`` (a write grant's) or else ``Type.field``."""
    def subject(path: str) -> str:
        return label if label is not None else f"{object_type.name}.{path}"

    found: list[Finding] = []
    groups: dict[str, list[RowCondition]] = {}
    for condition in rows:
        where = subject(condition.field)
        groups.setdefault(condition.field, []).append(condition)
        found.extend(_duplicates(view, where, condition))
        field = _condition_field(object_type, condition.field)
        everything = _every_value(field)
        if everything is not None and _values(view, condition) >= everything:
            found.append(_warning(view, where, f"useless row condition: "
                                               f"`{condition.describe()}` allows every value "
                                               "the field can hold"))
    for path, group in groups.items():
        if len(group) > 1:
            found.extend(_same_field(view, subject(path), group))
    return found


# -- legal bases ---------------------------------------------------------------------------

def _needless_basis(view: ClientView, object_type: GraphQLObjectType, grant: TypeGrant
                    ) -> list[Finding]:
    return [_warning(view, f"{object_type.name}.{name}",
                     "legal basis given for a field that is not sensitive: remove it (or tag "
                     "the field @sensitive in the schema if it should be)")
            for name in grant.legal_basis
            if name in object_type.fields and sensitive_category(object_type.fields[name]) is None]


def _lint_view(view: ClientView, types: dict[str, GraphQLObjectType]) -> list[Finding]:
    found: list[Finding] = []
    for type_name, grant in view.purpose.grants.items():
        object_type = types.get(type_name)
        if object_type is None:
            continue
        found.extend(_unreachable(view, types, type_name, grant))
        found.extend(_dropped(view, object_type, grant))
        found.extend(_rows(view, object_type, grant.rows))
        found.extend(_needless_basis(view, object_type, grant))
    found.extend(_lint_writes(view, types))
    return found


# -- write grants --------------------------------------------------------------------------

_PROVINCIAL = re.compile(r"\.H\d{2}$")


def _unscoped(view: ClientView, subject: str, grant: WriteGrant) -> list[Finding]:
    """A provincial client whose grant has no row scope may change records of the whole
    country: almost certainly a scope forgotten."""
    if grant.rows or not _PROVINCIAL.search(view.client.agency):
        return []
    if grant.subject_type == "Agency":
        what, example = "into every agency of the country", "authority"
    else:
        what, example = "for every employee of the country", "agency.authority"
    return [_warning(view, subject, f"no row scope: a provincial client may submit it {what}; "
                                    f"scope it to its own (e.g. `{example}` equals "
                                    "{attribute: authority})")]


def _lint_writes(view: ClientView, types: dict[str, GraphQLObjectType]) -> list[Finding]:
    found: list[Finding] = []
    for kind, grant in view.writes.items():
        subject = write_subject(kind)
        found.extend(_unscoped(view, subject, grant))
        rule = view.purpose.writes[kind]
        found.extend(_rows(view, types[grant.subject_type], rule.rows, subject))
    return found


# -- test cases ----------------------------------------------------------------------------

def _lint_tests(client: ClientPolicy) -> list[Finding]:
    file = client.source.name
    found = [Finding("WARNING", file, purpose, "", "no test case exercises this purpose")
             for purpose in client.purposes
             if not any(test.purpose == purpose for test in client.tests)]
    found += [Finding("WARNING", file, name, "", "no test case checks this purpose's writes "
                                                 "(expect `writes`)")
              for name, purpose in client.purposes.items()
              if purpose.writes and any(test.purpose == name for test in client.tests)
              and not any(test.purpose == name and {"writes", "write_rows"} & set(test.expect)
                          for test in client.tests)]
    declared = ", ".join(client.purposes)
    for test in client.tests:
        subject = f"test {test.name!r}"
        if "refused" in test.expect:
            others = sorted(set(test.expect) - {"refused"})
            if others:
                found.append(Finding("WARNING", file, test.purpose, subject,
                                     f"expects `refused` and also {', '.join(others)}: a "
                                     "refused purpose discloses nothing, so those go unchecked"))
        elif test.purpose not in client.purposes:
            found.append(Finding("WARNING", file, test.purpose, subject,
                                 f"the client declares no purpose {test.purpose!r} (declared: "
                                 f"{declared}): fix the purpose, or expect `refused`"))
        elif not test.expect:
            found.append(Finding("WARNING", file, test.purpose, subject,
                                 "expects nothing: it only checks that the query validates"
                                 if test.query is not None else "expects nothing: it checks "
                                 "nothing"))
    return found


# -- the schema as a whole -----------------------------------------------------------------

def _unseen_sensitive(workspace: Workspace, types: dict[str, GraphQLObjectType]
                      ) -> list[Finding]:
    views = workspace.views()
    found = []
    for type_name, object_type in types.items():
        for name, field in object_type.fields.items():
            category = sensitive_category(field)
            if category is None:
                continue
            if not any(view.shows(type_name, name) for view in views):
                found.append(Finding("INFO", workspace.directory.name, "",
                                     f"{type_name}.{name}",
                                     f"sensitive ({category}): no client may see it"))
    return found


def _lint_documents(client: ClientPolicy, engine: PolicyEngine) -> list[Finding]:
    """A trusted document that no purpose of the client can run is an error: its system
    would be refused every time."""
    found = []
    for named, text in client.documents.items():
        document = parse(text)
        if not any(not validate(engine.view(client.client_id, purpose).schema, document)
                   for purpose in client.purposes):
            found.append(Finding("ERROR", client.source.name, "", named,
                                 "this trusted document is valid for none of the client's "
                                 "purposes (a field outside its grants, or a typo)"))
    return found


def lint_workspace(workspace: Workspace) -> list[Finding]:
    """Every finding for the folder: errors first, then warnings, then information."""
    types = object_types(workspace.schema)
    found = [from_problem(problem) for problem in workspace.problems]
    if workspace.ok and not workspace.files:
        found.append(Finding("WARNING", workspace.directory.name, "", "",
                             "no policy file: every client is refused"))
    for view in workspace.views():
        found.extend(_lint_view(view, types))
    for client in workspace.clients.values():
        found.extend(_lint_tests(client))
    for client_id, engine in workspace.engines.items():
        found.extend(_lint_documents(workspace.clients[client_id], engine))
    if workspace.ok:  # with a client missing, "nobody sees it" might not be true
        found.extend(_unseen_sensitive(workspace, types))
    return sorted(found, key=lambda finding: LEVELS.index(finding.level))
