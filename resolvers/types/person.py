"""A person as the National Population Database holds them."""

from __future__ import annotations

from datetime import date, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.directives import Sensitive, SensitiveCategory
from resolvers.links import Link, link
from resolvers.scalars import PersonalId
from resolvers.types.enums import Sex

if TYPE_CHECKING:
    from resolvers.types.civil_servant import CivilServant

__all__ = ["Person"]

CivilServantRef = Annotated["CivilServant", strawberry.lazy("resolvers.types.civil_servant")]


PersonRef = Annotated["Person", strawberry.lazy("resolvers.types.person")]


def _relative(field: str, column: str) -> Any:
    return link("Person", field, Link(key_columns=(column,), loader=attrgetter("citizen"),
                                      shows=("personalId",)))


_father = _relative("father", "father_id")
_mother = _relative("mother", "mother_id")
_spouse = _relative("spouse", "spouse_id")
_civil_servant = link("Person", "civilServant", Link(
    key_columns=("personal_id",), loader=attrgetter("employee_by_personal_id"),
    shows=("personalId",)))


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
