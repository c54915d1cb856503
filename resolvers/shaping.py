"""Shaping source rows into the objects GraphQL reads, once per object in the loader.

Fields are then plain dictionary reads (the schema's default resolver is ``dict.get``), so no
per-field Python runs for them. Code-list references become nested objects here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from resolvers.code_lists import CodeLists

__all__ = ["shape_agency", "shape_citizen", "shape_discipline", "shape_employee",
           "shape_evaluation"]

Row = dict[str, Any]


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
    row["province"] = code_lists.provinces.get(row["province_code"])
    return row


def shape_discipline(row: Row, code_lists: CodeLists, today: date) -> Row:
    row["form"] = code_lists.discipline_forms.get(row["form_code"]) or _unknown(row["form_code"])
    effective_to = row["effective_to"]
    row["in_effect"] = row["effective_from"] <= today and (effective_to is None
                                                           or effective_to >= today)
    return row


def shape_evaluation(row: Row, code_lists: CodeLists) -> Row:
    row["grade"] = row["grade_code"]
    return row


def shape_citizen(row: Row) -> Row:
    row["alive"] = row.get("death_date") is None
    return row
