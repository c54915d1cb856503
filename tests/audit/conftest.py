"""The audit tools against a migrated database of their own and a signing key of their own.

Every test starts from an empty log (emptied as a superuser, past the append-only triggers).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from hub.auth.keys import SigningKeys
from tests.audit.chains import LogWriter, reset_log
from tests.own_database import own_migrated_database

# A database of its own: the log is emptied before every test, and the shared databases are
# dropped and recreated by other test sessions.
AUDIT_DATABASE_SUFFIX = "audit_tools"


@pytest.fixture(scope="session")
def audit_dsn(server_url: str) -> str:
    return own_migrated_database(server_url, AUDIT_DATABASE_SUFFIX)


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audit-keys") / "signing.jwks"
    SigningKeys.load_or_create(path, "ES256")
    return path


@pytest.fixture(scope="session")
def keys(key_file: Path) -> SigningKeys:
    return SigningKeys.load(key_file)


@pytest.fixture
def cli_env(audit_dsn: str, key_file: Path) -> dict[str, str]:
    """The environment of a ``hub audit`` subprocess on the test database."""
    return {**os.environ, "HUB_DATABASE_URL": audit_dsn, "HUB_AUDIT_KEY_FILE": str(key_file)}


@pytest.fixture
async def conn(audit_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to an emptied log."""
    connection = await asyncpg.connect(audit_dsn)
    try:
        await reset_log(connection)
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def writer(conn: asyncpg.Connection, keys: SigningKeys) -> LogWriter:
    return LogWriter(conn, keys)
