"""Starting the sandbox systems and the hub as real processes on loopback.

Used by ``hub demo``, by the end-to-end tests and by the benchmarks, so all three run the
same processes the same way.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hub.config import PROJECT_ROOT
from hub.databases import DatabaseSet

__all__ = ["Ports", "ProcessGroup", "free_port", "own_keys_env", "start_hub", "start_sandbox",
           "stop", "wait_until_up"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Ports:
    population: int = field(default_factory=free_port)
    agency_rest: int = field(default_factory=free_port)
    agency_graphql: int = field(default_factory=free_port)

    def source_env(self) -> dict[str, str]:
        """The variables config/sources.yaml reads the sandbox addresses from."""
        return {
            "POPULATION_URL": f"http://127.0.0.1:{self.population}",
            "AGENCY_MOF_URL": f"http://127.0.0.1:{self.agency_rest}",
            "AGENCY_HANOI_URL": f"http://127.0.0.1:{self.agency_graphql}",
        }

    def health_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}/healthz"
                for p in (self.population, self.agency_rest, self.agency_graphql)]


def wait_until_up(urls: list[str], process: subprocess.Popen[bytes], *,
                  timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(pending[0], timeout=1.0).status_code < 500:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pending[0]} did not come up within {timeout:g} s")
        time.sleep(0.1)


def _spawn(args: list[str], env: Mapping[str, str], quiet: bool,
           stdout: Path | None = None) -> subprocess.Popen[bytes]:
    """``stdout``: a file the process's standard output is appended to (where the console
    exporter writes spans and metrics), its errors staying where ``quiet`` puts them."""
    output = subprocess.DEVNULL if quiet else None
    if stdout is None:
        return subprocess.Popen(args, cwd=PROJECT_ROOT, env={**os.environ, **env},
                                stdout=output, stderr=output)
    with stdout.open("ab") as sink:  # the child holds its own copy of the descriptor
        return subprocess.Popen(args, cwd=PROJECT_ROOT, env={**os.environ, **env},
                                stdout=sink, stderr=output)


class ProcessGroup:
    """Several processes started and stopped together."""

    def __init__(self, processes: list[subprocess.Popen[bytes]]) -> None:
        self.processes = processes

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def poll(self) -> int | None:
        """The exit code of the first process that has exited, if any."""
        return next((p.returncode for p in self.processes if p.poll() is not None), None)


def start_sandbox(databases: DatabaseSet, ports: Ports, *, quiet: bool = True,
                  env: Mapping[str, str] | None = None, stdout: Path | None = None
                  ) -> ProcessGroup:
    """Each simulated system in its own process, as separate systems would be."""
    services = (("population", ports.population, databases.population),
                ("agency_rest", ports.agency_rest, databases.agency_rest),
                ("agency_graphql", ports.agency_graphql, databases.agency_graphql))
    group = ProcessGroup([
        _spawn([sys.executable, "-m", "sandbox", "serve", system, "--port", str(port),
                "--dsn", dsn], env or {}, quiet, stdout)
        for system, port, dsn in services])
    try:
        for process, url in zip(group.processes, ports.health_urls(), strict=True):
            wait_until_up([url], process)
    except BaseException:
        stop(group)
        raise
    return group


def own_keys_env(port: int, folder: Path, *, signing_file: str = "signing.jwks"
                 ) -> dict[str, str]:
    """The settings a hub started beside others needs to be a separate issuer: its own URL
    as issuer, and its own signing key and mask secret files in ``folder``."""
    return {"HUB_AUTH_ISSUER": f"http://127.0.0.1:{port}",
            "HUB_SIGNING_KEY_FILE": str(folder / signing_file),
            "HUB_MASK_SECRET_FILE": str(folder / "mask.secret")}


def start_hub(databases: DatabaseSet, ports: Ports, hub_port: int, *, workers: int = 1,
              quiet: bool = True, env: Mapping[str, str] | None = None,
              stdout: Path | None = None) -> subprocess.Popen[bytes]:
    process = _spawn(
        [sys.executable, "-m", "hub", "serve", "--port", str(hub_port),
         "--workers", str(workers)],
        {"HUB_DATABASE_URL": databases.national, **databases.source_env(),
         **ports.source_env(), **(env or {})}, quiet, stdout)
    try:
        wait_until_up([f"http://127.0.0.1:{hub_port}/healthz"], process)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes] | ProcessGroup, timeout: float = 10.0) -> None:
    processes = process.processes if isinstance(process, ProcessGroup) else [process]
    for each in processes:
        if each.poll() is None:
            each.terminate()
    for each in processes:
        try:
            each.wait(timeout)
        except subprocess.TimeoutExpired:
            each.kill()
            each.wait()
