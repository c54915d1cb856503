"""Checking employees against what the other sources hold of them, record by record, as the
records stream past a page at a time: the population registry's identity of each employee,
and the agency system's own record of each employee of the agencies it serves.

State is kept per agency and source and turned into measures when the agency's last employee
has gone by; a source that failed for any of the agency's employees leaves that agency's
measures of it not measured, with the reason.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from hub.quality.model import (
    MAX_EXAMPLES,
    POPULATION,
    Detail,
    Dimension,
    Measure,
    Tally,
    normalised_name,
    present,
)
from resolvers.personal_id import problems

__all__ = ["AGENCY_COMPARED", "AGENCY_REQUIRED", "AGENCY_RULES", "POPULATION_COMPARED",
           "CodeBook", "PopulationCheck", "SyncState", "SystemCheck"]

Row = dict[str, Any]

# The identity the registry holds, compared field by field; "record" is whether it holds the
# person at all (the other fields are compared only when it does).
POPULATION_COMPARED: Final = ("record", "full_name", "birth_date", "sex", "alive")
# An agency system's required fields, of those its mapping maps.
AGENCY_REQUIRED: Final = ("local_id", "full_name", "birth_date", "sex", "agency_code",
                          "unit_name", "position_code", "rank_code", "salary_step",
                          "salary_coefficient", "updated_at")
# Fields compared with the national database, of those the system's mapping maps.
AGENCY_COMPARED: Final = ("full_name", "birth_date", "sex", "agency_code", "position_code",
                          "rank_code", "salary_step", "salary_coefficient")
# Validity rules over an agency system's records and the fields each needs mapped.
AGENCY_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("position-translated", ("position_code",)),
    ("rank-translated", ("rank_code",)),
    ("sex-translated", ("sex",)),
    ("agency-known", ("agency_code",)),
    ("coefficient-on-ladder", ("rank_code", "salary_step", "salary_coefficient")),
    ("personal-id", ("personal_id", "birth_date", "sex")),
)
_SEXES: Final = frozenset({"male", "female"})
# Two coefficients are the same when they round to the same two decimals (the national
# database keeps two; systems send floats).
_COEFFICIENT_TOLERANCE: Final = 0.005


@dataclass(frozen=True, slots=True)
class CodeBook:
    """The national code lists an agency system's values are checked against."""

    positions: frozenset[str]
    ranks: frozenset[str]
    agencies: frozenset[str]
    ladder: Mapping[tuple[str, int], float]  # (rank, step) -> coefficient

    def on_ladder(self, rank: Any, step: Any, coefficient: Any) -> bool:
        if not isinstance(step, int) or not isinstance(coefficient, (int, float)):
            return False
        expected = self.ladder.get((str(rank), step))
        return expected is not None and abs(expected - coefficient) < _COEFFICIENT_TOLERANCE


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where synchronisation with a system stands (table sync_state, migration 0014)."""

    synced_through: datetime | None
    last_success_at: datetime | None


def _aware(value: Any) -> datetime | None:
    """A change time as an instant; one a system sends without a UTC offset is read as UTC."""
    if not isinstance(value, datetime):
        return None
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


def _same(field_name: str, national: Any, other: Any) -> bool:
    if field_name == "full_name":
        return (isinstance(national, str) and isinstance(other, str)
                and normalised_name(national) == normalised_name(other))
    if field_name == "salary_coefficient":
        return (isinstance(other, (int, float)) and not isinstance(other, bool)
                and abs(float(national) - float(other)) < _COEFFICIENT_TOLERANCE)
    return bool(national == other)


class _Failure:
    """The first reason a source failed for an agency, if it did."""

    __slots__ = ("reason",)

    def __init__(self) -> None:
        self.reason: str | None = None

    def fail(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason


class PopulationCheck(_Failure):
    """One agency's employees against the population registry: consistency."""

    __slots__ = ("tally",)

    def __init__(self) -> None:
        super().__init__()
        self.tally = Tally(POPULATION_COMPARED)

    def add(self, employee: Row, citizen: Row | None) -> None:
        code = employee["employee_code"]
        self.tally.check("record", citizen is not None, code)
        if citizen is None:
            return
        for name in ("full_name", "birth_date", "sex"):
            if present(citizen.get(name)):
                self.tally.check(name, _same(name, employee[name], citizen[name]), code)
        self.tally.check("alive", (employee["status"] != "deceased")
                         == (citizen.get("death_date") is None), code)

    def measures(self, agency: str) -> list[Measure]:
        if self.reason is not None:
            return [Measure.failed(agency, POPULATION, "consistency", self.reason)]
        passed, checked = self.tally.totals()
        return [Measure.of(agency, POPULATION, "consistency", passed, checked,
                           self.tally.details())]


@dataclass(slots=True)
class _Changes:
    """Which of the system's records of an agency the hub has synchronised."""

    taken_in: int = 0
    checked: int = 0
    latest: datetime | None = None
    pending: list[str] = field(default_factory=list)


class SystemCheck(_Failure):
    """One agency's employees against the agency HR system serving it: its records'
    completeness, validity and uniqueness, their consistency with the national database, and
    how far synchronisation has taken their changes in."""

    __slots__ = ("changes", "codes", "compared", "completeness", "consistency", "fields",
                 "persons", "rules", "sync", "sync_problem", "system", "validity")

    def __init__(self, system: str, mapped: Collection[str], codes: CodeBook,
                 sync: SyncState | None, *, sync_problem: str | None = None) -> None:
        """``sync``: where synchronisation stands (None: never synchronised);
        ``sync_problem``: why that could not be read (timeliness is then not measured)."""
        super().__init__()
        self.system = system
        self.codes = codes
        self.sync = sync
        self.sync_problem = sync_problem
        self.completeness = Tally([f for f in AGENCY_REQUIRED if f in mapped])
        self.rules = [(name, needs) for name, needs in AGENCY_RULES
                      if all(n in mapped for n in needs)]
        self.validity = Tally([name for name, _ in self.rules])
        self.compared = [f for f in AGENCY_COMPARED if f in mapped]
        self.consistency = Tally(["record", *self.compared])
        # every field any check reads
        self.fields = {*self.completeness.items, *self.compared,
                       *(n for _, needs in self.rules for n in needs)}
        # (name, birth date, sex) -> personal IDs -> employee codes
        self.persons: dict[tuple[str, date, str], dict[str, str]] = {}
        self.changes = _Changes()

    def add(self, employee: Row, record: Row | None) -> None:
        code = employee["employee_code"]
        self.consistency.check("record", record is not None, code)
        if record is None:
            return
        have = {name: present(record.get(name)) for name in self.fields}
        for name in self.completeness.items:
            self.completeness.check(name, have[name], code)
        for name, needs in self.rules:
            if all(have[n] for n in needs):
                self.validity.check(name, self._valid(name, record), code)
        for name in self.compared:
            if have[name]:
                self.consistency.check(name, _same(name, employee[name], record[name]), code)
        self._key(record, code)
        self._changed(record, code)

    def _valid(self, rule: str, record: Row) -> bool:
        if rule == "position-translated":
            return record["position_code"] in self.codes.positions
        if rule == "rank-translated":
            return record["rank_code"] in self.codes.ranks
        if rule == "sex-translated":
            return record["sex"] in _SEXES
        if rule == "agency-known":
            return record["agency_code"] in self.codes.agencies
        if rule == "coefficient-on-ladder":
            return self.codes.on_ladder(record["rank_code"], record["salary_step"],
                                        record["salary_coefficient"])
        # personal-id: its structure states the system's own birth date and sex
        birth, sex, pid = record["birth_date"], record["sex"], record["personal_id"]
        return (isinstance(birth, date) and sex in _SEXES and isinstance(pid, str)
                and not problems(pid, birth, sex))

    def _key(self, record: Row, code: str) -> None:
        name, birth, sex = record.get("full_name"), record.get("birth_date"), record.get("sex")
        pid = record.get("personal_id")
        if not (present(name) and isinstance(birth, date) and present(sex) and present(pid)):
            return  # not a person one can tell apart (completeness counts what is missing)
        key = (normalised_name(str(name)), birth, str(sex))
        self.persons.setdefault(key, {}).setdefault(str(pid), code)

    def _changed(self, record: Row, code: str) -> None:
        changed = _aware(record.get("updated_at"))
        if changed is None:
            return
        changes = self.changes
        changes.checked += 1
        if changes.latest is None or changed > changes.latest:
            changes.latest = changed
        through = None if self.sync is None else self.sync.synced_through
        if through is not None and changed <= through:
            changes.taken_in += 1
        elif len(changes.pending) < MAX_EXAMPLES:
            changes.pending.append(code)

    def measures(self, agency: str) -> list[Measure]:
        dimensions: tuple[Dimension, ...] = ("completeness", "validity", "uniqueness",
                                             "consistency", "timeliness")
        if self.reason is not None:
            return [Measure.failed(agency, self.system, d, self.reason) for d in dimensions]
        return [self._tallied(agency, "completeness", self.completeness),
                self._tallied(agency, "validity", self.validity),
                self._uniqueness(agency),
                self._tallied(agency, "consistency", self.consistency),
                (self._timeliness(agency) if self.sync_problem is None else
                 Measure.failed(agency, self.system, "timeliness", self.sync_problem))]

    def _tallied(self, agency: str, dimension: Dimension, tally: Tally) -> Measure:
        passed, checked = tally.totals()
        return Measure.of(agency, self.system, dimension, passed, checked, tally.details())

    def _uniqueness(self, agency: str) -> Measure:
        records = sum(len(ids) for ids in self.persons.values())
        duplicates = sorted((sorted(ids.values()) for ids in self.persons.values()
                             if len(ids) > 1), key=lambda codes: codes[0])
        surplus = sum(len(codes) - 1 for codes in duplicates)
        examples = tuple(code for codes in duplicates[:MAX_EXAMPLES // 2]
                         for code in (codes[0], codes[-1]))
        return Measure.of(agency, self.system, "uniqueness", records - surplus, records, (
            Detail("distinct-records", records - surplus, records),
            Detail("duplicate-groups", value=len(duplicates), examples=examples),
            Detail("records-in-duplicate-groups", value=sum(len(c) for c in duplicates))))

    def _timeliness(self, agency: str) -> Measure:
        changes, sync = self.changes, self.sync
        details = [Detail("changes-taken-in", changes.taken_in, changes.checked,
                          examples=tuple(changes.pending))]
        if changes.latest is not None:
            details.append(Detail("latest-change", value=changes.latest.isoformat()))
        if sync is None or sync.synced_through is None:
            details.append(Detail("synchronised", note="never synchronised: no change of "
                                                       "this system has been taken in"))
        else:
            details.append(Detail("synced-through", value=sync.synced_through.isoformat()))
            if changes.latest is not None:
                lag = max(0.0, (changes.latest - sync.synced_through).total_seconds())
                details.append(Detail("sync-lag-seconds", value=round(lag)))
        if sync is not None and sync.last_success_at is not None:
            details.append(Detail("last-success", value=sync.last_success_at.isoformat()))
        return Measure.of(agency, self.system, "timeliness", changes.taken_in, changes.checked,
                          details)
