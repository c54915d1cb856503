"""Where this installation's databases are: from the environment, or provisioned locally."""

from __future__ import annotations

import os

from hub.config import PROJECT_ROOT
from hub.databases import DatabaseSet
from hub.postgres_server import ensure_server

__all__ = ["STATE_DIR", "resolve_databases"]

STATE_DIR = PROJECT_ROOT / ".hub"


def resolve_databases(default_name: str = "hub") -> DatabaseSet:
    """``HUB_DATABASE_URL`` names the national database when set (the sandbox databases sit
    beside it); otherwise ``default_name`` on the server found or started by ensure_server."""
    explicit = os.environ.get("HUB_DATABASE_URL")
    if explicit:
        return DatabaseSet.beside(explicit)
    return DatabaseSet.on_server(ensure_server(STATE_DIR), default_name)
