"""The audit log under stress, each against a hub process of its own.

Failing closed: when the log refuses a record or does not answer, the answer is withheld (503
AUDIT_UNAVAILABLE, Retry-After) and holds nothing; once the log is back, a new chain starts
and answers flow again. Concurrency: two worker processes beside the session hub, under load,
each write a gapless hash chain, one record per operation, closed when the process stops.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from hub.audit.chain import genesis_hash, record_hash
from hub.auth.keys import SigningKeys
from hub.config import DEFAULT_AUDIT_KEY_FILE
from hub.databases import DatabaseSet
from hub.launcher import free_port, own_keys_env, start_hub, stop
from tests.conftest import Sandbox, Tokens
from tests.e2e.audit_records import answer_leaves, fetch_rows, record, records, run_sql

QUERY = """{ civilServants(first: 5, filter: {provinceCode: "01"}) { nodes { employeeCode
  personalId fullName birthDate person { currentAddress } } } }"""
WITHHELD = "AUDIT_UNAVAILABLE"


@dataclass
class OwnHub:
    url: str
    tokens: Tokens
    process: Any
    keys_dir: Path

    def post(self, body: Any, request: str, client: str = "moha-personnel-db",
             purpose: str = "administration", timeout: float = 30) -> httpx.Response:
        return httpx.post(f"{self.url}/graphql", json=body, timeout=timeout,
                          headers={**self.tokens.headers(client, purpose),
                                   "x-request-id": request})

    def readiness(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.url}/readyz", timeout=30).json()
        return body


def own_hub(databases: DatabaseSet, sandbox: Sandbox, client_secrets: dict[str, str],
            keys_dir: Path, workers: int = 1) -> Iterator[OwnHub]:
    port = free_port()
    process = start_hub(databases, sandbox.ports, port, workers=workers, env={
        "HUB_AUDIT_TIMEOUT_SECONDS": "1", "HUB_AUDIT_CHECKPOINT_SECONDS": "1",
        "HUB_EXPOSE_SOURCE_CALLS": "1",
        **own_keys_env(port, keys_dir)})
    url = f"http://127.0.0.1:{port}"
    try:
        yield OwnHub(url, Tokens(url, client_secrets), process, keys_dir)
    finally:
        stop(process, timeout=30)


@pytest.fixture(scope="module")
def hub(databases: DatabaseSet, sandbox_session: Sandbox, client_secrets: dict[str, str],
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnHub]:
    yield from own_hub(databases, sandbox_session, client_secrets,
                       tmp_path_factory.mktemp("audit-failures"))


def _request(stem: str) -> str:
    return f"e2e-{stem}-{uuid.uuid4().hex[:16]}"


def _normal_answer(hub: OwnHub, databases: DatabaseSet) -> tuple[dict[str, Any], str]:
    """The query answered while the log works: its values, and the chain it was recorded in."""
    request = _request("before")
    response = hub.post({"query": QUERY}, request)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["data"]["civilServants"]["nodes"], body
    return body, str(record(databases.national, request).columns["chain_id"])


def _withheld(response: httpx.Response, normal: dict[str, Any]) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit(), response.headers
    body = response.json()
    items = body if isinstance(body, list) else [body]
    for item in items:
        assert "data" not in item, item
        assert [e["extensions"]["code"] for e in item["errors"]] == [WITHHELD], item
    values = {v for v in answer_leaves(normal["data"]) if len(v) >= 4}
    assert values, "the normal answer has values to look for"
    leaked = [v for v in values if v in response.text]
    assert not leaked, f"a withheld answer shows {leaked}"


def _recovers(hub: OwnHub, databases: DatabaseSet, chain_before: str, *,
              new_chain: bool) -> None:
    """Answers flow again. After a write the database surely refused (rolled back), in the
    same chain; after one of unknown outcome (a timeout), in a new chain, the old one closed
    by a signed checkpoint at the head the database really holds."""
    request = _request("after")
    response = hub.post({"query": QUERY}, request)
    assert response.status_code == 200, response.text
    entry = record(databases.national, request)
    chain = str(entry.columns["chain_id"])
    if not new_chain:
        assert chain == chain_before, "a surely rolled-back write need not end the chain"
    else:
        assert chain != chain_before, "the chain whose write may have committed must end"
        opened = fetch_rows(databases.national,
                            "SELECT count(*) AS n FROM audit_checkpoint WHERE kind = 'open' "
                            "AND heads ? $1", chain)
        assert opened[0]["n"] == 1, f"chain {chain} has no 'open' checkpoint"
        first = fetch_rows(databases.national, "SELECT min(seq) AS seq FROM audit_record "
                                               "WHERE chain_id = $1::uuid", chain)
        assert first[0]["seq"] == 1
        closed = fetch_rows(databases.national,
                            "SELECT heads->$1 AS head FROM audit_checkpoint "
                            "WHERE kind = 'close' AND heads ? $1", chain_before)
        assert len(closed) == 1, f"the abandoned chain {chain_before} was not closed"
        last = fetch_rows(databases.national, "SELECT seq, hash FROM audit_record WHERE "
                                              "chain_id = $1::uuid ORDER BY seq DESC LIMIT 1",
                          chain_before)
        assert json.loads(closed[0]["head"]) == [last[0]["seq"], bytes(last[0]["hash"]).hex()]
    readiness = hub.readiness()
    assert readiness["audit"]["ok"] is True, readiness
    assert readiness["audit"]["chain"] == chain


def test_a_log_refusing_writes_withholds_the_answer(hub: OwnHub, databases: DatabaseSet,
                                                    sandbox: Sandbox) -> None:
    normal, chain_before = _normal_answer(hub, databases)
    assert hub.readiness()["audit"]["ok"] is True
    opened_before = _open_checkpoints(databases)
    request = _request("revoked")
    run_sql(databases.national, "REVOKE INSERT ON audit_record FROM hub_runtime")
    try:
        response = hub.post({"query": QUERY}, request)
        _withheld(response, normal)
        assert response.json()["errors"][0]["extensions"]["requestId"] == request
        # The readiness check says the log is failing, and why.
        readiness = hub.readiness()
        assert readiness["ready"] is False
        assert readiness["audit"]["ok"] is False, readiness
        assert "permission" in (readiness["audit"]["lastError"] or "").lower(), readiness
        # A batch during the outage: every operation withheld.
        batch = hub.post([{"query": QUERY}, {"query": "{ ranks { code } }"}], _request("batch"))
        _withheld(batch, normal)
        assert len(batch.json()) == 2
    finally:
        run_sql(databases.national, "GRANT INSERT ON audit_record TO hub_runtime")
    assert records(databases.national, request) == [], "a withheld answer has no record"
    assert _open_checkpoints(databases) == opened_before
    _recovers(hub, databases, chain_before, new_chain=False)


def test_a_log_that_hangs_withholds_the_answer_in_time(hub: OwnHub, databases: DatabaseSet,
                                                       sandbox: Sandbox) -> None:
    normal, chain_before = _normal_answer(hub, databases)
    request = _request("locked")

    async def locked() -> tuple[httpx.Response, float, dict[str, Any], httpx.Response]:
        conn = await asyncpg.connect(databases.national)
        try:
            transaction = conn.transaction()
            await transaction.start()
            try:
                await conn.execute("LOCK TABLE audit_record IN ACCESS EXCLUSIVE MODE")
                async with httpx.AsyncClient(timeout=60) as http:
                    headers = {**hub.tokens.headers("moha-personnel-db", "administration"),
                               "x-request-id": request}
                    started = time.monotonic()
                    response = await http.post(f"{hub.url}/graphql", json={"query": QUERY},
                                               headers=headers)
                    elapsed = time.monotonic() - started
                    readiness = (await http.get(f"{hub.url}/readyz")).json()
                    batch = await http.post(
                        f"{hub.url}/graphql", json=[{"query": QUERY}, {"query": QUERY}],
                        headers={**headers, "x-request-id": _request("locked-batch")})
                return response, elapsed, readiness, batch
            finally:
                await transaction.rollback()
        finally:
            await conn.close()

    response, elapsed, readiness, batch = asyncio.run(locked())
    _withheld(response, normal)
    # HUB_AUDIT_TIMEOUT_SECONDS=1: the write gives up after a second (the wait behind other
    # writes after three); generously bounded here.
    assert elapsed < 10, f"the withheld answer took {elapsed:.1f} s"
    assert readiness["audit"]["ok"] is False, readiness
    _withheld(batch, normal)
    assert records(databases.national, request) == []
    _recovers(hub, databases, chain_before, new_chain=True)


def _open_checkpoints(databases: DatabaseSet) -> int:
    rows = fetch_rows(databases.national,
                      "SELECT count(*) AS n FROM audit_checkpoint WHERE kind = 'open'")
    return int(rows[0]["n"])


# -- concurrency -------------------------------------------------------------------------------

MIXED = [
    {"query": "{ civilServants(first: 3) { nodes { personalId fullName agency { name } } } }"},
    {"query": "query($n: Int) { civilServants(first: $n) { nodes { employeeCode person { "
              "fullName } } } }", "variables": {"n": 2}},
    {"query": "{ ranks { code name } }"},
    {"query": "{ civilServants(first: 1) { nodes { nosuchfield } } }"},  # refused
    [{"query": "{ provinces { code } }"}, {"query": "{ agencies { code } }"}],  # a batch of 2
]


def _load(url: str, tokens: Tokens, prefix: str, threads: int, seconds: float
          ) -> dict[str, int]:
    """Mixed queries from ``threads`` threads for ``seconds``: request id -> operations."""
    headers = tokens.headers("moha-personnel-db", "administration")  # one token, fetched once
    sent: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(number: int) -> None:
        with httpx.Client(timeout=60) as http:
            for n in itertools.count():
                if time.monotonic() > deadline:
                    return
                body = MIXED[(number + n) % len(MIXED)]
                request = f"{prefix}-{number}-{n}"
                response = http.post(f"{url}/graphql", json=body,
                                     headers={**headers, "x-request-id": request})
                assert response.status_code in (200, 400), response.text
                with lock:
                    sent[request] = len(body) if isinstance(body, list) else 1

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker, i) for i in range(threads)]:
            future.result()
    return sent


def _wait_for_workers(url: str, workers: int, seconds: float = 60) -> None:
    """Until each worker answers (its own chain in /readyz): the launcher waits for one."""
    chains: set[str] = set()
    deadline = time.monotonic() + seconds
    while len(chains) < workers:
        assert time.monotonic() < deadline, f"only {len(chains)} worker(s) came up"
        with httpx.Client(timeout=30) as fresh:  # a new connection, to whichever worker
            chain = fresh.get(f"{url}/readyz").json()["audit"]["chain"]
        if chain is not None:
            chains.add(chain)


def _check_chain(databases: DatabaseSet, chain: str) -> list[dict[str, Any]]:
    """The chain's records, checked: seq from 1 without gaps, each linked to the one before
    by its hash, recomputed from the stored entry."""
    rows = fetch_rows(databases.national,
                      "SELECT seq, entry::text AS entry, prev_hash, hash FROM audit_record "
                      "WHERE chain_id = $1::uuid ORDER BY seq", chain)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1)), f"gaps in {chain}"
    previous = genesis_hash(uuid.UUID(chain))
    for row in rows:
        entry = json.loads(row["entry"])
        assert entry["chain"] == chain
        assert entry["seq"] == row["seq"]
        assert bytes(row["prev_hash"]) == previous, f"{chain} seq {row['seq']}: broken link"
        assert record_hash(previous, entry) == bytes(row["hash"]), (
            f"{chain} seq {row['seq']}: the hash does not match the entry")
        previous = bytes(row["hash"])
    return rows


def _chains_of(databases: DatabaseSet, prefix: str) -> dict[str, int]:
    rows = fetch_rows(databases.national,
                      "SELECT chain_id::text AS chain, count(*) AS n FROM audit_record "
                      "WHERE entry->>'request' LIKE $1 GROUP BY chain_id", f"{prefix}-%")
    return {r["chain"]: int(r["n"]) for r in rows}


def _readable_keys(path: Path) -> SigningKeys | None:
    try:
        return SigningKeys.load(path)
    except RuntimeError:  # another test's deliberately broken key file
        return None


def _key_finder(files: list[Path]) -> Any:
    keys = [k for f in files if f.exists() and (k := _readable_keys(f)) is not None]

    def find(kid: str) -> Any:
        return next((found for k in keys if (found := k.find(kid)) is not None), None)

    return find


def test_concurrent_writers_keep_gapless_chains(
        databases: DatabaseSet, sandbox_session: Sandbox, client_secrets: dict[str, str],
        hub_url: str, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory) -> None:
    run = uuid.uuid4().hex[:8]
    keys_dir = tmp_path_factory.mktemp("audit-concurrency")
    started = own_hub(databases, sandbox_session, client_secrets, keys_dir, workers=2)
    two = next(started)
    try:
        _wait_for_workers(two.url, 2)
        with ThreadPoolExecutor(2) as both:
            on_two = both.submit(_load, two.url, two.tokens, f"e2e-c{run}-two", 16, 2.0)
            on_session = both.submit(_load, hub_url, tokens, f"e2e-c{run}-one", 4, 2.0)
            sent_two, sent_session = on_two.result(), on_session.result()
    finally:
        next(started, None)  # stops the hub: each worker closes its chain
    chains_two = _chains_of(databases, f"e2e-c{run}-two")
    chains_session = _chains_of(databases, f"e2e-c{run}-one")
    # One record per operation (a batch's operations one each), none lost, none doubled.
    assert sum(chains_two.values()) == sum(sent_two.values()) >= 16
    assert sum(chains_session.values()) == sum(sent_session.values()) > 0
    assert len(chains_two) >= 2, f"both workers should have answered: {chains_two}"
    assert not set(chains_two) & set(chains_session)
    for chain in [*chains_two, *chains_session]:
        rows = _check_chain(databases, chain)
        if chain in chains_two:
            # The stopped process stated its chain's final head.
            closed = fetch_rows(databases.national,
                                "SELECT heads->$1 AS head FROM audit_checkpoint "
                                "WHERE kind = 'close' AND heads ? $1", chain)
            assert len(closed) == 1, f"chain {chain} was not closed"
            seq, head = json.loads(closed[0]["head"])
            assert (seq, head) == (rows[-1]["seq"], bytes(rows[-1]["hash"]).hex())
    # Every hub of the test session signs with the default audit key.
    _verify_everything(databases, [DEFAULT_AUDIT_KEY_FILE])


def _verify_everything(databases: DatabaseSet, key_files: list[Path]) -> None:
    """hub/audit/verify.py over the whole log, with the keys of every hub the test session
    started (the session hub's, these tests' own, and any other test's hub)."""
    verify = pytest.importorskip("hub.audit.verify")
    find_key = _key_finder(sorted(set(key_files)))

    async def run() -> Any:
        conn = await asyncpg.connect(databases.national)
        try:
            return await verify.verify_log(conn, find_key)
        finally:
            await conn.close()

    report = asyncio.run(run())
    assert report.records > 0, report
    assert report.chains >= 3, report
    assert report.ok, "\n".join(p.describe() for p in report.problems[:20])
