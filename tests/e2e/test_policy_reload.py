"""Policy changes take effect without a restart, and a broken change never does."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from hub.config import PROJECT_ROOT
from hub.databases import DatabaseSet
from hub.launcher import free_port, own_keys_env, start_hub, stop
from tests.conftest import Sandbox, Tokens

NAME_QUERY = {"query": "{ civilServants(first: 1) { nodes { fullName } } }"}


class PolicyHub:
    def __init__(self, url: str, folder: Path, tokens: Tokens,
                 process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.folder = folder
        self.tokens = tokens
        self.process = process

    def payroll_names(self) -> int:
        response = httpx.post(f"{self.url}/graphql", json=NAME_QUERY, timeout=30,
                              headers=self.tokens.headers("mof-payroll", "salary-budget"))
        return response.status_code

    def policies(self) -> dict[str, object]:
        status: dict[str, object] = httpx.get(f"{self.url}/readyz", timeout=30).json()[
            "policies"]
        return status

    def grant_names_to_payroll(self) -> None:
        path = self.folder / "mof-payroll.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("fields: [employeeCode, personalId, category,",
                                     "fields: [employeeCode, fullName, personalId, category,"),
                        encoding="utf-8")


def _wait_for(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the change did not take effect"
        time.sleep(0.2)


def _policy_hub(databases: DatabaseSet, sandbox_session: Sandbox,
                client_secrets: dict[str, str], tmp_path: Path, *, watch: bool,
                workers: int = 1) -> Iterator[PolicyHub]:
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    port = free_port()
    process = start_hub(databases, sandbox_session.ports, port, workers=workers, env={
        "HUB_POLICY_DIR": str(folder), "HUB_POLICY_WATCH": "1" if watch else "0",
        **own_keys_env(port, tmp_path)})
    url = f"http://127.0.0.1:{port}"
    try:
        yield PolicyHub(url, folder, Tokens(url, client_secrets), process)
    finally:
        stop(process)


@pytest.fixture
def watched_hub(databases: DatabaseSet, sandbox_session: Sandbox,
                client_secrets: dict[str, str], tmp_path: Path) -> Iterator[PolicyHub]:
    yield from _policy_hub(databases, sandbox_session, client_secrets, tmp_path, watch=True)


@pytest.fixture
def two_worker_hub(databases: DatabaseSet, sandbox_session: Sandbox,
                   client_secrets: dict[str, str], tmp_path: Path) -> Iterator[PolicyHub]:
    yield from _policy_hub(databases, sandbox_session, client_secrets, tmp_path, watch=True,
                           workers=2)


@pytest.fixture
def unwatched_hub(databases: DatabaseSet, sandbox_session: Sandbox,
                  client_secrets: dict[str, str], tmp_path: Path) -> Iterator[PolicyHub]:
    yield from _policy_hub(databases, sandbox_session, client_secrets, tmp_path, watch=False)


def test_a_changed_file_is_picked_up(watched_hub: PolicyHub) -> None:
    assert watched_hub.payroll_names() == 400
    before = watched_hub.policies()["digest"]
    watched_hub.grant_names_to_payroll()
    _wait_for(lambda: watched_hub.payroll_names() == 200)
    assert watched_hub.policies()["digest"] != before


def test_a_broken_change_is_refused_and_the_old_policy_keeps_serving(
        watched_hub: PolicyHub) -> None:
    before = watched_hub.policies()
    path = watched_hub.folder / "mof-payroll.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "fields: [employeeCode, personalId, category,",
        "fields: [employeeCode, fullName, religion, personalId, category,"), encoding="utf-8")
    _wait_for(lambda: watched_hub.policies()["refused"] == 1)
    status = watched_hub.policies()
    assert status["digest"] == before["digest"]
    assert status["lastChangeRefused"] is True
    assert watched_hub.payroll_names() == 400  # the broken change granted nothing
    (watched_hub.folder / "zz-broken.yaml").write_text("client: [unclosed", encoding="utf-8")
    _wait_for(lambda: watched_hub.policies()["refused"] == 2)
    assert watched_hub.policies()["digest"] == before["digest"]
    # Fixed again: the next valid set serves.
    (watched_hub.folder / "zz-broken.yaml").unlink()
    watched_hub.grant_names_to_payroll()
    path.write_text(path.read_text(encoding="utf-8").replace(" religion,", ""),
                    encoding="utf-8")
    _wait_for(lambda: watched_hub.payroll_names() == 200)


def test_sighup_reloads(unwatched_hub: PolicyHub) -> None:
    unwatched_hub.grant_names_to_payroll()
    time.sleep(1.0)
    assert unwatched_hub.payroll_names() == 400  # not watched: nothing changes by itself
    unwatched_hub.process.send_signal(signal.SIGHUP)
    _wait_for(lambda: unwatched_hub.payroll_names() == 200)
    assert unwatched_hub.policies()["reloads"] == 1


def test_every_worker_process_reloads(two_worker_hub: PolicyHub) -> None:
    # Each worker process watches the folder: once the change is in, no request reaches a
    # worker still serving the old policy. (Tokens, keys and the mask secret are shared.)
    statuses = {two_worker_hub.payroll_names() for _ in range(20)}
    assert statuses == {400}
    two_worker_hub.grant_names_to_payroll()
    _wait_for(lambda: all(two_worker_hub.payroll_names() == 200 for _ in range(20)))
    time.sleep(0.5)
    assert {two_worker_hub.payroll_names() for _ in range(40)} == {200}
