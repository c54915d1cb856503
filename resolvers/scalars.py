"""Custom scalars: the personal identification number, checked where it enters."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from resolvers.personal_id import is_well_formed

__all__ = ["SCALARS", "InvalidPersonalId", "PersonalId"]

PersonalId = NewType("PersonalId", str)


class InvalidPersonalId(ValueError):
    """Raised while parsing a PersonalId argument; classified as BAD_USER_INPUT."""


def _parse(value: object) -> str:
    if not isinstance(value, str) or not is_well_formed(value):
        raise InvalidPersonalId(
            "a personal ID is 12 digits: a 3-digit birth-registration province code "
            "(001-096), century and sex, two digits of the birth year, six serial digits")
    return value


SCALARS: dict[object, ScalarDefinition] = {
    PersonalId: strawberry.scalar(
        name="PersonalId",
        description="The 12-digit personal identification number (also the citizen ID card "
                    "number). It encodes the birth province, sex and birth year: a "
                    "quasi-identifier.",
        serialize=str,
        parse_value=_parse,
    ),
}
