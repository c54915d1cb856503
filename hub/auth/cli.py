"""``hub client ...``, ``hub token`` and ``hub keys rotate``: the registry and keys by hand.

Imports beyond argparse happen inside the commands, so adding these commands to the ``hub``
parser costs nothing for the other commands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncpg

__all__ = ["add_commands"]

T = TypeVar("T")
PurposesLoader = Callable[[], Callable[[str], frozenset[str]]]


class CommandError(Exception):
    """A failure to report in one line, without a traceback."""


def _on_national_database(action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``action`` on a connection to the national database, migrations applied first."""
    import asyncpg

    from hub.environment import resolve_databases
    from hub.migrate import apply_migrations

    databases = resolve_databases()

    async def run() -> T:
        await apply_migrations(databases.national)
        conn = await asyncpg.connect(databases.national)
        try:
            return await action(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def _secret_from(args: argparse.Namespace) -> tuple[str | None, bool]:
    """The secret asked for, and whether it was generated (and must be shown once)."""
    from hub.auth.secret_hash import generate_secret

    if args.generate_secret:
        return generate_secret(), True
    if args.secret_env:
        secret = os.environ.get(args.secret_env)
        if not secret:
            raise CommandError(f"environment variable {args.secret_env} is not set or empty")
        return secret, False
    return None, False


def _read_jwks(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read the JWK set {path}: {error}") from None
    if isinstance(data, dict) and "kty" in data:  # one key given alone
        data = {"keys": [data]}
    if not isinstance(data, dict):
        raise CommandError(f"{path} holds no JWK set")
    return data


def _client_add(args: argparse.Namespace) -> int:
    from hub.auth.clients import get_client, register_client

    secret, generated = _secret_from(args)
    jwks = _read_jwks(args.jwks) if args.jwks else None

    async def act(conn: asyncpg.Connection) -> bool:
        existed = await get_client(conn, args.client_id) is not None
        await register_client(conn, args.client_id, args.name, secret=secret, jwks=jwks)
        return existed

    existed = _on_national_database(act)
    verb = "updated client (credentials replaced)" if existed else "registered client"
    print(f"{verb} {args.client_id}")
    if generated:
        print(f"client secret (shown once; store it now): {secret}")
    return 0


def _client_set_secret(args: argparse.Namespace) -> int:
    from hub.auth.clients import set_secret

    secret, generated = _secret_from(args)
    assert secret is not None

    async def act(conn: asyncpg.Connection) -> bool:
        return await set_secret(conn, args.client_id, secret)

    if not _on_national_database(act):
        raise CommandError(f"no client {args.client_id}")
    print(f"replaced the secret of {args.client_id}")
    if generated:
        print(f"client secret (shown once; store it now): {secret}")
    return 0


def _client_revoke(args: argparse.Namespace) -> int:
    from hub.auth.clients import revoke_client

    async def act(conn: asyncpg.Connection) -> bool:
        return await revoke_client(conn, args.client_id)

    if not _on_national_database(act):
        raise CommandError(f"no client {args.client_id}")
    print(f"revoked {args.client_id}: no new tokens, and its live tokens are refused")
    return 0


def _client_restore(args: argparse.Namespace) -> int:
    from hub.auth.clients import restore_client

    async def act(conn: asyncpg.Connection) -> bool:
        return await restore_client(conn, args.client_id)

    if not _on_national_database(act):
        raise CommandError(f"no client {args.client_id}")
    print(f"restored {args.client_id}")
    return 0


def _client_list(args: argparse.Namespace) -> int:
    from hub.auth.clients import ClientRecord, list_clients

    async def act(conn: asyncpg.Connection) -> list[ClientRecord]:
        return await list_clients(conn)

    clients = _on_national_database(act)
    if not clients:
        print("no clients registered")
        return 0
    rows = [("CLIENT", "NAME", "AUTH", "STATUS", "CREATED")]
    for c in clients:
        status = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
        rows.append((c.client_id, c.name, ",".join(c.auth_methods), status,
                     f"{c.created_at:%Y-%m-%d}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    return 0


def _token(args: argparse.Namespace, purposes_loader: PurposesLoader | None) -> int:
    from hub.auth.clients import ClientRecord, get_client
    from hub.auth.keys import SigningKeys
    from hub.auth.minting import mint_token
    from hub.auth.settings import AuthSettings

    settings = AuthSettings.from_env()

    async def act(conn: asyncpg.Connection) -> ClientRecord | None:
        return await get_client(conn, args.client)

    record = _on_national_database(act)
    if record is None:
        raise CommandError(f"no client {args.client}: register it with `hub client add`")
    if record.revoked:
        raise CommandError(f"client {args.client} is revoked")
    if purposes_loader is not None and args.purpose not in purposes_loader()(args.client):
        raise CommandError(f"purpose {args.purpose!r} is not declared for {args.client}")
    lifetime = args.lifetime or settings.token_lifetime_seconds
    if lifetime <= 0:
        raise CommandError("--lifetime must be positive")
    keys = SigningKeys.load_or_create(settings.signing_key_file, settings.algorithm)
    print(mint_token(keys, settings, args.client, args.purpose, lifetime))
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from hub.auth.keys import SigningKeys
    from hub.auth.settings import AuthSettings

    settings = AuthSettings.from_env()
    path = settings.signing_key_file
    if not path.exists():
        keys = SigningKeys.load_or_create(path, settings.algorithm)
        print(f"created {path} with key {keys.kid} ({settings.algorithm})")
        return 0
    kid = SigningKeys.load(path).rotate(settings.algorithm)
    print(f"added key {kid} ({settings.algorithm}) to {path}; it signs from now on. Older keys "
          "stay published until you delete them, once their last tokens have expired.")
    return 0


def _reporting(command: Callable[[argparse.Namespace], int]
               ) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (CommandError, ValueError, RuntimeError) as error:
            # Configuration and input errors (settings, key file, client id): one line each.
            print(f"hub: {error}", file=sys.stderr)
            return 1

    return run


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], *,
                 purposes_loader: PurposesLoader | None = None) -> None:
    """Add ``client``, ``token`` and ``keys`` to the ``hub`` parser. Each sets ``run``.

    ``purposes_loader``, when given, returns the policy engine's purposes-of-a-client lookup;
    ``hub token`` then refuses a purpose the client has not declared."""
    client = subparsers.add_parser("client", help="register, revoke and list OAuth clients")
    actions = client.add_subparsers(dest="client_command", required=True)

    add = actions.add_parser("add", help="register a client (or replace its credentials)")
    add.add_argument("client_id", metavar="ID")
    add.add_argument("--name", required=True, help="who the client is, for people")
    credential = add.add_mutually_exclusive_group(required=True)
    credential.add_argument("--generate-secret", action="store_true",
                            help="generate a secret for client_secret_basic (printed once)")
    credential.add_argument("--secret-env", metavar="VAR",
                            help="take the secret from this environment variable")
    credential.add_argument("--jwks", metavar="FILE",
                            help="public JWK set for private_key_jwt")
    add.set_defaults(run=_reporting(_client_add))

    secret = actions.add_parser("set-secret", help="replace a client's secret")
    secret.add_argument("client_id", metavar="ID")
    source = secret.add_mutually_exclusive_group(required=True)
    source.add_argument("--generate-secret", action="store_true")
    source.add_argument("--secret-env", metavar="VAR")
    secret.set_defaults(run=_reporting(_client_set_secret))

    revoke = actions.add_parser("revoke", help="refuse the client's tokens, live and new")
    revoke.add_argument("client_id", metavar="ID")
    revoke.set_defaults(run=_reporting(_client_revoke))

    restore = actions.add_parser("restore", help="lift a revocation")
    restore.add_argument("client_id", metavar="ID")
    restore.set_defaults(run=_reporting(_client_restore))

    listing = actions.add_parser("list", help="list the registered clients")
    listing.set_defaults(run=_reporting(_client_list))

    token = subparsers.add_parser(
        "token", help="mint an access token locally with the signing key (development)")
    token.add_argument("--client", required=True, metavar="ID")
    token.add_argument("--purpose", required=True, metavar="P")
    token.add_argument("--lifetime", type=int, metavar="S",
                       help="seconds (default: HUB_TOKEN_LIFETIME_SECONDS or 300)")
    token.set_defaults(run=_reporting(lambda args: _token(args, purposes_loader)))

    keys = subparsers.add_parser("keys", help="the hub's token-signing keys")
    key_actions = keys.add_subparsers(dest="keys_command", required=True)
    rotate = key_actions.add_parser(
        "rotate", help="add a new signing key (HUB_SIGNING_ALG); older keys keep verifying")
    rotate.set_defaults(run=_reporting(_keys_rotate))
