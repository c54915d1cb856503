"""A Redis for the tests: the one ``HUB_REDIS_URL`` (or ``REDIS_URL``) names, else one
answering on 127.0.0.1:6379, else a private ``redis-server`` started from the installed
binary on a free port (no persistence) and stopped when the tests end."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from hub.launcher import free_port

__all__ = ["redis_for_tests"]


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_for_tests() -> Iterator[str]:
    given = os.environ.get("HUB_REDIS_URL") or os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    if _answers("127.0.0.1", 6379):
        yield "redis://127.0.0.1:6379/15"  # a database of its own: the tests' keys apart
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("no Redis: set HUB_REDIS_URL, run one on 127.0.0.1:6379, or "
                           "install redis-server (Debian: apt install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hub-test-redis-") as folder:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not _answers("127.0.0.1", port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the private redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)
