"""Every measure of the hand-built fixture (tests/quality/fixture.py) against the values
counted on paper: numerators, denominators, scores and each field's or rule's counts and
examples, as returned by the run and as stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.quality import Measure, QualityRun
from tests.quality.conftest import QualityEnv
from tests.quality.fixture import A1, A2, B1, C1, LATER

# (passed, checked, examples) per item; a value instead where the item is a fact.
Items = dict[str, Any]

NATIONAL_FIELDS = ("family_name", "given_name", "birth_date", "sex", "agency_code",
                   "unit_name", "position_code", "rank_code", "salary_step",
                   "salary_coefficient", "hired_on")
AGENCY_FIELDS = ("local_id", "full_name", "birth_date", "sex", "agency_code", "unit_name",
                 "position_code", "rank_code", "salary_step", "salary_coefficient",
                 "updated_at")
COMPARED = ("full_name", "birth_date", "sex", "agency_code", "position_code", "rank_code",
            "salary_step", "salary_coefficient")


def _all(items: tuple[str, ...], n: int, **failing: tuple[int, list[str]]) -> Items:
    """Each of ``items`` checked ``n`` times, passing but for those in ``failing``
    ((passed, examples))."""
    return {i: (failing[i][0], n, failing[i][1]) if i in failing else (n, n, [])
            for i in items}


# At NOW (2026-06-30T00:00Z): (agency, source, dimension) -> (numerator, denominator, items)
EXPECTED: dict[tuple[str, str, str], tuple[int, int, Items | None]] = {
    (A1, "national", "completeness"): (65, 66, _all(NATIONAL_FIELDS, 6,
                                                    unit_name=(5, ["QA0002"]))),
    (A1, "national", "validity"): (36, 40, {
        "position-known": (6, 6, []), "rank-known": (6, 6, []), "agency-known": (6, 6, []),
        "coefficient-on-ladder": (6, 6, []), "personal-id": (5, 6, ["QA0003"]),
        "dates-in-order": (5, 6, ["QA0003"]), "discipline-form": (1, 2, ["QA0006"]),
        "discipline-dates": (1, 2, ["QA0001"])}),
    (A1, "national", "uniqueness"): (5, 6, {
        "distinct-records": (5, 6, []),
        "duplicate-groups": {"value": 1, "examples": ["QA0004", "QA0005"]},
        "records-in-duplicate-groups": {"value": 2}}),
    (A1, "national", "timeliness"): (4, 6, {
        "updated-within-365-days": (4, 6, ["QA0005", "QA0002"]),
        "latest-update": {"value": "2026-06-29T12:00:00+00:00"},
        "latest-update-age-days": {"value": 0.5}}),
    (A1, "population", "consistency"): (23, 26, {
        "record": (5, 6, ["QA0003"]), "full_name": (5, 5, []),
        "birth_date": (4, 5, ["QA0002"]), "sex": (5, 5, []), "alive": (4, 5, ["QA0006"])}),
    (A1, "mof-hrmis", "completeness"): (54, 55, _all(AGENCY_FIELDS, 5,
                                                     unit_name=(4, ["QA0002"]))),
    (A1, "mof-hrmis", "validity"): (28, 30, {
        "position-translated": (4, 5, ["QA0002"]), "rank-translated": (5, 5, []),
        "sex-translated": (5, 5, []), "agency-known": (5, 5, []),
        "coefficient-on-ladder": (4, 5, ["QA0004"]), "personal-id": (5, 5, [])}),
    (A1, "mof-hrmis", "uniqueness"): (4, 5, {
        "distinct-records": (4, 5, []),
        "duplicate-groups": {"value": 1, "examples": ["QA0004", "QA0005"]},
        "records-in-duplicate-groups": {"value": 2}}),
    (A1, "mof-hrmis", "consistency"): (42, 46, {
        "record": (5, 6, ["QA0003"]),
        **_all(COMPARED, 5, full_name=(4, ["QA0006"]), position_code=(4, ["QA0002"]),
               salary_coefficient=(4, ["QA0004"]))}),
    (A1, "mof-hrmis", "timeliness"): (3, 5, {
        "changes-taken-in": (3, 5, ["QA0002", "QA0006"]),
        "latest-change": {"value": "2026-06-25T00:00:00+00:00"},
        "synced-through": {"value": "2026-06-10T00:00:00+00:00"},
        "sync-lag-seconds": {"value": 15 * 86_400},
        "last-success": {"value": "2026-06-10T00:05:00+00:00"}}),
    (B1, "national", "completeness"): (22, 22, _all(NATIONAL_FIELDS, 2)),
    (B1, "national", "validity"): (12, 12, {
        "position-known": (2, 2, []), "rank-known": (2, 2, []), "agency-known": (2, 2, []),
        "coefficient-on-ladder": (2, 2, []), "personal-id": (2, 2, []),
        "dates-in-order": (2, 2, []), "discipline-form": (0, 0, []),
        "discipline-dates": (0, 0, [])}),
    (B1, "national", "uniqueness"): (2, 2, {"distinct-records": (2, 2, []),
                                            "duplicate-groups": {"value": 0},
                                            "records-in-duplicate-groups": {"value": 0}}),
    (B1, "national", "timeliness"): (1, 2, {
        "updated-within-365-days": (1, 2, ["QA0008"]),
        "latest-update": {"value": "2026-06-01T00:00:00+00:00"},
        "latest-update-age-days": {"value": 29.0}}),
    (B1, "population", "consistency"): (10, 10, {
        "record": (2, 2, []), "full_name": (2, 2, []), "birth_date": (2, 2, []),
        "sex": (2, 2, []), "alive": (2, 2, [])}),
    (B1, "hanoi-hrm", "completeness"): (22, 22, _all(AGENCY_FIELDS, 2)),
    (B1, "hanoi-hrm", "validity"): (11, 12, {
        "position-translated": (1, 2, ["QA0008"]), "rank-translated": (2, 2, []),
        "sex-translated": (2, 2, []), "agency-known": (2, 2, []),
        "coefficient-on-ladder": (2, 2, []), "personal-id": (2, 2, [])}),
    (B1, "hanoi-hrm", "uniqueness"): (2, 2, {"distinct-records": (2, 2, []),
                                             "duplicate-groups": {"value": 0},
                                             "records-in-duplicate-groups": {"value": 0}}),
    (B1, "hanoi-hrm", "consistency"): (17, 18, {
        "record": (2, 2, []), **_all(COMPARED, 2, position_code=(1, ["QA0008"]))}),
    # Never synchronised: nothing taken in, said so.
    (B1, "hanoi-hrm", "timeliness"): (0, 2, {
        "changes-taken-in": (0, 2, ["QA0007", "QA0008"]),
        "latest-change": {"value": "2026-06-01T00:00:00+00:00"},
        "synchronised": {"note": "never synchronised: no change of this system has been "
                                 "taken in"}}),
    (C1, "national", "completeness"): (11, 11, _all(NATIONAL_FIELDS, 1)),
    (C1, "national", "validity"): (6, 6, None),
    (C1, "national", "uniqueness"): (1, 1, None),
    (C1, "national", "timeliness"): (1, 1, None),
    (C1, "population", "consistency"): (5, 5, None),
}


def _by_key(run: QualityRun, scope: str = "agency") -> dict[tuple[str, str, str], Measure]:
    return {(m.agency_code, m.source, m.dimension): m for m in run.measures
            if m.scope == scope}


def _check_items(measure: Measure, items: Items) -> None:
    found = {d.item: d for d in measure.details}
    assert set(found) == set(items), (measure.source, measure.dimension, sorted(found))
    for item, want in items.items():
        detail = found[item]
        if isinstance(want, tuple):
            passed, checked, examples = want
            assert (detail.passed, detail.checked, list(detail.examples)) == (
                passed, checked, examples), (measure.agency_code, measure.source, item, detail)
        else:
            for attribute, value in want.items():
                got = getattr(detail, attribute)
                assert (list(got) if attribute == "examples" else got) == value, (
                    measure.agency_code, measure.source, item, attribute, got)


@pytest.mark.parametrize("key", sorted(EXPECTED), ids="/".join)
def test_each_measure_is_as_counted_by_hand(runs: tuple[QualityRun, QualityRun],
                                            key: tuple[str, str, str]) -> None:
    measure = _by_key(runs[0])[key]
    numerator, denominator, items = EXPECTED[key]
    assert measure.status == "measured"
    assert (measure.numerator, measure.denominator) == (numerator, denominator)
    assert measure.score == pytest.approx(numerator / denominator)
    if items is not None:
        _check_items(measure, items)


def test_exactly_these_measures_and_empties(runs: tuple[QualityRun, QualityRun]) -> None:
    measures = _by_key(runs[0])
    empty_agencies = {A2, "000.00.00.G02", "000.00.00.H01"}
    # every agency: four national dimensions and the registry; the system serving it, five
    expected_keys = set(EXPECTED)
    for agency in empty_agencies:
        expected_keys |= {(agency, "national", d) for d in
                          ("completeness", "validity", "uniqueness", "timeliness")}
        expected_keys.add((agency, "population", "consistency"))
    for agency in (A2, "000.00.00.G02"):
        expected_keys |= {(agency, "mof-hrmis", d) for d in
                          ("completeness", "validity", "uniqueness", "consistency",
                           "timeliness")}
    expected_keys |= {("000.00.00.H01", "hanoi-hrm", d) for d in
                      ("completeness", "validity", "uniqueness", "consistency", "timeliness")}
    assert set(measures) == expected_keys
    for key, measure in measures.items():
        if key[0] in empty_agencies:
            assert (measure.status, measure.numerator, measure.denominator, measure.score) == (
                "empty", 0, 0, None), key


def test_timeliness_a_day_later(runs: tuple[QualityRun, QualityRun]) -> None:
    """QA0006 was updated exactly 365 days before the first run (fresh: the bound is
    inclusive) and 366 before the second."""
    measure = _by_key(runs[1])[(A1, "national", "timeliness")]
    assert (measure.numerator, measure.denominator) == (3, 6)
    _check_items(measure, {
        "updated-within-365-days": (3, 6, ["QA0005", "QA0002", "QA0006"]),
        "latest-update": {"value": "2026-06-29T12:00:00+00:00"},
        "latest-update-age-days": {"value": 1.5}})


def test_authorities_add_their_agencies_up(runs: tuple[QualityRun, QualityRun]) -> None:
    agencies, authorities = _by_key(runs[0]), _by_key(runs[0], "authority")
    assert {k[0] for k in authorities} == {"G02", "H01", "G05"}
    for (authority, source, dimension), measure in authorities.items():
        parts = [m for (a, s, d), m in agencies.items()
                 if a.endswith("." + authority) and (s, d) == (source, dimension)]
        assert measure.numerator == sum(m.numerator or 0 for m in parts)
        assert measure.denominator == sum(m.denominator or 0 for m in parts)
    g02 = authorities[("G02", "mof-hrmis", "consistency")]
    assert (g02.numerator, g02.denominator, g02.authority) == (42, 46, "G02")
    _check_items(authorities[("G02", "national", "timeliness")], {
        "updated-within-365-days": (4, 6, ["QA0005", "QA0002"]),
        "latest-update": {"value": "2026-06-29T12:00:00+00:00"},
        "latest-update-age-days": {"value": 0.5}})


def test_a_partly_measured_authority_is_not_rolled_up(sources_up: QualityEnv) -> None:
    run = sources_up.measure(agencies=[A1], now=LATER)
    assert run.agencies == (A1,)
    assert not _by_key(run, "authority")
    measured = sources_up.measure(agencies=["G05"], now=LATER)
    assert {k[0] for k in _by_key(measured, "authority")} == {"G05"}


def test_the_run_is_stored_as_returned(quality: QualityEnv,
                                       runs: tuple[QualityRun, QualityRun]) -> None:
    run = runs[0]
    rows = quality.fetch("SELECT * FROM quality_measure WHERE run_id = $1", run.run_id)
    assert len(rows) == len(run.measures)
    stored = {(r["scope"], r["agency_code"], r["source"], r["dimension"]): r for r in rows}
    for m in run.measures:
        row = stored[(m.scope, m.agency_code, m.source, m.dimension)]
        assert (row["status"], row["numerator"], row["denominator"], row["score"],
                row["reason"], row["authority"], row["measured_at"]) == (
            m.status, m.numerator, m.denominator, m.score, m.reason, m.authority,
            run.measured_at)
        assert json.loads(row["details"]) == [d.as_json() for d in m.details]
    [state] = quality.fetch("SELECT * FROM quality_run WHERE id = $1", run.run_id)
    assert (state["status"], state["measures"], state["agencies"], state["error"]) == (
        "completed", len(run.measures), 6, None)
    assert state["options"] is not None
    assert json.loads(state["options"])["withinDays"] == 365
