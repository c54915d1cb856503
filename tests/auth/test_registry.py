"""The in-memory client registry follows the table: notifications, reconnects, full reloads."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from hub.auth import ClientRegistry, register_client, revoke_client
from hub.postgres_server import database_url
from tests.auth.conftest import Hub, new_client_id


def _terminate_listener(hub: Hub) -> int:
    async def act(conn: asyncpg.Connection) -> int:
        return int(await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'hub-oauth-registry' AND datname = current_database()"))

    return hub.db(act)


def test_registry_reconnects_and_catches_up(hub: Hub) -> None:
    registry = hub.runtime.registry
    client_id = new_client_id("reconnect")
    hub.register(client_id)
    generation = registry.generation

    assert _terminate_listener(hub) == 1
    # Revoked while the listener may be down: the reconnect's full reload must see it.
    assert hub.db(lambda conn: revoke_client(conn, client_id))
    hub.wait_for(lambda: registry.generation > generation, "the reconnect")
    hub.wait_for(lambda: not registry.is_active(client_id), "the revocation")

    # And notifications flow again on the new connection.
    later = new_client_id("reconnect")
    hub.register(later)
    assert registry.is_active(later)


def test_deleted_client_disappears(hub: Hub) -> None:
    client_id = new_client_id("delete")
    hub.register(client_id)

    async def delete(conn: asyncpg.Connection) -> str:
        return str(await conn.execute("DELETE FROM oauth_client WHERE client_id = $1",
                                      client_id))

    assert hub.db(delete) == "DELETE 1"
    hub.wait_for(lambda: hub.runtime.registry.get(client_id) is None, "the deletion")


def test_periodic_reload_catches_unnotified_changes(hub: Hub) -> None:
    client_id = new_client_id("silent")
    hub.register(client_id)

    async def scenario() -> None:
        registry = ClientRegistry(full_reload_seconds=0.3)
        await registry.start(hub.dsn)
        try:
            assert registry.is_active(client_id)
            conn = await asyncpg.connect(hub.dsn)
            try:
                # Triggers do not fire in replica mode: no notification is sent.
                await conn.execute("SET session_replication_role = replica")
                await conn.execute("UPDATE oauth_client SET revoked_at = now()"
                                   " WHERE client_id = $1", client_id)
            finally:
                await conn.close()
            deadline = time.monotonic() + 5
            while registry.is_active(client_id):
                assert time.monotonic() < deadline, "the full reload did not come"
                await asyncio.sleep(0.05)
        finally:
            await registry.close()

    asyncio.run(scenario())


def test_registry_needs_the_migration(server_url: str) -> None:
    async def scenario() -> None:
        registry = ClientRegistry()
        await registry.start(database_url(server_url, "postgres"))

    with pytest.raises(RuntimeError, match=r"no oauth_client table: run `hub migrate`"):
        asyncio.run(scenario())


def test_table_checks(hub: Hub) -> None:
    async def act(conn: asyncpg.Connection) -> None:
        with pytest.raises(ValueError, match="invalid client id"):
            await register_client(conn, "has:colon", "x", secret="s", jwks=None)
        with pytest.raises(ValueError, match="needs a secret or a JWK set"):
            await register_client(conn, "no-credentials", "x", secret=None, jwks=None)
        with pytest.raises(ValueError, match="unsupported key type 'oct'"):
            await register_client(conn, "symmetric", "x", secret=None,
                                  jwks={"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})
        # The database holds the same rule, for writes that bypass these functions.
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("INSERT INTO oauth_client (client_id, name, secret_hash)"
                               " VALUES ('a b', 'x', 'scrypt$1')")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("INSERT INTO oauth_client (client_id, name)"
                               " VALUES ('no-credentials', 'x')")

    hub.db(act)


def test_private_keys_are_not_registered(hub: Hub) -> None:
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", private=True)

    async def act(conn: asyncpg.Connection) -> None:
        with pytest.raises(ValueError, match="private key material"):
            await register_client(conn, new_client_id("priv"), "x", secret=None,
                                  jwks={"keys": [key.as_dict(private=True)]})

    hub.db(act)
