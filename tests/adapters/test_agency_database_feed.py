"""The Ministry of Health database's change feed: keyset pages over (last_modified, emp_id),
ties on timestamps, resuming from a watermark, rows too fresh to read, foreign watermarks."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from adapters.agency_database import DatabaseAgencySystem, DatabaseAgencySystemConfig
from adapters.change_feeds import FEED_COLUMNS, ChangeFeed, ChangePage


@pytest.fixture
async def feed(moh_config: DatabaseAgencySystemConfig, scratch_moh: str
               ) -> AsyncIterator[DatabaseAgencySystem]:
    system = await DatabaseAgencySystem.open(
        dataclasses.replace(moh_config, dsn=scratch_moh, settle_seconds=0))
    yield system
    await system.close()


async def execute(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def walk(feed: ChangeFeed, limit: int, watermark: str | None = None
               ) -> tuple[list[dict[str, Any]], list[ChangePage]]:
    records: list[dict[str, Any]] = []
    pages: list[ChangePage] = []
    while True:
        page = await feed.changes(watermark, limit)
        pages.append(page)
        records += page.records
        assert len(page.records) <= limit
        watermark = page.watermark
        if not page.more:
            return records, pages


async def test_every_row_once_in_change_order(feed: DatabaseAgencySystem, scratch_moh: str
                                              ) -> None:
    assert isinstance(feed, ChangeFeed)
    rows = await execute(scratch_moh, "SELECT emp_id FROM hr_employee"
                                      " ORDER BY last_modified, emp_id")
    records, pages = await walk(feed, 7)
    assert [r["local_id"] for r in records] == [str(r["emp_id"]) for r in rows]
    assert all(set(r) == set(FEED_COLUMNS) for r in records)
    assert all(isinstance(r["disciplines"], list) for r in records)
    assert all(p.more for p in pages[:-1])
    assert not pages[-1].more
    assert len(pages) == -(-len(rows) // 7) or not pages[-1].records
    # Caught up: the last watermark yields nothing more, and keeps its place.
    again = await feed.changes(pages[-1].watermark, 7)
    assert again == ChangePage([], pages[-1].watermark, more=False)


async def test_ties_on_timestamps_are_neither_skipped_nor_repeated(
        feed: DatabaseAgencySystem, scratch_moh: str) -> None:
    ids = [r["emp_id"] for r in await execute(
        scratch_moh, "SELECT emp_id FROM hr_employee ORDER BY emp_id LIMIT 9")]
    same = datetime(2026, 10, 31, 3, 0, tzinfo=UTC)
    await execute(scratch_moh, "UPDATE hr_employee SET last_modified = $1"
                               " WHERE emp_id = ANY($2::bigint[])", same, ids)
    records, _ = await walk(feed, 2)
    seen = [r["local_id"] for r in records]
    assert len(seen) == len(set(seen))
    tied = [r["local_id"] for r in records if r["updated_at"] == same]
    assert tied == [str(i) for i in sorted(ids)]


async def test_resuming_from_a_watermark(moh_config: DatabaseAgencySystemConfig,
                                         feed: DatabaseAgencySystem, scratch_moh: str) -> None:
    everything, _ = await walk(feed, 5)
    first = await feed.changes(None, 5)
    second = await feed.changes(first.watermark, 5)
    # Another process (a restart) continues from the kept watermark.
    other = await DatabaseAgencySystem.open(
        dataclasses.replace(moh_config, dsn=scratch_moh, settle_seconds=0))
    try:
        rest, _ = await walk(other, 5, second.watermark)
        rerun = await other.changes(first.watermark, 5)
    finally:
        await other.close()
    assert first.records + second.records + rest == everything
    assert rerun == second, "the same watermark yields the same page"


async def test_later_changes_and_rows_too_fresh_to_read(
        moh_config: DatabaseAgencySystemConfig, feed: DatabaseAgencySystem,
        scratch_moh: str) -> None:
    _, pages = await walk(feed, 50)
    caught_up = pages[-1].watermark
    await execute(scratch_moh, "UPDATE hr_employee SET sal_step = sal_step + 1,"
                               " last_modified = now() - interval '1 minute'"
                               " WHERE emp_id = (SELECT min(emp_id) FROM hr_employee)")
    await execute(scratch_moh, "UPDATE hr_employee SET last_modified = now()"
                               " WHERE emp_id = (SELECT max(emp_id) FROM hr_employee)")
    settling = await DatabaseAgencySystem.open(
        dataclasses.replace(moh_config, dsn=scratch_moh, settle_seconds=30))
    try:
        page = await settling.changes(caught_up, 50)
    finally:
        await settling.close()
    # The row changed a minute ago comes; the one changed this instant waits (a transaction
    # still open could yet commit a row stamped before it).
    assert len(page.records) == 1
    assert page.records[0]["local_id"] == str((await execute(
        scratch_moh, "SELECT min(emp_id) AS id FROM hr_employee"))[0]["id"])
    assert not page.more
    without_delay = await feed.changes(caught_up, 50)
    assert len(without_delay.records) == 2


async def test_decisions_come_with_their_employee(feed: DatabaseAgencySystem,
                                                  scratch_moh: str) -> None:
    emp_id = (await execute(scratch_moh, "SELECT min(emp_id) AS id FROM hr_employee"))[0]["id"]
    await execute(scratch_moh,
                  "INSERT INTO hr_disciplinary_action (emp_id, decision_no, decision_dt,"
                  " action_cd, issued_by, reason_txt, eff_from_dt) VALUES ($1, '9/QĐ-BYT',"
                  " '2026-09-01', 'RPM', 'Bộ trưởng Bộ Y tế', 'lý do', '2026-09-02')", emp_id)
    records, _ = await walk(feed, 100)
    [record] = [r for r in records if r["local_id"] == str(emp_id)]
    assert [(d["decision_number"], d["form_code"]) for d in record["disciplines"]] == [
        ("9/QĐ-BYT", "reprimand")]


@pytest.mark.parametrize("watermark", [
    "", "db1", "db1:", "db1:[]", "db1:not json", 'db1:["2026-11-01T00:00:00", 5]',
    'db1:["2026-11-01T00:00:00+00:00", "5"]', 'db1:["2026-11-01T00:00:00+00:00", true]',
    'db1:["yesterday", 5]', 'db1:[1, 5]', 'db1:{"since": 1}',
    '{"since": "2026-11-01T00:00:00+00:00", "cursor": null}',
    "drop1:nhansu_20261101T180000.csv:0:", "db2:[\"2026-11-01T00:00:00+00:00\", 5]",
])
async def test_a_watermark_not_ours_is_refused(feed: DatabaseAgencySystem,
                                               watermark: str) -> None:
    with pytest.raises(ValueError):
        await feed.changes(watermark, 10)


async def test_page_size_must_be_positive(feed: DatabaseAgencySystem) -> None:
    with pytest.raises(ValueError):
        await feed.changes(None, 0)


async def test_watermark_names_the_last_row(feed: DatabaseAgencySystem) -> None:
    page = await feed.changes(None, 3)
    assert page.watermark is not None
    assert page.watermark.startswith("db1:")
    stamp, key = json.loads(page.watermark[4:])
    assert datetime.fromisoformat(stamp) == page.records[-1]["updated_at"]
    assert str(key) == page.records[-1]["local_id"]
