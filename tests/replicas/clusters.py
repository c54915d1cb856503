"""A primary PostgreSQL cluster and a streaming standby of it, private to a test module.

Both start from the installed server binaries, on free ports, in a temporary directory, as
the user clusters run as (``hub.postgres_server``: the ``postgres`` OS user when we are root).
The primary is an ordinary private cluster: ``initdb``'s defaults already allow streaming
(``wal_level=replica``, ``max_wal_senders``, ``replication`` entries in ``pg_hba.conf``,
password-checked); the standby is a ``pg_basebackup -R`` of it (``standby.signal`` and
``primary_conninfo`` written), a hot standby that answers read-only queries.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from hub.postgres_server import (
    _PrivateCluster,
    hand_to_server_user,
    run_as_server_user,
    server_binary,
)

__all__ = ["StreamingPair"]


def _tool(name: str) -> str:
    """A server program of the same installation as ``initdb`` (a base backup must be taken
    by the major version that runs the clusters), else the one on the PATH."""
    beside = Path(server_binary("initdb")).resolve().parent / name
    return str(beside) if beside.exists() else server_binary(name)


async def _fetchval(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


class StreamingPair:
    """``start()``, use ``primary_url`` / ``standby_url`` (server URLs, database
    ``postgres``), ``close()``: both clusters stopped and their directory removed."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="hub-replicas-"))
        # As root the clusters run as `postgres`, which must be able to enter the directory.
        hand_to_server_user(self.base)
        self.primary = _PrivateCluster(self.base / "primary")
        self.standby = _PrivateCluster(self.base / "standby")
        self.primary_url = ""
        self.standby_url = ""

    def start(self) -> StreamingPair:
        try:
            self.primary_url = self.primary.start()
            level = asyncio.run(_fetchval(self.primary_url, "SHOW wal_level"))
            if level not in ("replica", "logical"):
                raise RuntimeError(f"the primary's wal_level is {level}: it cannot stream")
            self._base_backup()
            self.standby_url = self.standby.start()
            if not asyncio.run(_fetchval(self.standby_url, "SELECT pg_is_in_recovery()")):
                raise RuntimeError("the standby is not in recovery")
        except BaseException:
            self.close()
            raise
        return self

    def _base_backup(self) -> None:
        root = self.standby.root
        root.mkdir(mode=0o700)
        hand_to_server_user(root)
        parts = urlsplit(self.primary_url)
        password = (self.primary.root / "password").read_text().strip()
        # The password through the environment, not the command line; -R keeps it in the
        # standby's primary_conninfo, as a real standby's configuration would.
        run_as_server_user([_tool("pg_basebackup"), "-D", str(self.standby.data), "-R",
                            "-X", "stream", "-c", "fast", "-h", str(parts.hostname),
                            "-p", str(parts.port), "-U", "postgres"],
                           env={"PGPASSWORD": password})
        # The standby is a copy of the primary: the same superuser password.
        shutil.copy(self.primary.root / "password", root / "password")
        hand_to_server_user(root / "password")

    def stop_standby(self) -> None:
        self.standby.stop()

    def start_standby(self) -> None:
        self.standby_url = self.standby.start()  # the same port as before (its port file)

    def close(self) -> None:
        for cluster in (self.standby, self.primary):
            # Failing to stop one must not keep the other running.
            with contextlib.suppress(Exception):
                cluster.stop()
        shutil.rmtree(self.base, ignore_errors=True)
