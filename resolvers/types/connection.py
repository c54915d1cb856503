"""Connection types for paginated lists of civil servants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.info import Info, Row

if TYPE_CHECKING:
    from resolvers.types.civil_servant import CivilServant

__all__ = ["CivilServantConnection", "CivilServantEdge", "PageInfo"]

CivilServantRef = Annotated["CivilServant", strawberry.lazy("resolvers.types.civil_servant")]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class CivilServantEdge:
    cursor: str
    node: CivilServantRef


async def _total_count(root: strawberry.Parent[Row], info: Info) -> int:
    count = root["count"]
    if count is None:
        raise ValueError("connection built without a counter")
    return int(await count())


@strawberry.type(description="A page of civil servants, ordered by employee code.")
class CivilServantConnection:
    edges: list[CivilServantEdge]
    nodes: list[CivilServantRef]
    page_info: PageInfo
    total_count: int = strawberry.field(
        resolver=_total_count,
        description="How many civil servants match the filter (counted only when asked).")
