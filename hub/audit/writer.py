"""Writing audit records: one hash chain per process, group commit, fail closed.

A request hands its draft to ``AuditWriter.record`` and waits until the record is committed;
only then may its answer be sent. One task writes: whatever drafts arrived while the previous
write was in flight go together in the next transaction (group commit), so a busy hub pays
one commit for many requests, and an idle one answers after a single commit.

Each process writes its own chain, so no lock is shared between processes on a request's
path. The chain is announced by a signed 'open' checkpoint before its first record, its head
is checkpointed every few seconds while it grows, and a 'close' checkpoint ends it. A write
that fails (database down, timeout) fails every request waiting on it and abandons the
chain: whether the failed transaction committed is unknowable, so the next record starts a
new chain rather than guess at the old one's head.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from hub.audit.chain import canonical, genesis_hash, record_hash
from hub.audit.checkpoints import append_checkpoint
from hub.audit.entry import AuditDraft, seal_entry
from hub.auth.keys import SigningKeys

__all__ = ["AuditDisabled", "AuditUnavailable", "AuditWriter", "WriterStatus"]

log = logging.getLogger(__name__)

_INSERT = (
    "INSERT INTO audit_record (recorded_at, chain_id, seq, client_id, purpose, outcome,"
    " subject_ids, entry, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9,"
    " $10)")


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


def _month_after(moment: datetime) -> datetime:
    first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


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
        self._pending: list[tuple[AuditDraft, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._writing = False
        self._partitions_until: datetime | None = None
        self._records = 0
        self._last_error: str | None = None

    # -- life cycle --------------------------------------------------------------------------

    async def open(self) -> None:
        settings = {"role": self._role} if self._role else None
        self._pool = await asyncpg.create_pool(
            self._dsn, min_size=1, max_size=2, command_timeout=self._timeout,
            server_settings=settings)
        # The first chain is opened now, so a hub that cannot audit fails to start.
        try:
            await self._open_chain()
        except BaseException:
            await self._pool.close()
            self._pool = None
            raise
        self._tasks = [asyncio.create_task(self._write_loop(), name="audit-writer"),
                       asyncio.create_task(self._checkpoint_loop(), name="audit-checkpoints")]

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
        chain = self._chain
        if chain is not None and self._pool is not None:
            try:
                async with self._pool.acquire() as conn:
                    await append_checkpoint(conn, "close",
                                            {str(chain.chain_id): (chain.seq, chain.head)},
                                            self._keys)
            except Exception:
                log.exception("could not write the closing checkpoint of audit chain %s",
                              chain.chain_id)
        self._fail_pending("the hub is shutting down")
        if self._pool is not None:
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
        self._pending.append((draft, future))
        self._wake.set()
        try:
            # The write itself is bounded by the pool's command timeout; this is the bound
            # on waiting behind other writes.
            await asyncio.wait_for(asyncio.shield(future), self._timeout * 3)
        except TimeoutError:
            raise AuditUnavailable("the audit log did not answer in time") from None

    # -- writing -----------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._drain()

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[:self._max_batch]
            del self._pending[:len(batch)]
            self._writing = True
            try:
                await self._write(batch)
            finally:
                self._writing = False

    async def _write(self, batch: list[tuple[AuditDraft, asyncio.Future[None]]]) -> None:
        try:
            if self._chain is None:
                await self._open_chain()
            chain = self._chain
            assert chain is not None
            assert self._pool is not None
            now = max(datetime.now(UTC), chain.last_at)
            await self._ensure_partitions(now)
            rows, seq, head = [], chain.seq, chain.head
            for draft, _ in batch:
                seq += 1
                entry = seal_entry(draft, chain.chain_id, seq, now)
                digest = record_hash(head, entry)
                rows.append((now, chain.chain_id, seq, draft.client_id, draft.purpose,
                             draft.outcome, draft.subjects(), canonical(entry).decode(), head,
                             digest))
                head = digest
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.executemany(_INSERT, rows)
        except Exception as error:
            self._last_error = f"{type(error).__name__}: {error}"
            log.error("audit write of %d record(s) failed (%s): their answers are withheld",
                      len(batch), self._last_error)
            self._chain = None  # unknown whether it committed: start a new chain
            self._partitions_until = None
            for _, future in batch:
                if not future.done():
                    future.set_exception(AuditUnavailable("the audit log is unavailable"))
            return
        chain.seq, chain.head, chain.last_at = seq, head, now
        self._records += len(batch)
        self._last_error = None
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    async def _open_chain(self) -> None:
        assert self._pool is not None
        chain_id = uuid.uuid4()
        genesis = genesis_hash(chain_id)
        async with self._pool.acquire() as conn:
            await append_checkpoint(conn, "open", {str(chain_id): (0, genesis)}, self._keys)
        self._chain = _Chain(chain_id, 0, genesis, datetime.now(UTC))
        log.info("audit chain %s opened", chain_id)

    async def _ensure_partitions(self, now: datetime) -> None:
        # This month's and next month's partitions exist before a record needs them.
        if self._partitions_until is not None and now < self._partitions_until - timedelta(
                days=7):
            return
        assert self._pool is not None
        await self._pool.execute("SELECT audit_ensure_partitions($1, 2)", now)
        self._partitions_until = _month_after(_month_after(now))

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, []
        for _, future in pending:
            if not future.done():
                future.set_exception(AuditUnavailable(reason))

    # -- checkpoints -------------------------------------------------------------------------

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self._checkpoint_seconds)
            await self.checkpoint()

    async def checkpoint(self) -> bool:
        """State the chain's committed head, if it grew since the last checkpoint."""
        chain = self._chain
        if chain is None or chain.seq == chain.checkpointed_seq or self._pool is None:
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
