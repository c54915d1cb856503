"""Code lists of the national database, read once at start-up and held in memory.

They are small (a few hundred rows) and change by migration, not by request, so resolvers
attach them to rows with dictionary look-ups instead of querying per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters import NationalDatabase

__all__ = ["CodeLists"]

Row = dict[str, Any]


def _by_code(rows: list[Row]) -> dict[str, Row]:
    return {row["code"]: row for row in rows}


@dataclass(frozen=True, slots=True)
class CodeLists:
    provinces: dict[str, Row]
    legacy_provinces: dict[str, Row]
    ranks: dict[str, Row]
    positions: dict[str, Row]
    discipline_forms: dict[str, Row]
    evaluation_grades: dict[str, Row]

    @classmethod
    async def load(cls, national: NationalDatabase) -> CodeLists:
        async def table(name: str, columns: tuple[str, ...]) -> dict[str, Row]:
            return _by_code(await national.fetch_all(name, columns, order_by="code"))

        ranks = await table("rank", ("code", "name", "category", "pay_group",
                                     "first_coefficient", "step_increment", "steps"))
        ladders = await national.fetch_all("salary_ladder", ("rank_code", "step", "coefficient"),
                                           order_by="rank_code")
        for rank in ranks.values():
            rank["ladder"] = []
        for step in sorted(ladders, key=lambda r: (r["rank_code"], r["step"])):
            ranks[step["rank_code"]]["ladder"].append(step["coefficient"])
        return cls(
            provinces=await table("province", ("code", "name", "valid_from")),
            legacy_provinces=await table("legacy_province", ("code", "name", "valid_to",
                                                             "successor_code", "merged_on")),
            ranks=ranks,
            positions=await table("position", ("code", "name", "leadership",
                                               "allowance_coefficient")),
            discipline_forms=await table("discipline_form", ("code", "name", "severity",
                                                             "applies_to",
                                                             "appointment_bar_months")),
            evaluation_grades=await table("evaluation_grade", ("code", "name", "ordinal")),
        )
