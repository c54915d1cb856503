"""Find or start the PostgreSQL server the hub (and its demo and tests) should use.

Order: ``DATABASE_URL`` when set; else the conventional local server when it answers; else a
private cluster under ``.hub/pg`` started from the installed server binaries on a free port.
PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` OS user.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

__all__ = ["LOCAL_SERVER_URL", "database_url", "ensure_server", "hand_to_server_user",
           "run_as_server_user", "server_answers", "server_binary"]

LOCAL_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PRIVATE_CLUSTER_USER = "postgres"


def database_url(server_url: str, database: str) -> str:
    """The URL of another database on the same server."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def _answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


def server_answers(url: str) -> bool:
    return asyncio.run(_answers(url))


def ensure_server(state_dir: Path) -> str:
    """Return a server URL that answers, starting a private cluster if nothing else does."""
    explicit = os.environ.get("DATABASE_URL")
    if explicit:
        return explicit
    if server_answers(LOCAL_SERVER_URL):
        return LOCAL_SERVER_URL
    return _PrivateCluster(state_dir / "pg").start()


def server_binary(name: str) -> str:
    """An installed PostgreSQL server program (``initdb``, ``pg_ctl``, ``pg_basebackup``...)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL server binary {name!r} not found: install the PostgreSQL server "
            "(e.g. `apt-get install postgresql`) or set DATABASE_URL."
        )
    return candidates[0]


_server_binary = server_binary  # the name the provisioning tests know it by


def run_as_server_user(command: list[str], *, env: dict[str, str] | None = None) -> None:
    """Run a server program as the user clusters run as: ourselves, or the ``postgres`` OS
    user when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", PRIVATE_CLUSTER_USER, "--", *command]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                   env=None if env is None else {**os.environ, **env})


def hand_to_server_user(path: Path) -> None:
    """Make ``path`` (a directory or file we created) the cluster user's, when that is not
    us: as root, the ``postgres`` OS user must own what its cluster keeps."""
    if os.geteuid() == 0:
        os.chown(path, _uid_of(PRIVATE_CLUSTER_USER), -1, follow_symlinks=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _uid_of(user: str) -> int:
    return pwd.getpwnam(user).pw_uid


def _reachable_by(user: str, path: Path) -> bool:
    """Can ``user`` traverse every directory down to ``path``?"""
    result = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return result.returncode == 0


class _PrivateCluster:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    def start(self) -> str:
        as_root = os.geteuid() == 0
        if as_root and not _reachable_by(PRIVATE_CLUSTER_USER, self.root.parent.parent):
            # A checkout inside a private directory (e.g. mode 700) cannot hold a cluster the
            # postgres user runs: keep it in the system temp dir, named after this checkout.
            digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
            self.root = Path(tempfile.gettempdir()) / f"hub-pg-{digest}"
        if self.root.is_symlink():
            raise RuntimeError(f"{self.root} is a symbolic link: refusing to put a cluster there")
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if as_root:
            owner = self.root.stat().st_uid
            if owner not in (0, _uid_of(PRIVATE_CLUSTER_USER)):
                raise RuntimeError(f"{self.root} belongs to another user: refusing to use it")
            hand_to_server_user(self.root)
        password_file = self.root / "password"
        if not (self.data / "PG_VERSION").exists():
            # A password, not trust: any local user could otherwise connect as superuser.
            password_file.write_text(secrets.token_urlsafe(24))
            password_file.chmod(0o600)
            hand_to_server_user(password_file)
            run_as_server_user([server_binary("initdb"), "-D", str(self.data), "-A",
                                "scram-sha-256", "--pwfile", str(password_file), "-U",
                                "postgres", "-E", "UTF8", "--no-locale"])
        password = password_file.read_text().strip() if password_file.exists() else ""
        credentials = f"postgres:{quote(password, safe='')}" if password else "postgres"
        port = int(self.port_file.read_text()) if self.port_file.exists() else _free_port()
        url = f"postgresql://{credentials}@127.0.0.1:{port}/postgres"
        if server_answers(url):
            return url
        self.port_file.write_text(str(port))
        options = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        run_as_server_user([server_binary("pg_ctl"), "-D", str(self.data), "-l",
                            str(self.root / "log"), "-o", options, "-w", "start"])
        if not server_answers(url):
            raise RuntimeError(f"private PostgreSQL cluster did not answer on port {port}; "
                               f"see {self.root / 'log'}")
        return url

    def stop(self) -> None:
        """Stop the cluster (fast: open sessions are ended), if it runs."""
        if (self.data / "postmaster.pid").exists():
            run_as_server_user([server_binary("pg_ctl"), "-D", str(self.data), "-m", "fast",
                                "-w", "stop"])
