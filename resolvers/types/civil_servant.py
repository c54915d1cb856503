"""A person in service, as the national database holds them, with links to other sources."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from resolvers.directives import Sensitive, SensitiveCategory
from resolvers.info import Info, Row
from resolvers.scalars import PersonalId
from resolvers.types.agency_record import AgencyRecord
from resolvers.types.code_lists import Position, Rank
from resolvers.types.enums import Category, ServiceStatus, Sex
from resolvers.types.records import (
    Allowance,
    AssetDeclaration,
    Award,
    Discipline,
    Evaluation,
    HealthRecord,
    PartyMembership,
    Qualification,
    Training,
    WorkHistoryEntry,
)

if TYPE_CHECKING:
    from resolvers.types.agency import Agency
    from resolvers.types.person import Person

__all__ = ["CivilServant"]

AgencyRef = Annotated["Agency", strawberry.lazy("resolvers.types.agency")]
PersonRef = Annotated["Person", strawberry.lazy("resolvers.types.person")]


async def _person(root: strawberry.Parent[Row], info: Info) -> PersonRef | None:
    return cast("Person | None", await info.context.loaders.citizen.load(root["personal_id"]))


async def _agency(root: strawberry.Parent[Row], info: Info) -> AgencyRef | None:
    return cast("Agency | None", await info.context.loaders.agency.load(root["agency_code"]))


async def _agency_record(root: strawberry.Parent[Row], info: Info) -> AgencyRecord | None:
    return cast("AgencyRecord | None", await info.context.loaders.agency_record.load(
        (root["agency_code"], root["personal_id"])))


def _records(table: str) -> Any:
    async def resolve(root: strawberry.Parent[Row], info: Info) -> Any:
        return await info.context.loaders.records(table).load(root["employee_code"])

    resolve.__name__ = f"resolve_{table}"
    return resolve


@strawberry.type(description="A cadre, civil servant or public employee in the national "
                             "database (Ministry of Home Affairs).")
class CivilServant:
    employee_code: str
    personal_id: PersonalId
    family_name: str
    middle_name: str
    given_name: str
    full_name: str
    birth_date: date
    sex: Sex
    ethnicity: str = strawberry.field(
        directives=[Sensitive(category=SensitiveCategory.ETHNIC_ORIGIN)])
    religion: str = strawberry.field(
        directives=[Sensitive(category=SensitiveCategory.RELIGIOUS_BELIEFS)])
    category: Category
    status: ServiceStatus
    agency_code: str
    unit_name: str
    position: Position
    rank: Rank
    salary_step: int
    salary_coefficient: float
    hired_on: date
    version: int
    updated_at: datetime
    updated_by: str

    agency: AgencyRef | None = strawberry.field(resolver=_agency)
    allowances: list[Allowance] = strawberry.field(resolver=_records("allowance"))
    work_history: list[WorkHistoryEntry] = strawberry.field(resolver=_records("work_history"))
    qualifications: list[Qualification] = strawberry.field(resolver=_records("qualification"))
    trainings: list[Training] = strawberry.field(resolver=_records("training"))
    awards: list[Award] = strawberry.field(resolver=_records("award"))
    disciplines: list[Discipline] = strawberry.field(resolver=_records("discipline"))
    evaluations: list[Evaluation] = strawberry.field(resolver=_records("evaluation"))
    party_membership: PartyMembership | None = strawberry.field(
        resolver=_records("party_membership"),
        directives=[Sensitive(category=SensitiveCategory.POLITICAL_VIEWS)])
    health: HealthRecord | None = strawberry.field(
        resolver=_records("health_record"),
        directives=[Sensitive(category=SensitiveCategory.HEALTH)])
    asset_declarations: list[AssetDeclaration] = strawberry.field(
        resolver=_records("asset_declaration"),
        directives=[Sensitive(category=SensitiveCategory.FINANCIAL)])
    person: PersonRef | None = strawberry.field(
        resolver=_person,
        description="The person as the National Population Database holds them.")
    agency_record: AgencyRecord | None = strawberry.field(
        resolver=_agency_record,
        description="The employee's record in their agency's own HR system; null when the "
                    "agency has no system connected to the hub.")
