"""The appointment rules (resolvers/appointment/rules.py): bars, their ends, disagreements and
the verdict, with properties that must hold for any decision (hypothesis): a decision in effect
always bars; a bar never outlasts its ``until``; a check that is not complete is never CLEAR."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.appointment.rules import (
    Bar,
    BarKind,
    Decision,
    DisagreementKind,
    Verdict,
    add_months,
    disagreements,
    same_number,
    standing,
    verdict,
)

MONTHS: dict[str, int | None] = {"reprimand": 6, "warning": 12, "salary_step_reduction": 12,
                                 "demotion": 18, "dismissal_from_post": 24,
                                 "forced_resignation": None, "removal_from_office": None}


def decision(form: str | None = "warning", start: date | None = date(2026, 3, 1),
             end: date | None = date(2027, 3, 1), decided: date | None = date(2026, 2, 25),
             number: str | None = "1/QĐ-BTC", source: str = "national",
             issuer: str | None = "Bộ Tài chính") -> Decision:
    return Decision(source, number, form, decided, issuer, "lý do", start, end)


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 3, 15), 12) == date(2027, 3, 15)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(9999, 6, 1), 24) == date.max


def test_in_effect_after_its_end_within_the_bar_and_after_it() -> None:
    short = decision(start=date(2026, 3, 1), end=date(2026, 5, 1))  # a warning: 12 months
    during = standing(short, MONTHS, date(2026, 4, 1))
    assert (during.in_effect, during.bars, during.kind, during.until) == (
        True, True, BarKind.IN_EFFECT, date(2027, 3, 1))
    after_end = standing(short, MONTHS, date(2026, 11, 1))
    assert (after_end.in_effect, after_end.bars, after_end.kind) == (
        False, True, BarKind.BAR_PERIOD)
    assert standing(short, MONTHS, date(2027, 3, 1)).bars is True  # the last day counts
    assert standing(short, MONTHS, date(2027, 3, 2)).bars is False
    before = standing(short, MONTHS, date(2026, 2, 1))
    assert (before.in_effect, before.bars) == (False, False)
    # decided, not yet in effect: it bars already
    pending_effect = standing(short, MONTHS, date(2026, 2, 27))
    assert (pending_effect.in_effect, pending_effect.bars, pending_effect.kind) == (
        False, True, BarKind.BAR_PERIOD)


def test_forms_that_end_the_service_bar_with_no_end() -> None:
    found = standing(decision("forced_resignation", end=None), MONTHS, date(2090, 1, 1))
    assert (found.bars, found.until, found.kind) == (True, None, BarKind.NOT_IN_SERVICE)


@pytest.mark.parametrize("unreadable", [
    decision(form="XYZ"), decision(form=None), decision(start=None),
    decision(start=date(2026, 3, 1), end=date(2026, 2, 1))],
    ids=["unknown form", "no form", "no start", "ends before it begins"])
def test_a_decision_the_rules_cannot_read_bars_and_clears_nothing(unreadable: Decision) -> None:
    found = standing(unreadable, MONTHS, date(2026, 11, 1))
    assert not found.readable
    assert found.bars is None
    assert found.in_effect is None


days = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))


@given(form=st.sampled_from(sorted(MONTHS)), start=days,
       length=st.none() | st.integers(0, 4000), lead=st.integers(0, 60), as_of=days)
def test_bars_hold_exactly_until_their_end(form: str, start: date, length: int | None,
                                           lead: int, as_of: date) -> None:
    end = None if length is None else start + timedelta(days=length)
    d = decision(form, start, end, decided=start - timedelta(days=lead))
    found = standing(d, MONTHS, as_of)
    assert found.readable
    if found.in_effect:
        assert found.bars, "a decision in effect always bars"
    if found.bars:
        assert found.until is None or as_of <= found.until
        assert as_of >= start - timedelta(days=lead)
        if found.until is not None:  # and it bars every day from then until its end
            assert standing(d, MONTHS, found.until).bars
            assert not standing(d, MONTHS, found.until + timedelta(days=1)).bars
    elif as_of >= start - timedelta(days=lead):
        assert found.until is not None
        assert as_of > found.until
    if found.until is not None:
        months = MONTHS[form]
        assert months is not None
        assert found.until == max(add_months(start, months), end or start)


@given(bars=st.integers(0, 3), complete=st.booleans(), pending=st.booleans())
def test_the_verdict_is_clear_only_when_complete_and_nothing_is_found(
        bars: int, complete: bool, pending: bool) -> None:
    found = [Bar(decision(), BarKind.IN_EFFECT, None)] * bars
    outcome = verdict(found, complete, pending)
    if bars:
        assert outcome is Verdict.BARRED
    elif not complete:
        assert outcome is Verdict.INCOMPLETE
    else:
        assert outcome is (Verdict.PENDING_CASE if pending else Verdict.CLEAR)
    assert outcome is not Verdict.CLEAR or (complete and not bars and not pending)


def test_disagreements_by_decision_number() -> None:
    national = [decision(number="1/QĐ-BTC"), decision(number="2/QĐ-BTC", form="reprimand"),
                decision(number="3/QĐ-BTC")]
    held = [decision(number=" 1/qđ-btc ", source="mof"),  # the same, typed otherwise
            decision(number="2/QĐ-BTC", form="warning", issuer="Bộ  tài chính", source="mof"),
            decision(number="9/QĐ-BTC", source="mof"), decision(number=None, source="mof")]
    found = disagreements(national, "mof", held)
    assert [(d.kind, d.number, d.fields) for d in found] == [
        (DisagreementKind.CONFLICTING, "2/QĐ-BTC", ("form",)),
        (DisagreementKind.MISSING_IN_AGENCY_SYSTEM, "3/QĐ-BTC", ()),
        (DisagreementKind.MISSING_NATIONALLY, "9/QĐ-BTC", ()),
        (DisagreementKind.MISSING_NATIONALLY, None, ())]
    assert disagreements(national, "mof", national) == []
    dated = [decision(number="1/QĐ-BTC", decided=date(2026, 2, 26), end=None, source="mof")]
    assert [d.fields for d in disagreements(national[:1], "mof", dated)] == [
        ("decidedOn", "effectiveTo")]


numbers = st.text(alphabet="0123456789/QĐBTC-", min_size=1, max_size=12)


@given(national=st.lists(numbers, max_size=6, unique_by=same_number),
       extra=st.lists(numbers, max_size=4), dropped=st.integers(0, 6))
def test_every_decision_is_matched_or_reported(national: list[str], extra: list[str],
                                               dropped: int) -> None:
    """Each national decision the system lacks, and each of the system's the national
    database lacks, is reported once; nothing else is."""
    ours = [decision(number=n) for n in national]
    kept = ours[dropped:]
    extra = [n for n in extra if same_number(n) not in {same_number(x) for x in national}]
    theirs = [decision(number=n, source="mof") for n in [*(d.number for d in kept), *extra]]
    found = disagreements(ours, "mof", theirs)
    missing = [d.number for d in found if d.kind is DisagreementKind.MISSING_IN_AGENCY_SYSTEM]
    assert missing == [d.number for d in ours[:dropped]]
    assert [d.number for d in found if d.kind is DisagreementKind.MISSING_NATIONALLY] == extra
    assert not [d for d in found if d.kind is DisagreementKind.CONFLICTING]
