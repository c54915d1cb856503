"""The columns a planned query needs from each source entity.

A field read from a row needs its column; a shaped field (``rank``, ``inEffect``...) needs the
columns it is made of; a link needs its key columns. The loaders then ask each source for
these columns only: less to fetch, decode and hold, and nothing fetched that no one asked for.
"""

from __future__ import annotations

from collections import defaultdict

from resolvers.entities import ENTITY_OF_TYPE, column_of
from resolvers.plan.compile import FieldKind, FieldPlan, ObjectPlan
from resolvers.shaping import SHAPED_FROM

__all__ = ["columns_of"]


def _column(field: FieldPlan) -> str:
    """The source column behind a value field. Usually the row key the field reads; a masked
    field reads the masked value kept beside the column, and needs the column itself."""
    return column_of(field.field_def, field.name) if field.field_def is not None else field.name


def columns_of(plan: ObjectPlan) -> dict[str, frozenset[str]]:
    found: defaultdict[str, set[str]] = defaultdict(set)
    seen: set[int] = set()

    def visit(node: ObjectPlan) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        entity = ENTITY_OF_TYPE.get(node.type_name)
        for field in node.fields:
            if entity is not None:
                wanted = found[entity]
                if field.kind is FieldKind.VALUE:
                    column = _column(field)
                    wanted.update(SHAPED_FROM.get((node.type_name, column), (column,)))
                elif field.kind is FieldKind.LINK and field.link is not None:
                    wanted.update(field.link.key_columns)
            if field.sub is not None:
                visit(field.sub)

    visit(plan)
    return {entity: frozenset(columns) for entity, columns in found.items()}
