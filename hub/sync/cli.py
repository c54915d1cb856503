"""``hub sync``: synchronise agency HR systems with the national database, and review what
synchronisation could not settle.

    hub sync SYSTEM|AGENCY_CODE ... | --all [--full] [--max-pages N] [--progress] [--json]
    hub sync keygen SYSTEM            create and register the system's signing key
    hub sync status                   where each system stands
    hub sync conflicts [--agency CODE] [--status open] [--limit N] [--json]
    hub sync resolve ID --keep-national|--take-agency|--dismiss --by NAME [--note TEXT]

A run reads each system's change feed from its watermark until it is caught up and prints a
report (records read, new, changed, applied, rejected by reason, conflicts by kind, invalid,
unmatched). Stopped at any point, the next run resumes after the last page kept: nothing is
applied twice. ``--full`` reads the feed from the beginning (what was applied before is then
found unchanged). Taking the agency's version of a conflict is carried out by the next run.

The hub's settings come from the environment as for ``hub serve`` (without
``HUB_DATABASE_URL``, the local server ``hub demo`` uses). Exit codes: 0 every run completed;
1 a run failed (a source or the database could not be read; the report says which) or a
resolution was refused; 2 a wrong question (unknown system, bad arguments, no key).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.sync.engine import PageDone, SyncReport
    from hub.sync.runner import SyncService

__all__ = ["SUBCOMMANDS", "add_commands", "normalised_argv"]

OK, FAILED, USAGE = 0, 1, 2
SUBCOMMANDS = ("run", "keygen", "status", "conflicts", "resolve")
_RESOLUTIONS = {"keep_national": "kept-national", "take_agency": "taken-agency",
                "dismiss": "dismissed"}


def normalised_argv(argv: list[str]) -> list[str]:
    """``hub sync SYSTEM`` is ``hub sync run SYSTEM``: the run is the command's default."""
    if argv[:1] == ["sync"] and (len(argv) == 1 or argv[1] not in (*SUBCOMMANDS, "-h",
                                                                      "--help")):
        return ["sync", "run", *argv[1:]]
    return argv


class _Usage(Exception):
    pass


def _service_settings() -> Any:
    from hub.config import Settings
    from hub.environment import resolve_databases

    if not (os.environ.get("HUB_DATABASE_URL") or os.environ.get("DATABASE_URL")):
        os.environ["HUB_DATABASE_URL"] = resolve_databases().national
    return Settings.from_env()


def _on_service(action: Any) -> int:
    from hub.sync.runner import UnknownTarget, open_sync_service

    async def run() -> int:
        async with open_sync_service(_service_settings()) as service:
            result: int = await action(service)
            return result

    try:
        return asyncio.run(run())
    except (_Usage, UnknownTarget) as error:
        print(f"hub sync: {error}", file=sys.stderr)
        return USAGE


class _Progress:
    """One status line on stderr for every system running, rewritten as pages are kept."""

    def __init__(self, shown: bool) -> None:
        self.shown = shown
        self.started = time.perf_counter()
        self.reports: dict[str, SyncReport] = {}

    def __call__(self, done: PageDone) -> None:
        if not self.shown:
            return
        self.reports[done.report.system] = done.report
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        parts = []
        for system, report in self.reports.items():
            counts = report.counts
            parts.append(f"{system}: {report.records:,} read ({report.records / elapsed:,.0f}/s)"
                         f", {counts['applied']:,} applied, {counts['rejected']:,} rejected, "
                         f"{_conflicts(counts):,} queued")
        print("\r" + " | ".join(parts), end="", file=sys.stderr, flush=True)

    def end(self) -> None:
        if self.shown and self.reports:
            print(file=sys.stderr)


def _conflicts(counts: Any) -> int:
    return sum(v for k, v in counts.items() if k.startswith("conflict:"))


def _print_json_report(report: dict[str, Any]) -> None:
    counts = Counter(report["counts"])
    seconds = report["seconds"]
    rate = report["records"] / seconds if seconds else 0.0
    print(f"{report['system']}: {report['status']} in {seconds:.1f} s — "
          f"{report['records']:,} records read in {report['pages']} pages ({rate:,.0f}/s), "
          f"run {report.get('run')}")
    if report.get("error"):
        print(f"  error: {report['error']}")
    lines = [("unchanged", counts["unchanged"]), ("new", counts["new"]),
             ("changed", counts["changed"]), ("applied", counts["applied"]),
             ("rejected", counts["rejected"]), ("queued for review", _conflicts(counts)),
             ("invalid (reported)", counts["invalid"]),
             ("unmatched (reported)", counts["unmatched"]),
             ("unreadable (reported)", counts["unreadable"])]
    for label, value in lines:
        print(f"  {label:<22}{value:>10,}")
    for key in sorted(k for k in counts if k.startswith(("conflict:", "rejected:"))):
        print(f"    {key:<30}{counts[key]:>8,}")


def _run(args: argparse.Namespace) -> int:
    if not args.targets and not args.all:
        print("hub sync: name a system (or an agency code it serves), or --all",
              file=sys.stderr)
        return USAGE
    if args.page_size is not None and not 1 <= args.page_size <= 1000:
        print("hub sync: --page-size must be 1 to 1000", file=sys.stderr)
        return USAGE
    if args.processes is not None and args.processes < 1:
        print("hub sync: --processes must be at least 1", file=sys.stderr)
        return USAGE
    settings = _service_settings()
    from hub.sync.parallel import chosen_targets, run_in_processes
    from hub.sync.settings import sync_targets

    try:
        chosen = chosen_targets(sync_targets(settings.sources_file), args.targets,
                                every=args.all)
    except ValueError as error:
        print(f"hub sync: {error}", file=sys.stderr)
        return USAGE
    processes = args.processes or min(len(chosen), os.cpu_count() or 1)
    if processes > 1 and len(chosen) > 1:
        options = [*(["--full"] if args.full else []),
                   *(["--max-pages", str(args.max_pages)] if args.max_pages else []),
                   *(["--page-size", str(args.page_size)] if args.page_size else [])]
        worst, reports = run_in_processes(chosen, options, settings.database_url,
                                          processes=processes,
                                          progress=args.progress or sys.stderr.isatty())
        if args.json:
            print(json.dumps(reports, ensure_ascii=False, indent=2))
        else:
            for report in reports:
                _print_json_report(report)
        return worst

    async def action(service: SyncService) -> int:
        targets = service.resolve_targets(args.targets, every=args.all)
        if args.page_size is not None:
            targets = [replace(t, page_size=args.page_size) for t in targets]
        # The systems are synchronised at once: each reads its own feed and changes its own
        # agencies' files, so neither waits on the other's source.
        progress = _Progress(args.progress or sys.stderr.isatty())
        reports = await asyncio.gather(*(
            service.run(target, full=args.full, max_pages=args.max_pages, wait=True,
                        progress=progress) for target in targets))
        progress.end()
        if args.json:
            print(json.dumps([r.as_json() for r in reports], ensure_ascii=False, indent=2))
        else:
            for report in reports:
                _print_json_report(report.as_json())
        failed = any(r.status not in ("completed", "skipped") for r in reports)
        return FAILED if failed else OK

    return _on_service(action)


def _keygen(args: argparse.Namespace) -> int:
    async def action(service: SyncService) -> int:
        from hub.sync.runner import ensure_sync_key

        [target] = service.resolve_targets([args.system])
        policy = service.runtime.policies.engine.policies.clients.get(target.client_id)
        if policy is None:
            raise _Usage(f"{target.system} synchronises as {target.client_id}, which has no "
                         "policy file")
        from hub.environment import resolve_databases

        owner_url = os.environ.get("HUB_DATABASE_URL") or resolve_databases().national
        kid = await ensure_sync_key(target, owner_url, policy.agency)
        print(f"{target.system}: key {kid} at {target.key_file}, registered for "
              f"{policy.agency}")
        return OK

    return _on_service(action)


def _status(args: argparse.Namespace) -> int:
    async def action(service: SyncService) -> int:
        assert service.runtime.sources is not None
        national = service.runtime.sources.national
        rows = await national.query(
            "SELECT s.system, s.synced_through, s.last_success_at, r.status, r.started_at,"
            " r.counts::text AS counts, (SELECT count(*) FROM sync_conflict c"
            " WHERE c.system = s.system AND c.status = 'open') AS open_conflicts"
            " FROM sync_state s LEFT JOIN sync_run r ON r.id = s.last_run_id", [])
        by_system = {r["system"]: r for r in rows}
        for name in service.targets:
            row = by_system.get(name)
            if row is None:
                print(f"{name}: never synchronised")
                continue
            print(f"{name}: last run {row['status']} at {row['started_at']:%Y-%m-%d %H:%M}; "
                  f"changes taken in up to {row['synced_through'] or '-'}; "
                  f"{row['open_conflicts']} open conflict(s)")
        return OK

    return _on_service(action)


def _conflict_line(c: dict[str, Any]) -> str:
    fields = ", ".join(f"{f['field']}: {f['national']!r} (national) / {f['agency']!r} (agency)"
                       for f in c["fields"])
    return (f"{c['id']}  {c['status']:<13} {c['kind']:<14} {c['system']}  "
            f"{c['employee_code'] or '-'}  {c['agency_code']}  {fields}")


def _conflicts_command(args: argparse.Namespace) -> int:
    async def action(service: SyncService) -> int:
        from adapters.sync_store import ConflictWindow

        status = None if args.status == "any" else args.status
        rows = await service.store.conflicts(ConflictWindow(
            [args.agency] if args.agency else None, status, None, args.limit))
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        else:
            for row in rows:
                print(_conflict_line(row))
            print(f"{len(rows)} conflict(s)", file=sys.stderr)
        return OK

    return _on_service(action)


def _resolve(args: argparse.Namespace) -> int:
    try:
        conflict_id = uuid.UUID(args.id)
    except ValueError:
        print(f"hub sync: {args.id!r} is not a conflict id", file=sys.stderr)
        return USAGE
    status = next(v for k, v in _RESOLUTIONS.items() if getattr(args, k))

    async def action(service: SyncService) -> int:
        from resolvers.sync_review import ResolutionRefused, resolve_conflict

        try:
            resolved = await resolve_conflict(service.store, conflict_id, status, args.by,
                                              args.note)
        except ResolutionRefused as refused:
            print(f"hub sync: {refused}", file=sys.stderr)
            return FAILED
        print(_conflict_line(resolved))
        return OK

    return _on_service(action)


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = subparsers.add_parser("sync", help="synchronise agency HR systems with the national "
                                              "database (hub sync SYSTEM | --all)",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = sync.add_subparsers(dest="sync_command", required=True)

    run = commands.add_parser("run", help="read the change feeds and apply (the default)")
    run.add_argument("targets", nargs="*", metavar="SYSTEM",
                     help="a system's name in config/sources.yaml, or an agency code it serves")
    run.add_argument("--all", action="store_true", help="every synchronised system")
    run.add_argument("--full", action="store_true",
                     help="read the feed from the beginning, not from the watermark")
    run.add_argument("--max-pages", type=int, metavar="N", help="stop after N pages")
    run.add_argument("--page-size", type=int, metavar="N",
                     help="records per page (default: the system's page_size, 500)")
    run.add_argument("--progress", action="store_true",
                     help="a progress line on stderr (default: when it is a terminal)")
    run.add_argument("--json", action="store_true", help="the reports as JSON")
    run.add_argument("--processes", type=int, metavar="N",
                     help="systems synchronised in parallel processes (default: one per "
                          "system, at most one per CPU; 1: all in this process)")
    run.set_defaults(run=_run)

    keygen = commands.add_parser("keygen", help="create and register a system's signing key")
    keygen.add_argument("system")
    keygen.set_defaults(run=_keygen)

    status = commands.add_parser("status", help="where each system's synchronisation stands")
    status.set_defaults(run=_status)

    conflicts = commands.add_parser("conflicts", help="the differences queued for review")
    conflicts.add_argument("--agency", metavar="CODE")
    conflicts.add_argument("--status", default="open",
                           choices=["open", "kept-national", "taken-agency", "dismissed", "any"])
    conflicts.add_argument("--limit", type=int, default=50)
    conflicts.add_argument("--json", action="store_true")
    conflicts.set_defaults(run=_conflicts_command)

    resolve = commands.add_parser("resolve", help="settle a conflict")
    resolve.add_argument("id")
    choice = resolve.add_mutually_exclusive_group(required=True)
    choice.add_argument("--keep-national", action="store_true",
                        help="the national file stands; the agency corrects its record")
    choice.add_argument("--take-agency", action="store_true",
                        help="submit the agency's version at the next run")
    choice.add_argument("--dismiss", action="store_true", help="not a difference to act on")
    resolve.add_argument("--by", required=True, help="who decides (kept with the decision)")
    resolve.add_argument("--note")
    resolve.set_defaults(run=_resolve)
