"""A person as the National Population Database holds them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from resolvers.directives import Sensitive, SensitiveCategory
from resolvers.info import Info, Row
from resolvers.scalars import PersonalId
from resolvers.types.enums import Sex

if TYPE_CHECKING:
    from resolvers.types.civil_servant import CivilServant

__all__ = ["Person"]

CivilServantRef = Annotated["CivilServant", strawberry.lazy("resolvers.types.civil_servant")]


PersonRef = Annotated["Person", strawberry.lazy("resolvers.types.person")]


async def _relative(info: Info, personal_id: str | None) -> PersonRef | None:
    if personal_id is None:
        return None
    return cast("Person | None", await info.context.loaders.citizen.load(personal_id))


async def _father(root: strawberry.Parent[Row], info: Info) -> PersonRef | None:
    return await _relative(info, root.get("father_id"))


async def _mother(root: strawberry.Parent[Row], info: Info) -> PersonRef | None:
    return await _relative(info, root.get("mother_id"))


async def _spouse(root: strawberry.Parent[Row], info: Info) -> PersonRef | None:
    return await _relative(info, root.get("spouse_id"))


async def _civil_servant(root: strawberry.Parent[Row], info: Info) -> CivilServantRef | None:
    return cast("CivilServant | None",
                await info.context.loaders.employee_by_personal_id.load(root["personal_id"]))


@strawberry.type(description="A person in the National Population Database (Ministry of Public "
                             "Security), linked by personal ID.")
class Person:
    personal_id: PersonalId
    full_name: str
    birth_date: date
    sex: Sex
    ethnicity: str | None = strawberry.field(
        directives=[Sensitive(category=SensitiveCategory.ETHNIC_ORIGIN)])
    religion: str | None = strawberry.field(
        directives=[Sensitive(category=SensitiveCategory.RELIGIOUS_BELIEFS)])
    nationality: str | None
    place_of_origin: str | None
    permanent_address: str | None
    current_address: str | None = strawberry.field(
        directives=[Sensitive(category=SensitiveCategory.LOCATION)])
    death_date: date | None
    alive: bool
    updated_at: datetime | None

    father: PersonRef | None = strawberry.field(resolver=_father)
    mother: PersonRef | None = strawberry.field(resolver=_mother)
    spouse: PersonRef | None = strawberry.field(resolver=_spouse)
    civil_servant: CivilServantRef | None = strawberry.field(
        resolver=_civil_servant,
        description="The person's record in the national civil-servant database, if any.")
