"""An agency HR system's own copy of an employee's record."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

__all__ = ["AgencyRecord"]


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
    updated_at: datetime | None
