"""The hook into graphql-core: root fields resolve as usual, everything below runs as a plan."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.pyutils import Path

from resolvers.disclosures import AuditingExecutionContext
from resolvers.plan.columns import columns_of
from resolvers.plan.compile import FieldKind, FieldPlan, ObjectPlan, PlanCompiler, Unsupported
from resolvers.plan.run import PlanRun

__all__ = ["PlanExecutor"]

# Plans of operations that read no variable below their root fields, by schema and operation
# node (both kept alongside, so their ids cannot be reused while the entry lives; a schema per
# client will then never share a plan with another client's).
_PLANS: OrderedDict[tuple[int, int], tuple[GraphQLSchema, OperationDefinitionNode,
                                           dict[str, ObjectPlan | None],
                                           dict[str, frozenset[str]] | None]] = OrderedDict()
_PLAN_CACHE_SIZE = 1_024


def _object_type(type_: GraphQLOutputType) -> GraphQLObjectType | None:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        inner = inner.of_type
        inner = inner.of_type if isinstance(inner, GraphQLNonNull) else inner
    return inner if isinstance(inner, GraphQLObjectType) else None


class PlanExecutor(AuditingExecutionContext):
    """graphql-core's executor, completing each root field's value with a plan."""

    _root_plans: dict[str, ObjectPlan | None]

    def execute_operation(self, serially: bool | None = None) -> Any:
        # Plan every root field before any resolver runs, so the loaders know which columns
        # the whole query needs from each source before the first fetch. A plan that read no
        # variable serves every later request of the same (cached) document.
        key = (id(self.schema), id(self.operation))
        cached = _PLANS.get(key)
        if cached is not None and cached[0] is self.schema and cached[1] is self.operation:
            plans, columns = cached[2], cached[3]
        else:
            compiler = PlanCompiler(self.schema, self.fragment_definitions,
                                    self.variable_values)
            try:
                plans, columns = self._plan_root_fields(compiler)
            except GraphQLError:
                # A bad argument or directive value below the root: graphql-core completes
                # the fields and reports the error where it belongs.
                plans, columns = {}, None
            else:
                if not compiler.read_variables:
                    _PLANS[key] = (self.schema, self.operation, plans, columns)
                    if len(_PLANS) > _PLAN_CACHE_SIZE:
                        _PLANS.popitem(last=False)
        self._root_plans = plans
        loaders = getattr(self.context_value, "loaders", None)
        if columns is not None and loaders is not None:
            loaders.select_columns(columns)
        return super().execute_operation(serially)

    def _plan_root_fields(self, compiler: PlanCompiler
                          ) -> tuple[dict[str, ObjectPlan | None],
                                     dict[str, frozenset[str]] | None]:
        """Plans per root field (None: graphql-core completes it) and, when every root field
        could be planned, the columns the query needs per entity."""
        root_type = self.schema.get_root_type(self.operation.operation)
        if root_type is None:
            return {}, None
        plans: dict[str, ObjectPlan | None] = {}
        complete = True
        try:
            grouped = compiler.group(root_type, [self.operation])
        except Unsupported:
            return {}, None
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            field_def = root_type.fields.get(name)
            object_type = None if field_def is None else _object_type(field_def.type)
            if object_type is None or name.startswith("__"):  # leaves; introspection
                plans[key] = None
                continue
            try:
                plans[key] = compiler.object_plan(object_type, nodes)
            except Unsupported:
                plans[key] = None
                complete = False
        if not complete:
            return plans, None
        selected: dict[str, set[str]] = {}
        for plan in plans.values():
            for entity, columns in columns_of(plan).items() if plan else ():
                selected.setdefault(entity, set()).update(columns)
        return plans, {e: frozenset(c) for e, c in selected.items()}

    def complete_value(self, return_type: GraphQLOutputType, field_details_list: Any,
                       info: GraphQLResolveInfo[Any], path: Path, result: Any,
                       position_context: Any) -> Any:
        plan = None
        if path.prev is None and not isinstance(result, Exception):
            plan = self._root_plans.get(str(path.key))
        if plan is None:
            return super().complete_value(return_type, field_details_list, info, path, result,
                                          position_context)
        subject = self.root_subject(field_details_list, path)
        nodes = [details.node for details in field_details_list]
        return self._run(plan, return_type, nodes, path, result, subject)

    def _make_info(self, field: FieldPlan) -> GraphQLResolveInfo[Any]:
        assert field.field_def is not None
        return self.build_resolve_info(field.field_def, field.nodes, field.parent_type,
                                       Path(None, field.key, field.parent_type.name))

    def _record(self, error: GraphQLError) -> None:
        path = Path(None, error.path[0], None) if error.path else None
        for key in (error.path or [])[1:]:
            path = Path(path, key, None)
        self.collected_errors.add(error, path)

    async def _run(self, plan: ObjectPlan, return_type: GraphQLOutputType, nodes: list[Any],
                   path: Path, result: Any, subject: str | None) -> Any:
        nullable, is_list, item_nullable = _list_shape(return_type)
        root_type = self.schema.query_type
        assert root_type is not None
        root = FieldPlan(str(path.key), str(path.key), FieldKind.VALUE, nullable, is_list,
                         item_nullable, nodes, root_type, None, sub=plan)
        run = PlanRun(self.context_value, path, self._record, self._make_info,
                      disclosures=self._disclosures(), subject=subject)
        objects = [] if result is None else (
            [r for r in result if r is not None] if is_list else [result])
        await run.fetch(plan, objects)
        return run.complete_root(root, result)


def _list_shape(type_: GraphQLOutputType) -> tuple[bool, bool, bool]:
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        return nullable, True, not isinstance(inner.of_type, GraphQLNonNull)
    return nullable, False, False
