"""Link fields: a field whose value another source (or table) supplies, fetched in batches.

Each link is declared once, here-by-type, as data: how to get its key from the parent row
and which per-request loader resolves the key. The GraphQL resolvers are generated from these
declarations, and the plan executor uses the same declarations to fetch a whole level of a
query in one call per loader, so the two execution paths cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import strawberry
from aiodataloader import DataLoader

from resolvers.context import RequestContext
from resolvers.info import Info
from resolvers.loaders import Loaders

__all__ = ["KEYED_RESOLVERS", "LINKS", "Link", "link"]

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Link:
    """``key_columns`` of the parent row make the key (a tuple when several); ``loader`` picks
    the per-request loader that resolves it. ``target_key`` names the column of the linked
    entity the key matches, when that entity is a national table: a row filter may then follow
    the link (``agency.provinceCode``) as a sub-select."""

    key_columns: tuple[str, ...]
    loader: Callable[[Loaders], DataLoader[Any, Any]]
    # Per key column, the field of the linked type that shows the key's value (None: none
    # does). Required: the policy compiler relies on it to keep masks from being undone.
    shows: tuple[str | None, ...]
    empty: Any = None  # the value when the key is None
    target_key: str | None = None
    key: Callable[[Row], Hashable | None] = field(init=False)

    def __post_init__(self) -> None:
        if len(self.shows) != len(self.key_columns):
            raise ValueError("a link names what shows each of its key columns")
        getter = itemgetter(*self.key_columns)
        if len(self.key_columns) == 1:
            object.__setattr__(self, "key", getter)
        else:
            object.__setattr__(self, "key", lambda row: None if any(
                row[c] is None for c in self.key_columns) else getter(row))

    async def load(self, root: Row, context: RequestContext) -> Any:
        key = self.key(root)
        if key is None:
            return self.empty
        return await self.loader(context.loaders).load(key)


# (GraphQL type name, GraphQL field name) -> Link
LINKS: dict[tuple[str, str], Link] = {}

# Fields with their own resolver that fetch by a column of the parent, and the field that
# shows that column in what they return: (type, field) -> ((column, type, field), ...).
KEYED_RESOLVERS: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {
    ("Agency", "employees"): (("code", "CivilServant", "agencyCode"),),
}


def link(type_name: str, field_name: str, definition: Link) -> Callable[..., Any]:
    """Register a link and return the resolver strawberry calls for it."""
    LINKS[(type_name, field_name)] = definition

    async def resolve(root: strawberry.Parent[Row], info: Info) -> Any:
        return await definition.load(root, info.context)

    resolve.__name__ = f"resolve_{type_name}_{field_name}"
    return resolve
