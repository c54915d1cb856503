"""Agencies: ministries, provinces, their units, and the public service units under them."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from resolvers.info import Info, Row
from resolvers.links import Link, link
from resolvers.pagination import check_page_size, decode_cursor, make_page
from resolvers.types.code_lists import Province
from resolvers.types.enums import AgencyKind

if TYPE_CHECKING:
    from resolvers.types.connection import CivilServantConnection

__all__ = ["Agency"]

ConnectionRef = Annotated["CivilServantConnection",
                          strawberry.lazy("resolvers.types.connection")]


AgencyRef = Annotated["Agency", strawberry.lazy("resolvers.types.agency")]


_parent = link("Agency", "parent", Link(key_columns=("parent_code",),
                                        loader=attrgetter("agency"), target_key="code",
                                        shows=("code",)))
_children = link("Agency", "children", Link(key_columns=("code",),
                                            loader=attrgetter("agency_children"),
                                            shows=("parentCode",)))
_headcount = link("Agency", "headcount", Link(key_columns=("code",),
                                              loader=attrgetter("headcount"), shows=(None,)))


async def _employees(root: strawberry.Parent[Row], info: Info, first: int | None = None,
                     after: str | None = None) -> ConnectionRef:
    size = check_page_size(first, info.context.limits)
    loader = info.context.loaders.employees_of_agency(size, decode_cursor(after))
    rows: list[Row] = await loader.load(root["code"])

    async def count() -> int:
        return int(await info.context.loaders.headcount.load(root["code"]))

    return cast("CivilServantConnection", make_page(rows, size, "employee_code", count))


@strawberry.type(description="An agency or unit. Codes follow the electronic identifier layout "
                             "000.SS.MM.X (X = Gnn for a ministry, Hpp for a province).")
class Agency:
    code: str
    name: str
    kind: AgencyKind
    parent_code: str | None
    province_code: str
    authority: str = strawberry.field(
        description="The ministry (Gnn) or province (Hpp) the agency belongs to, from the last "
                    "segment of its code; ministries located in Hà Nội belong to no province.")
    headcount_quota: int

    province: Province | None
    parent: AgencyRef | None = strawberry.field(resolver=_parent)
    children: list[AgencyRef] = strawberry.field(
        resolver=_children, description="Units directly under this agency.")
    headcount: int = strawberry.field(resolver=_headcount,
                                      description="Employees recorded in the national database.")
    employees: ConnectionRef = strawberry.field(
        resolver=_employees, description="Employees of this agency, by employee code.")
