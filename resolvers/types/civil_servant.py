"""A person in service, as the national database holds them, with links to other sources."""

from __future__ import annotations

from datetime import date, datetime
from operator import attrgetter, methodcaller
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.directives import Sensitive, SensitiveCategory
from resolvers.links import Link, link
from resolvers.loaders import EMPLOYEE_RECORD_TABLES
from resolvers.scalars import PersonalId
from resolvers.types.access_history import AccessHistory, civil_servant_history
from resolvers.types.agency_record import AgencyRecord
from resolvers.types.appointment import AppointmentCheck, civil_servant_appointment_check
from resolvers.types.code_lists import Position, Rank
from resolvers.types.enums import Category, ServiceStatus, Sex
from resolvers.types.history import RecordHistory, civil_servant_record_history
from resolvers.types.records import (
    Allowance,
    AssetDeclaration,
    Award,
    Discipline,
    Evaluation,
    FamilyMember,
    HealthRecord,
    PartyMembership,
    PersonalHistoryEntry,
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


_TYPE = "CivilServant"
_person = link(_TYPE, "person", Link(key_columns=("personal_id",),
                                     loader=attrgetter("citizen"), shows=("personalId",)))
_agency = link(_TYPE, "agency", Link(key_columns=("agency_code",),
                                     loader=attrgetter("agency"), target_key="code",
                                     shows=("code",)))
_agency_record = link(_TYPE, "agencyRecord", Link(
    key_columns=("agency_code", "personal_id"), loader=attrgetter("agency_record"),
    shows=("agencyCode", "personalId")))


def _records(field: str, table: str) -> Any:
    single, _ = EMPLOYEE_RECORD_TABLES[table]
    return link(_TYPE, field, Link(key_columns=("employee_code",),
                                   loader=methodcaller("records", table),
                                   empty=None if single else [], shows=(None,)))


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
    allowances: list[Allowance] = strawberry.field(resolver=_records("allowances", "allowance"))
    work_history: list[WorkHistoryEntry] = strawberry.field(
        resolver=_records("workHistory", "work_history"))
    qualifications: list[Qualification] = strawberry.field(
        resolver=_records("qualifications", "qualification"))
    trainings: list[Training] = strawberry.field(resolver=_records("trainings", "training"))
    awards: list[Award] = strawberry.field(resolver=_records("awards", "award"))
    disciplines: list[Discipline] = strawberry.field(resolver=_records("disciplines", "discipline"))
    evaluations: list[Evaluation] = strawberry.field(resolver=_records("evaluations", "evaluation"))
    party_membership: PartyMembership | None = strawberry.field(
        resolver=_records("partyMembership", "party_membership"),
        directives=[Sensitive(category=SensitiveCategory.POLITICAL_VIEWS)])
    health: HealthRecord | None = strawberry.field(
        resolver=_records("health", "health_record"),
        directives=[Sensitive(category=SensitiveCategory.HEALTH)])
    asset_declarations: list[AssetDeclaration] = strawberry.field(
        resolver=_records("assetDeclarations", "asset_declaration"),
        directives=[Sensitive(category=SensitiveCategory.FINANCIAL)])
    personal_history: list[PersonalHistoryEntry] = strawberry.field(
        resolver=_records("personalHistory", "personal_history"),
        description="The employee's own declared history before and beside their service.")
    family_members: list[FamilyMember] = strawberry.field(
        resolver=_records("familyMembers", "family_member"),
        description="The relatives the employee declared, in the order declared.")
    person: PersonRef | None = strawberry.field(
        resolver=_person,
        description="The person as the National Population Database holds them.")
    agency_record: AgencyRecord | None = strawberry.field(
        resolver=_agency_record,
        description="The employee's record in their agency's own HR system; null when the "
                    "agency has no system connected to the hub.")
    access_history: AccessHistory = strawberry.field(
        resolver=civil_servant_history,
        description="Who read this person's data through the hub, newest first.")
    appointment_check: AppointmentCheck = strawberry.field(
        resolver=civil_servant_appointment_check,
        description="Whether discipline bars appointing this person on a day, across the "
                    "national database and the agency HR systems (see "
                    "Query.appointmentCheck).")
    history: RecordHistory = strawberry.field(
        resolver=civil_servant_record_history,
        description="The versions of this personnel file, newest first: each accepted change "
                    "with who submitted it and what changed (only the fields the client may "
                    "read; masked ones without their values).")
