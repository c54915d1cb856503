"""Writing audit records: one hash chain per process, group commit, fail closed.

A request hands its draft to ``AuditWriter.record`` and waits until the record is committed;
only then may its answer be sent. One task writes: whatever drafts arrived while the previous
write was in flight go together in the next transaction (group commit), so a busy hub pays
one commit for many requests, and an idle one answers after a single commit.

Each process writes its own chain, so no lock is shared between processes on a request's
path. The chain is announced by a signed 'open' checkpoint before its first record, its head
is checkpointed every few seconds while it grows, and a 'close' checkpoint ends it.

Failures:
- a batch the database refused (the transaction surely rolled back) is retried one record at
  a time, so one bad record fails only its own request;
- a write whose outcome is unknown (connection lost, timeout) fails every request waiting on
  it and abandons the chain. Once the database answers again, the chain's real last record is
  read back and a signed 'close' states it (nothing can be added to the chain unseen), and a
  new chain starts.
Monthly partitions are created ahead of need by a background task, never on a request's
path (creating one waits for every reader of the table).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from adapters.observe import background
from adapters.pg_pool import reset_unobserved
from hub.audit.chain import canonical, genesis_hash, record_hash
from hub.audit.checkpoints import append_checkpoint
from hub.audit.entry import AuditDraft, entry_subjects, seal_entry
from hub.auth.keys import SigningKeys
from hub.telemetry.metrics import record_audit_lag

__all__ = ["AuditDisabled", "AuditUnavailable", "AuditWriter", "WriterStatus"]

log = logging.getLogger(__name__)

_INSERT = (
    "INSERT INTO audit_record (recorded_at, chain_id, seq, client_id, purpose, outcome,"
    " subject_ids, entry, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9,"
    " $10)")
_LAST_RECORD = ("SELECT seq, hash FROM audit_record WHERE chain_id = $1"
                " ORDER BY seq DESC LIMIT 1")
_PARTITION_MONTHS = 3          # this month and the two after it exist at all times
_MAINTENANCE_SECONDS = 3600.0
_MAX_BATCH_SUBJECTS = 20_000   # one transaction's personal IDs (index entries), roughly


class AuditUnavailable(Exception):
    """The record could not be made durable: the answer it describes must not be sent."""


@dataclass(frozen=True, slots=True)
class WriterStatus:
    ok: bool
    chain: str | None
    records: int
    pending: int
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "chain": self.chain, "records": self.records,
                "pending": self.pending, "lastError": self.last_error}


@dataclass(slots=True)
class _Chain:
    chain_id: uuid.UUID
    seq: int
    head: bytes
    last_at: datetime
    checkpointed_seq: int = 0


@dataclass(frozen=True, slots=True)
class _Abandoned:
    """A chain given up after a write of unknown outcome: its head is ``before`` if that
    write did not commit, ``after`` if it did."""

    chain_id: uuid.UUID
    before: tuple[int, bytes]
    after: tuple[int, bytes]


_Waiting = tuple[AuditDraft, "asyncio.Future[None]"]
_Row = tuple[Any, ...]


def _surely_rolled_back(error: BaseException) -> bool:
    """A server error inside the transaction (bad data, a refused privilege...) rolls it back.
    A lost connection, a timeout or the server shutting down leaves the outcome unknown."""
    if not isinstance(error, asyncpg.PostgresError):
        return False
    state = getattr(error, "sqlstate", None) or ""
    return not state.startswith(("08", "57", "53", "58", "XX"))


class AuditWriter:
    def __init__(self, dsn: str, keys: SigningKeys, *, role: str | None = None,
                 checkpoint_seconds: float = 10.0, timeout_seconds: float = 5.0,
                 max_batch: int = 500, max_pending: int = 10_000) -> None:
        self._dsn = dsn
        self._keys = keys
        self._role = role
        self._checkpoint_seconds = checkpoint_seconds
        self._timeout = timeout_seconds
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._pool: asyncpg.Pool | None = None
        self._chain: _Chain | None = None
        self._abandoned: _Abandoned | None = None
        self._pending: list[_Waiting] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._writing = False
        self._partitions_ok = False
        self._records = 0
        self._last_error: str | None = None

    # -- life cycle --------------------------------------------------------------------------

    async def open(self) -> None:
        settings = {"role": self._role} if self._role else None
        self._pool = await asyncpg.create_pool(
            self._dsn, min_size=1, max_size=2, command_timeout=self._timeout,
            server_settings=settings, reset=reset_unobserved)
        try:
            # A hub that cannot audit fails to start: this month's partition and the first
            # chain now (the months ahead may wait for a long reader to finish).
            self._partitions_ok = await self._try_partitions(self._timeout)
            if not await self._pool.fetchval(
                    "SELECT to_regclass(format('audit_record_%s',"
                    " to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM'))) IS NOT NULL"):
                raise RuntimeError("the audit log has no partition for this month and one "
                                   "could not be created: see the log")
            await self._open_chain()
            await self._warn_if_login_role_can_rewrite()
        except BaseException:
            await self._pool.close()
            self._pool = None
            raise
        self._tasks = [asyncio.create_task(self._write_loop(), name="audit-writer"),
                       asyncio.create_task(self._checkpoint_loop(), name="audit-checkpoints"),
                       asyncio.create_task(self._maintenance_loop(), name="audit-partitions")]

    async def close(self) -> None:
        """Write what is waiting, state the chain's final head, and stop."""
        self._closing = True  # no new records from here on
        # Let the write in flight and those waiting finish (a cancelled write would leave
        # its requests without an answer until they time out).
        deadline = time.monotonic() + self._timeout * 2
        while (self._pending or self._writing) and time.monotonic() < deadline:
            self._wake.set()
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail_pending("the hub is shutting down")
        if self._pool is not None:
            try:
                await self._close_abandoned()
                chain = self._chain
                if chain is not None:
                    async with self._pool.acquire() as conn:
                        await append_checkpoint(
                            conn, "close", {str(chain.chain_id): (chain.seq, chain.head)},
                            self._keys)
            except Exception:
                log.exception("could not write the closing checkpoint of the audit chain")
            await self._pool.close()
            self._pool = None

    def status(self) -> WriterStatus:
        chain = self._chain
        return WriterStatus(ok=chain is not None and self._last_error is None,
                            chain=str(chain.chain_id) if chain else None,
                            records=self._records, pending=len(self._pending),
                            last_error=self._last_error)

    # -- the request path --------------------------------------------------------------------

    async def record(self, draft: AuditDraft) -> None:
        """Return once ``draft`` is committed; raise AuditUnavailable if it cannot be."""
        if self._closing or self._pool is None:
            raise AuditUnavailable("the audit log is closed")
        if len(self._pending) >= self._max_pending:
            raise AuditUnavailable("the audit log is not keeping up")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = (draft, future)
        self._pending.append(waiting)
        self._wake.set()
        queued = time.perf_counter()
        try:
            # The write itself is bounded by the pool's command timeout; this bounds the wait
            # behind other writes.
            await asyncio.wait_for(asyncio.shield(future), self._timeout * 3)
        except TimeoutError:
            # Not yet written: it never will be (its answer is withheld, so a record saying
            # it was given would be false). Already in flight: it may still commit.
            with contextlib.suppress(ValueError):
                self._pending.remove(waiting)
            record_audit_lag(time.perf_counter() - queued, "timeout")
            raise AuditUnavailable("the audit log did not answer in time") from None
        except AuditUnavailable:
            record_audit_lag(time.perf_counter() - queued, "failed")
            raise
        record_audit_lag(time.perf_counter() - queued, "committed")

    # -- writing -----------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._drain()

    def _next_batch(self) -> list[_Waiting]:
        count, subjects = 0, 0
        for draft, _ in self._pending[:self._max_batch]:
            subjects += len(draft.subjects())
            count += 1
            if subjects >= _MAX_BATCH_SUBJECTS:
                break
        batch = self._pending[:count]
        del self._pending[:count]
        return batch

    async def _drain(self) -> None:
        while self._pending:
            batch = self._next_batch()
            self._writing = True
            try:
                with background("audit.write", **{"hub.audit.records": len(batch)}):
                    await self._write(batch)
            finally:
                self._writing = False

    def _seal(self, chain: _Chain, batch: list[_Waiting], now: datetime
              ) -> tuple[list[_Waiting], list[_Row], int, bytes]:
        """The rows of the batch's records; a draft that cannot become an entry (a bug)
        fails its own request and takes no place in the chain."""
        sealed, rows, seq, head = [], [], chain.seq, chain.head
        for waiting in batch:
            try:
                entry = seal_entry(waiting[0], chain.chain_id, seq + 1, now)
                text = canonical(entry).decode()
            except Exception as error:
                log.exception("an audit draft could not be sealed")
                self._fail([waiting], error)
                continue
            seq += 1
            digest = record_hash(head, entry)
            rows.append((now, chain.chain_id, seq, entry["client"], entry["purpose"],
                         entry["outcome"], entry_subjects(entry), text, head, digest))
            sealed.append(waiting)
            head = digest
        return sealed, rows, seq, head

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            await self._close_abandoned()
            if self._chain is None:
                await self._open_chain()
        except Exception as error:
            self._fail(batch, error)
            return
        chain = self._chain
        assert chain is not None
        assert self._pool is not None
        now = max(datetime.now(UTC), chain.last_at)
        batch, rows, seq, head = self._seal(chain, batch, now)
        if not rows:
            return
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.executemany(_INSERT, rows)
        except Exception as error:
            if _surely_rolled_back(error) and len(batch) > 1:
                # One bad record must not fail the others: each alone, in order.
                for one in batch:
                    await self._write([one])
                return
            if not _surely_rolled_back(error):
                self._abandoned = _Abandoned(chain.chain_id, (chain.seq, chain.head),
                                             (seq, head))
                self._chain = None
            self._fail(batch, error)
            return
        chain.seq, chain.head, chain.last_at = seq, head, now
        self._records += len(batch)
        self._last_error = None
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    def _fail(self, batch: list[_Waiting], error: BaseException) -> None:
        self._last_error = f"{type(error).__name__}: {error}"
        log.error("audit write of %d record(s) failed (%s): their answers are withheld",
                  len(batch), self._last_error)
        for _, future in batch:
            if not future.done():
                future.set_exception(AuditUnavailable("the audit log is unavailable"))

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, []
        for _, future in pending:
            if not future.done():
                future.set_exception(AuditUnavailable(reason))

    # -- chains ------------------------------------------------------------------------------

    async def _open_chain(self) -> None:
        assert self._pool is not None
        chain_id = uuid.uuid4()
        genesis = genesis_hash(chain_id)
        async with self._pool.acquire() as conn:
            await append_checkpoint(conn, "open", {str(chain_id): (0, genesis)}, self._keys)
        self._chain = _Chain(chain_id, 0, genesis, datetime.now(UTC))
        log.info("audit chain %s opened", chain_id)

    async def _close_abandoned(self) -> None:
        """Close the chain a failed write left behind, at the head the database really holds
        (one of the two the writer knows), so that nothing can be appended to it unseen."""
        abandoned = self._abandoned
        if abandoned is None:
            return
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            last = await conn.fetchrow(_LAST_RECORD, abandoned.chain_id)
            found = (0, genesis_hash(abandoned.chain_id)) if last is None else (
                int(last["seq"]), bytes(last["hash"]))
            head = found if found in (abandoned.before, abandoned.after) else abandoned.before
            if found != head:
                log.error("audit chain %s holds seq %d, which this process did not write: "
                          "closing it at seq %d (verification will name the rest)",
                          abandoned.chain_id, found[0], head[0])
            await append_checkpoint(conn, "close", {str(abandoned.chain_id): head},
                                    self._keys)
        self._abandoned = None
        log.info("audit chain %s closed at seq %d after a failed write", abandoned.chain_id,
                 head[0])

    # -- checkpoints and partitions ----------------------------------------------------------

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self._checkpoint_seconds)
            if self._head_grew():  # a quiet hub traces no empty checkpoints
                with background("audit.checkpoint"):
                    await self.checkpoint()

    def _head_grew(self) -> bool:
        chain = self._chain
        return chain is not None and chain.seq != chain.checkpointed_seq

    async def checkpoint(self) -> bool:
        """State the chain's committed head, if it grew since the last checkpoint."""
        chain = self._chain
        if chain is None or not self._head_grew() or self._pool is None:
            return False
        seq, head = chain.seq, chain.head
        started = time.perf_counter()
        try:
            async with self._pool.acquire() as conn:
                checkpoint_id = await append_checkpoint(
                    conn, "head", {str(chain.chain_id): (seq, head)}, self._keys)
        except Exception as error:
            log.warning("audit checkpoint failed (%s); retrying in %.0f s", error,
                        self._checkpoint_seconds)
            return False
        chain.checkpointed_seq = seq
        # The log line is an anchor outside the database: with logs shipped elsewhere, even
        # someone who drops the latest checkpoints cannot hide the head they stated.
        log.info("audit checkpoint %d: chain %s head %d %s (%.1f ms)", checkpoint_id,
                 chain.chain_id, seq, head.hex(), (time.perf_counter() - started) * 1000)
        return True

    async def _maintenance_loop(self) -> None:
        while True:
            # Hourly; a minute after a failed attempt (the months ahead still exist).
            await asyncio.sleep(_MAINTENANCE_SECONDS if self._partitions_ok else 60.0)
            with background("audit.partitions"):
                self._partitions_ok = await self._try_partitions(2.0)

    async def _try_partitions(self, lock_timeout_seconds: float) -> bool:
        try:
            await self._ensure_partitions(lock_timeout_seconds=lock_timeout_seconds)
        except Exception as error:
            log.warning("audit partitions for the coming months not created yet (%s)", error)
            return False
        return True

    async def _ensure_partitions(self, *, lock_timeout_seconds: float) -> None:
        assert self._pool is not None
        async with self._pool.acquire() as conn, conn.transaction():
            # Creating a partition waits for every open reader of the table (a long export
            # or verification): give up quickly rather than queue the writers behind it.
            await conn.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_seconds * 1000)}ms'")
            await conn.fetchval("SELECT audit_ensure_partitions($1, $2)", datetime.now(UTC),
                                _PARTITION_MONTHS)

    async def _warn_if_login_role_can_rewrite(self) -> None:
        assert self._pool is not None
        can_rewrite = await self._pool.fetchval(
            "SELECT rolsuper OR pg_has_role(session_user, (SELECT relowner FROM pg_class"
            " WHERE oid = 'audit_record'::regclass), 'MEMBER')"
            " FROM pg_roles WHERE rolname = session_user")
        if can_rewrite:
            log.warning("the hub logs in to PostgreSQL as a role that owns the audit log or "
                        "is a superuser: it acts as %s, but a login role that is only a member "
                        "of hub_runtime keeps even a compromised hub from rewriting the log",
                        self._role or "itself")


class AuditDisabled:
    """No audit log (HUB_AUDIT=off): only for measuring what auditing costs. The hub warns
    at start-up and /readyz says so."""

    async def open(self) -> None:
        log.warning("HUB_AUDIT is off: disclosures are NOT recorded (benchmarks only)")

    async def close(self) -> None:
        return None

    async def record(self, draft: AuditDraft) -> None:
        return None

    def status(self) -> WriterStatus:
        return WriterStatus(ok=True, chain=None, records=0, pending=0,
                            last_error="auditing is turned off")
