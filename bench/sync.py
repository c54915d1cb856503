"""Records synchronised per second: ``hub sync`` over the agency systems' change feeds, against
a hand-written synchronisation doing the same reads and writes, in one run.

The agency systems (the sandbox's REST and GraphQL systems, seeded with ``--employees``) get
``--changed`` records changed after the last synchronisation: a salary step up, recorded now.
Each run starts from the same national database (a copy of the seeded one, with each system's
watermark just before the changes), so both read exactly the changed records:

1. **hub sync** (the command a user runs, in its own process): each page read over HTTP,
   compared with the national files, every change signed with the system's key and decided by
   the submission desk (signature, write grant and row scope, checks, version), applied with
   its history and inbox row, the page's audit record written (target: 2,000 records/s).
2. **Baseline**: the same feed pages read over HTTP with the same reader, the national files
   read with the same query, the step compared, and the employee rows updated set-wise with
   their version raised — no signature, policy, checks, history, inbox or audit.

Prints records/s for both and the ratio.

    python -m bench.sync [--employees 500000] [--changed 100000] [--page-size 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from adapters.change_feeds import ChangeFeed
from adapters.resilience import Guard
from bench.reference import _prepare
from hub.config import PROJECT_ROOT
from hub.databases import DatabaseSet
from hub.environment import STATE_DIR
from hub.launcher import Ports, free_port, own_keys_env, start_sandbox, stop
from hub.policy.load import load_policy_dir
from hub.postgres_server import database_url, ensure_server
from hub.source_config import load_source_config
from hub.sync.runner import build_feed, ensure_sync_key
from hub.sync.settings import SyncTarget, sync_targets

__all__ = ["main"]

SOURCES = PROJECT_ROOT / "config/sources.yaml"
# Per system: the agency table, its id, personal ID, step, coefficient and time columns.
_TABLES = {"mof-hrmis": ("agency_rest", "nhan_su", "ma_nhan_su", "text", "so_cccd",
                         "bac_luong", "he_so_luong", "ngay_cap_nhat"),
           "hanoi-hrm": ("agency_graphql", "staff", "staff_id", "bigint", "citizen_id",
                         "pay_step", "pay_coefficient", "modified_at")}


async def _copy(server_url: str, source: str, target: str) -> None:
    admin = await asyncpg.connect(database_url(server_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    finally:
        await admin.close()


async def _change(databases: DatabaseSet, national_url: str, changed: int,
                  moment: datetime) -> dict[str, int]:
    """A step up, recorded at ``moment`` (and on), for the first ``changed`` agency records
    whose national step has one above; by system, how many."""
    national = await asyncpg.connect(national_url)
    done: dict[str, int] = {}
    try:
        left = changed
        for number, (system, (database, table, key, key_type, pid, step, coefficient,
                              stamp)) in enumerate(_TABLES.items()):
            # An even share for each system (they are synchronised in parallel), what one
            # cannot take going to the next.
            share = left // (len(_TABLES) - number)
            conn = await asyncpg.connect(getattr(databases, database))
            try:
                rows = await conn.fetch(f"SELECT {key} AS key, {pid} AS pid FROM {table}"
                                        f" ORDER BY {key} LIMIT $1", share * 2)
                files = {r["personal_id"]: r for r in await national.fetch(
                    "SELECT e.personal_id, e.salary_step, l.coefficient FROM employee e"
                    " JOIN salary_ladder l ON l.rank_code = e.rank_code"
                    " AND l.step = e.salary_step + 1 WHERE e.personal_id = ANY($1::bpchar[])",
                    [r["pid"] for r in rows])}
                chosen = [(r["key"], files[r["pid"]]) for r in rows if r["pid"] in files][:share]
                await conn.execute(
                    f"UPDATE {table} t SET {step} = c.step, {coefficient} = c.coefficient,"
                    f" {stamp} = c.stamp FROM unnest($1::{key_type}[],"
                    f" $2::smallint[], $3::numeric[], $4::timestamptz[])"
                    f" AS c(key, step, coefficient, stamp) WHERE t.{key} = c.key",
                    [k for k, _ in chosen], [f["salary_step"] + 1 for _, f in chosen],
                    [f["coefficient"] for _, f in chosen],
                    [moment + timedelta(microseconds=i) for i in range(len(chosen))])
                done[system] = len(chosen)
                left -= len(chosen)
            finally:
                await conn.close()
    finally:
        await national.close()
    return done


async def _set_watermarks(national_url: str, since: datetime) -> None:
    conn = await asyncpg.connect(national_url)
    try:
        mark = json.dumps({"since": since.isoformat(), "cursor": None})
        for system in _TABLES:
            await conn.execute(
                "INSERT INTO sync_state (system, watermark, synced_through) VALUES ($1, $2, $3)"
                " ON CONFLICT (system) DO UPDATE SET watermark = $2, synced_through = $3",
                system, mark, since)
    finally:
        await conn.close()


def _hub_sync(env: dict[str, str], page_size: int) -> tuple[int, float]:
    started = time.perf_counter()
    command = [sys.executable, "-m", "hub", "sync", *_TABLES, "--json", "--page-size",
               str(page_size)]
    profile = os.environ.get("BENCH_SYNC_PROFILE")  # py-spy's collapsed stacks
    if profile:
        command = ["py-spy", "record", "-o", profile, "-r", "200", "--format", "raw",
                   "--subprocesses", "--",
                   *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"hub sync failed: {done.stderr[-2000:]}")
    reports, _ = json.JSONDecoder().raw_decode(done.stdout[done.stdout.index("["):])
    applied = sum(r["counts"].get("applied", 0) for r in reports)
    inside = max(r["seconds"] for r in reports)  # the systems run at once
    read = sum(r["records"] for r in reports)
    print(f"    (hub sync's runs took {inside:.1f} s of the {seconds:.1f} s, {read / inside:,.0f}"
          " records/s; the rest is the process starting and opening the hub)")
    return applied, seconds


async def _baseline(targets: dict[str, SyncTarget], national_url: str, page_size: int
                    ) -> tuple[int, float]:
    """The hand-written synchronisation: feed pages, national files, set-wise updates."""
    configs = {c.name: c for c in load_source_config(SOURCES).agency_systems}
    national = await asyncpg.connect(national_url)
    applied = 0
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient() as client:
            for system in _TABLES:
                target = targets[system]
                feed: ChangeFeed = build_feed(target, configs[system], client, Guard(system))
                mark = await national.fetchval("SELECT watermark FROM sync_state"
                                               " WHERE system = $1", system)
                while True:
                    page = await feed.changes(mark, page_size)
                    applied += await _apply_by_hand(national, page.records)
                    await national.execute("UPDATE sync_state SET watermark = $2"
                                           " WHERE system = $1", system, page.watermark)
                    mark = page.watermark
                    if not page.more:
                        break
    finally:
        await national.close()
    return applied, time.perf_counter() - started


async def _apply_by_hand(national: asyncpg.Connection, records: list[dict[str, Any]]) -> int:
    ids = [r["personal_id"] for r in records]
    files = {r["personal_id"]: r for r in await national.fetch(
        "SELECT personal_id, rank_code, salary_step, version FROM employee"
        " WHERE personal_id = ANY($1::bpchar[])", ids)}
    steps = [(r["personal_id"], r["salary_step"], files[r["personal_id"]]["version"])
             for r in records if r["personal_id"] in files
             and r["salary_step"] != files[r["personal_id"]]["salary_step"]]
    if not steps:
        return 0
    async with national.transaction():
        result = await national.execute(
            "UPDATE employee e SET salary_step = c.step, salary_coefficient = l.coefficient,"
            " version = e.version + 1, updated_at = now(), updated_by = 'baseline'"
            " FROM unnest($1::text[], $2::smallint[], $3::int[]) AS c(pid, step, version),"
            " salary_ladder l WHERE e.personal_id = c.pid AND e.version = c.version"
            " AND l.rank_code = e.rank_code AND l.step = c.step",
            [s[0] for s in steps], [s[1] for s in steps], [s[2] for s in steps])
    return int(result.split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=500_000)
    parser.add_argument("--changed", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true",
                        help="keep the hub's run database (<seeded>_run) to look into")
    args = parser.parse_args(argv)

    server_url = ensure_server(STATE_DIR)
    databases = DatabaseSet.on_server(server_url, f"hubbench_sync_{args.employees}")
    print(f"synchronisation, {args.employees:,} employees, {args.changed:,} changed records, "
          f"pages of {args.page_size}")
    asyncio.run(_prepare(databases, args.employees, args.seed))
    seeded = databases.national.rsplit("/", 1)[1]
    run_db = f"{seeded}_run"
    run_url = database_url(server_url, run_db)
    policies = load_policy_dir()
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-sync-"))
    ports = Ports()
    sandbox = start_sandbox(databases, ports)
    os.environ.update(ports.source_env())  # the baseline reads the registry in this process
    try:
        env = {**os.environ, "HUB_DATABASE_URL": run_url, **ports.source_env(),
               **own_keys_env(free_port(), folder), "HUB_SYNC_KEY_DIR": str(folder),
               "HUB_AUDIT_KEY_FILE": str(folder / "audit.jwk"), "HUB_POLICY_WATCH": "0"}
        results: dict[str, tuple[int, float]] = {}
        for name in ("baseline", "hub"):
            asyncio.run(_copy(server_url, seeded, run_db))
            moment = datetime.now(UTC)
            changed = asyncio.run(_change(databases, run_url, args.changed, moment))
            asyncio.run(_set_watermarks(run_url, moment - timedelta(seconds=1)))
            if name == "hub":
                os.environ["HUB_SYNC_KEY_DIR"] = str(folder)
                keyed = sync_targets(SOURCES)
                for system in _TABLES:
                    agency = policies.clients[keyed[system].client_id].agency
                    asyncio.run(ensure_sync_key(keyed[system], run_url, agency))
                results[name] = _hub_sync(env, args.page_size)
            else:
                results[name] = asyncio.run(_baseline(sync_targets(SOURCES), run_url,
                                                      args.page_size))
            total = sum(changed.values())
            applied, seconds = results[name]
            print(f"  {name:<9}{total:>9,} records read, {applied:,} applied in "
                  f"{seconds:6.1f} s: {total / seconds:8,.0f} records/s")
        hub_rate = sum(changed.values()) / results["hub"][1]
        base_rate = sum(changed.values()) / results["baseline"][1]
        print(f"  ratio hub / baseline: {hub_rate / base_rate:.2f} "
              f"(target: hub at least 2,000 records/s: "
              f"{'met' if hub_rate >= 2000 else 'NOT met'})")
    finally:
        stop(sandbox)
        if not args.keep:
            asyncio.run(_drop(server_url, run_db))
    return 0


async def _drop(server_url: str, name: str) -> None:
    admin = await asyncpg.connect(database_url(server_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


if __name__ == "__main__":
    raise SystemExit(main())
