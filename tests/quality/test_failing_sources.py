"""A source that cannot be read leaves its measures not measured, with the reason — never a
score that would read as a fact — while every other source and dimension is measured and
stored as usual; an authority with an agency not measured is not measured either."""

from __future__ import annotations

from datetime import timedelta

from hub.quality import Measure, QualityRun
from tests.quality.conftest import QualityEnv
from tests.quality.fixture import A1, A2, B1, LATER

DIMENSIONS = ("completeness", "validity", "uniqueness", "consistency", "timeliness")


def _by_key(run: QualityRun, scope: str = "agency") -> dict[tuple[str, str, str], Measure]:
    return {(m.agency_code, m.source, m.dimension): m for m in run.measures
            if m.scope == scope}


def _not_measured(measure: Measure, code: str) -> None:
    assert measure.status == "not_measured", measure
    assert (measure.numerator, measure.denominator, measure.score) == (None, None, None)
    assert measure.reason is not None
    assert measure.reason.startswith(code), measure.reason


def test_population_registry_down(sources_up: QualityEnv) -> None:
    sources_up.sandbox.switch("population", outage=True)
    run = sources_up.measure(agencies=["G02"], now=LATER + timedelta(days=1))
    measures = _by_key(run)
    _not_measured(measures[(A1, "population", "consistency")], "SOURCE_UNAVAILABLE")
    # nothing was asked of it for an agency without employees: still just empty
    assert measures[(A2, "population", "consistency")].status == "empty"
    for dimension in DIMENSIONS:
        assert measures[(A1, "mof-hrmis", dimension)].status == "measured"
    national = measures[(A1, "national", "completeness")]
    assert (national.status, national.numerator, national.denominator) == ("measured", 65, 66)
    rolled = _by_key(run, "authority")[("G02", "population", "consistency")]
    _not_measured(rolled, "not measured for 1 of 3 agencies (000.00.01.G02: "
                          "SOURCE_UNAVAILABLE")
    assert _by_key(run, "authority")[("G02", "national", "completeness")].numerator == 65
    # stored as such
    [row] = sources_up.fetch(
        "SELECT status, numerator, denominator, score, reason FROM quality_measure "
        "WHERE run_id = $1 AND agency_code = $2 AND source = 'population'", run.run_id, A1)
    assert (row["status"], row["numerator"], row["denominator"], row["score"]) == (
        "not_measured", None, None, None)
    assert row["reason"] == measures[(A1, "population", "consistency")].reason
    [state] = sources_up.fetch("SELECT status FROM quality_run WHERE id = $1", run.run_id)
    assert state["status"] == "completed"


def test_agency_system_down(sources_up: QualityEnv) -> None:
    sources_up.sandbox.switch("agency_rest", outage=True)
    run = sources_up.measure(agencies=[A1], now=LATER + timedelta(days=2))
    measures = _by_key(run)
    for dimension in DIMENSIONS:
        _not_measured(measures[(A1, "mof-hrmis", dimension)], "SOURCE_UNAVAILABLE")
    assert measures[(A1, "population", "consistency")].numerator == 23
    assert measures[(A1, "national", "completeness")].numerator == 65


def test_agency_system_answering_garbage(sources_up: QualityEnv) -> None:
    sources_up.sandbox.switch("agency_graphql", malformed=True)
    run = sources_up.measure(agencies=["H01"], now=LATER + timedelta(days=3))
    measures = _by_key(run)
    for dimension in DIMENSIONS:
        _not_measured(measures[(B1, "hanoi-hrm", dimension)], "SOURCE_UNAVAILABLE")
    assert measures[(B1, "population", "consistency")].numerator == 10


def test_agency_system_too_slow(sources_up: QualityEnv) -> None:
    sources_up.sandbox.switch("agency_rest", latencyMs=1500)
    run = sources_up.measure(env={"AGENCY_MOF_TIMEOUT_SECONDS": "0.3"}, agencies=[A1],
                             now=LATER + timedelta(days=4))
    _not_measured(_by_key(run)[(A1, "mof-hrmis", "consistency")], "SOURCE_TIMEOUT")
