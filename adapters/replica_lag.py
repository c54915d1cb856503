"""How far behind the primary a standby is, in seconds, measured by the hub itself.

``now() - pg_last_xact_replay_timestamp()`` on the standby is the usual measure, and a wrong
one whenever the primary is quiet: the last replayed commit grows old although nothing is
missing. ``pg_stat_replication.replay_lag`` on the primary goes NULL when there is no traffic,
and a standby whose replay is paused keeps its last value. So the hub compares WAL positions:

- it samples the primary's position (``pg_current_wal_lsn()``) at every check and keeps, for
  each position, the moment it first saw it;
- a standby that has replayed the primary's latest sampled position misses nothing that was
  committed before that sample: its lag is 0, however long the primary has been idle;
- otherwise its lag is the time since the hub first saw a position beyond what the standby
  has replayed (the first sample ahead of it). Data the standby lacks existed then at the
  latest, and after the sample before it: the true lag is this figure, or more by at most one
  check interval.
- when no sample is known to be behind the standby (the hub has just started, or the standby
  is older than every sample kept), the age of the last replayed commit is used instead: an
  upper bound (everything the standby misses was written after that commit), so a standby is
  never kept in rotation on the strength of too short a history.

A standby is in rotation while its lag is at most the bound (``HUB_REPLICA_MAX_LAG_SECONDS``):
at the bound it serves, beyond it, not.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

__all__ = ["PrimaryPositions", "within_bound"]


@dataclass(frozen=True, slots=True)
class _Seen:
    at: float  # the hub's monotonic clock
    lsn: int  # bytes of WAL since 0/0


class PrimaryPositions:
    """The primary's WAL positions as sampled, each with the moment it was first seen; kept
    for ``keep_seconds`` (longer than the lag bound, so a standby behind by more than the
    bound is still measured as beyond it)."""

    def __init__(self, keep_seconds: float) -> None:
        self._keep = keep_seconds
        self._seen: list[_Seen] = []

    def record(self, at: float, lsn: int) -> None:
        if self._seen and lsn <= self._seen[-1].lsn:
            return  # not new: the moment it was first seen stands
        self._seen.append(_Seen(at, lsn))
        # Forget what is older than the horizon, but keep the newest such sample: a standby at
        # or past it is still measured exactly against the samples that follow it.
        horizon = at - self._keep
        old = bisect.bisect_right([s.at for s in self._seen], horizon)
        if old > 1:
            del self._seen[:old - 1]

    @property
    def known(self) -> bool:
        return bool(self._seen)

    def lag(self, now: float, replayed: int, replay_age: float | None) -> float | None:
        """Seconds the standby that has replayed up to ``replayed`` is behind, as of ``now``;
        ``replay_age``: seconds since its last replayed commit (None when it has replayed
        none). None while the primary's position was never sampled."""
        if not self._seen:
            return None
        if replayed >= self._seen[-1].lsn:
            return 0.0
        ahead = bisect.bisect_right([s.lsn for s in self._seen], replayed)
        since = max(0.0, now - self._seen[ahead].at)
        if ahead > 0:
            return since  # a sample at or behind the standby bounds the interval
        return since if replay_age is None else max(since, replay_age)


def within_bound(lag: float | None, max_lag: float) -> bool:
    """Whether a standby this far behind serves reads: at the bound it does."""
    return lag is not None and lag <= max_lag
