"""How big an operation is before it runs: depth, aliases, root fields and an estimated cost.

The cost estimate counts the objects' fields the answer could hold: every field costs the
number of times it may be resolved, the product of the list sizes above it. A list's size is
its page's ``first`` (the literal or the variable's value; the page default when absent) for
paged lists, else an assumed size for the other lists (a person's disciplines, an agency's
children). ``__typename`` is free (its aliases count); introspection (``__schema``,
``__type``) is governed by its own switch and not measured at all. ``@skip`` and
``@include`` are not evaluated: a field that may be asked for counts, so the estimate is an
upper bound whatever the variables.

One walk of the operation's syntax tree (fragments expanded where they are spread), never of
an answer: microseconds for the documents clients send, and cached per document, operation
and page sizes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

__all__ = ["Limits", "Measure", "QueryMeter"]

_PAGE_ARGUMENT = "first"
_INTROSPECTION = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one operation (DESIGN.md §8 ``QUERY_TOO_COMPLEX``)."""

    max_depth: int = 12
    max_aliases: int = 30
    max_root_fields: int = 20
    max_cost: int = 50_000


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int
    aliases: int
    root_fields: int
    cost: int

    def over(self, limits: Limits) -> str | None:
        """What the operation exceeds, said for the client; None when within bounds."""
        for name, value, bound in (("depth", self.depth, limits.max_depth),
                                   ("aliases", self.aliases, limits.max_aliases),
                                   ("root fields", self.root_fields, limits.max_root_fields),
                                   ("estimated cost", self.cost, limits.max_cost)):
            if value > bound:
                return f"the operation's {name} is {value}, over the limit of {bound}"
        return None


def _is_list(field: GraphQLField) -> bool:
    kind = field.type
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


def _named(field: GraphQLField) -> Any:
    kind = field.type
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


class QueryMeter:
    """Measures operations against one schema's types (any client's schema is a part of the
    full one, so the full schema serves every client)."""

    def __init__(self, schema: GraphQLSchema, *, default_page: int, max_page: int,
                 list_size: int = 10, cache_size: int = 1024) -> None:
        self._schema = schema
        self._default_page = default_page
        self._max_page = max_page
        self._list_size = list_size
        self._cache: OrderedDict[tuple[int, str | None, tuple[tuple[str, int], ...]],
                                 tuple[DocumentNode, Measure]] = OrderedDict()
        self._cache_size = cache_size

    def measure(self, document: DocumentNode, operation: OperationDefinitionNode,
                variables: Mapping[str, Any] | None) -> Measure:
        pages = tuple(sorted((name, value) for name, value in (variables or {}).items()
                             if type(value) is int))
        key = (id(document), operation.name.value if operation.name else None, pages)
        found = self._cache.get(key)
        if found is not None and found[0] is document:
            self._cache.move_to_end(key)
            return found[1]
        measured = _Walk(self, document, dict(pages)).operation(operation)
        self._cache[key] = (document, measured)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return measured

    def page_of(self, node: FieldNode, variables: Mapping[str, int]) -> int | None:
        """The page size a field asks for with ``first`` (None: no page argument)."""
        for argument in node.arguments or ():
            if argument.name.value != _PAGE_ARGUMENT:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return min(max(int(value.value), 0), self._max_page)
            if isinstance(value, VariableNode):
                given = variables.get(value.name.value)
                return self._default_page if given is None else min(max(given, 0),
                                                                     self._max_page)
            return self._default_page  # null: the default page
        return None


class _Walk:
    def __init__(self, meter: QueryMeter, document: DocumentNode,
                 variables: Mapping[str, int]) -> None:
        self._meter = meter
        self._variables = variables
        self._fragments = {d.name.value: d for d in document.definitions
                           if isinstance(d, FragmentDefinitionNode)}
        self.depth = 0
        self.aliases = 0
        self.cost = 0

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        schema = self._meter._schema
        root = {"query": schema.query_type, "mutation": schema.mutation_type,
                "subscription": schema.subscription_type}[operation.operation.value]
        fields = list(self._fields(operation.selection_set, root))
        roots = sum(1 for node, _ in fields if node.name.value not in _INTROSPECTION
                    and node.name.value != "__typename")
        if root is not None:
            self._selections(operation.selection_set, root, 1, 1, None)
        return Measure(self.depth, self.aliases, roots, self.cost)

    def _fields(self, selection_set: SelectionSetNode, parent: Any,
                seen: frozenset[str] = frozenset()) -> Any:
        """Each field node under ``selection_set`` with the type it is selected on, fragments
        expanded (a fragment spread twice on one path counts once: validation forbids
        cycles, ``seen`` guards anyway)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                on = (self._meter._schema.get_type(selection.type_condition.name.value)
                      if selection.type_condition is not None else parent)
                yield from self._fields(selection.selection_set, on, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in seen:
                    continue
                on = self._meter._schema.get_type(fragment.type_condition.name.value)
                yield from self._fields(fragment.selection_set, on, seen | {name})

    def _selections(self, selection_set: SelectionSetNode, parent: Any, depth: int,
                    times: int, page: int | None) -> None:
        for node, on in self._fields(selection_set, parent):
            name = node.name.value
            if name in _INTROSPECTION:
                continue
            if node.alias is not None:
                self.aliases += 1
            if name == "__typename":
                continue
            fields = getattr(on, "fields", None)
            field = fields.get(name) if fields else None
            if field is None:
                continue  # not this type's (validation answers it)
            self.depth = max(self.depth, depth)
            self.cost += times
            if node.selection_set is None:
                continue
            own_page = self._meter.page_of(node, self._variables)
            if _is_list(field):
                size = page if page is not None else self._meter._list_size
                inner_times, page_below = times * max(size, 1), own_page
            else:
                # A page object (a connection): the lists in it have the page's size.
                inner_times, page_below = times, own_page if own_page is not None else page
            self._selections(node.selection_set, _named(field), depth + 1, inner_times,
                             page_below)
