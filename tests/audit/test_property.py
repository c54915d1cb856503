"""For random valid logs, any single tampering is detected, and the untouched log verifies."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.audit.verify import verify_log
from hub.auth.keys import SigningKeys
from tests.audit.chains import LogWriter, reset_log
from tests.audit.tampering import TAMPERINGS

# A plan is a list of steps over up to four chains: append n records to chain i, checkpoint
# the open chains, close chain i, open another chain.
STEP = st.one_of(
    st.tuples(st.just("append"), st.integers(0, 3), st.integers(1, 4)),
    st.tuples(st.just("checkpoint"), st.just(0), st.just(0)),
    st.tuples(st.just("close"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("open"), st.just(0), st.just(0)),
)
PLAN = st.lists(STEP, min_size=2, max_size=12)


async def write_plan(log: LogWriter, plan: list[tuple[str, int, int]]) -> None:
    chains = [await log.open()]
    for action, index, count in plan:
        live = [c for c in chains if c not in log.closed]
        if action == "open" and len(chains) < 4:
            chains.append(await log.open())
        elif action == "append" and live:
            await log.append(live[index % len(live)], count)
        elif action == "checkpoint" and any(log.records[c] for c in live):
            await log.checkpoint()
        elif action == "close" and live:
            await log.close(live[index % len(live)])
    if not log.all_records():  # something to tamper with
        chain = await log.open()
        await log.append(chain, 2)
        await log.checkpoint()


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    # Hypothesis runs its examples synchronously: they share one event loop of their own.
    with asyncio.Runner() as loop:
        yield loop


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(plan=PLAN, seed=st.integers(0, 2**16), data=st.data())
def test_any_single_tampering_is_detected(runner: asyncio.Runner, audit_dsn: str,
                                          keys: SigningKeys, plan: list[tuple[str, int, int]],
                                          seed: int, data: st.DataObject) -> None:
    async def example() -> None:
        conn = await asyncpg.connect(audit_dsn)
        try:
            await reset_log(conn)
            log = LogWriter(conn, keys, seed=seed)
            await write_plan(log, plan)
            report = await verify_log(conn, keys.find)
            assert report.ok, [p.describe() for p in report.problems]
            assert report.records == len(log.all_records())

            def pick(options: Any) -> Any:
                return data.draw(st.sampled_from(list(options)))

            names = list(TAMPERINGS)
            name = data.draw(st.sampled_from(names), label="tampering")
            # Not every log offers a target for every action: take the next one that fits.
            for candidate in names[names.index(name):] + names[:names.index(name)]:
                if await TAMPERINGS[candidate](log, pick) is not None:
                    break
            report = await verify_log(conn, keys.find)
            assert not report.ok, f"{candidate} went unnoticed"
        finally:
            await conn.close()

    runner.run(example())
