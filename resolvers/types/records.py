"""The history groups of a personnel record (Decree 27/2026/ND-CP groups 3-10)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from resolvers.directives import Sensitive, SensitiveCategory
from resolvers.scalars import PersonalId
from resolvers.types.code_lists import DisciplineForm
from resolvers.types.enums import EvaluationGrade, FamilyRelation

__all__ = ["Allowance", "AssetDeclaration", "Award", "Discipline", "Evaluation", "FamilyMember",
           "HealthRecord", "PartyMembership", "PersonalHistoryEntry", "Qualification", "Training",
           "WorkHistoryEntry"]


@strawberry.type
class Versioned:
    """Every record is versioned with who changed it and when. A base class rather than a
    GraphQL interface: objects here are dicts, and interface implementations make graphql-core
    check each object's Python class."""

    version: int
    updated_at: datetime
    updated_by: str


@strawberry.type
class Allowance(Versioned):
    kind: str
    coefficient: float | None
    percent: float | None
    since: date


@strawberry.type
class WorkHistoryEntry(Versioned):
    from_date: date
    to_date: date | None
    agency_code: str | None
    agency_name: str
    position_code: str | None
    description: str


@strawberry.type(description="Degrees, political theory, state-management training, foreign "
                             "languages and IT qualifications.")
class Qualification(Versioned):
    kind: str
    level: str
    field: str
    institution: str
    awarded_on: date


@strawberry.type
class Training(Versioned):
    course: str
    institution: str
    from_date: date
    to_date: date
    certificate: str


@strawberry.type
class Award(Versioned):
    form: str
    decision_number: str
    decided_on: date
    issuer: str


@strawberry.type
class Discipline(Versioned):
    form: DisciplineForm
    decision_number: str
    decided_on: date
    issuer: str
    reason: str
    effective_from: date
    effective_to: date | None
    in_effect: bool = strawberry.field(description="Whether the decision is in effect today.")


@strawberry.type
class Evaluation(Versioned):
    year: int
    grade: EvaluationGrade


@strawberry.type(description="Party membership: political views are sensitive personal data.")
class PartyMembership(Versioned):
    joined_on: date
    official_on: date | None
    branch: str
    card_number: str


@strawberry.type(description="Health: sensitive personal data.")
class HealthRecord(Versioned):
    status: str
    height_cm: int | None
    weight_kg: int | None
    blood_type: str | None = strawberry.field(
        directives=[Sensitive(category=SensitiveCategory.HEALTH)])
    checked_on: date


@strawberry.type
class AssetDeclaration(Versioned):
    year: int
    declared_on: date
    land_plots: int
    houses: int
    total_assets_vnd: float = strawberry.field(
        directives=[Sensitive(category=SensitiveCategory.FINANCIAL)])
    annual_income_vnd: float = strawberry.field(
        directives=[Sensitive(category=SensitiveCategory.FINANCIAL)])


@strawberry.type(description="A period of the employee's own declared history (form 2C, "
                             "quá trình bản thân): schooling, study, military service, work "
                             "before or beside their service.")
class PersonalHistoryEntry(Versioned):
    id: strawberry.ID = strawberry.field(
        description="What a correction names (declarePersonalHistory's change.entryId).")
    from_date: date
    to_date: date | None = strawberry.field(description="Null while it goes on.")
    activity: str
    place: str


@strawberry.type(description="A relative the employee declared (form 2C, quan hệ gia đình).")
class FamilyMember(Versioned):
    id: strawberry.ID = strawberry.field(
        description="What a correction names (declareFamilyMember's change.memberId).")
    relation: FamilyRelation
    full_name: str
    birth_year: int
    occupation: str
    workplace_or_address: str
    personal_id: PersonalId | None
    deceased: bool
    death_year: int | None
