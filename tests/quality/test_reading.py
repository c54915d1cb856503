"""Reading measures back (adapters/quality_measures.py): what a code names, windows, and a
window holding more runs than asked for."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from adapters import NationalDatabase
from adapters.quality_measures import QualityMeasures, QualityWindow
from hub.quality import QualityRun
from tests.quality.conftest import QualityEnv
from tests.quality.fixture import A1, B1, B1_NAME, NOW, NOW2


def _read(quality: QualityEnv, call: Any) -> Any:
    async def run() -> Any:
        database = await NationalDatabase.open(quality.databases.national, min_size=1,
                                               max_size=1)
        try:
            return await call(QualityMeasures(database))
        finally:
            await database.close()

    return asyncio.run(run())


def test_what_a_code_names(quality: QualityEnv) -> None:
    async def names(measures: QualityMeasures) -> list[Any]:
        return [await measures.subject(code) for code in
                (A1, B1, "G02", "G05", "G03", "000.00.03.G02", "")]

    a1, b1, g02, g05, g03, unknown, empty = _read(quality, names)
    assert a1 == {"agency_code": A1, "agency_name": "Vụ Tổ chức cán bộ", "authority": "G02",
                  "scope": "agency"}
    assert b1["agency_name"] == B1_NAME
    assert g02 == {"agency_code": "G02", "agency_name": "Bộ Tài chính", "authority": "G02",
                   "scope": "authority"}
    # an authority whose head agency is not in the directory is still named by its code
    assert g05 == {"agency_code": "G05", "agency_name": None, "authority": "G05",
                   "scope": "authority"}
    assert (g03, unknown, empty) == (None, None, None)


def test_windows_and_truncation(quality: QualityEnv,
                                runs: tuple[QualityRun, QualityRun]) -> None:
    since, until = NOW - timedelta(hours=1), NOW2 + timedelta(hours=1)

    async def read(measures: QualityMeasures) -> list[Any]:
        return [await measures.series(A1, QualityWindow(since, until, 2)),
                await measures.series(A1, QualityWindow(since, until, 1)),
                await measures.series(A1, QualityWindow(NOW, NOW2, 5)),
                await measures.series(A1, QualityWindow(None, NOW, 5))]

    both, newest, from_first, before_first = _read(quality, read)
    rows, truncated = both
    assert not truncated
    assert sorted({r["measured_at"] for r in rows}) == [NOW, NOW2]
    assert len(rows) == 2 * 10  # ten series (national 4, population, mof-hrmis 5), two runs
    rows, truncated = newest
    assert truncated
    assert {r["measured_at"] for r in rows} == {NOW2}
    assert len(rows) == 10
    # from is inclusive, to exclusive
    assert {r["measured_at"] for r in from_first[0]} == {NOW}
    assert before_first == ([], False)
    detail = next(r for r in both[0] if r["source"] == "population")["details"][0]
    assert detail == {"item": "record", "passed": 5, "checked": 6, "value": None,
                      "note": None, "examples": ["QA0003"]}
