"""Valid audit logs written straight through SQL, in the writer's format: entries sealed by
hub.audit.entry, hashed by hub.audit.chain, checkpoints appended by hub.audit.checkpoints.

The verifier's tests build a log with :class:`LogWriter`, tamper with it as a database
superuser would, and expect the verifier to name what was done. What was written is kept in
:class:`Record` objects, so a test can point at "the third record of the second chain".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import orjson

from hub.audit.chain import genesis_hash, record_hash
from hub.audit.checkpoints import append_checkpoint
from hub.audit.entry import AuditDraft, seal_entry
from hub.auth.keys import SigningKeys

__all__ = ["CLIENTS", "SUBJECTS", "LogWriter", "Record", "as_superuser", "reset_log"]

CLIENTS = ("moha-personnel-db", "mof-payroll", "gov-inspectorate", "-")
# A small pool of personal IDs, so that a subject filter finds several records.
SUBJECTS = tuple(f"0010900{n:05d}" for n in range(12))
COLUMNS = ("recorded_at", "chain_id", "seq", "client_id", "purpose", "outcome", "subject_ids",
           "entry", "prev_hash", "hash")


@dataclass(slots=True)
class Record:
    chain: UUID
    seq: int
    at: datetime
    client: str
    subjects: list[str]
    request: str
    entry: dict[str, object]
    prev_hash: bytes
    hash: bytes

    def row(self) -> tuple[object, ...]:
        return (self.at, self.chain, self.seq, self.client, self.entry["purpose"],
                self.entry["outcome"], self.subjects, orjson.dumps(self.entry).decode(),
                self.prev_hash, self.hash)


@dataclass
class LogWriter:
    """Writes chains the way the hub's writer does. Records get times from one shared clock
    (``step`` apart), so chains written in turn interleave in time."""

    conn: asyncpg.Connection
    keys: SigningKeys
    clock: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=2))
    step: timedelta = timedelta(milliseconds=1)
    seed: int = 1
    records: dict[UUID, list[Record]] = field(default_factory=dict)
    closed: set[UUID] = field(default_factory=set)
    checkpoints: list[int] = field(default_factory=list)
    #: The highest seq a checkpoint stated, per chain.
    stated: dict[UUID, int] = field(default_factory=dict)
    _months: set[tuple[int, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def head(self, chain: UUID) -> tuple[int, bytes]:
        chain_records = self.records[chain]
        if not chain_records:
            return 0, genesis_hash(chain)
        return chain_records[-1].seq, chain_records[-1].hash

    async def open(self, chain: UUID | None = None, *, checkpoint: bool = True) -> UUID:
        chain = chain or UUID(int=self.rng.getrandbits(128), version=4)
        self.records[chain] = []
        if checkpoint:
            await self._checkpoint("open", {chain: (0, genesis_hash(chain))})
        return chain

    def draft(self, chain: UUID, seq: int) -> AuditDraft:
        rng = self.rng
        subjects = sorted(rng.sample(SUBJECTS, rng.randint(0, 3)))
        disclosed: dict[tuple[str, ...], list[str]] = {}
        if subjects:
            disclosed[("CivilServant.fullName", "Person.alive")] = subjects
            if rng.random() < 0.3:
                disclosed[("CivilServant.rank",)] = subjects[:1]
        disclosed[("Agency.name",)] = []  # fields about no person
        return AuditDraft(
            request_id=f"req-{str(chain)[:8]}-{seq}", trace_id=f"{rng.getrandbits(128):032x}",
            client_id=rng.choice(CLIENTS), agency="BNV",
            purpose=rng.choice(("administration", "inspection", None)),
            operation_type="query", operation_name="Staff",
            document_hash=f"{rng.getrandbits(256):064x}",
            outcome=rng.choice(("allowed", "partial", "refused", "failed")),
            errors=["FORBIDDEN"] if rng.random() < 0.2 else [], disclosed=disclosed,
            sources={"national": 1, "population": rng.randint(0, 2)},
            latency_us=rng.randint(100, 90_000))

    def seal(self, chain: UUID, seq: int, prev: bytes, at: datetime,
             draft: AuditDraft | None = None) -> Record:
        """A valid record at ``seq`` after ``prev`` (not written; not part of the chain)."""
        draft = draft or self.draft(chain, seq)
        entry = seal_entry(draft, chain, seq, at)
        return Record(chain, seq, at, draft.client_id, draft.subjects(), draft.request_id,
                      entry, prev, record_hash(prev, entry))

    async def append(self, chain: UUID, count: int = 1) -> list[Record]:
        written = []
        seq, prev = self.head(chain)
        for _ in range(count):
            self.clock += self.step
            seq += 1
            record = self.seal(chain, seq, prev, self.clock)
            prev = record.hash
            written.append(record)
        await self.insert(written)
        self.records[chain].extend(written)
        return written

    async def insert(self, records: list[Record]) -> None:
        """Insert rows as they are (the owner's right; valid or forged)."""
        for record in records:
            month = (record.at.year, record.at.month)
            if month not in self._months:
                await self.conn.execute("SELECT audit_ensure_partitions($1, 1)", record.at)
                self._months.add(month)
        await self.conn.copy_records_to_table("audit_record", columns=COLUMNS,
                                              records=[r.row() for r in records])

    async def checkpoint(self, *chains: UUID) -> int:
        """A 'head' checkpoint of ``chains`` (default: every open chain that has records)."""
        chosen = chains or tuple(c for c, rs in self.records.items()
                                 if rs and c not in self.closed)
        return await self._checkpoint("head", {c: self.head(c) for c in chosen})

    async def close(self, chain: UUID) -> int:
        self.closed.add(chain)
        return await self._checkpoint("close", {chain: self.head(chain)})

    async def _checkpoint(self, kind: str, heads: dict[UUID, tuple[int, bytes]]) -> int:
        checkpoint_id = await append_checkpoint(
            self.conn, kind, {str(c): h for c, h in heads.items()}, self.keys)
        for chain, (seq, _) in heads.items():
            self.stated[chain] = max(seq, self.stated.get(chain, 0))
        self.checkpoints.append(checkpoint_id)
        return checkpoint_id

    def all_records(self) -> list[Record]:
        return sorted((r for rs in self.records.values() for r in rs), key=lambda r: r.at)


async def as_superuser(conn: asyncpg.Connection, sql: str, *args: object) -> str:
    """Run ``sql`` with the append-only triggers bypassed, as a superuser can."""
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        result: str = await conn.execute(sql, *args)
    return result


async def reset_log(conn: asyncpg.Connection) -> None:
    """An empty log with partitions for this month and the next."""
    await as_superuser(conn, "TRUNCATE audit_record, audit_checkpoint")
    await conn.execute("SELECT audit_ensure_partitions(now() - interval '1 day', 3)")
