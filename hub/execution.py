"""Running one GraphQL operation: parse, validate and execute, each phase's errors told apart.

Parsing and validation results are cached per document text (most traffic repeats a few
documents), so a repeated query pays only for execution (and its trace shows no parse or
validation span). The phases are run here rather than through ``strawberry.Schema.execute``
so that each failure gets its own error code and no schema extension sits on the per-field
path (strawberry's OpenTelemetry extension is not used: hub/telemetry traces the phases).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeGuard, cast

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    execute,
    is_non_null_type,
    parse,
    print_ast,
    specified_rules,
    validate,
    visit,
)
from strawberry.execution.is_awaitable import optimized_is_awaitable

from adapters.replicas import primary_reads
from hub.query_cost import Limits, QueryMeter
from hub.telemetry.spans import phase
from resolvers.disclosures import AuditingExecutionContext
from resolvers.plan import PlanExecutor

__all__ = ["OperationRunner", "Phase", "PhaseError"]

# strawberry's faster awaitable check (a type look-up first for plain values).
_is_awaitable = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)

Phase = str  # "parse" | "validate" | "variables" | "execute"
_CACHEABLE_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class PhaseError:
    phase: Phase
    error: GraphQLError


@dataclass(frozen=True, slots=True)
class _Prepared:
    document: DocumentNode | None
    errors: tuple[PhaseError, ...]
    # SHA-256 (hex) of the document printed back from its syntax tree: the same operation
    # sent with other spacing or comments hashes alike. None when it did not parse.
    document_hash: str | None = None
    parsed: DocumentNode | None = None  # also when validation failed


class OperationRunner:
    """Runs operations against a schema: the full one by default, or the client's own (each
    client and purpose has its schema, built from its grants)."""

    def __init__(self, schema: strawberry.Schema, *, max_tokens: int = 10_000,
                 cache_size: int = 1_024, plan_executor: bool = True,
                 limits: Limits | None = None, default_page: int = 20, max_page: int = 100,
                 introspection: bool = True) -> None:
        self._schema: GraphQLSchema = schema._schema
        self.limits = limits or Limits()
        self._meter = QueryMeter(self._schema, default_page=default_page, max_page=max_page,
                                 cache_size=cache_size)
        # Without introspection, ``__schema`` and ``__type`` fail validation like any field
        # the schema lacks (``__typename`` stays: clients need it for abstract types).
        self._rules = (None if introspection
                       else (*specified_rules, NoSchemaIntrospectionCustomRule))
        # The plan executor completes everything below the root fields level by level;
        # graphql-core's own executor (field by field) is kept for comparison and fallback.
        self._executor_class = PlanExecutor if plan_executor else (
            AuditingExecutionContext)
        self._max_tokens = max_tokens
        # Parsing depends on the text only; validation on the text and the schema (a client's
        # own schema: keyed by the object itself, which the entry keeps alive).
        self._parsed: OrderedDict[str, DocumentNode | GraphQLError] = OrderedDict()
        self._cache: OrderedDict[tuple[GraphQLSchema, str], _Prepared] = OrderedDict()
        self._cache_size = cache_size
        self._hashes: OrderedDict[int, tuple[DocumentNode, str]] = OrderedDict()

    def _parse(self, query: str) -> DocumentNode | GraphQLError:
        parsed = self._parsed.get(query)
        if parsed is not None:
            self._parsed.move_to_end(query)
            return parsed
        try:
            parsed = parse(query, max_tokens=self._max_tokens)
        except GraphQLError as error:
            parsed = error
        if len(query) <= _CACHEABLE_CHARS:  # big one-off documents must not fill memory
            self._parsed[query] = parsed
            if len(self._parsed) > self._cache_size:
                self._parsed.popitem(last=False)
        return parsed

    @property
    def schema(self) -> GraphQLSchema:
        """The full schema (every client's schema is a part of it)."""
        return self._schema

    def _document_hash(self, document: DocumentNode) -> str:
        found = self._hashes.get(id(document))
        if found is None or found[0] is not document:
            found = (document, hashlib.sha256(print_ast(document).encode()).hexdigest())
            self._hashes[id(document)] = found
            if len(self._hashes) > self._cache_size:
                self._hashes.popitem(last=False)
        return found[1]

    def prepare(self, query: str, schema: GraphQLSchema | None = None) -> _Prepared:
        schema = schema or self._schema
        key = (schema, query)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        with phase("graphql.parse"):
            parsed = self._parse(query)
        if isinstance(parsed, GraphQLError):
            prepared = _Prepared(None, (PhaseError("parse", parsed),))
        else:
            with phase("graphql.validate"):
                errors = validate(schema, parsed, self._rules, hide_suggestions=True)
            prepared = _Prepared(None if errors else parsed,
                                 tuple(PhaseError("validate", e) for e in errors),
                                 self._document_hash(parsed), parsed)
        if len(query) <= _CACHEABLE_CHARS:
            self._cache[key] = prepared
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return prepared

    def too_complex(self, document: DocumentNode, operation: OperationDefinitionNode,
                    variables: dict[str, Any] | None, *, max_cost: int | None = None
                    ) -> str | None:
        """Why a valid operation is too big to run (depth, aliases, root fields, estimated
        cost; ``max_cost``: the client's own budget instead of the hub's), or None."""
        limits = self.limits
        if max_cost is not None:
            limits = Limits(limits.max_depth, limits.max_aliases, limits.max_root_fields,
                            max_cost)
        return self._meter.measure(document, operation, variables).over(limits)

    @staticmethod
    def operation_type(document: DocumentNode, operation_name: str | None) -> OperationType | None:
        selected = OperationRunner.selected_operation(document, operation_name)
        return selected.operation if selected is not None else None

    @staticmethod
    def selected_operation(document: DocumentNode, operation_name: str | None
                           ) -> OperationDefinitionNode | None:
        """The operation a request runs: the one named, or the only one."""
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        for operation in operations:
            if operation_name is None and len(operations) == 1:
                return operation
            if operation.name is not None and operation.name.value == operation_name:
                return operation
        return None

    async def execute(self, document: DocumentNode, *, variables: dict[str, Any] | None,
                      operation_name: str | None, context: Any,
                      schema: GraphQLSchema | None = None
                      ) -> tuple[dict[str, Any] | None, list[PhaseError]]:
        problem = _null_for_non_null(schema or self._schema, document, operation_name,
                                     variables)
        if problem is not None:
            return None, [PhaseError("variables", GraphQLError(problem))]
        # A mutation reads what it (or the mutation before it) has just written, and a
        # replica may not have replayed that yet: all of its reads go to the primary.
        reads = (primary_reads()
                 if self.operation_type(document, operation_name) is OperationType.MUTATION
                 else contextlib.nullcontext())
        with phase("graphql.execute"), reads:
            result = execute(
                schema or self._schema, document, context_value=context,
                variable_values=variables, operation_name=operation_name,
                executor_class=self._executor_class, is_awaitable=_is_awaitable,
                hide_suggestions=True)
            if not isinstance(result, ExecutionResult):
                result = await result
        errors = result.errors or []
        # Errors before any field ran (no path, no data) come from the operation name or the
        # variables; errors with a path come from resolving fields.
        failed_in = "variables" if result.data is None else "execute"
        return result.data, [PhaseError("execute" if e.path else failed_in, e) for e in errors]


def _null_for_non_null(schema: GraphQLSchema, document: DocumentNode,
                       operation_name: str | None, variables: dict[str, Any] | None
                       ) -> str | None:
    """Why explicit nulls in ``variables`` cannot run, if they cannot. A nullable variable
    with a default may stand in for a non-null argument (``$s: Boolean = false`` in
    ``@skip(if: $s)``), so validation passes; sent as null, it fails only as the field runs,
    where graphql-core's error would read as the hub's own. Only requests with a null
    variable pay for the walk."""
    if not variables or all(value is not None for value in variables.values()):
        return None
    nulls = {name for name, value in variables.items() if value is None}
    found: list[str] = []
    type_info = TypeInfo(schema)

    class Find(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            expected = type_info.get_input_type()
            if (node.name.value in nulls and is_non_null_type(expected)
                    and not found):
                found.append(f"variable ${node.name.value} is null where {expected} "
                             "is required")

    operation = OperationRunner.selected_operation(document, operation_name)
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    for node in [operation, *fragments] if operation is not None else []:
        visit(node, TypeInfoVisitor(type_info, Find()))
    return found[0] if found else None
