"""``hub quality measure|report``: take the data-quality measures, and read them back.

Both connect to the national database as ``hub migrate`` does (``HUB_DATABASE_URL``, or the
local server); ``measure`` reads the other sources of ``config/sources.yaml``
(``HUB_SOURCES``). Exit codes: 0 done, 2 a wrong question or nothing to ask it of (unknown
agency, bad date, unreachable database, tables missing).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.quality.run import QualityRun

__all__ = ["add_commands"]

OK, USAGE = 0, 2
# As many runs as the GraphQL field shows (resolvers/quality.py).
_REPORT_RUNS = 400


class CommandError(Exception):
    """One line for the operator, exit code 2."""


def _instant(text: str, argument: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 time (UTC when it names no offset)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{argument} {text!r} is not a date (2026-01-31) or an ISO 8601 "
                           "time") from None
    return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)


async def _pool(url: str) -> Any:
    import asyncpg

    try:
        # Long grouped queries: no command timeout here.
        return await asyncpg.create_pool(url, min_size=2, max_size=3, timeout=15)
    except (OSError, TimeoutError, asyncpg.PostgresError) as failure:
        raise CommandError(f"cannot connect to the national database: {failure}") from None


def _summary(run: QualityRun) -> list[str]:
    statuses = Counter(m.status for m in run.measures)
    lines = [f"run {run.run_id}: {len(run.agencies):,} agencies, {len(run.measures):,} "
             f"measures ({statuses['measured']:,} measured, {statuses['empty']:,} empty, "
             f"{statuses['not_measured']:,} not measured) in {run.elapsed_seconds:.1f} s"]
    failed: dict[tuple[str, str], int] = {}
    reasons: dict[tuple[str, str], str] = {}
    for m in run.measures:
        if m.status == "not_measured" and m.scope == "agency":
            key = (m.source, m.dimension)
            failed[key] = failed.get(key, 0) + 1
            reasons.setdefault(key, m.reason or "")
    for (source, dimension), count in sorted(failed.items()):
        lines.append(f"  not measured: {source} {dimension} for {count:,} agencies "
                     f"({reasons[(source, dimension)]})")
    return lines


def _measure(args: argparse.Namespace) -> int:
    import asyncpg

    from hub.environment import resolve_databases
    from hub.quality.run import (
        UnknownAgency,
        count_employees,
        measure_quality,
        resolve_agencies,
    )
    from hub.quality.sources import open_sources
    from hub.source_config import load_source_config

    if not args.all and not args.agency:
        raise CommandError("name the agencies to measure (--agency CODE ..., an agency or "
                           "authority code) or --all")
    sources_file = _sources_file()

    async def run() -> QualityRun:
        config = load_source_config(sources_file)
        pool = await _pool(resolve_databases().national)
        try:
            async with open_sources(config) as sources:
                agencies = None if args.all else list(args.agency)
                bar = None
                if args.progress:
                    from tqdm import tqdm

                    async with pool.acquire() as conn:
                        total = await count_employees(conn, await resolve_agencies(
                            conn, agencies))
                    bar = tqdm(total=total, unit="employee", unit_scale=True,
                               file=sys.stderr, dynamic_ncols=True)
                def advance(employees: int) -> None:
                    if bar is not None:
                        bar.update(employees)

                try:
                    return await measure_quality(
                        pool, sources.population, sources.systems, mapped=sources.mapped,
                        agencies=agencies, within_days=args.within_days,
                        authorities=not args.no_authorities, progress=advance)
                finally:
                    if bar is not None:
                        bar.close()
        except UnknownAgency as error:
            raise CommandError(str(error)) from None
        except asyncpg.UndefinedTableError:
            raise CommandError("the database has no data-quality tables: run `hub migrate`"
                               ) from None
        finally:
            await pool.close()

    try:
        result = asyncio.run(run())
    except ValueError as error:  # an unreadable source registry
        raise CommandError(str(error)) from None
    print("\n".join(_summary(result)))
    return OK


def _sources_file() -> Path:
    """The source registry the server reads too (``HUB_SOURCES``, hub/config.py)."""
    import os

    from hub.config import PROJECT_ROOT

    return Path(os.environ.get("HUB_SOURCES", PROJECT_ROOT / "config/sources.yaml"))


def _report(args: argparse.Namespace) -> int:
    from adapters import NationalDatabase, SourceError
    from hub.environment import resolve_databases
    from hub.quality.report import NothingToReport, load_report, text_report

    since = None if args.since is None else _instant(args.since, "--from")
    until = None if args.until is None else _instant(args.until, "--to")
    if since is not None and until is not None and not since < until:
        raise CommandError("--from must be earlier than --to")

    async def run() -> Any:
        try:
            database = await NationalDatabase.open(resolve_databases().national, min_size=1,
                                                   max_size=2, timeout=60)
        except SourceError as error:
            raise CommandError(error.message) from None
        try:
            return await load_report(database, args.agency, since, until, _REPORT_RUNS)
        except NothingToReport as error:
            raise CommandError(str(error)) from None
        except SourceError as error:
            raise CommandError(f"{error.message} (has `hub migrate` been run?)") from None
        finally:
            await database.close()

    report = asyncio.run(run())
    if args.format == "html":
        from hub.quality.html import html_report

        text = html_report(report)
    else:
        text = text_report(report)
    if args.out is None:
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return OK


def _run(command: Any) -> Any:
    def guarded(args: argparse.Namespace) -> int:
        try:
            result: int = command(args)
        except CommandError as error:
            print(f"hub quality: {error}", file=sys.stderr)
            return USAGE
        return result

    return guarded


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_commands(commands: Any) -> None:
    quality = commands.add_parser("quality", help="data-quality measures per agency and source")
    actions = quality.add_subparsers(dest="quality_command", required=True)

    measure = actions.add_parser("measure", help="measure agencies' data quality and store it")
    which = measure.add_mutually_exclusive_group()
    which.add_argument("--agency", action="append", metavar="CODE",
                       help="an agency (000.00.01.G02) or authority (G02) code; repeatable")
    which.add_argument("--all", action="store_true", help="every agency")
    measure.add_argument("--within-days", type=_positive, default=365, metavar="N",
                         help="files updated within N days count as fresh (default 365)")
    measure.add_argument("--no-authorities", action="store_true",
                         help="do not roll agencies up per reporting authority")
    measure.add_argument("--progress", action="store_true", help="a progress bar on stderr")
    measure.set_defaults(run=_run(_measure))

    report = actions.add_parser("report", help="an agency's measures over time")
    report.add_argument("--agency", required=True, metavar="CODE",
                        help="an agency (000.00.01.G02) or authority (G02) code")
    report.add_argument("--from", dest="since", metavar="WHEN",
                        help="measures taken at or after (a date, or an ISO 8601 time)")
    report.add_argument("--to", dest="until", metavar="WHEN",
                        help="measures taken before (a date, or an ISO 8601 time)")
    report.add_argument("--format", choices=("text", "html"), default="text")
    report.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    report.set_defaults(run=_run(_report))
