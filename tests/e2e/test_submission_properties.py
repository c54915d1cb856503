"""The write side's central property: any sequence of valid and invalid submissions leaves the
national database equal to applying exactly the valid ones, in order, with one history entry
for each — and every submission, accepted or not, is in the inbox once.

Runs the hub's own desk in-process (the same code the mutations call) against the shared
seeded database, as Hà Nội's Department of Home Affairs (purpose personnel-updates), on a few
of its employees. A model of those files decides what each submission should do.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import Key

from adapters import NationalDatabase
from hub.databases import DatabaseSet
from hub.policy.compile import PolicyEngine
from hub.policy.load import load_policy_dir
from hub.updates.desk import SubmissionDesk
from hub.updates.keys import add_signer_key, generate_signer_key
from hub.updates.signatures import sign_submission
from resolvers.code_lists import CodeLists
from resolvers.context import Caller
from resolvers.disclosures import Disclosures
from resolvers.schema import build_schema

AGENCY = "000.00.01.H01"
CLIENT = ("hanoi-doha", "personnel-updates")
GRADES = ("excellent", "good", "complete", "incomplete")


@dataclass
class File:
    """The model of one personnel file: what the database must hold."""

    code: str
    personal_id: str
    rank: str
    ladder: int
    step: int
    version: int
    hired_year: int
    evaluations: dict[int, str] = field(default_factory=dict)


@dataclass(repr=False)
class World:
    runner: asyncio.Runner
    national: NationalDatabase
    desk: SubmissionDesk
    context: Any
    key: Key
    owner: asyncpg.Connection

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)


@pytest.fixture(scope="module")
def world(databases: DatabaseSet) -> Iterator[World]:
    key = generate_signer_key("ES256")
    engine = PolicyEngine(load_policy_dir(), build_schema()._schema, b"property: unused")
    view = engine.view(*CLIENT)
    with asyncio.Runner() as runner:
        async def open_() -> tuple[NationalDatabase, SubmissionDesk, asyncpg.Connection]:
            owner = await asyncpg.connect(databases.national)
            await add_signer_key(owner, "agency", AGENCY, key.as_dict(private=False),
                                 valid_from=datetime.now(UTC) - timedelta(days=1))
            national = await NationalDatabase.open(databases.national, min_size=1, max_size=4,
                                                   role="hub_runtime")
            return national, SubmissionDesk(national, await CodeLists.load(national)), owner

        national, desk, owner = runner.run(open_())
        context = SimpleNamespace(caller=Caller(CLIENT[0], AGENCY, CLIENT[1]), view=view,
                                  disclosures=Disclosures())
        try:
            yield World(runner, national, desk, context, key, owner)
        finally:
            runner.run(owner.close())
            runner.run(national.close())


def _files(world: World) -> list[File]:
    async def read() -> list[File]:
        rows = await world.owner.fetch(
            "SELECT e.employee_code, e.personal_id, e.rank_code, e.salary_step, e.version,"
            " e.hired_on,"
            " (SELECT count(*) FROM salary_ladder l WHERE l.rank_code = e.rank_code) AS ladder"
            " FROM employee e JOIN agency a ON a.code = e.agency_code"
            " WHERE a.authority = 'H01' AND e.status = 'active'"
            " ORDER BY e.employee_code LIMIT 3")
        files = []
        for row in rows:
            evaluations = await world.owner.fetch(
                "SELECT year, grade_code FROM evaluation WHERE employee_code = $1",
                row["employee_code"])
            files.append(File(row["employee_code"], row["personal_id"], row["rank_code"],
                              int(row["ladder"]), row["salary_step"], row["version"],
                              row["hired_on"].year,
                              {e["year"]: e["grade_code"] for e in evaluations}))
        return files

    result: list[File] = world.run(read())
    return result


# One step of a sequence: which file, what change, and how the submission may be broken.
STEP = st.tuples(
    st.integers(0, 2),                                   # which file
    st.sampled_from(["position-change", "evaluation"]),
    st.integers(1, 14),                                  # salary step (maybe off the ladder)
    st.integers(2018, 2026), st.sampled_from(GRADES),    # an evaluation
    st.sampled_from(["fine", "fine", "fine", "stale", "forged", "retry"]),
)
STEPS = st.lists(STEP, min_size=1, max_size=8)


def _payload(file: File, kind: str, step: int, year: int, grade: str,
             version: int) -> dict[str, Any]:
    change: dict[str, Any] = ({"salaryStep": step, "effectiveFrom": date.today().isoformat()}
                              if kind == "position-change" else {"year": year,
                                                                 "gradeCode": grade})
    return {"jti": uuid.uuid4().hex, "iat": int(time.time()), "iss": AGENCY, "kind": kind,
            "employee": {"employeeCode": file.code, "personalId": file.personal_id},
            "baseVersion": version, "change": change, "sourceSystem": "property-test"}


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS)
def test_the_database_holds_exactly_the_valid_changes(world: World,
                                                      steps: list[tuple[Any, ...]]) -> None:
    files = _files(world)
    model = {f.code: File(f.code, f.personal_id, f.rank, f.ladder, f.step, f.version,
                          f.hired_year, dict(f.evaluations)) for f in files}
    forger = generate_signer_key("ES256")
    decided: list[str] = []
    accepted = 0
    last_key: str | None = None
    last_sent: tuple[str, str] = ("", "")
    for index, kind, step, year, grade, fault in steps:
        if fault == "retry" and last_key is None:
            fault = "fine"  # nothing to retry yet: a first submission
        file = model[files[index].code]
        version = file.version - 1 if fault == "stale" else file.version
        payload = _payload(file, kind, step, year, grade, version)
        token = sign_submission(payload, forger if fault == "forged" else world.key,
                                kid=world.key.kid)
        if fault == "retry" and last_key is not None:
            # A retry sends the same request again (another one under the key is refused).
            kind, token = last_sent
        key = last_key if fault == "retry" and last_key is not None else uuid.uuid4().hex
        decision = world.run(world.desk.submit(world.context, kind, token, key, None))
        if decision.repeated:  # a retry: the first answer, nothing new
            assert fault == "retry"
            continue
        last_key, last_sent = key, (kind, token)
        decided.append(str(decision.submission_id))
        valid = fault == "fine" and (year >= file.hired_year if kind == "evaluation"
                                     else 1 <= step <= file.ladder)
        assert (decision.status == "accepted") is valid, (fault, kind, step, decision)
        if valid:
            accepted += 1
            file.version += 1
            if kind == "position-change":
                file.step = step
            else:
                file.evaluations[year] = grade
    for expected, actual in zip(model.values(), _files(world), strict=True):
        assert (actual.step, actual.version, actual.evaluations) == (
            expected.step, expected.version, expected.evaluations), expected.code

    async def counts() -> tuple[int, int]:
        ids = [uuid.UUID(i) for i in decided]
        kept = await world.owner.fetchval(
            "SELECT count(*) FROM submission WHERE id = ANY($1)", ids)
        history = await world.owner.fetchval(
            "SELECT count(*) FROM record_version WHERE submission_id = ANY($1)", ids)
        return int(kept), int(history)

    kept, history = world.run(counts())
    assert kept == len(decided), "every decided submission is in the inbox once"
    assert history == accepted, "one history entry per accepted change"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=16))
def test_one_batch_holds_exactly_the_valid_changes(world: World,
                                                   steps: list[tuple[Any, ...]]) -> None:
    """The same property with the whole sequence sent as ONE ``submit_many`` batch: several
    items for one employee with chained base versions, retries of a key inside the batch,
    stale and forged items — each decided in order as if sent alone."""
    files = _files(world)
    model = {f.code: File(f.code, f.personal_id, f.rank, f.ladder, f.step, f.version,
                          f.hired_year, dict(f.evaluations)) for f in files}
    forger = generate_signer_key("ES256")
    items: list[tuple[str, str, str, None]] = []
    expected: list[bool | int] = []  # accepted or not; a retry: the index it repeats
    first_of: dict[str, int] = {}
    last_key: str | None = None
    last_sent: tuple[str, str] = ("", "")
    for index, kind, step, year, grade, fault in steps:
        if fault == "retry" and last_key is None:
            fault = "fine"
        file = model[files[index].code]
        version = file.version - 1 if fault == "stale" else file.version
        payload = _payload(file, kind, step, year, grade, version)
        token = sign_submission(payload, forger if fault == "forged" else world.key,
                                kid=world.key.kid)
        if fault == "retry" and last_key is not None:
            # A retry sends the same request again (another one under the key is refused).
            items.append((*last_sent, last_key, None))
            expected.append(first_of[last_key])
            continue
        key = uuid.uuid4().hex
        last_key, last_sent = key, (kind, token)
        first_of[key] = len(items)
        items.append((kind, token, key, None))
        valid = fault == "fine" and (year >= file.hired_year if kind == "evaluation"
                                     else 1 <= step <= file.ladder)
        expected.append(valid)
        if valid:
            file.version += 1
            if kind == "position-change":
                file.step = step
            else:
                file.evaluations[year] = grade
    decisions = world.run(world.desk.submit_many(world.context, items))
    assert len(decisions) == len(items)
    decided: list[str] = []
    for position, (decision, wanted) in enumerate(zip(decisions, expected, strict=True)):
        if isinstance(wanted, bool):
            assert not decision.repeated, (position, decision)
            assert (decision.status == "accepted") is wanted, (position, items, decision)
            decided.append(str(decision.submission_id))
        else:
            first = decisions[wanted]
            assert decision.repeated, (position, decision)
            assert (decision.submission_id, decision.status, decision.result) == (
                first.submission_id, first.status, first.result)
    for want, actual in zip(model.values(), _files(world), strict=True):
        assert (actual.step, actual.version, actual.evaluations) == (
            want.step, want.version, want.evaluations), want.code

    async def counts() -> tuple[int, int]:
        ids = [uuid.UUID(i) for i in decided]
        kept = await world.owner.fetchval(
            "SELECT count(*) FROM submission WHERE id = ANY($1)", ids)
        history = await world.owner.fetchval(
            "SELECT count(*) FROM record_version WHERE submission_id = ANY($1)", ids)
        return int(kept), int(history)

    kept, history = world.run(counts())
    assert kept == len(decided), "every decided submission is in the inbox once"
    assert history == sum(w is True for w in expected), "one history entry per accepted change"
