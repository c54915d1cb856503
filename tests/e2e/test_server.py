"""The server's own surface: GraphiQL, health, the exported schema."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path

import httpx

from hub.cli import SCHEMA_FILE
from hub.graphiql import load_page
from resolvers.schema import build_schema


def test_graphiql_is_served_to_browsers_with_its_own_scripts(hub_url: str) -> None:
    response = httpx.get(f"{hub_url}/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    page = response.text
    assert "graphiql" in page.lower()
    # Nothing from the internet: every script and stylesheet comes from the hub, intact.
    assert "unpkg.com" not in page
    assets = re.findall(r'(?:src|href)="(/graphql/assets/[^"]+)"\s+integrity="sha384-([^"]+)"',
                        page)
    assert len(assets) == 7
    for path, digest in assets:
        asset = httpx.get(f"{hub_url}{path}")
        assert asset.status_code == 200, path
        assert base64.b64encode(hashlib.sha384(asset.content).digest()).decode() == digest
        assert asset.headers["content-type"].split(";")[0] in ("text/javascript",
                                                               "application/javascript",
                                                               "text/css")
    for missing in ("/graphql/assets/react@18.2.0/package.json",
                    "/graphql/assets/../../pyproject.toml", "/graphql/assets/"):
        assert httpx.get(f"{hub_url}{missing}").status_code == 404


def test_graphiql_falls_back_to_unpkg_without_intact_assets(graphiql_assets: Path,
                                                            tmp_path: Path) -> None:
    assert not load_page(tmp_path / "none").local
    copy = tmp_path / "assets"
    shutil.copytree(graphiql_assets, copy)
    assert load_page(copy).local
    script = next(copy.glob("graphiql@*/graphiql.min.js"))
    script.write_bytes(script.read_bytes() + b"\n// tampered")
    page = load_page(copy)
    assert not page.local
    assert "https://unpkg.com/graphiql@" in page.html


def test_health(hub_url: str) -> None:
    assert httpx.get(f"{hub_url}/healthz").json() == {"status": "ok"}


def test_schema_file_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == str(build_schema()) + "\n", (
        "schema.graphql is out of date: run `hub export-schema`")
