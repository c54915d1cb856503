"""The `hub` command line, run as a user would run it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from hub.config import PROJECT_ROOT
from hub.launcher import free_port, port_is_free
from hub.postgres_server import database_url
from tests.settings import TEST_DB_PREFIX


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
    env = {"HUB_DATABASE_URL": database_url(server_url, f"{TEST_DB_PREFIX}_cli")}
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


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """The process's output up to the line holding ``marker`` (read on a thread: a pipe read
    blocks)."""
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if marker in line:
                done.set()
                return
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(timeout), "the demo did not come up:\n" + "".join(lines)
    output = "".join(lines)
    assert marker in output, output
    return output


def test_demo_prints_working_credentials_and_stops_cleanly(server_url: str) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "demo", "--employees", "200", "--port", str(port)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "HUB_DATABASE_URL": database_url(server_url, f"{TEST_DB_PREFIX}_demo")})
    try:
        output = _read_until(process, "Press Ctrl-C to stop.", timeout=180)
        base = f"http://127.0.0.1:{port}"
        assert f"{base}/graphql" in output
        page = httpx.get(f"{base}/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        # The printed secret gets a token at the token endpoint...
        secret = re.search(r"-u moha-personnel-db:(\S+) ", output)
        assert secret is not None, output
        token = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                           auth=("moha-personnel-db", secret.group(1)))
        assert token.status_code == 200, token.text
        query = {"query": '{ civilServants(first: 3, filter: {provinceCode: "01"}) '
                          "{ totalCount edges { node { fullName person { alive } } } } }"}
        answer = httpx.post(f"{base}/graphql", json=query, headers={
            "authorization": f"Bearer {token.json()['access_token']}",
            "x-purpose": "administration"}).json()
        assert "errors" not in answer, answer
        assert len(answer["data"]["civilServants"]["edges"]) == 3
        # ...and the printed GraphiQL headers work as they are.
        headers = re.search(r'(\{"Authorization": "Bearer [^"]+", "X-Purpose": "[a-z-]+"\})',
                            output)
        assert headers is not None, output
        pasted = httpx.post(f"{base}/graphql", json=query, headers=json.loads(headers.group(1)))
        assert pasted.status_code == 200, pasted.text
        assert "errors" not in pasted.json(), pasted.text
        # Without a token nothing is disclosed.
        refused = httpx.post(f"{base}/graphql", json=query)
        assert refused.status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert port_is_free(port)
