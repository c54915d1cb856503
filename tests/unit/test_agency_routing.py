from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters import AgencySystemRegistry, RowFilter


class _System:
    def __init__(self, name: str, serves: tuple[str, ...]) -> None:
        self.name, self.serves = name, serves

    async def fetch_many(self, keys: Sequence[str], columns: Sequence[str],
                         row_filter: RowFilter = ()) -> list[dict[str, Any]]:
        return []

    async def ping(self) -> None:
        return None


def test_agency_codes_route_to_the_first_matching_system() -> None:
    mof, hanoi = _System("mof", ("*.G02",)), _System("hanoi", ("*.H01",))
    registry = AgencySystemRegistry([mof, hanoi])
    assert registry.system_for("000.00.00.G02") is mof
    assert registry.system_for("000.00.07.G02") is mof
    assert registry.system_for("000.03.02.H01") is hanoi
    assert registry.system_for("000.00.00.H79") is None
    assert registry.system_for("000.00.00.G020") is None
