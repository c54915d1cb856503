"""Code-list entries as they appear inside records."""

from __future__ import annotations

from datetime import date

import strawberry

__all__ = ["DisciplineForm", "LegacyProvince", "Position", "Province", "Rank"]


@strawberry.type(description="A civil-servant rank (ngạch) or public-employee professional "
                             "title, with its salary ladder.")
class Rank:
    code: str
    name: str | None
    category: str | None = None
    pay_group: str | None = None
    ladder: list[float] | None = strawberry.field(
        default=None, description="Salary coefficient of each step, from step 1.")


@strawberry.type
class Position:
    code: str
    name: str | None
    leadership: bool | None = None
    allowance_coefficient: float | None = None


@strawberry.type(description="A province-level unit in force since 1 July 2025.")
class Province:
    code: str
    name: str
    valid_from: date


@strawberry.type(description="A province-level unit in force until 30 June 2025, and the unit "
                             "that absorbed it.")
class LegacyProvince:
    code: str
    name: str
    valid_to: date
    successor_code: str
    merged_on: date


@strawberry.type
class DisciplineForm:
    code: str
    name: str | None
    severity: int | None = None
    appointment_bar_months: int | None = strawberry.field(
        default=None, description="Months after the decision during which the person may not "
                                  "be appointed; null when the form ends the service.")
