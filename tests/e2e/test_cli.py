"""The `hub` command line, run as a user would run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hub.config import PROJECT_ROOT
from hub.launcher import free_port, port_is_free
from hub.postgres_server import database_url


def _hub(*args: str, env: dict[str, str] | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=PROJECT_ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_export_schema_check_detects_drift(tmp_path: Path) -> None:
    assert _hub("export-schema", "--check").returncode == 0
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    result = _hub("export-schema", "--check", "-o", str(stale))
    assert result.returncode == 1
    assert "out of date" in result.stderr
    assert _hub("export-schema", "-o", str(stale)).returncode == 0
    assert _hub("export-schema", "--check", "-o", str(stale)).returncode == 0


def test_migrate_and_seed(server_url: str) -> None:
    env = {"HUB_DATABASE_URL": database_url(server_url, "hubtest_cli")}
    migrated = _hub("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "migration" in migrated.stdout
    again = _hub("migrate", env=env)
    assert "none pending" in again.stdout
    seeded = _hub("seed", "--employees", "150", "--seed", "3", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded 150 employees" in seeded.stdout


def test_bad_arguments_are_refused() -> None:
    result = _hub("seed", "--employees", "many")
    assert result.returncode == 2
    assert "invalid int value" in result.stderr


def test_demo_serves_graphiql_and_stops_cleanly(server_url: str) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "demo", "--employees", "200", "--port", str(port)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "HUB_DATABASE_URL": database_url(server_url, "hubtest_demo")})
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/graphql",
                                 headers={"accept": "text/html"})
                if page.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the demo did not come up"
            time.sleep(0.5)
        answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={
            "query": '{ civilServants(first: 3, filter: {provinceCode: "01"}) '
                     "{ totalCount edges { node { fullName person { alive } } } } }"}).json()
        assert "errors" not in answer
        assert len(answer["data"]["civilServants"]["edges"]) == 3
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/graphql" in output
    assert "Try this query" in output
    assert port_is_free(port)
