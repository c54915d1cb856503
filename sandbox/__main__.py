"""Command line: ``python -m sandbox serve-all ...``, ``python -m sandbox serve SYSTEM ...``, or
``python -m sandbox export-drop --dsn D --directory DIR`` (Đà Nẵng's legacy system drops an
export of its current staff list)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sandbox import SYSTEMS, System
from sandbox.server import DEFAULT_PORTS, ServiceSpec, run
from sandbox.settings import SettingsError

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535 (0: any free port), got {port}")
    return port


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--log-level", default="warning", choices=_LOG_LEVELS)
    parser.add_argument("--access-log", action="store_true", help="log every request")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Simulated external systems of the hub (see sandbox/README.md).")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_all = commands.add_parser("serve-all", help="run the three services in one process")
    for system in SYSTEMS:
        flag = system.replace("_", "-")
        serve_all.add_argument(f"--{flag}-port", type=_port, default=DEFAULT_PORTS[system],
                               help=f"default {DEFAULT_PORTS[system]}")
        serve_all.add_argument(f"--{flag}-dsn", required=True,
                               help=f"PostgreSQL URL of the {system} database")
    _common(serve_all)

    serve = commands.add_parser("serve", help="run one service")
    serve.add_argument("system", choices=SYSTEMS)
    serve.add_argument("--port", type=_port, help="default: 8101, 8102 or 8103 by system")
    serve.add_argument("--dsn", required=True, help="PostgreSQL URL of the system's database")
    _common(serve)

    export = commands.add_parser(
        "export-drop", help="write an export of the legacy system into its drop directory")
    export.add_argument("--dsn", required=True, help="PostgreSQL URL of its database")
    export.add_argument("--directory", required=True, type=Path, help="the drop directory")
    export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    export.add_argument("--at", type=_moment, default=None,
                        help="export time, ISO 8601 with its zone (default: now)")
    return parser


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time's zone, e.g. 2026-11-02T08:00:00+07:00")
    return moment


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export-drop":
        from sandbox.agency_file_drop.export import write_export

        path = asyncio.run(write_export(args.dsn, args.directory, fmt=args.format,
                                        exported_at=args.at or datetime.now(UTC)))
        print(path)
        return 0
    if args.command == "serve-all":
        specs = [ServiceSpec(system, getattr(args, f"{system}_dsn"),
                             getattr(args, f"{system}_port")) for system in SYSTEMS]
    else:
        system: System = args.system
        port = DEFAULT_PORTS[system] if args.port is None else args.port
        specs = [ServiceSpec(system, args.dsn, port)]
    try:
        return run(specs, host=args.host, log_level=args.log_level, access_log=args.access_log)
    except SettingsError as error:
        print(f"python -m sandbox: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
