"""Reading the agency systems' change feeds over real HTTP (the sandbox's REST and GraphQL
systems, seeded): every record once, in order, resumable from any watermark."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.change_feeds import FEED_COLUMNS, SETTLE, ChangeFeed, ChangePage
from adapters.errors import SourceError
from adapters.resilience import Guard, Resilience
from hub.config import PROJECT_ROOT
from hub.databases import DatabaseSet
from hub.source_config import load_source_config
from hub.sync.runner import build_feed
from hub.sync.settings import sync_targets
from tests.conftest import Sandbox

SOURCES = PROJECT_ROOT / "config/sources.yaml"
_COUNT = {"mof-hrmis": ("agency_rest", "SELECT count(*) FROM nhan_su"),
          "hanoi-hrm": ("agency_graphql", "SELECT count(*) FROM staff")}


@pytest.fixture
def sources_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in sandbox.ports.source_env().items():
        monkeypatch.setenv(name, value)


def read_all(system: str, limit: int, watermark: str | None = None
             ) -> tuple[list[ChangePage], list[dict[str, Any]]]:
    async def run() -> tuple[list[ChangePage], list[dict[str, Any]]]:
        pages: list[ChangePage] = []
        async with httpx.AsyncClient() as client:
            feed = _feed(system, client)
            mark = watermark
            while True:
                page = await feed.changes(mark, limit)
                pages.append(page)
                mark = page.watermark
                if not page.more:
                    break
        return pages, [r for p in pages for r in p.records]

    return asyncio.run(run())


def _feed(system: str, client: httpx.AsyncClient) -> ChangeFeed:
    target = sync_targets(SOURCES)[system]
    config = next(c for c in load_source_config(SOURCES).agency_systems if c.name == system)
    return build_feed(target, config, client, Guard(system, Resilience(retries=0)))


def one_page(system: str, watermark: str | None, limit: int) -> ChangePage:
    async def run() -> ChangePage:
        async with httpx.AsyncClient() as client:
            return await _feed(system, client).changes(watermark, limit)

    return asyncio.run(run())


def count(databases: DatabaseSet, system: str) -> int:
    database, sql = _COUNT[system]

    async def run() -> int:
        conn = await asyncpg.connect(getattr(databases, database))
        try:
            return int(await conn.fetchval(sql))
        finally:
            await conn.close()

    return asyncio.run(run())


@pytest.mark.parametrize("system", ["mof-hrmis", "hanoi-hrm"])
def test_the_feed_yields_every_record_once_in_time_order(
        system: str, sources_env: None, databases: DatabaseSet) -> None:
    pages, records = read_all(system, limit=17)
    assert len(pages) > 2
    assert len(records) == count(databases, system)
    assert len({r["local_id"] for r in records}) == len(records)
    stamps = [r["updated_at"] for r in records]
    assert all(isinstance(s, datetime) for s in stamps)
    assert stamps == sorted(stamps)
    # canonical fields, translated: a national position code, a date, a canonical sex
    first = records[0]
    assert set(FEED_COLUMNS) <= set(first)
    assert first["sex"] in {"male", "female"}
    assert all(p.watermark for p in pages)


@pytest.mark.parametrize("system", ["mof-hrmis", "hanoi-hrm"])
def test_resuming_from_any_watermark_continues_where_it_stopped(
        system: str, sources_env: None) -> None:
    _, everything = read_all(system, limit=200)
    first = one_page(system, None, 25)
    second = one_page(system, first.watermark, 25)
    ids = [r["local_id"] for r in everything]
    assert len(ids) > 50
    assert [r["local_id"] for r in first.records] == ids[:25]
    assert [r["local_id"] for r in second.records] == ids[25:50]


@pytest.mark.parametrize("system", ["mof-hrmis", "hanoi-hrm"])
def test_a_caught_up_feed_yields_nothing_new(system: str, sources_env: None) -> None:
    pages, records = read_all(system, limit=500)
    again, repeated = read_all(system, limit=500, watermark=pages[-1].watermark)
    # at most the records of the last few seconds come again (a caught-up feed starts again
    # SETTLE before the latest change, for rows committed late); none older
    latest = records[-1]["updated_at"]
    assert all(latest - SETTLE <= r["updated_at"] <= latest for r in repeated)
    assert len(repeated) < len(records)
    assert not again[-1].more


@pytest.mark.parametrize("watermark", [
    "", "not json", '{"since": "yesterday", "cursor": null}', '{"cursor": null}',
    '{"since": "2026-01-01T00:00:00", "cursor": null}',  # no offset
    '{"since": "2026-01-01T00:00:00+00:00", "cursor": 42}', "[1, 2]", "x" * 5000,
])
@pytest.mark.parametrize("system", ["mof-hrmis", "hanoi-hrm"])
def test_a_watermark_not_issued_by_the_feed_is_refused(system: str, watermark: str,
                                                       sources_env: None) -> None:
    with pytest.raises(ValueError, match="watermark"):
        one_page(system, watermark, 10)


@pytest.mark.parametrize("system", ["mof-hrmis", "hanoi-hrm"])
def test_a_forged_vendor_cursor_is_a_source_failure_not_a_crash(
        system: str, sources_env: None) -> None:
    forged = '{"since": "2026-01-01T00:00:00+00:00", "cursor": "AAAA"}'
    with pytest.raises(SourceError):
        one_page(system, forged, 10)


@pytest.mark.parametrize(("system", "sandbox_name"), [("mof-hrmis", "agency_rest"),
                                                      ("hanoi-hrm", "agency_graphql")])
@pytest.mark.parametrize("fault", [{"outage": True}, {"malformed": True}, {"reset": True}])
def test_a_failing_system_is_a_source_error(system: str, sandbox_name: str,
                                            fault: dict[str, Any], sandbox: Sandbox,
                                            sources_env: None) -> None:
    sandbox.switch(sandbox_name, **fault)
    with pytest.raises(SourceError) as failure:
        one_page(system, None, 10)
    assert failure.value.source == system


def test_page_sizes_are_bounded(sources_env: None) -> None:
    with pytest.raises(ValueError):
        one_page("mof-hrmis", None, 0)
    # above the vendor's largest page, the feed asks for its largest
    page = one_page("mof-hrmis", None, 10_000)
    assert 0 < len(page.records) <= 1000
    assert not page.more
