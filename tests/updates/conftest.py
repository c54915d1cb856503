"""The signer key registry on a migrated national database of its own (the shared test
databases are dropped and recreated by other test sessions)."""

from __future__ import annotations

import pytest

from tests.own_database import own_migrated_database


@pytest.fixture(scope="session")
def signers_dsn(server_url: str) -> str:
    return own_migrated_database(server_url, "updates_keys")
