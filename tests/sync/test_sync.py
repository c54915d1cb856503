"""``hub sync`` end to end: seeded agency systems with known drift (their ``seed_drift`` ground
truth), the sandbox over real HTTP, the command as a user runs it, and a real PostgreSQL.

Each kind of injected difference is applied or queued as it should be; a rerun changes
nothing; a run killed midway and rerun ends exactly where an uninterrupted run ends; the
review queue reads back through the hub under each reader's policy, and its resolutions take
effect; the server's schedule synchronises on its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from hub.databases import DatabaseSet, create_databases
from hub.launcher import Ports, free_port, own_keys_env, start_hub, start_sandbox, stop
from hub.seed import seed_all
from hub.seed.agency_systems import DRIFT_KINDS
from tests.conftest import Tokens
from tests.settings import TEST_DB_PREFIX

EMPLOYEES, SEED = 4_000, 11
# Each synchronised system, and the database holding its data and its seed_drift: a REST
# change feed, a GraphQL one, a database read directly, CSV exports dropped in a folder.
SYSTEMS = {"mof-hrmis": "agency_rest", "hanoi-hrm": "agency_graphql",
           "moh-hris": "agency_database", "danang-hrm": "agency_file_drop"}
# What becomes of each kind of drift: (outcome, status of the sync item), or None when the
# national database does not keep what differs (nothing is found).
EXPECTED: dict[str, tuple[str, str] | None] = {
    "position_changed": ("changed", "applied"),
    "new_hire": ("new", "applied"),
    "discipline_missing": ("new", "applied"),
    "misspelt_name": ("conflict", "queued"),
    "duplicate_person": ("conflict", "queued"),
    "invalid_coefficient": ("invalid", "reported"),
    "unknown_code": ("invalid", "reported"),
    "pending_discipline": None,
    "stale_address": None,
}


@dataclass
class World:
    """Seeded databases, their sandbox and what ``hub sync`` needs to run against them."""

    databases: DatabaseSet
    ports: Ports
    env: dict[str, str]
    sandbox: Any

    def sync(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "hub", "sync", *args], env=self.env,
                              capture_output=True, text=True, timeout=600)
        if check:
            assert done.returncode == 0, done.stderr[-3000:]
        return done

    def query(self, database: str, sql: str, *args: Any) -> list[dict[str, Any]]:
        async def run() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(getattr(self.databases, database))
            try:
                return [dict(r) for r in await conn.fetch(sql, *args)]
            finally:
                await conn.close()

        return asyncio.run(run())


def _world(server_url: str, name: str, folder: Path) -> World:
    databases = DatabaseSet.on_server(server_url, f"{TEST_DB_PREFIX}_{name}")

    async def prepare() -> None:
        await create_databases(databases, recreate=True)
        await seed_all(databases, employees=EMPLOYEES, seed=SEED)

    asyncio.run(prepare())
    ports = Ports()
    sandbox = start_sandbox(databases, ports)
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HUB_DATABASE_URL": databases.national, **ports.source_env(),
           **databases.source_env(),
           **own_keys_env(free_port(), folder), "HUB_SYNC_KEY_DIR": str(folder / "sync"),
           "HUB_AUDIT_KEY_FILE": str(folder / "audit.jwk"), "HUB_POLICY_WATCH": "0"}
    world = World(databases, ports, env, sandbox)
    for system in SYSTEMS:
        world.sync("keygen", system)
    return world


@pytest.fixture(scope="module")
def world(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    made = _world(server_url, "sync", tmp_path_factory.mktemp("sync"))
    try:
        yield made
    finally:
        stop(made.sandbox)


def snapshot(world: World) -> dict[str, Any]:
    """The national database's content that synchronisation may change, without times and
    generated ids: equal snapshots mean the same end state."""
    return {
        "employees": world.query(
            "national", "SELECT employee_code, personal_id, full_name, agency_code,"
            " position_code, rank_code, salary_step, salary_coefficient, version FROM employee"
            " ORDER BY employee_code"),
        "disciplines": world.query(
            "national", "SELECT employee_code, decision_number, form_code, decided_on,"
            " effective_from, effective_to FROM discipline ORDER BY employee_code,"
            " decision_number"),
        "accepted": world.query(
            "national", "SELECT kind, employee_code, count(*) AS n FROM submission"
            " WHERE status = 'accepted' GROUP BY 1, 2 ORDER BY 1, 2"),
        "versions": world.query("national", "SELECT count(*) AS n FROM record_version"),
        "conflicts": world.query(
            "national", "SELECT system, fingerprint, kind, status, personal_id"
            " FROM sync_conflict ORDER BY system, fingerprint"),
    }


def _report(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {r["system"]: r for r in json.loads(done.stdout)}


FIRST: dict[str, Any] = {}


def test_each_kind_of_drift_is_applied_queued_or_reported(world: World) -> None:
    reports = _report(world.sync(*SYSTEMS, "--json"))
    FIRST["snapshot"] = snapshot(world)
    kinds: set[str] = set()
    for system, database in SYSTEMS.items():
        report = reports[system]
        assert report["status"] == "completed", report
        drift = world.query(database, "SELECT personal_id, kind, detail FROM seed_drift")
        kinds |= {d["kind"] for d in drift}
        items = world.query("national", "SELECT personal_id, outcome, status, kind, reasons,"
                                        " employee_code FROM sync_item WHERE system = $1",
                            system)
        by_pid: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_pid.setdefault(item["personal_id"], []).append(item)
        for d in drift:
            found = by_pid.get(d["personal_id"], [])
            expected = EXPECTED[d["kind"]]
            where = f"{system} {d['kind']} {d['personal_id']} ({d['detail']}): {found}"
            if expected is None:
                assert found == [], where
                continue
            assert [(i["outcome"], i["status"]) for i in found] == [expected], where
        # nothing else differs: every difference found is a drift the seed injected
        drifted = {d["personal_id"] for d in drift}
        assert set(by_pid) <= drifted, set(by_pid) - drifted
        _check_effects(world, system, database, drift, items)
    assert kinds == set(DRIFT_KINDS), "the seed drifts every kind"


def _check_effects(world: World, system: str, database: str, drift: list[dict[str, Any]],
                   items: list[dict[str, Any]]) -> None:
    by_kind: dict[str, set[str]] = {kind: set() for kind in DRIFT_KINDS}
    for d in drift:
        by_kind.setdefault(d["kind"], set()).add(d["personal_id"])
    national = {r["personal_id"]: r for r in world.query(
        "national", "SELECT personal_id, employee_code, full_name, position_code, rank_code,"
        " salary_step, updated_by FROM employee WHERE personal_id = ANY($1::text[])",
        sorted({d["personal_id"] for d in drift}))}
    # new hires are registered under the system's prefix; a promotion or step is taken
    prefix = {"mof-hrmis": "BTC", "hanoi-hrm": "HN", "moh-hris": "BYT", "danang-hrm": "DN"}[system]
    for pid in by_kind["new_hire"]:
        assert national[pid]["employee_code"].startswith(prefix)
    moved = [i for i in items if i["kind"] == "position-change" and i["status"] == "applied"]
    assert {i["personal_id"] for i in moved} == by_kind["position_changed"]
    # a misspelt name stays as verified; the conflict shows both
    conflicts = {(c["personal_id"], c["kind"]) for c in world.query(
        "national", "SELECT personal_id, kind FROM sync_conflict WHERE system = $1", system)}
    for pid in by_kind["misspelt_name"]:
        assert (pid, "identity") in conflicts
    for pid in by_kind["duplicate_person"]:
        assert (pid, "duplicate") in conflicts
        assert pid not in national  # never registered a second time
    if "discipline_missing" in by_kind:
        held = {r["personal_id"] for r in world.query(
            "national", "SELECT e.personal_id FROM discipline d JOIN employee e"
            " USING (employee_code) WHERE d.updated_by = $1", system)}
        assert by_kind["discipline_missing"] <= held
    reasons = {i["personal_id"]: i["reasons"] for i in items if i["outcome"] == "invalid"}
    for pid in by_kind["invalid_coefficient"]:
        assert "NOT_ON_LADDER" in reasons[pid]
    for pid in by_kind["unknown_code"]:
        assert "UNKNOWN_CODE" in reasons[pid]


def test_a_rerun_changes_nothing(world: World) -> None:
    assert "snapshot" in FIRST, "runs after the first synchronisation"
    reports = _report(world.sync(*SYSTEMS, "--json"))
    assert all(r["counts"].get("applied", 0) == 0 for r in reports.values())
    assert snapshot(world) == FIRST["snapshot"]
    # from the beginning again: every record compared anew, nothing applied or added twice
    reports = _report(world.sync("--all", "--full", "--json"))
    assert all(r["status"] == "completed" for r in reports.values())
    assert all(r["counts"].get("applied", 0) == 0 for r in reports.values())
    assert snapshot(world) == FIRST["snapshot"]


def test_each_page_is_audited_with_the_people_looked_up(world: World) -> None:
    rows = world.query("national", "SELECT client_id, purpose, subject_ids, entry"
                                   " FROM audit_record WHERE client_id = ANY($1::text[])",
                       list(SYSTEMS))
    assert rows
    assert {r["purpose"] for r in rows} == {"synchronisation"}
    hires = {r["personal_id"] for r in world.query(
        "national", "SELECT personal_id FROM sync_item WHERE kind = 'register-employee'"
                    " AND status = 'applied'")}
    named = {s for r in rows for s in r["subject_ids"]}
    assert hires
    assert hires <= named


def test_a_run_killed_midway_ends_where_an_uninterrupted_run_ends(
        server_url: str, tmp_path_factory: pytest.TempPathFactory, world: World) -> None:
    assert "snapshot" in FIRST, "compares with the first synchronisation"
    twin = _world(server_url, "sync_killed", tmp_path_factory.mktemp("killed"))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "sync", *SYSTEMS, "--page-size", "7"],
            env=twin.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            kept = twin.query("national", "SELECT count(*) AS n FROM sync_item")[0]["n"]
            if kept >= 10:
                break
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        interrupted = snapshot(twin)
        assert interrupted != FIRST["snapshot"], "killed before the end"
        twin.sync(*SYSTEMS, "--page-size", "7")
        # the interrupted run was recorded as such when the next one started
        statuses = [r["status"] for r in twin.query(
            "national", "SELECT status FROM sync_run ORDER BY started_at")]
        assert "running" not in statuses
        assert snapshot(twin) == FIRST["snapshot"]
    finally:
        stop(twin.sandbox)


# ----------------------------------------------------------------------- the review queue

@dataclass
class Hub:
    url: str
    tokens: Tokens

    def graphql(self, client: str, purpose: str, query: str,
                variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/graphql", json={
            "query": query, "variables": variables or {}},
            headers=self.tokens.headers(client, purpose), timeout=30)
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def hub(world: World) -> Iterator[Hub]:
    from hub.auth.clients import register_with_new_secrets
    from hub.policy.load import load_policy_dir

    policies = load_policy_dir()
    secrets = asyncio.run(register_with_new_secrets(
        world.databases.national, {c: p.name for c, p in policies.clients.items()}))
    port = int(world.env["HUB_AUTH_ISSUER"].rsplit(":", 1)[1])
    env = {k: v for k, v in world.env.items() if k.startswith(("HUB_", "AGENCY_", "POP"))}
    env["HUB_SYNC_INTERVAL_SECONDS"] = "1"
    env["HUB_QUALITY_INTERVAL_SECONDS"] = "3600"
    process = start_hub(world.databases, world.ports, port, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        yield Hub(url, Tokens(url, secrets))
    finally:
        stop(process)


CONFLICTS = """query($status: SyncConflictStatus, $after: String) {
  syncConflicts(first: 100, status: $status, after: $after) {
    conflicts { id system kind status agencyCode employeeCode personalId canTakeAgency
      differences { field national agency } national { fullName version }
      agencyRecord { fullName localId } resolutionOutcome { status reasons { code } } }
    pageInfo { hasNextPage endCursor } } }"""


def test_reviewers_read_the_queue_under_their_policies(world: World, hub: Hub) -> None:
    everything = hub.graphql("moha-personnel-db", "administration", CONFLICTS)
    conflicts = everything["data"]["syncConflicts"]["conflicts"]
    assert {c["system"] for c in conflicts} == set(SYSTEMS)
    identity = next(c for c in conflicts if c["kind"] == "IDENTITY")
    [difference] = identity["differences"]
    assert difference["field"] == "full_name"
    assert difference["national"] == identity["national"]["fullName"]
    assert difference["agency"] == identity["agencyRecord"]["fullName"]
    assert identity["canTakeAgency"] is False
    # the city's department sees its own agencies' conflicts only
    city = hub.graphql("hanoi-doha", "personnel-management", CONFLICTS)
    mine = city["data"]["syncConflicts"]["conflicts"]
    assert mine
    assert {c["system"] for c in mine} == {"hanoi-hrm"}
    assert all(c["agencyCode"].endswith(".H01") for c in mine)
    # paging through gives each conflict once
    page = hub.graphql("moha-personnel-db", "administration",
                       CONFLICTS.replace("first: 100", "first: 2"))["data"]["syncConflicts"]
    assert len(page["conflicts"]) == 2
    assert page["pageInfo"]["hasNextPage"]
    following = hub.graphql("moha-personnel-db", "administration",
                            CONFLICTS.replace("first: 100", "first: 2"),
                            {"after": page["pageInfo"]["endCursor"]})["data"]["syncConflicts"]
    assert not {c["id"] for c in following["conflicts"]} & {c["id"] for c in page["conflicts"]}
    # others have no such field at all
    refused = hub.graphql("mof-payroll", "salary-budget", "{ syncConflicts { conflicts { id } } }")
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" or \
        "syncConflicts" in refused["errors"][0]["message"]
    # reading the queue is audited against the people it shows
    audited = world.query("national", "SELECT subject_ids FROM audit_record"
                                      " WHERE client_id = 'hanoi-doha'")
    assert any(set(c["personalId"] for c in mine) <= set(r["subject_ids"]) for r in audited)


@pytest.mark.parametrize("variables", [{"after": "bogus"}, {"after": "x" * 500},
                                       {"status": "NOPE"}])
def test_malformed_arguments_are_bad_input(hub: Hub, variables: dict[str, Any]) -> None:
    answer = hub.graphql("moha-personnel-db", "administration", CONFLICTS, variables)
    assert answer["errors"]
    assert answer["errors"][0]["extensions"]["code"] in {"BAD_USER_INPUT",
                                                         "GRAPHQL_VALIDATION_FAILED"}
    bad_code = hub.graphql("moha-personnel-db", "administration",
                           '{ syncConflicts(agencyCode: "../x") { conflicts { id } } }')
    assert bad_code["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_resolutions_keep_the_national_file_or_take_the_agencys_version(
        world: World, hub: Hub) -> None:
    identity = world.query("national", "SELECT id FROM sync_conflict WHERE kind = 'identity'"
                                       " AND status = 'open' LIMIT 1")[0]["id"]
    refused = world.sync("resolve", str(identity), "--take-agency", "--by", "reviewer",
                         check=False)
    assert refused.returncode == 1
    assert "cannot take" in refused.stderr
    world.sync("resolve", str(identity), "--keep-national", "--by", "Nguyễn Văn Kiểm",
               "--note", "the agency corrects the name")
    again = world.sync("resolve", str(identity), "--dismiss", "--by", "x", check=False)
    assert again.returncode == 1
    assert "already settled" in again.stderr
    for hostile in (["--by", ""], ["--by", "a\x07b"], ["--by", "x" * 201]):
        other = world.query("national", "SELECT id FROM sync_conflict WHERE status = 'open'"
                                        " LIMIT 1")[0]["id"]
        done = world.sync("resolve", str(other), "--dismiss", *hostile, check=False)
        assert done.returncode == 1, hostile
    assert world.sync("resolve", "not-a-uuid", "--dismiss", "--by", "x",
                      check=False).returncode == 2
    # a step the agency recorded before the national file's last change: national-newer
    employee, national = _national_newer(world, 0)
    [conflict] = world.query("national", "SELECT id, kind, proposed FROM sync_conflict"
                                         " WHERE personal_id = $1", employee["so_cccd"])
    assert conflict["kind"] == "national-newer"
    world.sync("resolve", str(conflict["id"]), "--take-agency", "--by", "reviewer")
    world.sync("mof-hrmis")
    after = world.query("national", "SELECT salary_step, version FROM employee"
                                    " WHERE personal_id = $1", employee["so_cccd"])[0]
    assert after == {"salary_step": national["salary_step"] + 1,
                     "version": national["version"] + 1}
    settled = hub.graphql("moha-personnel-db", "administration", CONFLICTS,
                          {"status": "TAKEN_AGENCY"})["data"]["syncConflicts"]["conflicts"]
    assert [c["resolutionOutcome"]["status"] for c in settled
            if c["personalId"] == employee["so_cccd"]] == ["accepted"]


def test_the_server_synchronises_on_its_schedule(world: World, hub: Hub) -> None:
    [employee] = world.query(
        "agency_graphql", "SELECT staff_id, citizen_id, pay_step FROM staff"
        " WHERE pay_step < 4 AND pending_discipline IS NULL ORDER BY staff_id LIMIT 1")
    national = world.query("national", "SELECT rank_code, salary_step, version FROM employee"
                                       " WHERE personal_id = $1", employee["citizen_id"])[0]
    ladder = world.query("national", "SELECT coefficient FROM salary_ladder WHERE rank_code = $1"
                                     " AND step = $2", national["rank_code"],
                         national["salary_step"] + 1)[0]["coefficient"]
    world.query("agency_graphql", "UPDATE staff SET pay_step = $2, pay_coefficient = $3,"
                                  " modified_at = $4 WHERE staff_id = $1",
                employee["staff_id"], national["salary_step"] + 1, ladder, datetime.now(UTC))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        step = world.query("national", "SELECT salary_step FROM employee WHERE personal_id = $1",
                           employee["citizen_id"])[0]["salary_step"]
        if step == national["salary_step"] + 1:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the scheduled synchronisation did not take the change")
    runs = world.query("national", "SELECT status FROM sync_run WHERE system = 'hanoi-hrm'"
                                   " AND status = 'completed'")
    assert len(runs) >= 2


def test_the_server_measures_data_quality_once_per_interval(world: World, hub: Hub) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = world.query("national", "SELECT status, measures FROM quality_run")
        if runs and runs[0]["status"] != "running":
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the scheduled measurement did not run")
    assert [r["status"] for r in runs] == ["completed"]  # one per hour, not one per check
    assert runs[0]["measures"] > 0
    answer = hub.graphql("moha-personnel-db", "administration",
                         '{ dataQuality(agencyCode: "G02") { latest { dimension source '
                         'score } } }')
    assert {m["dimension"] for m in answer["data"]["dataQuality"]["latest"]} >= {
        "COMPLETENESS", "VALIDITY", "UNIQUENESS", "CONSISTENCY", "TIMELINESS"}


RESOLVE = """mutation($id: ID!, $resolution: SyncResolution!, $note: String) {
  resolveSyncConflict(id: $id, resolution: $resolution, note: $note) {
    id status resolvedBy resolutionNote canTakeAgency } }"""


def test_reviewers_settle_conflicts_through_graphql_within_their_scope(
        world: World, hub: Hub) -> None:
    open_ones = world.query("national", "SELECT id, system, kind FROM sync_conflict"
                                        " WHERE status = 'open' AND kind IN ('identity',"
                                        " 'duplicate') ORDER BY detected_at, id")
    city = next(c for c in open_ones if c["system"] == "hanoi-hrm")
    ministry = next(c for c in open_ones if c["system"] == "mof-hrmis")

    def settle(client: str, purpose: str, **variables: Any) -> dict[str, Any]:
        return hub.graphql(client, purpose, RESOLVE, variables)

    refused = settle("hanoi-doha", "personnel-management", id=str(city["id"]),
                     resolution="TAKE_AGENCY")
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    done = settle("hanoi-doha", "personnel-management", id=str(city["id"]),
                  resolution="KEEP_NATIONAL", note="sửa tên trong hệ thống của Sở")
    assert done["data"]["resolveSyncConflict"] == {
        "id": str(city["id"]), "status": "KEPT_NATIONAL", "resolvedBy": "hanoi-doha",
        "resolutionNote": "sửa tên trong hệ thống của Sở", "canTakeAgency": False}
    again = settle("hanoi-doha", "personnel-management", id=str(city["id"]),
                   resolution="DISMISS")
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    # another authority's conflict does not exist for the city
    outside = settle("hanoi-doha", "personnel-management", id=str(ministry["id"]),
                     resolution="DISMISS")
    assert outside["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert world.query("national", "SELECT status FROM sync_conflict WHERE id = $1",
                       ministry["id"])[0]["status"] == "open"
    for hostile in ("", "not-a-uuid", "' OR 1=1 --", "x" * 10_000):
        bad = settle("moha-personnel-db", "administration", id=hostile, resolution="DISMISS")
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", hostile
    long_note = settle("moha-personnel-db", "administration", id=str(ministry["id"]),
                       resolution="DISMISS", note="x" * 2_001)
    assert long_note["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # a client that reviews nothing has no such mutation
    none = hub.graphql("mof-hrmis", "synchronisation", RESOLVE,
                       {"id": str(ministry["id"]), "resolution": "DISMISS"})
    assert none["errors"]
    assert world.query("national", "SELECT status FROM sync_conflict WHERE id = $1",
                       ministry["id"])[0]["status"] == "open"


@pytest.mark.parametrize(("args", "message"), [
    ((), "name a system"),
    (("no-such-system",), "neither a synchronised agency system"),
    (("999.99.99.G99",), "neither a synchronised agency system"),
    (("mof-hrmis", "--page-size", "0"), "--page-size"),
    (("mof-hrmis", "--page-size", "5000"), "--page-size"),
    (("--all", "--processes", "0"), "--processes"),
    (("keygen", "no-such-system"), "neither a synchronised agency system"),
])
def test_wrong_questions_are_usage_errors(world: World, args: tuple[str, ...],
                                          message: str) -> None:
    done = world.sync(*args, check=False)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_an_agency_code_names_the_system_serving_it(world: World) -> None:
    reports = _report(world.sync("000.00.01.H01", "--json"))
    assert list(reports) == ["hanoi-hrm"]
    assert reports["hanoi-hrm"]["status"] == "completed"


def test_rows_of_an_export_that_cannot_be_read_are_reported(world: World) -> None:
    folder = Path(world.databases.file_drops)
    [latest] = sorted(folder.glob("nhansu_*.csv"))[-1:]
    text = latest.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0]
    width = header.count(",") + 1
    lines = [
        "too,few,cells",
        # a well-formed row but for a birth date no calendar has
        ",".join(["DN99999999", "049092599262", "Nguyễn Văn Sai", "31/02/1990", "Nam"]
                 + [""] * (width - 5)),
    ]
    newer = folder / "nhansu_20261120T080000.csv"
    partial = folder / "nhansu_20261120T080000.csv.part"
    partial.write_text(text + "\n".join(lines) + "\n", encoding="utf-8-sig")
    partial.rename(newer)  # complete when its name is final, as the agency's job does
    try:
        # this run, or the server's schedule if it got there first, takes the export in
        report = _report(world.sync("danang-hrm", "--json"))["danang-hrm"]
        assert report["status"] == "completed", report
        items = world.query("national", "SELECT reasons, detail FROM sync_item"
                                        " WHERE system = 'danang-hrm'"
                                        " AND reasons @> '[{\"code\": \"UNREADABLE\"}]'")
        assert {json.loads(i["detail"])["source"] for i in items} == {newer.name}
        assert sorted(json.loads(i["detail"])["row"] for i in items) == [
            len(text.splitlines()) + 1, len(text.splitlines()) + 2]
        # a rerun reads nothing new: the export was taken in
        again = _report(world.sync("danang-hrm", "--json"))["danang-hrm"]
        assert again["counts"].get("unreadable", 0) == 0
    finally:
        newer.unlink()


def _national_newer(world: World, offset: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Ministry of Finance employee whose agency record gets a step up dated before the
    national file's last change, synchronised: a national-newer conflict. The agency row
    and the national file as they were."""
    [employee] = world.query(
        "agency_rest", "SELECT ma_nhan_su, so_cccd, bac_luong FROM nhan_su"
        " WHERE bac_luong < 5 AND ky_luat_dang_xu_ly IS NULL ORDER BY ma_nhan_su DESC"
        " OFFSET $1 LIMIT 1", offset)
    national = world.query("national", "SELECT employee_code, rank_code, salary_step, version,"
                                       " updated_at FROM employee WHERE personal_id = $1",
                           employee["so_cccd"])[0]
    ladder = world.query("national", "SELECT coefficient FROM salary_ladder WHERE rank_code = $1"
                                     " AND step = $2", national["rank_code"],
                         national["salary_step"] + 1)[0]["coefficient"]
    world.query("agency_rest", "UPDATE nhan_su SET bac_luong = $2, he_so_luong = $3,"
                               " ngay_cap_nhat = $4 WHERE ma_nhan_su = $1",
                employee["ma_nhan_su"], national["salary_step"] + 1, ladder,
                national["updated_at"] - timedelta(hours=1))
    world.sync("mof-hrmis", "--full")
    return employee, national


def test_a_value_the_reviewer_kept_national_is_never_applied_later(world: World,
                                                                   hub: Hub) -> None:
    employee, national = _national_newer(world, 3)
    [conflict] = world.query("national", "SELECT id FROM sync_conflict WHERE personal_id = $1"
                                         " AND kind = 'national-newer'", employee["so_cccd"])
    world.sync("resolve", str(conflict["id"]), "--keep-national", "--by", "reviewer")
    # the agency touches the record again (another field), its stale step still there
    world.query("agency_rest", "UPDATE nhan_su SET dia_chi_thuong_tru = 'Số 1 phố Mới',"
                               " ngay_cap_nhat = now() WHERE ma_nhan_su = $1",
                employee["ma_nhan_su"])
    world.sync("mof-hrmis")
    after = world.query("national", "SELECT salary_step, version FROM employee"
                                    " WHERE personal_id = $1", employee["so_cccd"])[0]
    assert after == {"salary_step": national["salary_step"], "version": national["version"]}
    [last] = world.query("national", "SELECT outcome, status, detail FROM sync_item"
                                     " WHERE personal_id = $1 ORDER BY id DESC LIMIT 1",
                         employee["so_cccd"])
    assert (last["outcome"], last["status"]) == ("conflict", "queued")
    assert json.loads(last["detail"])["review"] == "kept-national"


def test_taking_the_agencys_version_is_checked_against_the_version_reviewed(
        world: World, hub: Hub) -> None:
    employee, national = _national_newer(world, 5)
    [conflict] = world.query("national", "SELECT id, national_version FROM sync_conflict"
                                         " WHERE personal_id = $1 AND kind = 'national-newer'",
                             employee["so_cccd"])
    assert conflict["national_version"] == national["version"]
    # the file changes after the reviewer looked (another agency's change, say)
    world.query("national", "UPDATE employee SET version = version + 1, updated_at = now()"
                            " WHERE personal_id = $1", employee["so_cccd"])
    world.sync("resolve", str(conflict["id"]), "--take-agency", "--by", "reviewer")
    world.sync("mof-hrmis")
    deadline = time.monotonic() + 30  # the schedule may be the one that submits it
    while time.monotonic() < deadline:
        [settled] = world.query("national", "SELECT resolution_outcome FROM sync_conflict"
                                             " WHERE id = $1", conflict["id"])
        if settled["resolution_outcome"] is not None:
            break
        time.sleep(0.5)
    outcome = json.loads(settled["resolution_outcome"])
    assert outcome["status"] == "rejected"
    assert [r["code"] for r in outcome["reasons"]] == ["CONFLICT"]
    assert world.query("national", "SELECT salary_step FROM employee WHERE personal_id = $1",
                       employee["so_cccd"])[0]["salary_step"] == national["salary_step"]
