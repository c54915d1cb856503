"""The national database's standbys (read replicas) that answer query traffic.

A ``ReplicaSet`` holds one pool per standby and decides which one a read goes to: the least
busy of those in rotation (ties taken in turn). A standby is in rotation while it answers and
its lag (``adapters.replica_lag``) is within the bound; a periodic check measures every
standby, takes out one that lags or does not answer, and puts it back once it is well. A read
that fails on a standby because of the standby is answered by the primary instead, and that
standby rests (out of rotation) until a check after a short pause finds it well: a dead
replica never fails a query.

What reads go to the standbys is not decided here: ``NationalDatabase`` sends its query
methods through a set only on its query face, and never while ``primary_reads()`` is in force
(a mutation, synchronisation: work that must read what it has just written).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg

from adapters.replica_lag import PrimaryPositions, within_bound

__all__ = ["Replica", "ReplicaSet", "ReplicaState", "primary_reads", "reads_on_primary",
           "replica_name"]

log = logging.getLogger(__name__)

_ON_PRIMARY: ContextVar[bool] = ContextVar("hub_reads_on_primary", default=False)


@contextlib.contextmanager
def primary_reads() -> Iterator[None]:
    """Within this block (and the tasks it starts) every read goes to the primary."""
    token = _ON_PRIMARY.set(True)
    try:
        yield
    finally:
        _ON_PRIMARY.reset(token)


def reads_on_primary() -> bool:
    return _ON_PRIMARY.get()


class ReplicaState(StrEnum):
    STARTING = "starting"  # not measured yet
    IN_ROTATION = "in-rotation"
    LAGGING = "lagging"
    UNREACHABLE = "unreachable"
    NOT_A_STANDBY = "not-a-standby"  # answers, but is not in recovery (promoted, misnamed)


def replica_name(url: str) -> str:
    """How a standby is named in logs and ``/readyz``: host, port and database, never the
    credentials of its URL."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2] or "local"
    database = unquote(parts.path.lstrip("/"))
    return f"{hosts}/{database}" if database else hosts


# Asking a standby where it stands. Public functions: the hub's own role may call them.
_STANDBY_SQL = (
    "SELECT pg_is_in_recovery() AS standby,"
    " (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text AS replayed,"
    " extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age")
_PRIMARY_SQL = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text"

# A standby that failed a read stays out of rotation at least this long (or one check
# interval, if longer): a standby that refuses connections is not asked again at every read.
_REST_SECONDS = 5.0
# Failures that say the standby itself cannot serve (as opposed to the statement failing).
_UNREACHABLE = (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
                asyncpg.OperatorInterventionError, asyncpg.TooManyConnectionsError)


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip().rstrip(":")[:200]


@dataclass(eq=False)
class Replica:
    """One standby: its pool (None until it could be opened) and what the checks found."""

    url: str = field(repr=False)
    name: str = ""
    pool: asyncpg.Pool | None = None
    state: ReplicaState = ReplicaState.STARTING
    lag_seconds: float | None = None
    problem: str | None = None
    in_flight: int = 0
    resting_until: float = 0.0

    def __post_init__(self) -> None:
        self.name = self.name or replica_name(self.url)

    def status(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"name": self.name, "state": self.state.value,
                                 "lagSeconds": (None if self.lag_seconds is None
                                                else round(self.lag_seconds, 3))}
        if self.problem is not None:
            shown["problem"] = self.problem
        return shown


PoolOpener = Callable[[str], Awaitable[asyncpg.Pool]]


class ReplicaSet:
    """The standbys of one primary, their health, and the choice of one for a read."""

    def __init__(self, urls: Sequence[str], primary: asyncpg.Pool, open_pool: PoolOpener, *,
                 max_lag_seconds: float, check_seconds: float, timeout: float,
                 capacity: int = 10, clock: Callable[[], float] = time.monotonic) -> None:
        self.replicas = [Replica(url) for url in urls]
        self._primary = primary
        # Reads one standby takes at once (its pool's size): a standby with every connection
        # busy is passed over rather than waited for, and the primary takes the overflow.
        self.capacity = capacity
        self._open_pool = open_pool
        self.max_lag_seconds = max_lag_seconds
        self.check_seconds = check_seconds
        self._timeout = timeout
        self._clock = clock
        # Samples older than the bound plus two checks say nothing a newer one does not.
        self.positions = PrimaryPositions(max_lag_seconds + 2 * check_seconds)
        self._turn = 0
        self._watcher: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, urls: Sequence[str], primary: asyncpg.Pool, open_pool: PoolOpener, *,
                   max_lag_seconds: float, check_seconds: float, timeout: float,
                   capacity: int) -> ReplicaSet:
        """Open and measure every standby once (one that cannot be reached is noted, not
        fatal: the primary serves until it can), then keep checking in the background."""
        replicas = cls(urls, primary, open_pool, max_lag_seconds=max_lag_seconds,
                       check_seconds=check_seconds, timeout=timeout, capacity=capacity)
        await replicas.check()
        replicas._watcher = asyncio.create_task(replicas._watch())
        return replicas

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        for replica in self.replicas:
            pool, replica.pool = replica.pool, None
            if pool is not None:
                try:
                    await asyncio.wait_for(pool.close(), timeout=self._timeout)
                except (TimeoutError, *_UNREACHABLE):
                    pool.terminate()

    # ------------------------------------------------------------------ choosing

    def choose(self) -> Replica | None:
        """The standby for the next read: the least busy in rotation, ties taken in turn;
        None when none is in rotation or all are fully busy (the primary answers)."""
        ready = [r for r in self.replicas
                 if r.state is ReplicaState.IN_ROTATION and r.in_flight < self.capacity]
        if not ready:
            return None
        start = self._turn % len(ready)
        self._turn += 1
        return min(ready[start:] + ready[:start], key=lambda r: r.in_flight)

    @contextlib.contextmanager
    def lease(self, replica: Replica) -> Iterator[asyncpg.Pool]:
        """The standby's pool for one read, counted as busy meanwhile."""
        assert replica.pool is not None  # only a standby in rotation is chosen
        replica.in_flight += 1
        try:
            yield replica.pool
        finally:
            replica.in_flight -= 1

    def failed(self, replica: Replica, error: BaseException) -> None:
        """A read found the standby unable to serve: out of rotation until a check, after a
        short rest, finds it well again."""
        replica.resting_until = self._clock() + max(_REST_SECONDS, self.check_seconds)
        replica.lag_seconds = None
        self._set(replica, ReplicaState.UNREACHABLE, _reason(error))

    # ------------------------------------------------------------------ checking

    async def check(self) -> None:
        """Sample the primary's position, then measure every standby against it."""
        try:
            async with self._primary.acquire(timeout=self._timeout) as connection:
                lsn = await connection.fetchval(_PRIMARY_SQL, timeout=self._timeout)
            self.positions.record(self._clock(), int(lsn))
        except (*_UNREACHABLE, asyncpg.PostgresError) as error:
            # The samples kept still measure the standbys; the primary's own readiness check
            # reports the primary.
            log.warning("cannot read the primary's WAL position: %s", _reason(error))
        await asyncio.gather(*(self._check(replica) for replica in self.replicas))

    async def _check(self, replica: Replica) -> None:
        try:
            if replica.pool is None:
                replica.pool = await asyncio.wait_for(self._open_pool(replica.url),
                                                      timeout=self._timeout)
            pool: asyncpg.Pool = replica.pool
            async with pool.acquire(timeout=self._timeout) as connection:
                row = await connection.fetchrow(_STANDBY_SQL, timeout=self._timeout)
        except (*_UNREACHABLE, asyncpg.PostgresError) as error:
            replica.lag_seconds = None
            self._set(replica, ReplicaState.UNREACHABLE, _reason(error))
            return
        now = self._clock()
        if not row["standby"] or row["replayed"] is None:
            replica.lag_seconds = None
            self._set(replica, ReplicaState.NOT_A_STANDBY,
                      "not in recovery: not a standby of the national database")
            return
        replica.lag_seconds = self.positions.lag(now, int(row["replayed"]), row["replay_age"])
        if now < replica.resting_until:
            return  # failed a read moments ago: let it rest
        self.judge(replica)

    def judge(self, replica: Replica) -> None:
        """In rotation or lagging, by its measured lag."""
        if replica.lag_seconds is None:
            self._set(replica, ReplicaState.STARTING, "the primary's position is not known yet")
        elif within_bound(replica.lag_seconds, self.max_lag_seconds):
            self._set(replica, ReplicaState.IN_ROTATION, None)
        else:
            self._set(replica, ReplicaState.LAGGING,
                      f"{replica.lag_seconds:.1f} s behind the primary (bound "
                      f"{self.max_lag_seconds:g} s)")

    def _set(self, replica: Replica, state: ReplicaState, problem: str | None) -> None:
        if state is not replica.state:
            if state is ReplicaState.IN_ROTATION:
                log.info("replica %s is back in rotation", replica.name)
            elif replica.state in (ReplicaState.IN_ROTATION, ReplicaState.STARTING):
                log.warning("replica %s is out of rotation (%s): %s", replica.name,
                            state.value, problem)
        replica.state = state
        replica.problem = problem

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                await self.check()
            except Exception:  # a failed check must not end the checking
                log.exception("checking the replicas failed")

    def status(self) -> list[dict[str, Any]]:
        return [replica.status() for replica in self.replicas]
