"""The hub's ASGI application: sources opened in the lifespan, routes, health checks."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters import (
    AgencySystemRegistry,
    NationalDatabase,
    PopulationRegistry,
    SourceError,
)
from hub.access import Access, AccessControl
from hub.access_history_http import AccessHistoryEndpoint
from hub.agency_sources import OpenAgencySystems, open_agency_systems
from hub.audit.request_meta import variables_key
from hub.audit.writer import AuditDisabled, AuditWriter
from hub.auth.keys import SigningKeys
from hub.auth.routes import AuthRuntime, auth_routes
from hub.auth.settings import AuthSettings
from hub.auth.verifier import VerifiedToken
from hub.config import Settings
from hub.execution import OperationRunner
from hub.graphiql import load_page
from hub.graphql_http import GraphQLEndpoint
from hub.mask_secret import load_mask_secret
from hub.policy.store import PolicyStore
from hub.query_cost import Limits
from hub.rate_limits import default_rate, open_rate_limiter
from hub.source_config import load_source_config
from hub.telemetry.requests import TraceRequests
from hub.telemetry.setup import configure_telemetry
from hub.updates.desk import SubmissionDesk
from resolvers.code_lists import CodeLists
from resolvers.context import ANONYMOUS, Caller, QueryLimits, RequestContext
from resolvers.grants import UNRESTRICTED, Grants
from resolvers.schema import build_schema
from resolvers.sources import Sources

__all__ = ["HubRuntime", "create_app"]

log = logging.getLogger(__name__)
# Objects allocated (less those freed) between young collections (CPython's default: 700).
_GC_YOUNG_THRESHOLD = 10_000


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _http_client() -> httpx.AsyncClient:
    # One client per source: its own connection pool with keep-alive.
    return httpx.AsyncClient(limits=httpx.Limits(max_connections=50,
                                                 max_keepalive_connections=20))


class HubRuntime:
    """Everything opened at start-up and closed at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # The national database's primary face (writes, and reads that must see them); the
        # sources hold its query face, which standbys may answer.
        self.national: NationalDatabase | None = None
        self.sources: Sources | None = None
        self.desk: SubmissionDesk | None = None
        self.code_lists: CodeLists | None = None
        self.clients: list[httpx.AsyncClient] = []
        self.agency_systems = OpenAgencySystems()
        self.limits = QueryLimits(max_page_size=settings.max_page_size,
                                  default_page_size=min(20, settings.max_page_size))
        schema = build_schema()
        self.runner = OperationRunner(
            schema, max_tokens=settings.max_query_tokens, plan_executor=settings.plan_executor,
            limits=Limits(settings.max_depth, settings.max_aliases, settings.max_root_fields,
                          settings.max_query_cost),
            default_page=self.limits.default_page_size, max_page=settings.max_page_size,
            introspection=settings.introspection)
        # Policies load (and must be valid) before the server takes a request.
        mask_secret = load_mask_secret(settings.mask_secret_file)
        self.policies = PolicyStore(settings.policy_dir, schema._schema, mask_secret)
        self.variables_key = variables_key(mask_secret)
        self.auth = AuthRuntime(AuthSettings.from_env(),
                                purposes_of=lambda c: self.policies.engine.purposes_of(c))
        self.audit: AuditWriter | AuditDisabled = (
            AuditWriter(settings.database_url,
                        SigningKeys.load_or_create(settings.audit_key_file, "ES256"),
                        role=settings.database_role,
                        checkpoint_seconds=settings.audit_checkpoint_seconds,
                        timeout_seconds=settings.audit_timeout_seconds)
            if settings.audit else AuditDisabled())
        self.access = AccessControl(
            self._verify, self.policies,
            limiter=open_rate_limiter(settings.redis_url, settings.redis_prefix),
            default_rate=default_rate(settings.rate_limit_per_minute,
                                      settings.rate_limit_burst))
        self._stop_watching = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []

    async def _verify(self, authorization: str | None) -> VerifiedToken:
        # The verifier exists once the runtime is open (it needs the client registry).
        return await self.auth.verifier.verify(authorization)

    async def open(self) -> None:
        config = load_source_config(self.settings.sources_file)
        national = await NationalDatabase.open(
            self.settings.database_url, min_size=self.settings.db_pool_min,
            max_size=self.settings.db_pool_max, timeout=self.settings.db_timeout_seconds,
            role=self.settings.database_role,
            replica_urls=self.settings.database_replica_urls,
            max_lag_seconds=self.settings.replica_max_lag_seconds,
            check_seconds=self.settings.replica_check_seconds)
        self.national = national
        population_client = _http_client()
        self.clients.append(population_client)
        self.agency_systems = await open_agency_systems(config.agency_systems, _http_client)
        self.sources = Sources(
            national=national.for_queries(),
            population=PopulationRegistry(population_client, config.population),
            agency_systems=AgencySystemRegistry(self.agency_systems.systems))
        self.code_lists = await CodeLists.load(national)
        self.desk = SubmissionDesk(
            national, self.code_lists,
            max_age_seconds=self.settings.submission_max_age_days * 86_400)
        auth_client = _http_client()  # for trusted issuers' key sets
        self.clients.append(auth_client)
        await self.auth.open(self.settings.database_url, auth_client,
                             role=self.settings.database_role)
        # Last: a hub that cannot audit must not start (the first chain opens here).
        await self.audit.open()
        self._watch_policies()
        self._schedule_sync()

    def _schedule_sync(self) -> None:
        """The data stewardship the server does on its own, when configured: synchronising
        the agency HR systems, measuring data quality."""
        interval = self.settings.sync_interval_seconds
        if interval > 0:
            from hub.sync.scheduler import run_schedule

            self._background.append(asyncio.create_task(
                run_schedule(self, interval, self._stop_watching)))
        every = self.settings.quality_interval_seconds
        if every > 0:
            from hub.quality.schedule import measure_on_schedule

            self._background.append(asyncio.create_task(
                measure_on_schedule(self, every, self._stop_watching)))

    def _watch_policies(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            # SIGHUP reloads the policies, as daemons do (not where signals cannot be set).
            loop.add_signal_handler(signal.SIGHUP, self.policies.reload)
        if self.settings.policy_watch:
            self._background.append(asyncio.create_task(
                self.policies.watch(self._stop_watching)))

    async def close(self) -> None:
        # Background work first (a scheduled sync writes audit records and uses the sources).
        self._stop_watching.set()
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.audit.close()
        await self.access.limiter.close()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await self.auth.close()
        for client in self.clients:
            await client.aclose()
        await self.agency_systems.aclose()
        if self.national is not None:
            await self.national.close()  # the query face's pools with it

    def context(self, access: Access) -> RequestContext:
        context = self.new_context(access.caller, access.view.grants)
        context.desk = self.desk
        context.view = access.view
        return context

    def new_context(self, caller: Caller = ANONYMOUS,
                    grants: Grants = UNRESTRICTED) -> RequestContext:
        """A request's context. Without grants it is unrestricted: only for the hub's own
        in-process use (tests comparing executors, benchmarks), never for a client."""
        assert self.sources is not None
        assert self.code_lists is not None
        return RequestContext(caller=caller, sources=self.sources,
                              code_lists=self.code_lists, limits=self.limits,
                              today=date.today(), grants=grants)

    async def readiness(self, request: Request) -> Response:
        """Ready when every source answers; names the ones that do not."""
        assert self.sources is not None
        checks = {"national": self.sources.national.ping(),
                  "population": self.sources.population.ping(),
                  **{s.name: s.ping() for s in self.sources.agency_systems.systems}}
        outcomes = await asyncio.gather(*checks.values(), return_exceptions=True)
        status = {}
        for name, outcome in zip(checks, outcomes, strict=True):
            if isinstance(outcome, SourceError):
                status[name] = {"ok": False, "code": outcome.code, "message": outcome.message}
            elif isinstance(outcome, BaseException):
                log.error("readiness check of %s failed", name, exc_info=outcome)
                status[name] = {"ok": False, "code": "INTERNAL", "message": "check failed"}
            else:
                status[name] = {"ok": True}
        assert self.sources is not None
        guarded: list[Any] = [self.sources.population, *self.sources.agency_systems.systems]
        for source in guarded:
            guard = getattr(source, "guard", None)
            if guard is not None:
                status[source.name]["breaker"] = guard.status()
        # Standbys are reported, never required: while one is out, the primary answers.
        replicas = self.sources.national.replica_status()
        if replicas:
            status["national"]["replicas"] = replicas
        audit = self.audit.status()
        ready = all(s["ok"] for s in status.values()) and audit.ok
        return _json({"ready": ready, "sources": status, "policies": self.policies.status(),
                      "audit": audit.as_json(), "rateLimits": self.access.limiter.status()},
                     200 if ready else 503)


def _settle_garbage_collector() -> None:
    """What start-up built (schemas, policies, caches, code lists) lives as long as the
    process: frozen out of the collector's way, so that a full collection does not walk it
    again and again; and young collections less often, since a request makes many
    short-lived objects (rows, spans) that die with it anyway."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


async def _alive(request: Request) -> Response:
    return _json({"status": "ok"})


def create_app(settings: Settings) -> Starlette:
    # First: the sources' clients opened below are instrumented only if tracing is on by then.
    telemetry = configure_telemetry("hub")
    hub = HubRuntime(settings)
    graphiql = load_page(settings.graphiql_assets) if settings.graphiql else None
    endpoint = GraphQLEndpoint(hub.runner, hub.access, hub.context, graphiql=graphiql,
                               expose_source_calls=settings.expose_source_calls,
                               audit=hub.audit, variables_key=hub.variables_key)
    access_history = AccessHistoryEndpoint(hub.runner, hub.access, hub.context,
                                           audit=hub.audit, variables_key=hub.variables_key)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.open()
        _settle_garbage_collector()
        try:
            yield
        finally:
            await hub.close()
            telemetry.flush()  # what is buffered is exported before the process ends

    return Starlette(
        routes=[
            Route("/graphql", endpoint.handle, methods=["GET", "POST"]),
            Route("/graphql/assets/{name:path}", endpoint.asset),
            Route("/access-history/{personal_id}", access_history.handle, methods=["GET"]),
            Route("/healthz", _alive),
            Route("/readyz", hub.readiness),
            *auth_routes(hub.auth, hub.access.limiter,
                         default_rate(hub.settings.token_rate_per_minute,
                                      hub.settings.token_rate_burst)),
        ],
        lifespan=lifespan,
        middleware=[Middleware(TraceRequests)] if telemetry.tracing else [],
    )
