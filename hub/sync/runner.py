"""Synchronisation wired to a running hub: the feeds, the signing keys, the client each system
synchronises as, and the audit record of each page.

``SyncService`` is built over an open ``HubRuntime`` (the server's own in its scheduled mode;
one opened for the purpose by ``hub sync``), so synchronisation uses the hub's sources, its
policies (a reload applies to the next page) and its submission desk, and every page's
disclosures (the people looked up in the population registry for new hires) are in the audit
log like a request's.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from adapters.agency_systems import (
    GraphQLAgencySystemConfig,
    RestAgencySystemConfig,
    _selection,
)
from adapters.change_feeds import (
    FEED_COLUMNS,
    ChangeFeed,
    GraphQLChangeFeed,
    GraphQLFeedConfig,
    RestChangeFeed,
    RestFeedConfig,
)
from adapters.replicas import primary_reads
from adapters.resilience import Guard
from adapters.sync_store import SyncStore
from hub.app import HubRuntime
from hub.audit.entry import AuditDraft
from hub.config import Settings
from hub.source_config import AgencySystemConfig, load_source_config
from hub.sync.engine import PageDone, Synchroniser, SyncReport
from hub.sync.settings import SyncTarget, sync_targets
from hub.updates.bulk import Signer
from resolvers.context import Caller, RequestContext

__all__ = ["SyncService", "UnknownTarget", "build_feed", "ensure_sync_key", "open_sync_service",
           "sync_key_file"]

_LOCK_KEY = 0x6875625F73796E63  # one synchronisation per system at a time, across processes


class UnknownTarget(ValueError):
    pass


def build_feed(target: SyncTarget, config: AgencySystemConfig, client: httpx.AsyncClient,
               guard: Guard, system: object = None) -> ChangeFeed:
    """The change feed of ``target``'s system: its address, credentials, mapping and
    resilience (``guard``, shared with the system's lookups) from the source registry; or,
    for a system without a ``feed`` section, the system's adapter itself when it reads its
    own changes (a database read directly, a file drop)."""
    if target.feed is None:
        if isinstance(system, ChangeFeed):
            return system
        raise UnknownTarget(f"{target.system}: no feed section, and its adapter reads no "
                            "change feed of its own")
    if isinstance(config, RestAgencySystemConfig) and isinstance(target.feed, RestFeedConfig):
        return RestChangeFeed(client, target.system, config.base_url, config.headers,
                              config.mapping, guard, config.timeout_seconds, target.feed)
    if isinstance(config, GraphQLAgencySystemConfig) and isinstance(target.feed,
                                                                    GraphQLFeedConfig):
        paths = config.mapping.vendor_paths(FEED_COLUMNS)
        return GraphQLChangeFeed(client, target.system, config.endpoint, config.headers,
                                 config.mapping, guard, config.timeout_seconds, target.feed,
                                 _selection(paths))
    raise UnknownTarget(f"{target.system}: its feed kind does not match the system's kind")


def _read_signer(target: SyncTarget, agency: str) -> Signer:
    try:
        jwk = json.loads(target.key_file.read_text(encoding="utf-8"))
        return Signer(jwk, agency)
    except FileNotFoundError:
        raise UnknownTarget(f"{target.system}: no signing key at {target.key_file}: create and "
                            f"register one with `hub sync keygen {target.system}`") from None
    except (ValueError, TypeError) as error:
        raise UnknownTarget(f"{target.system}: unreadable signing key {target.key_file}: "
                            f"{error}") from None


class SyncService:
    def __init__(self, runtime: HubRuntime, targets: dict[str, SyncTarget]) -> None:
        assert runtime.sources is not None
        self.runtime = runtime
        self.targets = targets
        # Synchronisation compares against the national file it writes: the primary's.
        self.store = SyncStore(runtime.sources.national.primary)
        self._client = httpx.AsyncClient(limits=httpx.Limits(max_connections=10))
        self._configs = {c.name: c for c in load_source_config(
            runtime.settings.sources_file).agency_systems}

    async def close(self) -> None:
        await self._client.aclose()

    def resolve_targets(self, names: Sequence[str], *, every: bool = False) -> list[SyncTarget]:
        """The targets named (a system's name, or an agency code it serves), or all."""
        if every:
            return list(self.targets.values())
        assert self.runtime.sources is not None
        registry = self.runtime.sources.agency_systems
        chosen: list[SyncTarget] = []
        for name in names:
            target = self.targets.get(name)
            if target is None:
                system = registry.system_for(name)
                target = self.targets.get(system.name) if system is not None else None
            if target is None:
                known = ", ".join(self.targets) or "none"
                raise UnknownTarget(f"{name!r} is neither a synchronised agency system nor an "
                                    f"agency code one serves (systems: {known})")
            if target not in chosen:
                chosen.append(target)
        return chosen

    def _context_for(self, target: SyncTarget) -> Callable[[], RequestContext]:
        runtime = self.runtime

        def context() -> RequestContext:
            engine = runtime.policies.engine
            view = engine.view(target.client_id, target.purpose)  # Refusal if none
            agency = engine.policies.clients[target.client_id].agency
            made = runtime.new_context(Caller(target.client_id, agency, target.purpose),
                                       view.grants)
            made.desk = runtime.desk
            made.view = view
            return made

        return context

    async def _audit(self, target: SyncTarget, context: RequestContext,
                     report: SyncReport) -> None:
        caller = context.caller
        await self.runtime.audit.record(AuditDraft(
            request_id=f"sync-{report.run_id}-{report.pages}", trace_id=uuid.uuid4().hex,
            client_id=caller.client_id, agency=caller.agency_code, purpose=caller.purpose,
            operation_type="mutation", operation_name=f"sync {target.system}",
            outcome="allowed", status=200, disclosed=context.disclosures.groups()))

    def synchroniser(self, target: SyncTarget) -> Synchroniser:
        config = self._configs.get(target.system)
        if config is None:
            raise UnknownTarget(f"{target.system}: not an agency system of the source registry")
        engine = self.runtime.policies.engine
        policy = engine.policies.clients.get(target.client_id)
        if policy is None:
            raise UnknownTarget(f"{target.system}: synchronises as {target.client_id}, which "
                                "has no policy file")
        assert self.runtime.code_lists is not None

        async def audit(context: RequestContext, report: SyncReport) -> None:
            await self._audit(target, context, report)

        assert self.runtime.sources is not None
        system = next(s for s in self.runtime.sources.agency_systems.systems
                      if s.name == target.system)
        guard = getattr(system, "guard", None) or Guard(target.system)
        return Synchroniser(target, build_feed(target, config, self._client, guard, system),
                            self.store, self.runtime.code_lists,
                            _read_signer(target, policy.agency), self._context_for(target),
                            audit)

    async def run(self, target: SyncTarget, *, full: bool = False,
                  max_pages: int | None = None, wait: bool = False,
                  progress: Callable[[PageDone], None] | None = None) -> SyncReport:
        """One run. Another process synchronising the same system is waited for (``wait``:
        ``hub sync``) or left to it (the schedule: a report with status ``skipped``)."""
        synchroniser = self.synchroniser(target)
        async with self._exclusive(target.system, wait) as mine:
            if not mine:
                return SyncReport(target.system, status="skipped",
                                  error="another process is synchronising this system")
            # Its reads through the hub's loaders too: a page must see the last page's writes.
            with primary_reads():
                return await synchroniser.run(full=full, max_pages=max_pages,
                                              progress=progress)

    @contextlib.asynccontextmanager
    async def _exclusive(self, system: str, wait: bool) -> AsyncIterator[bool]:
        """An advisory lock per system, held by one connection of its own for the run (a
        transaction-level lock: a process that dies releases it with its connection)."""
        import asyncpg

        conn = await asyncpg.connect(self.runtime.settings.database_url)
        try:
            async with conn.transaction():
                key = (_LOCK_KEY & 0x7FFFFFFF, system)
                if wait:
                    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", *key)
                    mine = True
                else:
                    mine = bool(await conn.fetchval(
                        "SELECT pg_try_advisory_xact_lock($1, hashtext($2))", *key))
                yield mine
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def open_sync_service(settings: Settings | None = None) -> AsyncIterator[SyncService]:
    """A hub runtime opened for synchronisation (sources, policies, desk, audit), closed
    after."""
    runtime = HubRuntime(settings or Settings.from_env())
    await runtime.open()
    try:
        service = SyncService(runtime, sync_targets(runtime.settings.sources_file))
        try:
            yield service
        finally:
            await service.close()
    finally:
        await runtime.close()


def sync_key_file(target: SyncTarget) -> str:
    """The target's private signing key (JWK), created as a file readable by its owner only
    when there is none; returns its kid."""
    from joserfc.jwk import import_key

    from hub.updates.keys import generate_signer_key

    path: Path = target.key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # ES256: on the machines measured, OpenSSL verifies P-256 faster than Ed25519
        # (85 µs against 107 µs) and signs as fast, and the desk verifies every change.
        key = generate_signer_key("ES256")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(key.as_dict(private=True)))
    return str(import_key(json.loads(path.read_text(encoding="utf-8"))).kid)


async def ensure_sync_key(target: SyncTarget, national_url: str, agency: str) -> str:
    """The target's signing key (``sync_key_file``), registered for ``agency`` in the signer
    key registry when it is not yet (as the national database's owner). Returns its kid."""
    import asyncio

    import asyncpg
    from joserfc.jwk import import_key

    from hub.updates.keys import add_signer_key

    kid = await asyncio.to_thread(sync_key_file, target)
    text = await asyncio.to_thread(target.key_file.read_text, encoding="utf-8")
    key = import_key(json.loads(text))
    conn = await asyncpg.connect(national_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM signer_key WHERE kid = $1", kid):
            await add_signer_key(conn, "agency", agency, key.as_dict(private=False),
                                 valid_from=datetime.now(UTC) - timedelta(minutes=5))
    finally:
        await conn.close()
    return kid
