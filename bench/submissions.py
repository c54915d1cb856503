"""Signed submissions verified and applied per second: single mutations, bulk through
``hub submit``'s client, and a hand-written floor, in one run against one hub and sandbox.

1. **Single.** ``changePosition`` mutations, one signed salary-step change each, sent by
   ``--concurrency`` concurrent clients (each works through its own employees, so every change
   is based on the version the previous one made).
2. **Bulk.** A JSON Lines file of ``--records`` unsigned changes run through ``hub submit``'s
   own code in this process (read, sign, ``submitBatch`` calls of ``--batch-size``, report):
   records/s end to end (target: 1,000/s).
3. **Baseline.** The floor cost without the hub: the same number of changes' JWS verified in
   process against the key held in memory, and the employee rows updated by hand
   (``UPDATE ... WHERE version = $n``, a submission row and a history row, one transaction
   per batch, through one connection) — no GraphQL, no policies, no audit, no inbox.

Prints records/s for each and the ratios to the baseline. The hub decides a batch in rounds
(one read of keys, scopes and files, and a few set-wise writes, per round of distinct
employees); ``hub submit`` keeps ``--in-flight`` batches for different employees in flight.

    python -m bench.submissions [--employees 10000] [--records 5000] [--singles 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.reference import _databases, _prepare
from hub.auth.clients import register_with_new_secrets
from hub.databases import DatabaseSet
from hub.environment import STATE_DIR
from hub.launcher import Ports, free_port, own_keys_env, start_hub, start_sandbox, stop
from hub.postgres_server import ensure_server
from hub.updates.keys import SignerKeys, add_signer_key, generate_signer_key
from hub.updates.signatures import sign_submission, verify_submission

__all__ = ["main"]

AGENCY = "000.00.01.H01"
CLIENT, PURPOSE = "hanoi-doha", "personnel-updates"
CHANGE = """mutation($s: String!, $k: String!) {
  changePosition(submission: $s, idempotencyKey: $k) { status version reasons { code } } }"""
TODAY = date.today().isoformat()


@dataclass
class Employee:
    code: str
    personal_id: str
    version: int
    step: int
    ladder: int

    def next_change(self) -> dict[str, Any]:
        """The next valid change of this employee, as a payload to sign; advances the
        expected version and step."""
        step = self.step + 1 if self.step < self.ladder else self.step - 1
        payload = {"kind": "position-change",
                   "employee": {"employeeCode": self.code, "personalId": self.personal_id},
                   "baseVersion": self.version,
                   "change": {"salaryStep": step, "effectiveFrom": TODAY},
                   "sourceSystem": "bench"}
        self.version += 1
        self.step = step
        return payload


async def _employees(url: str) -> list[Employee]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT e.employee_code, e.personal_id, e.version, e.salary_step,"
            " (SELECT count(*) FROM salary_ladder l WHERE l.rank_code = e.rank_code) AS ladder"
            " FROM employee e JOIN agency a ON a.code = e.agency_code"
            " WHERE a.authority = 'H01' AND e.status = 'active' AND e.hired_on <= current_date"
            " ORDER BY e.employee_code")
    finally:
        await conn.close()
    return [Employee(r["employee_code"], r["personal_id"], r["version"], r["salary_step"],
                     int(r["ladder"])) for r in rows if r["ladder"] >= 2]


def _changes(employees: list[Employee], count: int) -> list[dict[str, Any]]:
    """``count`` valid changes round-robin over the employees (a chain per employee)."""
    return [employees[i % len(employees)].next_change() for i in range(count)]


def _stamp(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "jti": uuid.uuid4().hex, "iat": int(time.time()), "iss": AGENCY}


# --------------------------------------------------------------------------- single


async def _singles(hub: str, secret: str, key: Any, employees: list[Employee], count: int,
                   concurrency: int) -> tuple[float, int, int]:
    groups = [employees[i::concurrency] for i in range(concurrency)]
    per_group = max(count // concurrency, 1)
    async with httpx.AsyncClient(timeout=60) as client:
        token = (await client.post(f"{hub}/oauth/token", auth=(CLIENT, secret),
                                   data={"grant_type": "client_credentials"})).json()
        headers = {"authorization": f"Bearer {token['access_token']}", "x-purpose": PURPOSE}
        accepted = other = 0

        async def worker(group: list[Employee]) -> None:
            nonlocal accepted, other
            for index in range(per_group):
                payload = _stamp(group[index % len(group)].next_change())
                body = {"query": CHANGE, "variables": {
                    "s": sign_submission(payload, key), "k": uuid.uuid4().hex}}
                response = await client.post(f"{hub}/graphql", json=body, headers=headers)
                answer = response.json().get("data", {}).get("changePosition") or {}
                if answer.get("status") == "ACCEPTED":
                    accepted += 1
                else:
                    other += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(group) for group in groups if group))
        elapsed = time.perf_counter() - started
    return (accepted + other) / elapsed, accepted, other


# --------------------------------------------------------------------------- bulk


def _bulk(hub: str, secret: str, key_file: Path, employees: list[Employee], count: int,
          batch_size: int, in_flight: int, folder: Path) -> tuple[float, dict[str, int]]:
    from hub.updates.cli_submit import run_submit

    path = folder / "bulk.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in _changes(employees, count)),
                    encoding="utf-8")
    report = folder / "bulk-report.jsonl"
    args = argparse.Namespace(
        file=str(path), hub=hub, client=CLIENT, secret_env="BENCH_SUBMIT_SECRET",
        purpose=PURPOSE, format="jsonl", mapping=None, key=str(key_file), agency=AGENCY,
        kind=None, batch_size=batch_size, in_flight=in_flight, state=None,
        report=str(report), progress=False,
        max_bytes=1 << 30, timeout=600.0, retries=5)
    os.environ["BENCH_SUBMIT_SECRET"] = secret
    client_side = _client_side(path, key_file)
    started = time.perf_counter()
    code = run_submit(args)
    elapsed = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for line in report.read_text(encoding="utf-8").splitlines():
        status = json.loads(line)["status"]
        statuses[status] = statuses.get(status, 0) + 1
    statuses["exit"] = code
    print(f"         hub submit's own work (read + key + sign, no network): "
          f"{count / client_side:,.0f} records/s")
    return count / elapsed, statuses


def _client_side(path: Path, key_file: Path) -> float:
    """Seconds ``hub submit`` spends on a file before any network: reading and signing."""
    from hub.updates import bulk
    from hub.updates.keys import read_jwk_file

    started = time.perf_counter()
    file_id, _ = bulk.file_identity(path)
    signer = bulk.Signer(read_jwk_file(key_file), AGENCY)
    for record in bulk.read_records(path, "jsonl"):
        bulk.prepare_item(record, file_id, mapping=None, signer=signer, kind=None)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- baseline


async def _baseline(url: str, key: Any, keys: SignerKeys, employees: list[Employee],
                    count: int, batch_size: int) -> float:
    """Verify each JWS in process and apply the change by hand: the floor."""
    tokens = [sign_submission(_stamp(p), key) for p in _changes(employees, count)]
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        for offset in range(0, len(tokens), batch_size):
            now = datetime.now(UTC)
            rows = []
            for token in tokens[offset:offset + batch_size]:
                payload = verify_submission(token, keys, now=now,
                                            expected_issuer=AGENCY).payload
                rows.append((payload["employee"]["employeeCode"], payload["baseVersion"],
                             payload["change"]["salaryStep"], json.dumps(payload)))
            async with conn.transaction():
                for code, version, step, payload_json in rows:
                    updated = await conn.fetchval(
                        "UPDATE employee e SET salary_step = $3, version = e.version + 1,"
                        " salary_coefficient = l.coefficient FROM salary_ladder l"
                        " WHERE e.employee_code = $1 AND e.version = $2"
                        " AND l.rank_code = e.rank_code AND l.step = $3 RETURNING e.version",
                        code, version, step)
                    if updated is None:
                        raise RuntimeError(f"baseline: stale version for {code}")
                    submission = uuid.uuid4()
                    await conn.execute(
                        "INSERT INTO submission (id, client_id, agency_code, idempotency_key,"
                        " kind, employee_code, base_version, payload, status) VALUES ($1, $2,"
                        " $3, $4, 'position-change', $5, $6, $7::jsonb, 'accepted')",
                        submission, "bench-baseline", AGENCY, uuid.uuid4().hex, code,
                        version, payload_json)
                    await conn.execute(
                        "INSERT INTO record_version (entity, record_key, employee_code,"
                        " version, current, submission_id, client_id, agency_code) VALUES"
                        " ('employee', $1, $1, $2, $3::jsonb, $4, 'bench-baseline', $5)",
                        code, updated, json.dumps({"salary_step": step}), submission, AGENCY)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return count / elapsed


# --------------------------------------------------------------------------- main


async def _register(databases: DatabaseSet, key: Any) -> SignerKeys:
    conn = await asyncpg.connect(databases.national)
    try:
        signer = await add_signer_key(conn, "agency", AGENCY, key.as_dict(private=False),
                                      valid_from=datetime.now(UTC) - timedelta(days=1))
    finally:
        await conn.close()
    return SignerKeys([signer])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.submissions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--records", type=int, default=5_000, help="bulk and baseline")
    parser.add_argument("--singles", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=16, help="single mutations")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=2, help="hub submit's --in-flight")
    parser.add_argument("--workers", type=int, default=2, help="hub processes")
    args = parser.parse_args(argv)

    databases = _databases(ensure_server(STATE_DIR), args.employees)
    asyncio.run(_prepare(databases, args.employees, args.seed))
    key = generate_signer_key("ES256")
    keys = asyncio.run(_register(databases, key))
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-submissions-"))
    key_file = folder / "agency.jwk"
    key_file.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    secret = asyncio.run(register_with_new_secrets(
        databases.national, {CLIENT: "benchmark agency"}))[CLIENT]

    ports = Ports()
    sandbox = start_sandbox(databases, ports)
    port = free_port()
    hub_process = start_hub(databases, ports, port, workers=args.workers, env={
        "HUB_GRAPHIQL": "0", "HUB_POLICY_WATCH": "0",
        **own_keys_env(port, folder), "HUB_TOKEN_LIFETIME_SECONDS": "3600"})
    hub = f"http://127.0.0.1:{port}"
    try:
        employees = asyncio.run(_employees(databases.national))
        print(f"signed submissions: {args.employees:,} employees ({len(employees):,} of Hà "
              f"Nội's that the bench client may change), {args.workers} hub worker(s)")
        # Warm up: pools, caches, code lists.
        asyncio.run(_singles(hub, secret, key, employees, 50, 4))

        single_rate, accepted, other = asyncio.run(_singles(
            hub, secret, key, employees, args.singles, args.concurrency))
        print(f"\nsingle   {single_rate:>9,.0f} submissions/s  ({accepted:,} accepted, "
              f"{other:,} not; {args.concurrency} concurrent clients)")

        bulk_rate, statuses = _bulk(hub, secret, key_file, employees, args.records,
                                    args.batch_size, args.in_flight, folder)
        print(f"bulk     {bulk_rate:>9,.0f} records/s      ({statuses}; hub submit, batches "
              f"of {args.batch_size}, {args.in_flight} in flight)")
    finally:
        stop(hub_process)
        stop(sandbox)
    employees = asyncio.run(_employees(databases.national))  # versions as they are now
    base_rate = asyncio.run(_baseline(databases.national, key, keys, employees, args.records,
                                      args.batch_size))
    print(f"baseline {base_rate:>9,.0f} records/s      (verify in process + UPDATE by hand, "
          f"one transaction per {args.batch_size})")
    print(f"\nratio single/baseline: {single_rate / base_rate:.3f}")
    print(f"ratio bulk/baseline:   {bulk_rate / base_rate:.3f}")
    print(f"bulk target 1,000 records/s: {'met' if bulk_rate >= 1000 else 'NOT met'} "
          f"({bulk_rate:,.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
