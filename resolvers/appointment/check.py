"""One appointment check: read every source that may hold a decision about the person, put
the decisions side by side, and say whether anything bars appointing them on a given day.

Which agency systems must answer: those serving the agency the person works at and every
agency their work history names, as the national database knows them (their decisions are
kept there); every system when the national database does not know the person. Every system
is asked (one batched call each), so a record held elsewhere counts too; a system outside
that set that fails is listed as failed without making the check incomplete.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from typing import Any

from adapters import SourceError
from resolvers.appointment.reads import AgencyAnswers, AppointmentReads
from resolvers.appointment.rules import (
    NATIONAL,
    Bar,
    Decision,
    standing,
    verdict,
)
from resolvers.appointment.rules import disagreements as compare
from resolvers.code_lists import CodeLists

__all__ = ["EVALUATED_YEARS", "run_check"]

Row = dict[str, Any]
# Evaluations shown: the years before the day checked (and that year's, once made).
EVALUATED_YEARS = 3


def _national_decision(row: Row) -> Decision:
    return Decision(NATIONAL, row["decision_number"], row["form_code"], row["decided_on"],
                    row["issuer"], row["reason"], row["effective_from"], row["effective_to"])


def _agency_decisions(system: str, record: Row) -> list[Decision] | None:
    held = record.get("disciplines")
    if not isinstance(held, list):
        return None  # the system does not say: unknown, not none

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) and value.strip() else None

    def day(value: Any) -> date | None:
        return value if isinstance(value, date) else None

    return [Decision(system, text(d.get("decision_number")), text(d.get("form_code")),
                     day(d.get("decided_on")), text(d.get("issuer")), text(d.get("reason")),
                     day(d.get("effective_from")), day(d.get("effective_to"))) for d in held]


async def _load(loader: Any, key: str) -> Any:
    """The loaded value, or the SourceError that stands for it."""
    try:
        return await loader.load(key)
    except SourceError as error:
        return error


async def run_check(reads: AppointmentReads, code_lists: CodeLists, personal_id: str,
                    as_of: date, person: Row | None, national_error: SourceError | None
                    ) -> Row | None:
    """The check of ``personal_id`` on ``as_of``, as a row for the GraphQL types; None when
    every source answered and none knows the person. ``person``: their national record
    (employee_code, personal_id, agency_code), None when absent or unreadable
    (``national_error``)."""
    decided: Any = None
    evaluated: Any = None
    posts: Any = None
    if person is None:
        answers: AgencyAnswers = await reads.agency_records.load(personal_id)
    else:
        code = person["employee_code"]
        decided, evaluated, posts, answers = await asyncio.gather(
            _load(reads.decisions, code), _load(reads.evaluations, code),
            _load(reads.posts, code), reads.agency_records.load(personal_id))
    national_failure = national_error or next(
        (v for v in (decided, evaluated, posts) if isinstance(v, SourceError)), None)
    national = ([_national_decision(r) for r in decided] if isinstance(decided, list)
                else [])
    required, serving = _required_systems(
        reads, person, posts if national_failure is None else None)
    found = _Findings(code_lists.discipline_forms, as_of)
    if national_failure is not None:
        found.incomplete.append(f"{NATIONAL} could not be read")
    found.national(national)
    sources = [_national_source(person, national_failure)]
    for name, answer in answers.items():
        sources.append(found.agency(name, answer, national, name in required,
                                    name in serving))
    if not found.incomplete and person is None and not found.held_anywhere:
        return None
    outcome = verdict(found.bars, not found.incomplete, bool(found.pending))
    return {
        "personal_id": personal_id, "as_of": as_of, "verdict": outcome.value,
        "complete": not found.incomplete, "incomplete_reasons": found.incomplete,
        "disciplines": found.listed, "pending_cases": found.pending,
        "evaluations": _evaluations(evaluated, as_of),
        "bars": [_bar_row(bar, code_lists) for bar in found.bars],
        "disagreements": found.disagreements, "sources": sources,
    }


def _required_systems(reads: AppointmentReads, person: Row | None, posts: list[Row] | None
                      ) -> tuple[set[str], set[str]]:
    """(the systems whose answer the check needs, the one serving the current agency).
    ``posts``: the person's work history, None when it could not be read."""
    registry = reads.registry
    current = None if person is None else registry.system_for(person["agency_code"])
    serving = {current.name} if current is not None else set()
    if person is None or posts is None:  # who holds them, or held them, is not known
        return {s.name for s in registry.systems}, serving
    required = set(serving)
    for post in posts:
        system = registry.system_for(post["agency_code"]) if post.get("agency_code") else None
        if system is not None:
            required.add(system.name)
    return required, serving


def _national_source(person: Row | None, error: SourceError | None) -> Row:
    return {"name": NATIONAL, "kind": "national_database", "answered": error is None,
            "holds_record": None if error is not None else person is not None,
            "required": True, "serves_agency": True,
            "error": None if error is None else error.code}


def _evaluations(rows: Any, as_of: date) -> list[Row]:
    if not isinstance(rows, list):
        return []
    first = as_of.year - EVALUATED_YEARS
    return [{"year": r["year"], "grade": r["grade_code"]} for r in rows
            if first <= r["year"] <= as_of.year]


def _form(code: str | None, forms: Mapping[str, Row]) -> Row | None:
    """The code-list entry of a form; a code not on the list as it is, with no name."""
    if code is None:
        return None
    return forms.get(code) or {"code": code, "name": None}


def _bar_row(bar: Bar, code_lists: CodeLists) -> Row:
    return {"source": bar.decision.source, "decision_number": bar.decision.number,
            "form": _form(bar.decision.form, code_lists.discipline_forms),
            "kind": bar.kind.value, "until": bar.until}


class _Findings:
    """The decisions of every source, and what follows from them, gathered source by source."""

    def __init__(self, forms: Mapping[str, Row], as_of: date) -> None:
        self._forms = forms
        self._bar_months = {code: form.get("appointment_bar_months")
                            for code, form in forms.items()}
        self._as_of = as_of
        self.listed: list[Row] = []
        self.bars: list[Bar] = []
        self.pending: list[Row] = []
        self.disagreements: list[Row] = []
        self.incomplete: list[str] = []
        self.held_anywhere = False

    def _add(self, decision: Decision) -> None:
        found = standing(decision, self._bar_months, self._as_of)
        if not found.readable:
            self.incomplete.append(f"a decision of {decision.source} "
                                   f"({decision.number or 'no number'}) cannot be assessed")
        elif found.bars and found.kind is not None:
            self.bars.append(Bar(decision, found.kind, found.until))
        self.listed.append({
            "source": decision.source, "decision_number": decision.number,
            "form": _form(decision.form, self._forms),
            "decided_on": decision.decided_on, "issuer": decision.issuer,
            "reason": decision.reason, "effective_from": decision.effective_from,
            "effective_to": decision.effective_to, "in_effect": found.in_effect,
            "bars_appointment": found.bars, "barred_until": found.until})

    def national(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            self._add(decision)

    def agency(self, name: str, answer: Row | SourceError | None,
               national: list[Decision], required: bool, serving: bool) -> Row:
        """Take one agency system's answer; the row describing it as a source."""
        source = {"name": name, "kind": "agency_system", "answered": True,
                  "holds_record": answer is not None, "required": required,
                  "serves_agency": serving, "error": None}
        if isinstance(answer, SourceError):
            source.update(answered=False, holds_record=None, error=answer.code)
            if required:
                self.incomplete.append(f"{name} could not be read")
            return source
        if answer is None:
            return source
        self.held_anywhere = True
        pending = answer.get("pending_discipline")
        if isinstance(pending, str) and pending.strip():
            self.pending.append({"system": name, "description": pending})
        held = _agency_decisions(name, answer)
        if held is None:
            self.incomplete.append(f"{name} did not say which discipline decisions it holds")
            return source
        for decision in held:
            self._add(decision)
        self.disagreements += [
            {"kind": d.kind.value, "system": d.system, "decision_number": d.number,
             "fields": list(d.fields)} for d in compare(national, name, held)]
        return source
