"""Running a plan: fetch level by level, then build the response.

Fetching walks the plan breadth-first: at each level every link field is loaded for all the
level's objects at once (one loader call per field, which the loader turns into one source
call), link fields of the same level concurrently. Building then walks the objects depth-first
with dictionary reads, recording errors and propagating nulls exactly as graphql-core does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, located_error
from graphql.pyutils import Path

from resolvers.disclosures import (
    RELATED_SUBJECT_COLUMNS,
    SUBJECT_COLUMNS,
    Disclosures,
    disclosed_fields,
    related_subject_of,
    subject_of,
)
from resolvers.plan.codegen import builder_for
from resolvers.plan.compile import FieldKind, FieldPlan, ObjectPlan

__all__ = ["PlanRun"]

# A lazily built response path: (parent path, key) pairs, turned into a list only for errors.
PathLink = tuple[Any, str | int] | None
ErrorSink = Callable[[GraphQLError], None]
InfoFactory = Callable[[FieldPlan], GraphQLResolveInfo[Any]]


class _Nulled(Exception):
    """A position became null because of ``error``, which the nearest nullable position
    above records (as graphql-core does when it propagates a null)."""

    def __init__(self, error: GraphQLError) -> None:
        self.error = error


def _as_list(path: PathLink) -> list[str | int]:
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


class PlanRun:
    def __init__(self, context: Any, root_path: Path, on_error: ErrorSink,
                 make_info: InfoFactory, *, disclosures: Disclosures | None = None,
                 subject: str | None = None) -> None:
        self._context = context
        # Objects are built depth-first, so the person the current object belongs to is a
        # single variable, set while an object describing a person is built.
        self._disclosures = disclosures
        self._subject = subject
        self._root_path = root_path
        self._on_error = on_error
        self._make_info = make_info
        # (id of parent object, id of field plan) -> resolved value or exception
        self._resolved: dict[tuple[int, int], Any] = {}

    # -- fetching ----------------------------------------------------------------------------

    async def fetch(self, plan: ObjectPlan, objects: list[Any]) -> None:
        """Fetch the whole tree below ``objects``, one level of the query at a time."""
        frontier = [(plan, objects)] if plan.fetches and objects else []
        while frontier:
            await self._load_level(frontier)
            frontier = self._next_level(frontier)

    async def _load_level(self, frontier: list[tuple[ObjectPlan, list[Any]]]) -> None:
        # Link fields that share a loader (father and mother, two aliases of person...) are
        # loaded together: one call per loader per level, across every branch of the query.
        loaders = self._context.loaders
        groups: dict[int, tuple[Any, list[tuple[FieldPlan, list[Any]]]]] = {}
        calls = []
        for plan, objects in frontier:
            for f in plan.fields:
                if f.kind is FieldKind.LINK:
                    assert f.link is not None
                    loader = f.link.loader(loaders)
                    groups.setdefault(id(loader), (loader, []))[1].append((f, objects))
                elif f.kind is FieldKind.RESOLVER:
                    calls.append(self._resolve_each(f, objects))
        calls.extend(self._load_group(loader, fields) for loader, fields in groups.values())
        await asyncio.gather(*calls)

    async def _load_group(self, loader: Any, fields: list[tuple[FieldPlan, list[Any]]]) -> None:
        resolved = self._resolved
        keyed = []
        wanted: dict[Hashable, None] = {}
        for f, objects in fields:
            assert f.link is not None
            key_of = f.link.key
            keys = [key_of(obj) for obj in objects]
            keyed.append((f, objects, keys))
            wanted.update(dict.fromkeys(k for k in keys if k is not None))
        values = await self._context.loaders.load_level(loader, list(wanted)) if wanted else {}
        for f, objects, keys in keyed:
            assert f.link is not None
            empty, field_id = f.link.empty, id(f)
            for obj, key in zip(objects, keys, strict=True):
                resolved[(id(obj), field_id)] = empty if key is None else values[key]

    def _next_level(self, frontier: list[tuple[ObjectPlan, list[Any]]]
                    ) -> list[tuple[ObjectPlan, list[Any]]]:
        resolved = self._resolved
        below = []
        for plan, objects in frontier:
            for f in plan.fields:
                if f.sub is None or not f.sub.fetches:
                    continue
                children: list[Any] = []
                fetched = f.kind is not FieldKind.VALUE
                field_id = id(f)
                for obj in objects:
                    value = resolved.get((id(obj), field_id)) if fetched else obj.get(f.name)
                    if value is None or isinstance(value, Exception):
                        continue
                    if f.is_list:
                        children.extend(v for v in value if v is not None)
                    else:
                        children.append(value)
                if children:
                    below.append((f.sub, children))
        return below

    async def _resolve_each(self, f: FieldPlan, objects: list[Any]) -> None:
        assert f.field_def is not None
        resolve = f.field_def.resolve
        assert resolve is not None
        info = self._make_info(f)

        async def one(obj: Any) -> None:
            try:
                value = resolve(obj, info, **f.args)
                if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
                    value = await value
            except Exception as error:  # recorded at the field's path when built
                value = error
            self._resolved[(id(obj), id(f))] = value

        await asyncio.gather(*(one(obj) for obj in objects))

    # -- building ----------------------------------------------------------------------------

    def build(self, plan: ObjectPlan, obj: Any, path: PathLink) -> dict[str, Any]:
        builder = plan.builder
        if builder is None:
            builder = plan.builder = builder_for(plan)
        disclosures = self._disclosures
        if disclosures is None:
            return builder(obj, path, self, plan.fields)
        fields = plan.disclosed
        if fields is None:
            fields = plan.disclosed = disclosed_fields(
                plan.type_name, (f.graphql_name for f in plan.fields))
        if plan.type_name not in SUBJECT_COLUMNS:
            disclosures.note(self._subject, fields)
            if plan.type_name in RELATED_SUBJECT_COLUMNS:
                related = related_subject_of(plan.type_name, obj)
                if related is not None and related != self._subject:
                    disclosures.note(related, fields)
            return builder(obj, path, self, plan.fields)
        outer = self._subject
        # A person without a usable ID stays with the person it was reached from.
        self._subject = subject = subject_of(plan.type_name, obj) or outer
        try:
            built = builder(obj, path, self, plan.fields)
        finally:
            self._subject = outer
        disclosures.note(subject, fields)
        return built

    def field_value(self, f: FieldPlan, obj: Any, path: PathLink) -> Any:
        """One field of one object, completed; the generic path of the generated builders.
        A null in a non-null field is raised (``_Nulled``) to the nearest nullable parent."""
        kind = f.kind
        if kind is FieldKind.VALUE:
            value = obj.get(f.name)
        elif kind is FieldKind.TYPENAME:
            return f.type_name
        else:
            value = self._resolved.get((id(obj), id(f)))
        try:
            return self._complete(f, value, (path, f.key))
        except _Nulled as nulled:
            if not f.nullable:
                raise
            self._on_error(nulled.error)
            return None

    def _complete(self, f: FieldPlan, value: Any, path: PathLink) -> Any:
        if isinstance(value, Exception):
            raise _Nulled(self._error(value, f, path))
        if value is None:
            if not f.nullable:
                raise _Nulled(self._null_error(f, path))
            return None
        if not f.is_list:
            return self._complete_item(f, value, path)
        if not isinstance(value, (list, tuple)):
            raise _Nulled(self._error(GraphQLError(
                f"Expected Iterable, but did not find one for field "
                f"'{f.parent_type.name}.{f.graphql_name}'."), f, path))
        items: list[Any] = []
        for index, item in enumerate(value):
            item_path = (path, index)
            try:
                if item is None:
                    if not f.item_nullable:
                        raise _Nulled(self._null_error(f, item_path))
                    items.append(None)
                else:
                    items.append(self._complete_item(f, item, item_path))
            except _Nulled as nulled:
                if not f.item_nullable:
                    raise
                self._on_error(nulled.error)
                items.append(None)
        return items

    def _complete_item(self, f: FieldPlan, value: Any, path: PathLink) -> Any:
        if f.sub is not None:
            return self.build(f.sub, value, path)
        assert f.serialize is not None
        try:
            return f.serialize(value)
        except Exception as error:
            raise _Nulled(self._error(error, f, path)) from None

    def _full_path(self, path: PathLink) -> list[str | int]:
        return [*self._root_path.as_list(), *_as_list(path)]

    def _error(self, raw: Exception, f: FieldPlan, path: PathLink) -> GraphQLError:
        return located_error(raw, f.nodes, self._full_path(path))

    def _null_error(self, f: FieldPlan, path: PathLink) -> GraphQLError:
        return GraphQLError(
            f"Cannot return null for non-nullable field {f.parent_type.name}.{f.graphql_name}.",
            f.nodes, path=self._full_path(path))

    def complete_root(self, root: FieldPlan, value: Any) -> Any:
        """The root field's completed value; a null that reaches it is raised as its error,
        for graphql-core to record or propagate like any field error."""
        try:
            return self._complete(root, value, None)
        except _Nulled as nulled:
            raise nulled.error from None
