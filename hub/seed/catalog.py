"""The national code lists the generator draws from, as read from the migrated database.

The migrations are the source of truth for ranks, salary ladders, positions and discipline
forms: reading them (rather than repeating them here) guarantees that every seeded coefficient
satisfies the employee table's foreign key to ``salary_ladder``. The seeder's own knowledge
(which rank suits which post, which agency holds which posts) refers to these codes by name,
and :func:`Catalog.require` fails early if a migration ever drops one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Catalog", "DisciplineForm", "LegacyProvince", "Position", "Province", "Rank"]


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class LegacyProvince:
    code: str
    name: str
    successor_code: str


@dataclass(frozen=True, slots=True)
class Rank:
    code: str
    name: str
    category: str  # 'civil_servant' | 'public_employee'
    pay_group: str  # A3.1, A2.1, A2.2, A1, A0, B
    coefficients: tuple[Decimal, ...]  # the salary ladder: coefficients[step - 1]

    @property
    def steps(self) -> int:
        return len(self.coefficients)

    @property
    def principal_or_above(self) -> bool:
        """Chuyên viên chính and above (pay groups A2.x and A3.x)."""
        return self.pay_group.startswith(("A2", "A3"))

    @property
    def years_per_step(self) -> int:
        """Regular step raises: every 3 years for university-level groups, else every 2."""
        return 3 if self.pay_group.startswith("A") and self.pay_group != "A0" else 2


@dataclass(frozen=True, slots=True)
class Position:
    code: str
    name: str
    leadership: bool
    allowance_coefficient: Decimal


@dataclass(frozen=True, slots=True)
class DisciplineForm:
    code: str
    name: str
    severity: int
    applies_to: frozenset[str]
    appointment_bar_months: int | None


@dataclass(frozen=True, slots=True)
class Catalog:
    provinces: tuple[Province, ...]
    legacy_provinces: tuple[LegacyProvince, ...]
    ranks: dict[str, Rank]
    positions: dict[str, Position]
    discipline_forms: dict[str, DisciplineForm]
    evaluation_grades: tuple[str, ...]  # best first

    def require(self, *, ranks: Iterable[str] = (), positions: Iterable[str] = (),
                discipline_forms: Iterable[str] = (), grades: Iterable[str] = ()) -> None:
        """Fail with one clear message if the code lists lack codes the generator uses."""
        missing = ([f"rank {c}" for c in ranks if c not in self.ranks]
                   + [f"position {c}" for c in positions if c not in self.positions]
                   + [f"discipline form {c}" for c in discipline_forms
                      if c not in self.discipline_forms]
                   + [f"evaluation grade {c}" for c in grades if c not in self.evaluation_grades])
        if missing:
            raise LookupError("the national code lists lack codes the seeder uses: "
                              + ", ".join(missing))
