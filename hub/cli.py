"""The ``hub`` command line: serve, migrate, seed, export-schema, demo; OAuth clients and
tokens (client, token, keys); the security team's policy tools (policy); the audit log's
verification, export and retention (audit)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from hub.config import PROJECT_ROOT

__all__ = ["main"]

SCHEMA_FILE = PROJECT_ROOT / "schema.graphql"


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.port is not None:
        os.environ["HUB_PORT"] = str(args.port)
    from hub.config import Settings
    from hub.telemetry.setup import TelemetryError, check_telemetry_settings

    try:
        settings = Settings.from_env()
    except (RuntimeError, ValueError) as error:  # a setting missing or malformed
        print(f"hub: {error}", file=sys.stderr)
        return 2
    try:
        check_telemetry_settings()
    except TelemetryError as error:
        print(f"hub: {error}", file=sys.stderr)
        return 2
    uvicorn.run("hub.asgi:app_from_env", factory=True, host=args.host or settings.host,
                port=settings.port, workers=args.workers or settings.workers,
                log_level=args.log_level, access_log=False, timeout_graceful_shutdown=10,
                timeout_keep_alive=settings.keepalive_seconds)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from hub.databases import create_databases
    from hub.environment import resolve_databases
    from hub.migrate import apply_migrations

    databases = resolve_databases()

    async def run() -> list[str]:
        await create_databases(databases)
        return await apply_migrations(databases.national)

    applied = asyncio.run(run())
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from hub.databases import create_databases
    from hub.environment import resolve_databases
    from hub.seed import seed_all

    databases = resolve_databases()

    async def run() -> None:
        await create_databases(databases)
        summary = await seed_all(databases, employees=args.employees, seed=args.seed,
                                 report=lambda line: print(line, flush=True))
        print(f"seeded {args.employees:,} employees in {summary.elapsed_seconds:.1f} s")

    asyncio.run(run())
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from resolvers.schema import build_schema

    text = str(build_schema()) + "\n"
    target = Path(args.output)
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is out of date: run `hub export-schema`", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


def _graphiql_assets(args: argparse.Namespace) -> int:
    from hub.config import graphiql_assets_dir
    from hub.graphiql import install_assets

    target = graphiql_assets_dir()
    try:
        written = install_assets(target)
    except RuntimeError as error:
        print(f"hub: {error}", file=sys.stderr)
        return 1
    print(f"GraphiQL assets: {len(written)} files in {target}, checked against their "
          "integrity hashes; the hub serves them from now on")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from hub.demo import run_demo

    return run_demo(employees=args.employees, seed=args.seed, port=args.port)


def _purposes_loader() -> Callable[[str], frozenset[str]]:
    """Which purposes each client's policy declares (``hub token`` refuses any other)."""
    from hub.config import policy_dir
    from hub.policy.load import load_policy_dir

    return load_policy_dir(policy_dir()).purposes_of


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hub", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the GraphQL server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int, help="default: HUB_PORT or 8000")
    serve.add_argument("--workers", type=int, help="worker processes (default: HUB_WORKERS or 1)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(run=_migrate)

    seed = commands.add_parser("seed", help="fill all databases with synthetic national data")
    seed.add_argument("--employees", type=int, default=10_000)
    seed.add_argument("--seed", type=int, default=1)
    seed.set_defaults(run=_seed)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("-o", "--output", default=str(SCHEMA_FILE))
    export.add_argument("--check", action="store_true",
                        help="fail if the file differs from the code's schema")
    export.set_defaults(run=_export_schema)

    assets = commands.add_parser("graphiql-assets",
                                 help="fetch GraphiQL's scripts once (npm) so the hub serves "
                                      "them itself, without internet access")
    assets.set_defaults(run=_graphiql_assets)

    demo = commands.add_parser("demo", help="provision, seed and run everything locally")
    demo.add_argument("--employees", type=int, default=10_000)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")))
    demo.set_defaults(run=_demo)

    from hub.audit.cli import add_commands as add_audit_commands
    from hub.auth.cli import add_commands as add_auth_commands
    from hub.policy.cli import add_commands as add_policy_commands
    from hub.quality.cli import add_commands as add_quality_commands
    from hub.sync.cli import add_commands as add_sync_commands
    from hub.sync.cli import normalised_argv
    from hub.updates.cli import add_commands as add_signer_commands

    add_auth_commands(commands, purposes_loader=_purposes_loader)
    add_policy_commands(commands)
    add_audit_commands(commands)
    add_signer_commands(commands)
    add_sync_commands(commands)
    add_quality_commands(commands)

    args = parser.parse_args(normalised_argv(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # One line per source call is noise at INFO (and would log every request the hub makes).
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    result: int = args.run(args)
    return result
