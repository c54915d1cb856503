"""``hub policy test``: each policy file's own test cases, run against its compiled views.

Static and pure: a case is decided by the client's schema and grants alone, with no data.
``refused`` asks the engine for the view. ``denied`` expects the query to fail validation
against the client's schema, naming exactly the expected fields its schema lacks (found by a
walk over the full schema, not read from error messages). ``visible`` walks what the query
selects; ``masked`` and ``rows`` read the view, and so do ``writes`` (per change kind:
``allowed`` or ``denied``) and ``write_rows`` (a kind's row scope). A case without a query
checks only these. Every difference is reported by name, both ways, so a failing case says
exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    parse,
)
from graphql.validation import validate

from hub.policy.compile import ClientView, PolicyEngine, Refusal
from hub.policy.model import ClientPolicy, PolicyTest
from hub.policy.outside import fields_outside
from hub.policy.paths import object_types
from hub.policy.selection import SelectionError, selected_fields
from hub.policy.workspace import Workspace

__all__ = ["CaseResult", "run_case", "run_tests"]



@dataclass(frozen=True, slots=True)
class CaseResult:
    client: ClientPolicy
    test: PolicyTest
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def _names(refs: Iterable[str]) -> str:
    return ", ".join(sorted(refs)) or "(none)"


def _compare(what: str, expected: set[str], actual: set[str], verb: str) -> list[str]:
    if expected == actual:
        return []
    parts = []
    if expected - actual:
        parts.append(f"expected but not {verb}: {_names(expected - actual)}")
    if actual - expected:
        parts.append(f"{verb} but not expected: {_names(actual - expected)}")
    return [f"{what}: " + "; ".join(parts)]


def _unknown(refs: Iterable[str], types: dict[str, GraphQLObjectType]) -> list[str]:
    """Expected names that are not fields of the full schema: a typo proves nothing."""
    unknown = []
    for ref in refs:
        type_name, _, field = ref.partition(".")
        object_type = types.get(type_name)
        if object_type is None or field not in object_type.fields:
            unknown.append(ref)
    return unknown


def _check_denied(expected: list[str], view: ClientView, document: DocumentNode,
                  full: GraphQLSchema, errors: list[GraphQLError]) -> list[str]:
    if not errors:
        return [f"denied: expected the query to be refused for {_names(expected)}, but it "
                "validates"]
    failures = _compare("denied", set(expected), fields_outside(view, document, full),
                        "denied")
    others = validate(full, document)
    if others:
        failures.append("denied: the query also fails validation for other reasons: "
                        + " | ".join(error.message for error in others))
    return failures


def _mask_of(view: ClientView, ref: str) -> str | None:
    type_name, _, field = ref.partition(".")
    return view.visible.get(type_name, {}).get(field)


def _check_masked(view: ClientView, expected: dict[str, str], selected: frozenset[str] | None
                  ) -> list[str]:
    failures = []
    for ref, mask in sorted(expected.items()):
        if not view.shows(*ref.split(".", 1)):
            failures.append(f"masked: {ref} should be masked ({mask}), but the client's schema "
                            "does not have it")
            continue
        actual = _mask_of(view, ref)
        if actual != mask:
            shown = "shown unmasked" if actual is None else f"masked {actual}"
            failures.append(f"masked: {ref} should be masked {mask}, but it is {shown}")
    for ref in sorted(selected or ()):
        actual = _mask_of(view, ref)
        if actual is not None and ref not in expected:
            failures.append(f"masked: the query selects {ref}, masked {actual}, which `masked` "
                            "does not list")
    return failures


def _check_rows(view: ClientView, expected: dict[str, list[str]]) -> list[str]:
    failures = []
    for type_name, conditions in sorted(expected.items()):
        actual = list(view.row_scope.get(type_name, ()))
        if sorted(conditions) != sorted(actual):
            failures.append(f"rows of {type_name}: expected {conditions or 'all rows'}, the "
                            f"view holds {actual or 'all rows'}")
    return failures


def _check_writes(view: ClientView, expected: dict[str, str]) -> list[str]:
    failures = []
    for kind, outcome in sorted(expected.items()):
        grant = view.writes.get(kind)
        if outcome == "allowed" and grant is None:
            failures.append(f"writes: {kind} should be allowed, but the purpose does not grant "
                            "it")
        elif outcome == "denied" and grant is not None:
            scope = "; ".join(grant.scope) or "every record"
            failures.append(f"writes: {kind} should be denied, but the purpose allows it "
                            f"({scope})")
    return failures


def _check_write_rows(view: ClientView, expected: dict[str, list[str]]) -> list[str]:
    failures = []
    for kind, conditions in sorted(expected.items()):
        grant = view.writes.get(kind)
        if grant is None:
            failures.append(f"write rows of {kind}: the purpose does not grant {kind}")
        elif sorted(conditions) != sorted(grant.scope):
            failures.append(f"write rows of {kind}: expected {conditions or 'every record'}, "
                            f"the grant holds {list(grant.scope) or 'every record'}")
    return failures


def _check_static(view: ClientView, expect: Mapping[str, Any]) -> list[str]:
    """What a case checks without its query: writes and their row scopes."""
    failures = []
    if "writes" in expect:
        failures.extend(_check_writes(view, dict(expect["writes"])))
    if "write_rows" in expect:
        failures.extend(_check_write_rows(view, dict(expect["write_rows"])))
    return failures


def _check_view(view: ClientView, test: PolicyTest, document: DocumentNode | None,
                full: GraphQLSchema, types: dict[str, GraphQLObjectType]) -> list[str]:
    expect = test.expect
    failures = [f"{key}: {ref} is not a field of the schema at all"
                for key in ("visible", "denied", "masked")
                for ref in _unknown(expect.get(key, ()), types)]
    if failures:  # a typo in the expectations: comparing against it would only add noise
        return failures
    failures += [f"rows: {name} is not a type of the schema" for name in expect.get("rows", {})
                 if name not in types]
    failures += _check_static(view, expect)
    if document is None:  # no query: only what the view holds
        if "masked" in expect:
            failures.extend(_check_masked(view, dict(expect["masked"]), None))
        if "rows" in expect:
            failures.extend(_check_rows(view, dict(expect["rows"])))
        return failures
    errors = validate(view.schema, document)
    if "denied" in expect:
        failures.extend(_check_denied(list(expect["denied"]), view, document, full, errors))
    elif errors:
        failures.append("the query does not validate against the client's schema: "
                        + " | ".join(error.message for error in errors))
    selected: frozenset[str] | None = None
    if not errors:
        try:
            selected = selected_fields(view.schema, document, test.operation, test.variables)
        except SelectionError as error:
            failures.append(str(error))
    if "visible" in expect and selected is not None:
        failures.extend(_compare("visible", set(expect["visible"]), set(selected),
                                 "disclosed"))
    if "masked" in expect:
        failures.extend(_check_masked(view, dict(expect["masked"]), selected))
    if "rows" in expect:
        failures.extend(_check_rows(view, dict(expect["rows"])))
    return failures


def run_case(engine: PolicyEngine, client: ClientPolicy, test: PolicyTest,
             types: dict[str, GraphQLObjectType]) -> CaseResult:
    def result(*failures: str) -> CaseResult:
        return CaseResult(client, test, tuple(failures))

    try:
        view = engine.view(client.client_id, test.purpose)
    except Refusal as refusal:
        if "refused" in test.expect:
            return result()
        return result(f"the purpose is refused: {refusal}")
    if "refused" in test.expect:
        return result(f"refused: expected {test.expect['refused']} for purpose "
                      f"{test.purpose!r}, but the client has a view for it")
    document = None
    if test.query is not None:
        try:
            document = parse(test.query)
        except GraphQLSyntaxError as error:
            return result(f"the query does not parse: {error.message}")
    elif {"visible", "denied"} & set(test.expect):
        return result("`visible` and `denied` need a query")
    return result(*_check_view(view, test, document, engine.schema, types))


def run_tests(workspace: Workspace, client_id: str | None = None) -> list[CaseResult]:
    """The cases of every client that compiles (or of ``client_id`` alone), in file order."""
    types = object_types(workspace.schema)
    return [run_case(engine, workspace.clients[cid], test, types)
            for cid, engine in workspace.engines.items()
            if client_id is None or cid == client_id
            for test in workspace.clients[cid].tests]
