"""Shaping source rows into the objects GraphQL reads, once per object in the loader.

Fields are then plain dictionary reads (the schema's default resolver is ``dict.get``), so no
per-field Python runs for them. Code-list references become nested objects here. ``SHAPED_FROM``
says which source columns each shaped field is made of, so a query that asks for the field
fetches those columns.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from resolvers.code_lists import CodeLists
from resolvers.field_groups import groups_of

__all__ = ["SHAPED_FROM", "shape_access_event", "shape_agency", "shape_citizen",
           "shape_discipline", "shape_employee", "shape_evaluation"]

Row = dict[str, Any]

# (GraphQL type, python field name) -> the source columns the shaped field is made of
SHAPED_FROM: dict[tuple[str, str], tuple[str, ...]] = {
    ("CivilServant", "rank"): ("rank_code",),
    ("CivilServant", "position"): ("position_code",),
    ("Agency", "province"): ("province_code",),
    ("Discipline", "form"): ("form_code",),
    ("Discipline", "in_effect"): ("effective_from", "effective_to"),
    ("Evaluation", "grade"): ("grade_code",),
    ("Person", "alive"): ("death_date",),
    ("AccessEvent", "field_groups"): ("fields",),
}


def _unknown(code: str) -> Row:
    # A code that is not on its list is shown as it is, with no name, rather than hidden.
    return {"code": code, "name": None}


def shape_employee(row: Row, code_lists: CodeLists) -> Row:
    rank_code = row.get("rank_code")
    if rank_code is not None:
        row["rank"] = code_lists.ranks.get(rank_code) or _unknown(rank_code)
    position_code = row.get("position_code")
    if position_code is not None:
        row["position"] = code_lists.positions.get(position_code) or _unknown(position_code)
    return row


def shape_agency(row: Row, code_lists: CodeLists) -> Row:
    province_code = row.get("province_code")
    if province_code is not None:
        row["province"] = code_lists.provinces.get(province_code)
    return row


def shape_discipline(row: Row, code_lists: CodeLists, today: date) -> Row:
    form_code = row.get("form_code")
    if form_code is not None:
        row["form"] = code_lists.discipline_forms.get(form_code) or _unknown(form_code)
    effective_from = row.get("effective_from")
    if effective_from is not None:
        effective_to = row.get("effective_to")
        row["in_effect"] = effective_from <= today and (effective_to is None
                                                        or effective_to >= today)
    return row


def shape_evaluation(row: Row, code_lists: CodeLists) -> Row:
    row["grade"] = row.get("grade_code")
    return row


def shape_citizen(row: Row) -> Row:
    if "death_date" in row:
        row["alive"] = row["death_date"] is None
    return row


def shape_access_event(row: Row) -> Row:
    row["field_groups"] = groups_of(row["fields"])
    return row
