"""Schema directives that document data-protection facts in the SDL itself."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.schema_directive import Location

__all__ = ["Sensitive", "SensitiveCategory"]


@strawberry.enum(description="Kinds of sensitive personal data (Law 91/2025/QH15, Decree "
                             "356/2025/ND-CP).")
class SensitiveCategory(Enum):
    POLITICAL_VIEWS = "political_views"
    RELIGIOUS_BELIEFS = "religious_beliefs"
    HEALTH = "health"
    ETHNIC_ORIGIN = "ethnic_origin"
    FINANCIAL = "financial"
    CRIMINAL_RECORD = "criminal_record"
    LOCATION = "location"


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="Sensitive personal data: a policy may grant this field only with a stated "
                "legal basis.")
class Sensitive:
    category: SensitiveCategory
