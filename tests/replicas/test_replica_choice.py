"""The read replicas' rules without a database: the lag measure and its bound, which standby a
read goes to, and the setting that names them."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import asyncpg
import pytest

from adapters.replica_lag import PrimaryPositions, within_bound
from adapters.replicas import Replica, ReplicaSet, ReplicaState, primary_reads, reads_on_primary
from hub.config import PROJECT_ROOT, Settings

MAX_LAG = 30.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def _no_pool(url: str) -> asyncpg.Pool:
    raise AssertionError("no pool is opened here")


def replica_set(count: int, clock: Clock | None = None) -> ReplicaSet:
    replicas = ReplicaSet([f"postgresql://u:secret@replica{n}:5432/hub" for n in range(count)],
                          None, _no_pool, max_lag_seconds=MAX_LAG, check_seconds=2.0,
                          timeout=5.0, clock=clock or Clock())
    for replica in replicas.replicas:
        replica.pool = object()  # only handed out by lease(), never used here
        replica.state = ReplicaState.IN_ROTATION
    return replicas


# ---------------------------------------------------------------------- the lag measure

def test_a_standby_at_the_primarys_position_has_no_lag_however_idle_the_primary() -> None:
    positions = PrimaryPositions(keep_seconds=MAX_LAG + 4)
    positions.record(0.0, 5_000)
    for second in range(1, 3_600, 2):  # an hour without a write: the position stands still
        positions.record(float(second), 5_000)
    # The last commit is an hour old, but the standby has everything the primary has.
    assert positions.lag(3_600.0, replayed=5_000, replay_age=3_600.0) == 0.0
    assert positions.lag(3_600.0, replayed=6_000, replay_age=None) == 0.0  # sampled earlier


def test_the_lag_is_the_time_since_the_primary_first_showed_what_the_standby_lacks() -> None:
    positions = PrimaryPositions(keep_seconds=MAX_LAG + 4)
    positions.record(0.0, 1_000)
    positions.record(2.0, 1_000)  # no new WAL: the first sighting stands
    positions.record(4.0, 2_000)  # a write between 2 and 4
    positions.record(6.0, 3_000)
    assert positions.lag(10.0, replayed=1_000, replay_age=99.0) == 6.0  # since 4.0
    assert positions.lag(10.0, replayed=1_500, replay_age=99.0) == 6.0
    assert positions.lag(10.0, replayed=2_000, replay_age=99.0) == 4.0  # since 6.0
    assert positions.lag(10.0, replayed=3_000, replay_age=99.0) == 0.0


def test_without_a_sample_behind_the_standby_the_age_of_its_last_commit_bounds_it() -> None:
    positions = PrimaryPositions(keep_seconds=MAX_LAG + 4)
    assert positions.lag(0.0, replayed=1, replay_age=1.0) is None  # never sampled
    positions.record(100.0, 9_000)  # the hub has just started; the standby is behind
    assert positions.lag(101.0, replayed=5_000, replay_age=3_600.0) == 3_600.0
    assert positions.lag(101.0, replayed=5_000, replay_age=None) == 1.0  # nothing replayed


def test_old_samples_are_forgotten_but_a_standby_behind_them_stays_beyond_the_bound() -> None:
    positions = PrimaryPositions(keep_seconds=MAX_LAG + 4)
    for second in range(0, 200, 2):
        positions.record(float(second), 1_000 * (second + 1))
    assert len(positions._seen) <= (MAX_LAG + 4) / 2 + 2
    # A standby stuck at the very first position: older than every sample kept.
    lag = positions.lag(200.0, replayed=1_000, replay_age=None)
    assert lag is not None
    assert lag > MAX_LAG
    # One a little behind is still measured exactly: it has what the primary had at 190,
    # not what it had at 192.
    assert positions.lag(200.0, replayed=1_000 * 191, replay_age=None) == 8.0


@pytest.mark.parametrize(("seconds_after_write", "serves"), [
    (MAX_LAG - 0.001, True),  # just under the bound
    (MAX_LAG, True),  # at the bound
    (MAX_LAG + 0.001, False),  # just over
])
def test_the_bound_at_just_under_and_just_over(seconds_after_write: float,
                                               serves: bool) -> None:
    positions = PrimaryPositions(keep_seconds=MAX_LAG + 4)
    positions.record(0.0, 1_000)
    positions.record(2.0, 2_000)  # first seen at 2.0; the standby stays at 1,000
    lag = positions.lag(2.0 + seconds_after_write, replayed=1_000, replay_age=None)
    assert lag == pytest.approx(seconds_after_write)
    assert within_bound(lag, MAX_LAG) is serves


@pytest.mark.parametrize(("lag", "state"), [
    (MAX_LAG - 0.001, ReplicaState.IN_ROTATION), (MAX_LAG, ReplicaState.IN_ROTATION),
    (MAX_LAG + 0.001, ReplicaState.LAGGING), (None, ReplicaState.STARTING)])
def test_a_standby_is_judged_by_its_lag(lag: float | None, state: ReplicaState) -> None:
    replicas = replica_set(1)
    [replica] = replicas.replicas
    replica.lag_seconds = lag
    replicas.judge(replica)
    assert replica.state is state
    assert replicas.status()[0]["state"] == state.value
    assert (replicas.choose() is replica) is (state is ReplicaState.IN_ROTATION)


# ---------------------------------------------------------------------- the choice

def test_reads_are_spread_in_turn_over_standbys_equally_busy() -> None:
    replicas = replica_set(3)
    chosen = Counter(replicas.choose().name for _ in range(300))  # type: ignore[union-attr]
    assert sorted(chosen.values()) == [100, 100, 100]


def test_the_least_busy_standby_is_chosen() -> None:
    replicas = replica_set(3)
    first, second, third = replicas.replicas
    with replicas.lease(first), replicas.lease(first), replicas.lease(third):
        assert {replicas.choose() for _ in range(10)} == {second}
        with replicas.lease(second), replicas.lease(second):
            assert {replicas.choose() for _ in range(10)} == {third}
    assert first.in_flight == second.in_flight == third.in_flight == 0


def test_a_standby_with_every_connection_busy_is_passed_over_for_the_primary() -> None:
    replicas = replica_set(2)
    first, second = replicas.replicas
    first.in_flight = replicas.capacity
    assert {replicas.choose() for _ in range(10)} == {second}
    second.in_flight = replicas.capacity
    assert replicas.choose() is None
    second.in_flight -= 1
    assert replicas.choose() is second


def test_only_standbys_in_rotation_are_chosen_and_none_leaves_it_to_the_primary() -> None:
    replicas = replica_set(3)
    first, second, third = replicas.replicas
    first.state, second.state = ReplicaState.LAGGING, ReplicaState.NOT_A_STANDBY
    assert {replicas.choose() for _ in range(10)} == {third}
    third.state = ReplicaState.UNREACHABLE
    assert replicas.choose() is None


def test_a_standby_that_fails_a_read_rests_out_of_rotation() -> None:
    clock = Clock()
    replicas = replica_set(2, clock)
    first, second = replicas.replicas
    replicas.failed(first, ConnectionRefusedError("connection refused"))
    assert first.state is ReplicaState.UNREACHABLE
    assert first.resting_until == clock.now + 5.0
    assert {replicas.choose() for _ in range(10)} == {second}
    shown = replicas.status()[0]
    assert shown == {"name": "replica0:5432/hub", "state": "unreachable", "lagSeconds": None,
                     "problem": "ConnectionRefusedError: connection refused"}
    assert "secret" not in str(replicas.status())


def test_primary_reads_hold_within_their_block_and_the_tasks_it_starts() -> None:
    import asyncio

    async def inside() -> bool:
        return reads_on_primary()

    async def run() -> tuple[bool, bool, bool]:
        with primary_reads():
            pinned = await asyncio.create_task(inside())
        return reads_on_primary(), pinned, await asyncio.create_task(inside())

    assert asyncio.run(run()) == (False, True, False)


def test_a_replica_is_named_without_its_credentials() -> None:
    assert Replica("postgresql://hub:pa55@db-2.internal:6432/hub?sslmode=require").name == (
        "db-2.internal:6432/hub")
    assert Replica("postgresql://a:1,b:2/hub").name == "a:1,b:2/hub"


# ---------------------------------------------------------------------- the setting

PRIMARY = "postgresql://hub@db-1:5432/hub"


def test_the_replica_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", PRIMARY)
    monkeypatch.delenv("HUB_DATABASE_REPLICA_URLS", raising=False)
    default = Settings.from_env()
    assert default.database_replica_urls == ()
    assert (default.replica_max_lag_seconds, default.replica_check_seconds) == (30.0, 2.0)
    monkeypatch.setenv("HUB_DATABASE_REPLICA_URLS",
                       " postgresql://hub:s3cret@db-2:5432/hub, postgres://db-3,db-4:6432/hub ")
    monkeypatch.setenv("HUB_REPLICA_MAX_LAG_SECONDS", "10")
    monkeypatch.setenv("HUB_REPLICA_CHECK_SECONDS", "1")
    settings = Settings.from_env()
    assert settings.database_replica_urls == ("postgresql://hub:s3cret@db-2:5432/hub",
                                              "postgres://db-3,db-4:6432/hub")
    assert (settings.replica_max_lag_seconds, settings.replica_check_seconds) == (10.0, 1.0)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("HUB_DATABASE_REPLICA_URLS", "db-2:5432/hub",
     "HUB_DATABASE_REPLICA_URLS: entry 1 (db-2:5432/hub) must be a postgresql:// URL"),
    ("HUB_DATABASE_REPLICA_URLS", "postgresql://db-2/hub, db-3/hub",
     "HUB_DATABASE_REPLICA_URLS: entry 1 (postgresql://db-2/hub, db-3/hub) has a malformed "
     "database name"),
    ("HUB_DATABASE_REPLICA_URLS", "postgresql://hub:s3cret@db-2:54x2/hub",
     "HUB_DATABASE_REPLICA_URLS: entry 1 (postgresql://hub:***@db-2:54x2/hub) has a malformed "
     "host"),
    ("HUB_DATABASE_REPLICA_URLS", "postgresql://db-2:70000/hub",
     "HUB_DATABASE_REPLICA_URLS: entry 1 (postgresql://db-2:70000/hub) has a malformed port"),
    ("HUB_DATABASE_REPLICA_URLS", "postgresql:///hub",
     "HUB_DATABASE_REPLICA_URLS: entry 1 (postgresql:///hub) names no host"),
    ("HUB_DATABASE_REPLICA_URLS", f"postgresql://db-2/hub,{PRIMARY}",
     f"HUB_DATABASE_REPLICA_URLS: entry 2 ({PRIMARY}) is HUB_DATABASE_URL itself"),
    ("HUB_DATABASE_REPLICA_URLS", "postgresql://db-2/hub,postgresql://db-2/hub",
     "HUB_DATABASE_REPLICA_URLS: entry 2 (postgresql://db-2/hub) is named twice"),
    ("HUB_REPLICA_MAX_LAG_SECONDS", "0", "HUB_REPLICA_MAX_LAG_SECONDS must be between 1"),
    ("HUB_REPLICA_CHECK_SECONDS", "often", "HUB_REPLICA_CHECK_SECONDS must be an integer"),
])
def test_bad_replica_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str,
                                          value: str, message: str) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", PRIMARY)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as refused:
        Settings.from_env()
    assert str(refused.value).startswith(message)
    assert "s3cret" not in str(refused.value)


def test_the_server_will_not_start_with_a_bad_replica_setting() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hub", "serve"], cwd=PROJECT_ROOT, capture_output=True,
        text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HUB_DATABASE_URL": PRIMARY,
             "HUB_DATABASE_REPLICA_URLS": "postgresql://hub:s3cret@db-2:5432/hub,db-3/hub"})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "hub: HUB_DATABASE_REPLICA_URLS: entry 1 (postgresql://hub:***@db-2:5432/hub,db-3/hub)"
        " has a malformed database name (another URL must follow a comma)")
