"""Row filters: the only kind of condition a caller can push down into a source.

Equality and set membership (what policies are made of) plus a name-prefix match (what list
filters need). Conditions are data, never source-query text, so nothing a client sends can
change the shape of a source query.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Condition", "Related", "RowFilter", "eq", "one_of", "prefix", "related"]

Operator = Literal["eq", "in", "prefix", "related"]


@dataclass(frozen=True, slots=True)
class Condition:
    column: str
    op: Operator
    value: Hashable | tuple[Hashable, ...]

    def matches(self, row: dict[str, object]) -> bool:
        actual = row.get(self.column)
        if self.op == "eq":
            return bool(actual == self.value)
        if self.op == "in":
            assert isinstance(self.value, tuple)
            return actual in self.value
        if self.op == "related":
            # Only a database can follow a link; a source filtering on arrival cannot, and a
            # condition it cannot check must exclude the row, never let it through.
            return False
        return isinstance(actual, str) and isinstance(self.value, str) and actual.startswith(
            self.value)


RowFilter = tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Related:
    """Rows of ``table`` whose ``key`` the condition's column must hold, selected by
    ``conditions`` (a sub-select: the provincial office's employees are those whose agency is
    in its province)."""

    table: str
    key: str
    conditions: tuple[Condition, ...]


def eq(column: str, value: Hashable) -> Condition:
    return Condition(column, "eq", value)


def one_of(column: str, values: Collection[Hashable]) -> Condition:
    return Condition(column, "in", tuple(values))


def prefix(column: str, value: str) -> Condition:
    return Condition(column, "prefix", value)


def related(column: str, table: str, key: str, conditions: tuple[Condition, ...]) -> Condition:
    return Condition(column, "related", Related(table, key, conditions))
