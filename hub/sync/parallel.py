"""Several systems synchronised in parallel processes (``hub sync --all``): one ``hub sync``
process per system, so the desk's work (verifying each change's signature, checking it,
writing it) uses every core rather than one. Each child is the ordinary command for one
system; this process only starts them, shows their progress (read from their runs in the
database, which they update page by page) and gathers their reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from hub.sync.settings import SyncTarget

__all__ = ["chosen_targets", "run_in_processes"]


def chosen_targets(targets: dict[str, SyncTarget], names: Sequence[str], *,
                   every: bool) -> list[SyncTarget]:
    """The targets named (a system's name, or an agency code a system serves), or all;
    ValueError naming what is not one."""
    if every:
        return list(targets.values())
    chosen: list[SyncTarget] = []
    for name in names:
        target = targets.get(name) or next(
            (t for t in targets.values()
             if any(fnmatch.fnmatchcase(name, p) for p in t.serves)), None)
        if target is None:
            raise ValueError(f"{name!r} is neither a synchronised agency system nor an agency "
                             f"code one serves (systems: {', '.join(targets) or 'none'})")
        if target not in chosen:
            chosen.append(target)
    return chosen


async def _progress(database_url: str, systems: Sequence[str], since: float,
                    done: asyncio.Event) -> None:
    """One status line on stderr from the children's runs, rewritten every second."""
    started = time.perf_counter()
    with contextlib.suppress(OSError, asyncpg.PostgresError):
        conn = await asyncpg.connect(database_url)
        try:
            while not done.is_set():
                rows = await conn.fetch(
                    "SELECT DISTINCT ON (system) system, counts::text AS counts FROM sync_run"
                    " WHERE system = ANY($1::text[]) AND started_at >= to_timestamp($2)"
                    " ORDER BY system, started_at DESC", list(systems), since)
                elapsed = max(time.perf_counter() - started, 1e-6)
                parts = []
                for row in rows:
                    counts = json.loads(row["counts"])
                    read = counts.get("read", 0)
                    parts.append(f"{row['system']}: {read:,} read ({read / elapsed:,.0f}/s), "
                                 f"{counts.get('applied', 0):,} applied")
                if parts:
                    print("\r" + " | ".join(parts), end="", file=sys.stderr, flush=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), timeout=1.0)
        finally:
            await conn.close()
        print(file=sys.stderr)


def _die_with_parent() -> None:
    """In the child, before it runs: killed when this process dies, however it dies (a
    `kill -9` of ``hub sync`` stops the whole run, as it does a run in one process)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


async def _child(system: str, options: Sequence[str], slots: asyncio.Semaphore
                 ) -> tuple[int, str, str]:
    async with slots:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub", "sync", "run", system, "--json", *options,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=dict(os.environ), preexec_fn=_die_with_parent)
        out, err = await process.communicate()
    return process.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8",
                                                                               "replace")


def run_in_processes(targets: Sequence[SyncTarget], options: Sequence[str],
                     database_url: str, *, processes: int,
                     progress: bool) -> tuple[int, list[dict[str, Any]]]:
    """Run each target's synchronisation in a process of its own, at most ``processes`` at
    once; the worst exit code and the reports (a child that printed none gets one saying
    why)."""

    async def run() -> tuple[int, list[dict[str, Any]]]:
        slots = asyncio.Semaphore(processes)
        done = asyncio.Event()
        watcher = asyncio.create_task(_progress(
            database_url, [t.system for t in targets], time.time() - 1, done)) \
            if progress else None
        try:
            results = await asyncio.gather(*(_child(t.system, options, slots)
                                             for t in targets))
        finally:
            done.set()
            if watcher is not None:
                await watcher
        worst = 0
        reports: list[dict[str, Any]] = []
        for target, (code, out, err) in zip(targets, results, strict=True):
            worst = max(worst, code)
            try:
                reports += json.loads(out)
            except json.JSONDecodeError:
                reports.append({"system": target.system, "status": "failed", "records": 0,
                                "pages": 0, "counts": {}, "seconds": 0.0,
                                "error": (err.strip().splitlines() or ["no report"])[-1]})
        return worst, reports

    return asyncio.run(run())
