"""An agency HR system's own copy of an employee's record."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

__all__ = ["AgencyDiscipline", "AgencyRecord"]


@strawberry.type(description="A discipline decision as the agency's own HR system holds it "
                             "(the form as a national code; one the hub cannot translate as "
                             "the system holds it). Values the system holds unreadably are "
                             "null.")
class AgencyDiscipline:
    decision_number: str | None
    decided_on: date | None
    form_code: str | None
    issuer: str | None
    reason: str | None
    effective_from: date | None
    effective_to: date | None


@strawberry.type(description="The employee's record as the agency's own HR system holds it, "
                             "translated to national field names and codes (a vendor code the "
                             "hub cannot translate is shown as the system holds it). It may "
                             "differ from the national database: that is what it is for.")
class AgencyRecord:
    system: str = strawberry.field(description="The agency system that answered.")
    local_id: str | None
    personal_id: str | None
    full_name: str | None
    birth_date: date | None
    sex: str | None
    agency_code: str | None
    unit_name: str | None
    position_code: str | None
    rank_code: str | None
    salary_step: int | None
    salary_coefficient: float | None
    pending_discipline: str | None = strawberry.field(
        description="A discipline case the agency is handling, if any.")
    address: str | None
    hired_on: date | None
    disciplines: list[AgencyDiscipline] | None = strawberry.field(
        description="The discipline decisions the system holds about the person; null when "
                    "it does not say.")
    updated_at: datetime | None
