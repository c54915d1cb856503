"""The stored systems' drift over many generated employees (more than a test seed gives the
two systems): every kind occurs, at about its rate, and each does what seed_drift says."""

from __future__ import annotations

from collections import Counter

from hub.seed.agency_systems import DRIFT_KINDS
from hub.seed.context import context_for
from hub.seed.employees import generate_employees
from hub.seed.plan import build_plan, chunk_random
from hub.seed.prepare import load_catalog
from hub.seed.records import national_rows
from hub.seed.serials import SerialAllocator
from hub.seed.vendor_drift import DriftDraw, Vocabulary, entry_for
from sandbox.agency_database.codes import NATIONAL_TO_VENDOR_JOB
from tests.seed.conftest import Seeded

WORDS = Vocabulary(position_code=NATIONAL_TO_VENDOR_JOB.__getitem__, unknown_codes=("8010",),
                   position_column="job_cd", step_column="sal_step",
                   coefficient_column="sal_coef")


async def test_every_kind_occurs_and_does_what_it_says(seeded: Seeded) -> None:
    catalog = await load_catalog(seeded.databases.national)
    plan = build_plan(catalog, 10_000, 3)
    context = context_for(plan)
    kinds: Counter[str] = Counter()
    people = 0
    for chunk in range(plan.chunks):
        serials = SerialAllocator.for_chunk(plan.seed, chunk, plan.serial_block)
        employees, hires = generate_employees(context, chunk, serials)
        national_rows(context, chunk, employees)  # numbers the national decisions
        rng = chunk_random(plan.seed, chunk, "drift-test")
        draw = DriftDraw(context, rng, chunk, serials, WORDS)
        for e in (*employees, *hires):
            people += 1
            entry = entry_for(rng, e, "Số 1 đường Trần Phú", WORDS)
            before = (entry.name, entry.position_code, entry.step, entry.coefficient,
                      entry.address, len(entry.decisions), entry.modified)
            drift = draw.apply(e, entry)
            if drift is None:
                assert before == (entry.name, entry.position_code, entry.step,
                                  entry.coefficient, entry.address, len(entry.decisions),
                                  entry.modified)
                continue
            kinds[drift.kind] += 1
            if drift.kind == "new_hire":
                assert e.is_new_hire
            elif drift.kind == "misspelt_name":
                assert entry.name != e.full_name
            elif drift.kind == "stale_address":
                assert entry.address != before[4]
            elif drift.kind == "invalid_coefficient":
                assert entry.coefficient not in e.rank.coefficients
            elif drift.kind == "unknown_code":
                assert entry.position_code == "8010"
            elif drift.kind == "position_changed":
                assert (entry.position_code, entry.step) != before[1:3]
                assert entry.modified > e.updated_at
                assert entry.coefficient == e.rank.coefficients[entry.step - 1]
            elif drift.kind == "pending_discipline":
                assert entry.pending_discipline == drift.detail
            elif drift.kind == "discipline_missing":
                assert len(entry.decisions) == before[5] + 1
                assert entry.decisions[-1].number in drift.detail
            else:
                assert drift.kind == "duplicate_person"
                assert drift.duplicate_of is not None
                assert drift.duplicate_of[:6] == e.pid[:6] != drift.duplicate_of
                second = draw.duplicate_entry(e, entry)
                assert (second.name, second.decisions) == (e.full_name, [])
    assert set(kinds) == set(DRIFT_KINDS)
    # Each at about its rate (0.3-2% of records; new hires 1.5% of employees).
    for kind, count in kinds.items():
        assert 0.0005 * people < count < 0.04 * people, (kind, count, people)
