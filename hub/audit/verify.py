"""Verifying the audit log: every record against its hash and its chain, every checkpoint
against its signature and the checkpoint chain, and every head a checkpoint states against the
record still in the table.

The log may hold billions of records, so records are streamed one chain at a time through a
server-side cursor, all inside one read-only REPEATABLE READ transaction: the hub may keep
writing meanwhile, and the verifier still sees one consistent snapshot (a checkpoint it sees
never names a record it cannot see). Only checkpoint heads are held in memory.

What each finding means:

* altered: a record's hash no longer matches its content, one of its columns disagrees with
  its entry, or a checkpoint stated another hash for it (it was rewritten and re-hashed);
* deleted: a gap in a chain's sequence, or a head a checkpoint stated is gone;
* inserted: a second record with the same seq, a record after its chain was closed, before
  its retention anchor, or in a chain no checkpoint opened;
* reordered: a record whose entry belongs to another seq or chain (entries moved between
  rows), or whose prev_hash is not its predecessor's hash (inserted, replaced or moved);
* checkpoint: a checkpoint whose signature does not verify (or whose key is unknown), whose
  columns differ from what was signed, which is missing from the checkpoint chain or does not
  link to its predecessor, or which contradicts an earlier one.

A row whose entry cannot even be read (JSON that PostgreSQL keeps but no hub writes, such as
a number out of range, or an entry missing its fields) is reported as altered, and the walk
goes on: one bad row never hides the rest.

Unclosed chains. A writer states its chain's final head in a signed 'close' checkpoint when it
stops (or gives a chain up after a failed write). A chain with no close that has been quiet
for longer than ``grace`` (its writer was killed, or crashed, or is idle) is reported apart,
with the number of its records after its last checkpoint: those records are not protected.
The hash chain is not keyed, so whoever can write to the database can delete the end of such
a tail, or append well-formed records to it, and nothing in the log shows: only a signed
statement can vouch for a record, and none names them. Strict checking (``hub audit verify
--strict``) counts unclosed chains as problems.

The checkpoint chain must run whole from id 1: retention drops records, never checkpoints
(they are small), so no starting point other than the constant genesis needs trusting. What
no chain can show is its own end cut off (the last checkpoints deleted, and with them what
they stated): the report names the newest checkpoint, for keeping outside the database, and
``expect`` checks such a copy (missing, or another hash: a problem).

``limits`` restricts the walk to some chains up to a seq each, and the record after it
(retention verifies what it is about to drop, and anchor, that way): a checkpoint stating a
head past the limit then needs that next record; every checkpoint is still checked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from hub.audit.chain import (
    CHECKPOINT_GENESIS,
    CheckpointError,
    KeyFinder,
    checkpoint_hash,
    checkpoint_payload,
    genesis_hash,
    record_hash,
    timestamp,
)
from hub.audit.chain import verify_checkpoint_jws as _verify_jws

__all__ = ["DEFAULT_GRACE", "Problem", "UnclosedChain", "VerifyReport", "verify_log"]

#: How long a chain with no close may be quiet (a tail not checkpointed, or no record and no
#: checkpoint) before it is listed as unclosed (writers checkpoint every few seconds; a
#: minute covers a slow one and a clock apart).
DEFAULT_GRACE = timedelta(seconds=60)
BATCH = 5_000  # rows per cursor fetch: few round trips, bounded memory
SLICE = 250  # rows hashed between two looks at the socket
MAX_KEPT_PROBLEMS = 10_000  # a wholly rewritten log must not exhaust memory: count the rest

_RECORDS = ("SELECT seq, recorded_at, client_id, purpose, outcome, subject_ids, entry::text,"
            " prev_hash, hash FROM audit_record WHERE chain_id = $1 ORDER BY seq, recorded_at")
_RECORDS_UPTO = ("SELECT seq, recorded_at, client_id, purpose, outcome, subject_ids,"
                 " entry::text, prev_hash, hash FROM audit_record WHERE chain_id = $1"
                 " AND seq <= $2 ORDER BY seq, recorded_at")
# Distinct chain ids by a loose index scan: one index probe per chain instead of reading
# every record twice.
_CHAIN_IDS = """
WITH RECURSIVE chains(id) AS (
    (SELECT chain_id FROM audit_record ORDER BY chain_id LIMIT 1)
    UNION ALL
    SELECT (SELECT chain_id FROM audit_record WHERE chain_id > chains.id
            ORDER BY chain_id LIMIT 1)
    FROM chains WHERE chains.id IS NOT NULL
)
SELECT id FROM chains WHERE id IS NOT NULL
"""
_FIRST_RECORD = ("SELECT recorded_at, entry->>'request' FROM audit_record WHERE chain_id = $1"
                 " ORDER BY seq, recorded_at LIMIT 1")
_CHECKPOINTS = ("SELECT id, created_at, kind, heads::text, prev_hash, hash, jws"
                " FROM audit_checkpoint ORDER BY id")


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``chain``/``seq``/``recorded_at``/``request`` name the record when there
    is one; ``checkpoint`` the checkpoint concerned."""

    kind: str  # altered | deleted | inserted | reordered | checkpoint
    detail: str
    chain: str | None = None
    seq: int | None = None
    recorded_at: datetime | None = None
    request: str | None = None
    checkpoint: int | None = None
    when: datetime | None = None  # where the problem sits in time, to find the first one

    def describe(self) -> str:
        if self.chain is not None and self.seq is not None:
            facts = [f"recorded {timestamp(self.recorded_at)}"] if self.recorded_at else []
            if self.request is not None:
                facts.append(f"request {self.request}")
            where = f"chain {self.chain} seq {self.seq}"
            if facts:
                where += f" ({', '.join(facts)})"
        elif self.chain is not None:
            where = f"chain {self.chain}"
        elif self.checkpoint is not None:
            where = f"checkpoint #{self.checkpoint}"
        else:
            where = "log"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass(frozen=True, slots=True)
class UnclosedChain:
    """A chain no 'close' checkpoint ended, quiet for longer than the grace period: its
    writer was killed or crashed (or is idle). ``unprotected`` records follow its last
    checkpoint: no signature vouches for them, so a deletion at their end, or a record
    appended after them, would not show."""

    chain: str
    last_active: datetime  # its last record, or the last checkpoint stating it
    last_seq: int  # its last record (the retention anchor's seq when none is left)
    stated: int  # the highest seq a checkpoint stated
    unprotected: int
    last_checkpoint: int | None  # the last checkpoint stating it
    has_records: bool = True

    def describe(self) -> str:
        checkpoint = (f"checkpoint #{self.last_checkpoint} states seq {self.stated}"
                      if self.last_checkpoint is not None else "no checkpoint states it")
        if not self.has_records and self.stated == 0:
            tail = ("it holds no record (its writer served nothing, or stopped before its "
                    "first checkpoint and its records were lost or deleted)")
        elif self.unprotected:
            first = self.last_seq - self.unprotected + 1
            span = f"seq {first}" if first == self.last_seq else f"seq {first} to {self.last_seq}"
            tail = (f"{self.unprotected} record(s) after its last checkpoint ({span}) are "
                    "UNPROTECTED: a deletion at their end would not show")
        else:
            tail = ("no record after its last checkpoint, but records it wrote after that "
                    "checkpoint, if any, could have been deleted unseen")
        return (f"chain {self.chain}: never closed, last active "
                f"{timestamp(self.last_active)} ({checkpoint}); {tail}")


@dataclass(slots=True)
class VerifyReport:
    records: int = 0
    chains: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    #: Chains without a close, quiet for longer than the grace period (not problems: a
    #: killed writer leaves one; ``hub audit verify --strict`` counts them as problems).
    unclosed: list[UnclosedChain] = field(default_factory=list)
    #: The newest checkpoint (id, hash hex): kept outside the database (a printout, a
    #: ticket), it shows later whether checkpoints were cut off the end of the chain.
    last_checkpoint: tuple[int, str] | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def warnings(self) -> list[str]:
        """What deserves a look without being tampering: the unclosed chains."""
        return [f"unclosed {chain.describe()}" for chain in self.unclosed]

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_KEPT_PROBLEMS:
            self.problems.append(problem)


@dataclass(slots=True)
class _Chain:
    """What the checkpoints say about one chain."""

    opened: int | None = None  # checkpoint id
    opened_at: datetime | None = None
    closed: tuple[int, int] | None = None  # (seq, checkpoint id)
    anchor: tuple[int, bytes, int] | None = None  # retention: (seq, hash, checkpoint id)
    heads: dict[int, tuple[bytes, int]] = field(default_factory=dict)  # seq -> (hash, id)
    last_stated: int = 0  # the highest seq any checkpoint stated (kept, not recomputed)
    last_checkpoint: int | None = None  # the last checkpoint stating the chain, and when
    last_checkpoint_at: datetime | None = None


@dataclass(slots=True)
class _Walk:
    """Where the walk along one chain is: the seq and prev_hash the next record must have,
    the checkpointed heads still ahead, and the last record seen."""

    chain: str
    info: _Chain
    genesis: bytes
    expected: int = 1
    expected_prev: bytes = b""
    anchor_seq: int = 0
    anchor_checkpoint: int = 0
    heads: list[tuple[int, bytes, int]] = field(default_factory=list)
    next_head: int = 0
    closed_at: int | None = None
    closed_by: int = 0
    last_seq: int = 0
    last_at: datetime | None = None
    last_request: Any = None

    def __post_init__(self) -> None:
        # A retention anchor stands in for the dropped records: the chain resumes after it.
        if self.info.anchor is not None:
            self.anchor_seq, self.expected_prev, self.anchor_checkpoint = self.info.anchor
        else:
            self.expected_prev = self.genesis
        self.expected, self.last_seq = self.anchor_seq + 1, self.anchor_seq
        self.heads = sorted((s, h, c) for s, (h, c) in self.info.heads.items()
                            if s > self.anchor_seq)
        if self.info.closed is not None:
            self.closed_at, self.closed_by = self.info.closed


async def _batches(conn: asyncpg.Connection, query: str, *args: Any
                   ) -> AsyncIterator[list[asyncpg.Record]]:
    """A server-side cursor's rows in batches, the next batch asked for before the current
    one is handed out: the server reads and sends while the caller hashes."""
    cursor = await conn.cursor(query, *args)
    pending = asyncio.ensure_future(cursor.fetch(BATCH))
    try:
        while rows := await pending:
            pending = asyncio.ensure_future(cursor.fetch(BATCH))
            await asyncio.sleep(0)  # let the request go out before the caller computes
            yield rows
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncpg.PostgresError):
                await pending


def _same_time(text: Any, moment: datetime) -> bool:
    # Parsing is ten times cheaper than formatting; the shape check keeps it to the one
    # spelling timestamp() writes (UTC, microseconds).
    return (type(text) is str and len(text) == 32 and text.endswith("+00:00")
            and datetime.fromisoformat(text) == moment)


def _agrees(entry: Any, chain: str, seq: int, recorded_at: datetime, client: str,
            purpose: str | None, outcome: str, subjects: list[str]) -> bool:
    """Whether every column repeats the entry (the common case, made cheap)."""
    try:
        if not (entry["seq"] == seq and type(entry["seq"]) is int
                and entry["chain"] == chain and entry["client"] == client
                and entry["outcome"] == outcome and entry["purpose"] == purpose
                and _same_time(entry["at"], recorded_at)):
            return False
        named: set[str] = set()
        for group in entry["disclosed"]:
            named.update(group["subjects"])
        return sorted(named) == subjects
    except (TypeError, KeyError, ValueError):
        return False


def _parse_head(chain: str, head: Any) -> tuple[UUID, int, bytes]:
    chain_id = UUID(chain)
    if str(chain_id) != chain or not isinstance(head, list) or len(head) != 2:
        raise ValueError("malformed head")
    seq, digest = head
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or not isinstance(
            digest, str) or len(digest) != 64:
        raise ValueError("malformed head")
    return chain_id, seq, bytes.fromhex(digest)


class _Verifier:
    def __init__(self, conn: asyncpg.Connection, find_key: KeyFinder,
                 progress: Callable[[int], None] | None, grace: timedelta,
                 expect: Mapping[int, bytes], limits: Mapping[str, int] | None) -> None:
        self.conn = conn
        self.find_key = find_key
        self.progress = progress
        self.grace = grace
        self.expect = dict(expect)
        self.limits = limits
        self.report = VerifyReport()
        self.chains: dict[str, _Chain] = {}
        self.now = datetime.now(UTC)

    # -- checkpoints ---------------------------------------------------------------------

    async def checkpoints(self) -> None:
        expected_id, expected_prev = 1, CHECKPOINT_GENESIS
        cursor = await self.conn.cursor(_CHECKPOINTS)
        while rows := await cursor.fetch(BATCH):
            for cid, created_at, kind, heads_text, prev_hash, digest, token in rows:
                self.report.checkpoints += 1

                def bad(detail: str, cid: int = cid, at: datetime = created_at) -> None:
                    self.report.add(Problem("checkpoint", detail, checkpoint=cid, when=at))

                if cid != expected_id:
                    missing = (f"#{expected_id}" if cid == expected_id + 1
                               else f"#{expected_id} to #{cid - 1}")
                    bad(f"checkpoint {missing} before it is missing: deleted from the "
                        "checkpoint chain")
                elif bytes(prev_hash) != expected_prev:
                    bad(f"its prev_hash is not the hash of checkpoint #{cid - 1}: the "
                        "checkpoint chain was rewritten here")
                expected_id, expected_prev = cid + 1, bytes(digest)
                self.report.last_checkpoint = (cid, bytes(digest).hex())
                kept = self.expect.pop(cid, None)
                if kept is not None and kept != bytes(digest):
                    bad(f"its hash is {bytes(digest).hex()}, but the copy kept outside the log "
                        f"says {kept.hex()}: the checkpoint chain was rewritten")
                try:
                    payload = _verify_jws(token, self.find_key)
                except CheckpointError as error:
                    bad(f"its signature does not hold: {error}; its heads are not trusted")
                    continue
                try:
                    stated = checkpoint_payload(cid, created_at, kind, orjson.loads(heads_text),
                                                bytes(prev_hash))
                except (TypeError, ValueError, AttributeError):
                    stated = None
                if stated != payload:
                    bad("its columns (id, created_at, kind, heads, prev_hash) differ from the "
                        "payload it signed: the row was altered")
                elif checkpoint_hash(payload) != bytes(digest):
                    bad("its hash does not match its signed payload: the row was altered")
                # A genuine signature over another id is a checkpoint copied from elsewhere
                # in the chain: its statements are true but already counted there.
                if payload.get("id") == cid:
                    self._apply(cid, created_at, payload, bad)
        newest = self.report.last_checkpoint
        for cid, kept in sorted(self.expect.items()):
            self.report.add(Problem(
                "checkpoint", f"it is missing, but the copy kept outside the log names it "
                f"(hash {kept.hex()}): checkpoints were cut off the end of the checkpoint "
                f"chain (the newest left is {f'#{newest[0]}' if newest else 'none'})",
                checkpoint=cid))

    def _apply(self, cid: int, created_at: datetime, payload: dict[str, Any],
               bad: Callable[[str], None]) -> None:
        kind, heads = payload.get("kind"), payload.get("heads")
        if not isinstance(heads, dict):
            bad("its signed payload holds no heads")
            return
        for chain_text, head in heads.items():
            try:
                chain_id, seq, digest = _parse_head(chain_text, head)
            except (ValueError, TypeError):
                bad(f"it states a malformed head for chain {chain_text!r}")
                continue
            chain = self.chains.setdefault(chain_text, _Chain())
            if kind in ("open", "retention", "head", "close"):
                chain.last_checkpoint, chain.last_checkpoint_at = cid, created_at
            if kind == "open":
                if chain.opened is not None:
                    bad(f"it opens chain {chain_text} again (first opened by checkpoint "
                        f"#{chain.opened})")
                elif seq != 0 or digest != genesis_hash(chain_id):
                    bad(f"it opens chain {chain_text} at a head other than its genesis")
                else:
                    chain.opened, chain.opened_at = cid, created_at
            elif kind == "retention":
                earlier = chain.heads.get(seq)
                if earlier is not None and earlier[0] != digest:
                    bad(f"it anchors chain {chain_text} seq {seq} at another hash than "
                        f"checkpoint #{earlier[1]} stated")
                if chain.anchor is None or seq > chain.anchor[0]:
                    chain.anchor = (seq, digest, cid)
                chain.last_stated = max(chain.last_stated, seq)
            elif kind in ("head", "close"):
                if chain.opened is None and chain.anchor is None:
                    bad(f"it states a head of chain {chain_text}, which no checkpoint opened")
                if chain.closed is not None:
                    bad(f"it states a head of chain {chain_text} after checkpoint "
                        f"#{chain.closed[1]} closed it")
                earlier = chain.heads.get(seq)
                if earlier is not None and earlier[0] != digest:
                    bad(f"it states another hash for chain {chain_text} seq {seq} than "
                        f"checkpoint #{earlier[1]}")
                elif seq < chain.last_stated:
                    bad(f"it states chain {chain_text} at seq {seq}, behind the seq "
                        f"{chain.last_stated} an earlier checkpoint stated")
                if seq == 0 and digest != genesis_hash(chain_id):
                    bad(f"it states chain {chain_text} at seq 0 with a hash other than its "
                        "genesis")
                chain.heads.setdefault(seq, (digest, cid))
                chain.last_stated = max(chain.last_stated, seq)
                if kind == "close" and chain.closed is None:
                    chain.closed = (seq, cid)
            else:
                bad(f"its signed payload has an unknown kind {kind!r}")
                return

    # -- records -------------------------------------------------------------------------

    async def chain_order(self) -> list[tuple[str, datetime | None, str | None]]:
        """Every chain (from records or checkpoints) with its first record's time and request,
        in time order: the first problem reported is then the earliest one."""
        found: dict[str, tuple[datetime | None, str | None]] = {}
        chain_ids = ([UUID(c) for c in self.limits] if self.limits is not None
                     else [c for (c,) in await self.conn.fetch(_CHAIN_IDS)])
        for chain_id in chain_ids:
            first = await self.conn.fetchrow(_FIRST_RECORD, chain_id)
            found[str(chain_id)] = (first[0], first[1]) if first else (None, None)
        if self.limits is None:
            for chain_text in self.chains:
                found.setdefault(chain_text, (None, None))
        far = datetime.max.replace(tzinfo=UTC)

        def position(item: tuple[str, tuple[datetime | None, str | None]]) -> tuple[Any, ...]:
            chain_text, (first_at, _) = item
            chain = self.chains.get(chain_text)
            return (first_at or (chain.opened_at if chain else None) or far, chain_text)

        return [(c, at, req) for c, (at, req) in sorted(found.items(), key=position)]

    async def chain(self, chain_text: str, first_at: datetime | None,
                    first_request: str | None) -> None:
        info = self.chains.get(chain_text) or _Chain()
        if first_at is not None and info.opened is None and info.anchor is None:
            self.report.add(Problem(
                "inserted", "its chain was never opened by a signed checkpoint: the whole "
                "chain was inserted (or its open checkpoint deleted)", chain=chain_text, seq=1,
                recorded_at=first_at, request=first_request, when=first_at))
            return
        chain_id = UUID(chain_text)
        state = _Walk(chain_text, info, genesis_hash(chain_id))
        query = _RECORDS
        arguments: list[Any] = [chain_id]
        reach = None
        if self.limits is not None:
            # Up to the limit, and the record after it: the link across the cut.
            reach = self.limits[chain_text] + 1
            query, arguments = _RECORDS_UPTO, [chain_id, reach]
        async for batch in _batches(self.conn, query, *arguments):
            for begin in range(0, len(batch), SLICE):
                await asyncio.sleep(0)  # the next batch streams in while this one is hashed
                self._walk(state, batch[begin:begin + SLICE])
            self.report.records += len(batch)
            if self.progress is not None:
                self.progress(len(batch))
        missing = state.heads[state.next_head:]
        if reach is not None and state.expected > reach:
            # The walk got across the cut: heads further on are not this walk's to find.
            missing = [head for head in missing if head[0] <= reach]
        self._missing_heads(chain_text, info, missing, state.expected - 1, state.last_at,
                            reach)
        if reach is None:
            self._tail(chain_text, info, state.last_seq, state.last_at)

    def _walk(self, state: _Walk, rows: list[asyncpg.Record]) -> None:
        chain_text, heads, closed_at = state.chain, state.heads, state.closed_at
        loads = orjson.loads
        for row in rows:
            seq, recorded_at, client, purpose, outcome, subjects, text, prev, digest = row
            try:
                entry = loads(text)
            except orjson.JSONDecodeError as error:
                # Valid jsonb that no hub writes (a number out of range, say).
                self._check(state, row, None, f"its entry cannot be read as JSON ({error})")
                continue
            # The fast path: a record exactly where and what it should be. Anything else goes
            # to _examine, which says what is wrong.
            head = heads[state.next_head] if state.next_head < len(heads) else None
            try:
                if (seq == state.expected and prev == state.expected_prev
                        and record_hash(prev, entry) == digest
                        and _agrees(entry, chain_text, seq, recorded_at, client, purpose,
                                    outcome, subjects)
                        and (head is None or head[0] != seq or head[1] == digest)
                        and (closed_at is None or seq <= closed_at)):
                    request = entry["request"]
                    if head is not None and head[0] == seq:
                        state.next_head += 1
                    state.expected, state.expected_prev = seq + 1, digest
                    state.last_seq, state.last_at, state.last_request = (
                        seq, recorded_at, request)
                    continue
            except Exception as error:  # a malformed entry, whatever it holds
                self._check(state, row, entry, f"its entry is malformed ({_explain(error)})")
                continue
            self._check(state, row, entry, None)

    def _check(self, state: _Walk, row: asyncpg.Record, entry: Any,
               malformed: str | None) -> None:
        """_examine, and should an entry still defeat it, the row named all the same."""
        try:
            self._examine(state, row, entry, malformed)
        except Exception as error:
            seq, recorded_at, digest = row[0], row[1], bytes(row[8])
            self.report.add(Problem(
                "altered", f"its entry is malformed and could not be checked "
                f"({_explain(error)})", chain=state.chain, seq=seq, recorded_at=recorded_at,
                when=recorded_at))
            if seq >= state.expected:
                state.expected, state.expected_prev = seq + 1, digest
            state.last_seq, state.last_at, state.last_request = seq, recorded_at, None

    def _examine(self, state: _Walk, row: asyncpg.Record, entry: Any,
                 malformed: str | None = None) -> None:
        """Say what is wrong with a row off the fast path. ``malformed``: why its entry
        cannot be checked at all (its hash and columns are then not compared)."""
        seq, recorded_at, client, purpose, outcome, subjects, _, prev, digest = row
        request = entry.get("request") if isinstance(entry, dict) else None
        chain_text = state.chain

        def bad(kind: str, detail: str) -> None:
            self.report.add(Problem(kind, detail, chain=chain_text, seq=seq,
                                    recorded_at=recorded_at, when=recorded_at,
                                    request=request if isinstance(request, str) else None))

        linked = True
        if seq < state.expected:
            linked = False
            if seq == state.last_seq:
                other = (f"recorded {timestamp(state.last_at)}, request {state.last_request}"
                         if state.last_at else "?")
                bad("inserted", f"a second record with seq {seq} (the other: {other}): one "
                    "of the two was inserted")
            else:
                bad("inserted", f"it precedes the chain's retention anchor (seq "
                    f"{state.anchor_seq}, checkpoint #{state.anchor_checkpoint}): those "
                    "records were dropped")
        elif seq > state.expected:
            linked = False
            missing = (f"seq {state.expected}" if seq == state.expected + 1
                       else f"seq {state.expected} to {seq - 1}")
            bad("deleted", f"the record(s) before it, {missing}, are missing")
        if malformed is None:
            try:
                record_hash(prev, entry)
            except Exception as error:  # beyond what canonical JSON can hold (too deep...)
                malformed = f"its entry cannot be hashed ({_explain(error)})"
        if malformed is not None:
            bad("altered", f"{malformed}: the hub writes no such entry, so the row was "
                "altered or inserted")
        elif record_hash(prev, entry) != digest:
            bad("altered", "its hash does not match its content")
        else:
            mismatch = _column_mismatch(entry, chain_text, seq, recorded_at, client, purpose,
                                        outcome, subjects)
            if mismatch in ("chain_id", "seq"):
                bad("reordered", f"its entry belongs at chain {entry.get('chain')} seq "
                    f"{entry.get('seq')}: records were moved between rows")
            elif mismatch:
                bad("altered", f"its {mismatch} column disagrees with its entry")
        if linked and prev != state.expected_prev:
            bad("reordered", f"its prev_hash is not the hash of seq {seq - 1}: a record was "
                "inserted, replaced or moved here")
        heads = state.heads
        while state.next_head < len(heads) and heads[state.next_head][0] < seq:
            state.next_head += 1  # inside a gap, already reported
        if (state.next_head < len(heads) and heads[state.next_head][0] == seq
                and seq >= state.expected):
            _, stated, stated_by = heads[state.next_head]
            state.next_head += 1
            if stated != digest:
                bad("altered", f"checkpoint #{stated_by} signed another hash for it: the "
                    "record was rewritten after it was checkpointed")
        if state.closed_at is not None and seq > state.closed_at and seq >= state.expected:
            bad("inserted", f"it follows the close of its chain at seq {state.closed_at} "
                f"(checkpoint #{state.closed_by})")
        if seq >= state.expected:
            state.expected, state.expected_prev = seq + 1, digest
        state.last_seq, state.last_at, state.last_request = seq, recorded_at, request

    def _missing_heads(self, chain_text: str, info: _Chain,
                       missing: list[tuple[int, bytes, int]], last_seq: int,
                       last_at: datetime | None, reach: int | None = None) -> None:
        """Heads checkpoints stated past the chain's last record (read up to ``reach``)."""
        if not missing:
            return
        seq, _, cid = missing[0]
        first, top = last_seq + 1, missing[-1][0]
        known = top if reach is None else min(top, reach)  # records past reach were not read
        if first == top:
            span = f"seq {first}"
        elif first == known:
            span = f"at least seq {first}"
        else:
            span = f"seq {first} to at least {known}"
        self.report.add(Problem(
            "deleted", f"checkpoint #{cid} states the chain reached seq {seq}, but its "
            f"records end at seq {last_seq}: {span} deleted", chain=chain_text, seq=first,
            checkpoint=cid, when=last_at or info.opened_at))

    def _tail(self, chain_text: str, info: _Chain, last_seq: int,
              last_at: datetime | None) -> None:
        if info.closed is not None:
            return
        stated = max(info.last_stated, info.anchor[0] if info.anchor else 0)
        unprotected = max(0, last_seq - stated) if last_at is not None else 0
        # A tail older than the grace period has gone unprotected for that long (a writer
        # checkpoints what it wrote every few seconds); without one, the chain is quiet since
        # its last record or checkpoint, whichever came last.
        active = [t for t in (last_at, None if unprotected else info.last_checkpoint_at)
                  if t is not None]
        if not active or self.now - max(active) <= self.grace:
            return  # its writer is (or was a moment ago) at work
        self.report.unclosed.append(UnclosedChain(
            chain_text, max(active), last_seq, stated, unprotected, info.last_checkpoint,
            has_records=last_at is not None))


def _column_mismatch(entry: Any, chain: str, seq: int, recorded_at: datetime, client: str,
                     purpose: str | None, outcome: str, subjects: list[str]) -> str | None:
    """Which column disagrees with the entry, or None."""
    if not isinstance(entry, dict):
        return "entry"
    if entry.get("chain") != chain:
        return "chain_id"
    if entry.get("seq") != seq or isinstance(entry.get("seq"), bool):
        return "seq"
    if entry.get("at") != timestamp(recorded_at):
        return "recorded_at"
    if entry.get("client") != client:
        return "client_id"
    if entry.get("purpose") != purpose:
        return "purpose"
    if entry.get("outcome") != outcome:
        return "outcome"
    named: set[str] = set()
    try:
        for group in entry.get("disclosed") or ():
            named.update(group["subjects"])
        if sorted(named) != list(subjects):
            return "subject_ids"
    except (TypeError, KeyError, AttributeError):
        return "subject_ids"
    return None


def _explain(error: Exception) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _order(problem: Problem) -> tuple[Any, ...]:
    # Checkpoint problems first, by id: they are the root of trust, and what they break (a
    # chain no longer opened, a head no longer stated) shows among the records as a
    # consequence. Then the records' problems in time order: the first is the earliest damage.
    if problem.kind == "checkpoint":
        return (0, problem.checkpoint or 0)
    return (1, problem.when or datetime.max.replace(tzinfo=UTC), problem.chain or "",
            problem.seq or 0)


async def verify_log(conn: asyncpg.Connection, find_key: KeyFinder, *,
                     progress: Callable[[int], None] | None = None,
                     grace: timedelta = DEFAULT_GRACE,
                     expect: Mapping[int, bytes] | None = None,
                     limits: Mapping[str, int] | None = None) -> VerifyReport:
    """Check the whole audit log on ``conn`` (any role that may read it). ``find_key`` maps a
    checkpoint's ``kid`` to its verification key and algorithm; ``progress`` is called with
    the number of records each batch checked. ``expect``: checkpoint id -> hash, copies kept
    outside the database, each a problem if the log holds no such checkpoint or another hash.
    ``limits``: only these chains, each up to a seq (chain id -> seq) and the record after
    it, and no unclosed-chain report; every checkpoint is checked all the same."""
    verifier = _Verifier(conn, find_key, progress, grace, expect or {}, limits)
    # One snapshot for everything; a caller's own transaction is used as it is.
    own = not conn.is_in_transaction()
    transaction = (conn.transaction(isolation="repeatable_read", readonly=True) if own
                   else conn.transaction())
    async with transaction:
        if own:
            # A chain is read in index order, never sorted: a sort of a billion-record chain
            # would spill to disk before the first row arrived. The planner only knows this
            # when told (a cursor's rows-at-a-time use is invisible to it).
            await conn.execute("SET LOCAL enable_sort = off")
        await verifier.checkpoints()
        order = await verifier.chain_order()
        for chain_text, first_at, first_request in order:
            await verifier.chain(chain_text, first_at, first_request)
    report = verifier.report
    report.chains = len(order)
    report.problems.sort(key=_order)
    return report
