"""Read replicas against real PostgreSQL streaming replication: a private primary with the
seeded databases, a hot standby streaming from it, and a hub (a real process over HTTP, and
the adapter in-process) told to read from the standby.

What proves a read came from the standby: its replay is paused (``pg_wal_replay_pause()``), a
row is changed on the primary, and the answer still shows the standby's older view. No mocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from adapters import NationalDatabase
from adapters.replicas import ReplicaSet, ReplicaState, primary_reads
from hub.databases import DatabaseSet, create_databases
from hub.launcher import Ports, free_port, own_keys_env, start_hub, start_sandbox, stop
from hub.postgres_server import database_url
from tests.conftest import GraphQLClient, Tokens
from tests.replicas.clusters import StreamingPair
from tests.settings import TEST_DB_PREFIX

MAX_LAG = 8  # the hub's bound here: long enough to look at a paused standby, short to wait
EMPLOYEES, SEED = 300, 7

UNIT = "query($code: String!) { civilServant(employeeCode: $code) { unitName } }"
CONFLICTS = "{ syncConflicts(first: 100) { conflicts { id } } }"
DISMISS = """mutation($id: ID!) { resolveSyncConflict(id: $id, resolution: DISMISS) {
  id status } }"""


@dataclass
class World:
    pair: StreamingPair
    databases: DatabaseSet  # on the primary
    standby_national: str
    secrets: dict[str, str]

    async def execute(self, url: str, sql: str, *args: Any) -> Any:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    def on_primary(self, sql: str, *args: Any) -> Any:
        return asyncio.run(self.execute(self.databases.national, sql, *args))

    def on_standby(self, sql: str, *args: Any) -> Any:
        return asyncio.run(self.execute(self.standby_national, sql, *args))

    def caught_up(self) -> bool:
        """Has the standby replayed everything the primary has written?"""
        primary = self.on_primary("SELECT pg_current_wal_lsn()::text")
        return bool(self.on_standby("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
                                    primary))

    @contextlib.contextmanager
    def replay_paused(self) -> Iterator[None]:
        self.on_standby("SELECT pg_wal_replay_pause()")
        wait_for(lambda: self.on_standby("SELECT pg_get_wal_replay_pause_state()") == "paused",
                 "the standby's replay to pause")
        try:
            yield
        finally:
            self.on_standby("SELECT pg_wal_replay_resume()")

    def employee(self) -> str:
        return str(self.on_primary("SELECT employee_code FROM employee ORDER BY employee_code"
                                   " LIMIT 1"))

    def set_unit(self, code: str, unit: str) -> None:
        self.on_primary("UPDATE employee SET unit_name = $2 WHERE employee_code = $1", code, unit)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        outcome = condition()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def pair() -> Iterator[StreamingPair]:
    started = StreamingPair().start()
    try:
        yield started
    finally:
        started.close()


@pytest.fixture(scope="module")
def world(pair: StreamingPair) -> Iterator[World]:
    from hub.auth.clients import register_with_new_secrets
    from hub.policy.load import load_policy_dir
    from hub.seed import seed_all

    databases = DatabaseSet.on_server(pair.primary_url, f"{TEST_DB_PREFIX}_replicas")

    async def prepare() -> dict[str, str]:
        await create_databases(databases, recreate=True)
        await seed_all(databases, employees=EMPLOYEES, seed=SEED)
        policies = load_policy_dir()
        return await register_with_new_secrets(
            databases.national, {c: p.name for c, p in policies.clients.items()})

    secrets = asyncio.run(prepare())
    name = databases.national.rsplit("/", 1)[1]
    made = World(pair, databases, database_url(pair.standby_url, name), secrets)
    wait_for(made.caught_up, "the standby to replay the seeded databases", timeout=120)
    try:
        yield made
    finally:  # the databases go with the clusters; the seeded export folder is ours to remove
        shutil.rmtree(databases.file_drops, ignore_errors=True)


@dataclass
class Hub:
    url: str
    graphql: GraphQLClient

    def ready(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.url}/readyz", timeout=30).json()
        return body

    def replica(self) -> dict[str, Any]:
        [replica] = self.ready()["sources"]["national"]["replicas"]
        return dict(replica)

    def unit(self, code: str) -> str:
        return str(self.graphql.data(UNIT, {"code": code})["civilServant"]["unitName"])


@pytest.fixture(scope="module")
def hub(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    folder = tmp_path_factory.mktemp("replica-hub")
    ports = Ports()
    sandbox = start_sandbox(world.databases, ports)
    port = free_port()
    try:
        process = start_hub(world.databases, ports, port, env={
            "HUB_DATABASE_REPLICA_URLS": world.standby_national,
            "HUB_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG), "HUB_REPLICA_CHECK_SECONDS": "1",
            "HUB_AUDIT_KEY_FILE": str(folder / "audit.jwks"), "HUB_POLICY_WATCH": "0",
            **own_keys_env(port, folder)})
        try:
            url = f"http://127.0.0.1:{port}"
            made = Hub(url, GraphQLClient(url, Tokens(url, world.secrets)))
            wait_for(lambda: made.replica()["state"] == "in-rotation",
                     "the standby to join the rotation")
            yield made
        finally:
            stop(process)
    finally:
        stop(sandbox)


def in_rotation(hub: Hub, world: World) -> None:
    wait_for(world.caught_up, "the standby to catch up")
    wait_for(lambda: hub.replica()["state"] == "in-rotation", "the standby back in rotation")


# ---------------------------------------------------------------------- through the hub

def test_queries_read_the_replica_and_mutations_read_their_writes_on_the_primary(
        world: World, hub: Hub) -> None:
    in_rotation(hub, world)
    code = world.employee()
    before = hub.unit(code)
    agency = world.on_primary("SELECT code FROM agency ORDER BY code LIMIT 1")
    conflict = uuid.uuid4()
    hub.graphql.headers()  # a token now, not while the standby is paused
    with world.replay_paused():
        world.set_unit(code, "Phòng Tổ chức cán bộ (mới)")
        world.on_primary(
            "INSERT INTO sync_conflict (id, system, agency_code, kind, fields, national,"
            " agency, fingerprint) VALUES ($1, 'mof-hrmis', $2, 'identity', '[]', '{}', '{}',"
            " $3)", conflict, agency, f"replica-test-{conflict}")
        # The query is answered by the standby: its view is from before the change.
        assert hub.unit(code) == before
        listed = hub.graphql.data(CONFLICTS)["syncConflicts"]["conflicts"]
        assert str(conflict) not in {c["id"] for c in listed}
        # The mutation finds the conflict the standby does not have yet: it reads the primary.
        settled = hub.graphql.data(DISMISS, {"id": str(conflict)})["resolveSyncConflict"]
        assert settled == {"id": str(conflict), "status": "DISMISSED"}
        assert world.on_primary("SELECT status FROM sync_conflict WHERE id = $1",
                                conflict) == "dismissed"
        ready = hub.ready()
        assert ready["ready"] is True
        assert ready["sources"]["national"]["replicas"][0]["state"] == "in-rotation"
    # Replayed: the standby's answer is the new one.
    wait_for(lambda: hub.unit(code) == "Phòng Tổ chức cán bộ (mới)", "the change to replay")


def test_a_lagging_replica_leaves_the_rotation_until_it_catches_up(world: World,
                                                                   hub: Hub) -> None:
    in_rotation(hub, world)
    code = world.employee()
    hub.graphql.headers()
    with world.replay_paused():
        world.set_unit(code, "Văn phòng (lag)")
        lagging = wait_for(lambda: (r := hub.replica())["state"] == "lagging" and r,
                           "the standby to be taken out", timeout=MAX_LAG + 15)
        assert lagging["lagSeconds"] > MAX_LAG
        assert f"bound {MAX_LAG} s" in lagging["problem"]
        assert hub.ready()["ready"] is True  # the primary serves
        # Out of rotation: the primary answers, with the change the standby lacks.
        assert hub.unit(code) == "Văn phòng (lag)"
    in_rotation(hub, world)
    assert hub.replica()["lagSeconds"] <= 1.0
    # Back in rotation, reads go to the standby again (its view shows when paused anew).
    with world.replay_paused():
        world.set_unit(code, "Văn phòng (sau)")
        assert hub.unit(code) == "Văn phòng (lag)"
    wait_for(lambda: hub.unit(code) == "Văn phòng (sau)", "the change to replay")


def test_a_stopped_replica_fails_no_query_and_the_hub_stays_ready(world: World,
                                                                  hub: Hub) -> None:
    in_rotation(hub, world)
    code = world.employee()
    expected = hub.unit(code)
    world.pair.stop_standby()
    try:
        # Its pooled connections are dead: the reads they fail are answered by the primary.
        for _ in range(5):
            assert hub.unit(code) == expected
        ready = hub.ready()
        assert ready["ready"] is True
        [replica] = ready["sources"]["national"]["replicas"]
        assert replica["state"] == "unreachable"
        assert replica["problem"]
        credentials = world.standby_national.split("@")[0]  # postgresql://postgres:<password>
        assert credentials not in str(ready)
    finally:
        world.pair.start_standby()
    in_rotation(hub, world)
    assert hub.unit(code) == expected


# ---------------------------------------------------------------------- the adapter

@contextlib.asynccontextmanager
async def national(world: World, *replicas: str, max_lag: float = 30.0
                   ) -> AsyncIterator[NationalDatabase]:
    database = await NationalDatabase.open(
        world.databases.national, min_size=1, max_size=4, timeout=5.0, role="hub_runtime",
        replica_urls=replicas, max_lag_seconds=max_lag, check_seconds=1.0)
    try:
        yield database
    finally:
        await database.close()


async def _unit(database: NationalDatabase, code: str) -> str:
    [row] = await database.fetch_many("employee", "employee_code", [code], ["unit_name"])
    return str(row["unit_name"])


async def test_the_query_face_reads_the_standby_and_the_primary_face_the_primary(
        world: World) -> None:
    await asyncio.to_thread(wait_for, world.caught_up, "the standby to catch up")
    code = await asyncio.to_thread(world.employee)
    before = await _unit_on(world.standby_national, code)
    async with national(world, world.standby_national) as primary:
        queries = primary.for_queries()
        assert queries.replica_status()[0]["state"] == "in-rotation"
        # The standby's connections act as the hub's role too.
        [row] = await queries.read("SELECT current_user AS role, pg_is_in_recovery() AS standby",
                                   [])
        assert row == {"role": "hub_runtime", "standby": True}
        await asyncio.to_thread(world.on_standby, "SELECT pg_wal_replay_pause()")
        try:
            await asyncio.to_thread(wait_for, lambda: world.on_standby(
                "SELECT pg_get_wal_replay_pause_state()") == "paused", "the pause")
            await asyncio.to_thread(world.set_unit, code, "Phòng Kế hoạch (adapter)")
            assert await _unit(queries, code) == before  # the standby's view
            [counted] = await queries.read(
                "SELECT count(*) AS n FROM employee WHERE unit_name = $1",
                ["Phòng Kế hoạch (adapter)"])
            assert counted["n"] == 0
            assert await _unit(primary, code) == "Phòng Kế hoạch (adapter)"
            assert await _unit(queries.primary, code) == "Phòng Kế hoạch (adapter)"
            with primary_reads():
                assert await _unit(queries, code) == "Phòng Kế hoạch (adapter)"
            # `query` may write: it is the primary's on either face.
            [written] = await queries.query(
                "SELECT unit_name FROM employee WHERE employee_code = $1", [code])
            assert written["unit_name"] == "Phòng Kế hoạch (adapter)"
            assert await queries.count("employee", ()) == EMPLOYEES
        finally:
            await asyncio.to_thread(world.on_standby, "SELECT pg_wal_replay_resume()")


async def _unit_on(url: str, code: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval("SELECT unit_name FROM employee WHERE employee_code = $1",
                                       code))
    finally:
        await conn.close()


async def test_a_replica_down_at_start_up_is_noted_and_reads_go_to_the_primary(
        world: World) -> None:
    nowhere = database_url(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", "hub")
    async with national(world, nowhere, world.standby_national) as primary:
        queries = primary.for_queries()
        down, up = queries.replica_status()
        assert down["state"] == "unreachable"
        assert down["name"].startswith("127.0.0.1:")
        assert up["state"] == "in-rotation"
        code = await asyncio.to_thread(world.employee)
        for _ in range(6):  # only the standby in rotation is asked
            assert await _unit(queries, code)
    async with national(world, nowhere) as primary:
        assert await _unit(primary.for_queries(), await asyncio.to_thread(world.employee))


async def test_the_lag_bound_on_a_paused_standby_with_an_injected_clock(world: World) -> None:
    """The bound exactly: a real standby, paused behind a real write, judged at a clock set
    at, just under and just over the bound past the moment the write was first seen."""
    await asyncio.to_thread(wait_for, world.caught_up, "the standby to catch up")
    now = [0.0]
    bound = 30.0
    async with national(world) as primary:
        replica_pool = await asyncpg.create_pool(world.standby_national, min_size=1,
                                                 max_size=2)
        pools = iter([replica_pool])

        async def opener(url: str) -> asyncpg.Pool:
            return next(pools)

        # The primary's own pool, reached the way the adapter reaches it.
        replicas = ReplicaSet([world.standby_national], primary._pool, opener,
                              max_lag_seconds=bound, check_seconds=1.0, timeout=5.0,
                              clock=lambda: now[0])
        [replica] = replicas.replicas
        try:
            await replicas.check()
            assert (replica.state, replica.lag_seconds) == (ReplicaState.IN_ROTATION, 0.0)
            await asyncio.to_thread(world.on_standby, "SELECT pg_wal_replay_pause()")
            try:
                code = await asyncio.to_thread(world.employee)
                await asyncio.to_thread(world.set_unit, code, "Phòng (ranh giới)")
                now[0] = 100.0  # the write is first seen at 100
                await replicas.check()
                assert (replica.state, replica.lag_seconds) == (ReplicaState.IN_ROTATION, 0.0)
                for at, state in ((100.0 + bound - 0.001, ReplicaState.IN_ROTATION),
                                  (100.0 + bound, ReplicaState.IN_ROTATION),
                                  (100.0 + bound + 0.001, ReplicaState.LAGGING)):
                    now[0] = at
                    await replicas.check()
                    assert replica.lag_seconds == pytest.approx(at - 100.0)
                    assert replica.state is state, at
            finally:
                await asyncio.to_thread(world.on_standby, "SELECT pg_wal_replay_resume()")
            await asyncio.to_thread(wait_for, world.caught_up, "the standby to catch up")
            now[0] = 1_000.0
            await replicas.check()
            assert (replica.state, replica.lag_seconds) == (ReplicaState.IN_ROTATION, 0.0)
        finally:
            await replicas.close()

