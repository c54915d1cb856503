"""What an appointment check reads, batched: however many checks a query holds (aliases, a
page of civil servants), one national query per kind of record and one call per agency
system.

The check reads what it needs whatever the client may read of the records themselves (its
own grant decides what it shows), with one exception: whom a client may check at all is held
to the client's row scope on civil servants.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

from aiodataloader import DataLoader

from adapters import AgencySystemRegistry, NationalDatabase, RowFilter, SourceError

__all__ = ["AGENCY_COLUMNS", "AgencyAnswers", "AppointmentReads"]

Row = dict[str, Any]
# Per agency system (by name): the person's record, None when it holds none, or why the
# system could not be read.
AgencyAnswers = dict[str, Row | SourceError | None]

PERSON_COLUMNS = ("employee_code", "personal_id", "agency_code")
_DISCIPLINE_COLUMNS = ("id", "employee_code", "form_code", "decision_number", "decided_on",
                       "issuer", "reason", "effective_from", "effective_to")
_EVALUATION_COLUMNS = ("employee_code", "year", "grade_code")
_POST_COLUMNS = ("employee_code", "agency_code")
AGENCY_COLUMNS = ("personal_id", "local_id", "agency_code", "pending_discipline",
                  "disciplines")


def _grouped(rows: list[Row], keys: Sequence[Hashable], order: str) -> list[list[Row]]:
    found: dict[Hashable, list[Row]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r[order]):
        found[row["employee_code"]].append(row)
    return [found.get(key, []) for key in keys]


class AppointmentReads:
    """The per-request loaders of appointment checks. A national failure fails the loads
    waiting on it (``SourceError``); agency systems answer each for itself."""

    def __init__(self, national: NationalDatabase, registry: AgencySystemRegistry,
                 scope: RowFilter) -> None:
        self._national = national
        self._registry = registry
        self._scope = scope
        self.person: DataLoader[str, Row | None] = DataLoader(self._people)
        self.decisions: DataLoader[str, list[Row]] = DataLoader(self._records(
            "discipline", _DISCIPLINE_COLUMNS, "id"))
        self.evaluations: DataLoader[str, list[Row]] = DataLoader(self._records(
            "evaluation", _EVALUATION_COLUMNS, "year"))
        # Every agency the person has worked at, their current one included.
        self.posts: DataLoader[str, list[Row]] = DataLoader(self._records(
            "work_history", _POST_COLUMNS, "employee_code"))
        self.agency_records: DataLoader[str, AgencyAnswers] = DataLoader(self._agency_records)

    @property
    def scoped(self) -> bool:
        """Is the client held to some civil servants only?"""
        return bool(self._scope)

    @property
    def registry(self) -> AgencySystemRegistry:
        return self._registry

    async def _people(self, ids: list[str]) -> list[Row | None]:
        rows = await self._national.fetch_many("employee", "personal_id", ids, PERSON_COLUMNS,
                                               self._scope)
        by_id = {row["personal_id"]: row for row in rows}
        return [by_id.get(pid) for pid in ids]

    def _records(self, table: str, columns: tuple[str, ...], order: str) -> Any:
        async def batch(codes: list[str]) -> list[list[Row]]:
            rows = await self._national.fetch_many(table, "employee_code", codes, columns)
            return _grouped(rows, codes, order)

        return batch

    async def _agency_records(self, ids: list[str]) -> list[AgencyAnswers]:
        systems = self._registry.systems
        answers = await asyncio.gather(*(s.fetch_many(ids, AGENCY_COLUMNS) for s in systems),
                                       return_exceptions=True)
        held: dict[str, dict[str, Row] | SourceError] = {}
        for system, answer in zip(systems, answers, strict=True):
            if isinstance(answer, SourceError):
                held[system.name] = answer
            elif isinstance(answer, BaseException):
                raise answer  # a fault of the hub's own, not of the source
            else:
                held[system.name] = {row["personal_id"]: row for row in answer}
        results: list[AgencyAnswers] = []
        for pid in ids:
            results.append({name: found if isinstance(found, SourceError) else found.get(pid)
                            for name, found in held.items()})
        return results
