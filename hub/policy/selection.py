"""Which fields a query would disclose: every ``Type.field`` its chosen operation selects.

A static walk of the document over a client's schema, the way execution would go: the chosen
operation only, fragments followed (each once), ``@skip``/``@include`` honoured with the
test's variables. ``__typename`` and introspection disclose no record, so they are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_operation_ast,
    visit,
)
from graphql.execution.values import VariableValues, get_directive_values, get_variable_values
from graphql.language import SKIP

__all__ = ["SelectionError", "selected_fields"]


class SelectionError(Exception):
    """The document cannot run as given: no such operation, or variables that do not fit."""


def _included(node: FieldNode | InlineFragmentNode | FragmentSpreadNode,
              variables: VariableValues) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return include is None or include.get("if") is not False


class _Collector(Visitor):
    def __init__(self, type_info: TypeInfo, variables: VariableValues) -> None:
        super().__init__()
        self.type_info = type_info
        self.variables = variables
        self.fields: set[str] = set()
        self.spreads: list[str] = []

    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        name = node.name.value
        parent = self.type_info.get_parent_type()
        # __schema and __type are skipped whole: what lies under them describes the schema
        if name.startswith("__") or parent is None or not _included(node, self.variables):
            return SKIP
        self.fields.add(f"{parent.name}.{name}")
        return None

    def enter_inline_fragment(self, node: InlineFragmentNode, *_: Any) -> Any:
        return None if _included(node, self.variables) else SKIP

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> Any:
        if _included(node, self.variables):
            self.spreads.append(node.name.value)
        return SKIP


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operation = get_operation_ast(document, name)
    if operation is not None:
        return operation
    if name is not None:
        raise SelectionError(f"the document has no operation named {name!r}")
    raise SelectionError("the document has several operations: name one under `operation`")


def selected_fields(schema: GraphQLSchema, document: DocumentNode,
                    operation_name: str | None = None,
                    variables: Mapping[str, Any] | None = None) -> frozenset[str]:
    """The ``Type.field`` names the operation selects; the document must validate."""
    operation = _operation(document, operation_name)
    coerced = get_variable_values(schema, operation.variable_definitions or (),
                                  dict(variables or {}))
    if isinstance(coerced, list):
        raise SelectionError("variables do not fit the operation: "
                             + "; ".join(error.message for error in coerced))
    fragments = {definition.name.value: definition for definition in document.definitions
                 if isinstance(definition, FragmentDefinitionNode)}
    fields: set[str] = set()
    pending: list[OperationDefinitionNode | FragmentDefinitionNode] = [operation]
    seen: set[str] = set()
    while pending:
        type_info = TypeInfo(schema)
        collector = _Collector(type_info, coerced)
        visit(pending.pop(), TypeInfoVisitor(type_info, collector))
        fields |= collector.fields
        for name in collector.spreads:
            if name not in seen and name in fragments:
                seen.add(name)
                pending.append(fragments[name])
    return frozenset(fields)
