"""An in-memory copy of the OAuth client table, kept current by LISTEN/NOTIFY.

Token checks happen on every request and in the token endpoint's threads, so a lookup must be a
plain dict read: no await, no lock. A dedicated connection LISTENs on ``oauth_client_changed``
and reloads the one client named in each notification; after a lost connection it reconnects
and reloads everything (notifications sent while it was away are gone), and a full reload every
minute bounds the damage of anything missed some other way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Final

import asyncpg

from hub.auth.clients import ClientRecord, get_client, list_clients

__all__ = ["CHANNEL", "ClientRegistry"]

log = logging.getLogger(__name__)

CHANNEL: Final = "oauth_client_changed"
_APPLICATION_NAME: Final = "hub-oauth-registry"


class _Lost:
    """Queued by a connection's termination listener. It names the connection so that the
    news of an old, already replaced connection does not trigger another reconnect."""

    __slots__ = ("conn",)

    def __init__(self, conn: object) -> None:
        self.conn = conn


class ClientRegistry:
    def __init__(self, *, full_reload_seconds: float = 60.0, query_timeout: float = 10.0,
                 max_reconnect_delay: float = 5.0) -> None:
        self._clients: dict[str, ClientRecord] = {}
        self._full_reload_seconds = full_reload_seconds
        self._query_timeout = query_timeout
        self._max_reconnect_delay = max_reconnect_delay
        self._dsn: str | None = None
        self._role: str | None = None
        self._conn: asyncpg.Connection | None = None
        self._events: asyncio.Queue[object] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        #: Bumped on every completed full load: lets tests and health checks see a reconnect.
        self.generation = 0

    # -- lookups: synchronous, safe from any thread ------------------------------------------

    def get(self, client_id: str) -> ClientRecord | None:
        return self._clients.get(client_id)

    def is_active(self, client_id: str) -> bool:
        record = self._clients.get(client_id)
        return record is not None and record.revoked_at is None

    def __len__(self) -> int:
        return len(self._clients)

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self, dsn: str, *, role: str | None = None) -> None:
        """Load every client and start following changes. Fails if the database cannot be
        reached or lacks the client table: a hub that cannot check clients must not serve.
        ``role``: the database role to act as (the hub's runtime role)."""
        self._dsn = dsn
        self._role = role
        try:
            await self._connect()
        except asyncpg.UndefinedTableError:
            raise RuntimeError("the national database has no oauth_client table: "
                               "run `hub migrate`") from None
        self._task = asyncio.create_task(self._follow(), name="oauth-client-registry")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop_connection()

    # -- internals -----------------------------------------------------------------------------

    async def _connect(self) -> None:
        assert self._dsn is not None
        settings = {"application_name": _APPLICATION_NAME}
        if self._role:
            settings["role"] = self._role
        conn = await asyncpg.connect(self._dsn, timeout=self._query_timeout,
                                     server_settings=settings)
        try:
            # LISTEN before the load: a change committed in between is then both loaded and
            # notified (harmless) instead of neither.
            await conn.add_listener(CHANNEL, self._on_notify)
            conn.add_termination_listener(self._on_terminated)
            await self._reload_all(conn)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.remove_termination_listener(self._on_terminated)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)
            if not conn.is_closed():
                conn.terminate()

    def _on_notify(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self._events.put_nowait(payload)

    def _on_terminated(self, conn: object) -> None:
        self._events.put_nowait(_Lost(conn))

    async def _reload_all(self, conn: asyncpg.Connection) -> None:
        records = await list_clients(conn)
        # One reference swap: a reader sees the old table or the new one, never a mix.
        self._clients = {r.client_id: r for r in records}
        self.generation += 1

    async def _reload_one(self, conn: asyncpg.Connection, client_id: str) -> None:
        record = await get_client(conn, client_id)
        if record is None:
            self._clients.pop(client_id, None)
        else:
            self._clients[client_id] = record

    async def _follow(self) -> None:
        next_full = time.monotonic() + self._full_reload_seconds
        delay = 0.1
        while True:
            conn = self._conn
            try:
                if conn is None or conn.is_closed():
                    await self._drop_connection()
                    await self._connect()
                    delay = 0.1
                    next_full = time.monotonic() + self._full_reload_seconds
                    log.info("client registry reconnected (%d clients)", len(self._clients))
                    continue
                try:
                    event = await asyncio.wait_for(
                        self._events.get(), timeout=max(0.0, next_full - time.monotonic()))
                except TimeoutError:
                    await asyncio.wait_for(self._reload_all(conn), self._query_timeout)
                    next_full = time.monotonic() + self._full_reload_seconds
                    continue
                if isinstance(event, _Lost):
                    if event.conn is conn:
                        # Whatever was notified while the connection was down is lost: the
                        # reconnect reloads everything.
                        log.warning("client registry lost its database connection")
                        self._conn = None
                    continue
                assert isinstance(event, str)
                await asyncio.wait_for(self._reload_one(conn, event), self._query_timeout)
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, asyncpg.PostgresError,
                    asyncpg.InterfaceError) as error:
                # A failed or hanging query (a half-open connection): start over on a new
                # connection, keeping the last known clients meanwhile.
                log.warning("client registry: %s; reconnecting in %.1f s", error, delay)
                await self._drop_connection()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_reconnect_delay)
            except Exception:
                # A bug must not silently end the following of revocations.
                log.exception("client registry: unexpected error; reconnecting")
                await self._drop_connection()
                await asyncio.sleep(self._max_reconnect_delay)
