"""The server's own surface: GraphiQL, health, the exported schema."""

from __future__ import annotations

import httpx

from hub.cli import SCHEMA_FILE
from resolvers.schema import build_schema


def test_graphiql_is_served_to_browsers(hub_url: str) -> None:
    response = httpx.get(f"{hub_url}/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_health(hub_url: str) -> None:
    assert httpx.get(f"{hub_url}/healthz").json() == {"status": "ok"}


def test_schema_file_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == str(build_schema()) + "\n", (
        "schema.graphql is out of date: run `hub export-schema`")
