"""Đà Nẵng's change feed: what the newest export holds that the export read before it did not
(new people, changed records), a page at a time, resumable from its watermark."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from adapters.change_feeds import FEED_COLUMNS, ChangeFeed, ChangePage
from adapters.errors import SourceUnavailable
from adapters.file_drop import FileDropConfig, FileDropSystem
from tests.adapters.drop_rows import drop, person, stamp


def system_for(config: FileDropConfig, directory: Path, **changes: Any) -> FileDropSystem:
    return FileDropSystem(dataclasses.replace(config, directory=directory, **changes))


async def walk(feed: ChangeFeed, limit: int, watermark: str | None = None
               ) -> tuple[list[dict[str, Any]], list[ChangePage]]:
    records: list[dict[str, Any]] = []
    pages: list[ChangePage] = []
    while True:
        page = await feed.changes(watermark, limit)
        pages.append(page)
        records += page.records
        watermark = page.watermark
        if not page.more:
            return records, pages


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["local_id"] for r in records]


async def test_the_first_read_is_the_whole_newest_export(danang_config: FileDropConfig,
                                                         drops: Path) -> None:
    drop(drops, [person(n) for n in range(1, 4)], stamp(1))
    newest = drop(drops, [person(n) for n in range(1, 12)], stamp(2))
    feed = system_for(danang_config, drops)
    assert isinstance(feed, ChangeFeed)
    records, pages = await walk(feed, 4)
    assert ids(records) == [f"DN{n:08d}" for n in range(1, 12)]
    assert all(set(r) == set(FEED_COLUMNS) for r in records)
    assert [len(p.records) for p in pages] == [4, 4, 3]
    assert pages[-1].watermark == f"drop1:{newest.name}:11:"
    # Caught up: nothing until a newer export comes.
    assert await feed.changes(pages[-1].watermark, 4) == ChangePage(
        [], pages[-1].watermark, more=False)


async def test_a_newer_export_yields_what_changed(danang_config: FileDropConfig,
                                                  drops: Path) -> None:
    first = drop(drops, [person(n) for n in range(1, 8)], stamp(1))
    feed = system_for(danang_config, drops)
    _, pages = await walk(feed, 100)
    caught_up = pages[-1].watermark
    rows = [person(n) for n in range(1, 8) if n != 4]  # number 4 left the agency
    rows[1] = person(2, **{"Bậc lương": 3, "Hệ số lương": "3,00"})  # a step up
    rows[4] = person(6, **{"Quyết định kỷ luật": "5/QĐ-UBND | 01/10/2026 | Khiển trách |"
                                                " Chủ tịch UBND | 01/10/2026 | 01/04/2027 |"
                                                " lý do"})
    rows.append(person(20))  # a new hire
    second = drop(drops, rows, stamp(3))
    assert caught_up is not None
    records, pages = await walk(feed, 2, caught_up)
    assert ids(records) == ["DN00000002", "DN00000006", "DN00000020"]
    assert records[0]["salary_step"] == 3
    assert records[1]["disciplines"][0]["form_code"] == "reprimand"
    assert pages[-1].watermark == f"drop1:{second.name}:7:{first.name}"
    # Rerunning a page's watermark yields that page again.
    again = await feed.changes(pages[0].watermark, 2)
    assert again == pages[1]


async def test_a_run_stopped_midway_resumes(danang_config: FileDropConfig, drops: Path) -> None:
    drop(drops, [person(n) for n in range(1, 6)], stamp(1))
    _, pages = await walk(system_for(danang_config, drops), 100)
    changed = [person(n, **{"Bậc lương": 5}) for n in range(1, 6)]
    drop(drops, changed, stamp(2))
    feed = system_for(danang_config, drops)
    first = await feed.changes(pages[-1].watermark, 2)
    assert ids(first.records) == ["DN00000001", "DN00000002"]
    assert first.more
    # A newer export arrives meanwhile; a new process (nothing cached) finishes the export it
    # had begun, then moves to the newest, compared with the one it finished.
    drop(drops, [person(n, **{"Bậc lương": 5 if n != 3 else 6}) for n in range(1, 6)],
         stamp(3))
    restarted = system_for(danang_config, drops)
    rest, _ = await walk(restarted, 2, first.watermark)
    assert ids(rest) == ["DN00000003", "DN00000004", "DN00000005", "DN00000003"]
    assert rest[-1]["salary_step"] == 6


async def test_a_compared_export_removed_meanwhile(danang_config: FileDropConfig,
                                                   drops: Path) -> None:
    old = drop(drops, [person(n) for n in range(1, 4)], stamp(1))
    _, pages = await walk(system_for(danang_config, drops), 100)
    drop(drops, [person(n) for n in range(1, 4)] + [person(9)], stamp(2))
    old.unlink()  # drop directories get cleaned
    records, _ = await walk(system_for(danang_config, drops), 100, pages[-1].watermark)
    # Nothing to compare with: every record comes again (a consumer finds no change in them).
    assert ids(records) == ["DN00000001", "DN00000002", "DN00000003", "DN00000009"]


async def test_partial_files_do_not_count(danang_config: FileDropConfig, drops: Path) -> None:
    done = drop(drops, [person(1)], stamp(1))
    partial = drop(drops, [person(1, **{"Bậc lương": 7})], stamp(2))
    partial.rename(drops / f".{partial.name}.part")
    records, pages = await walk(system_for(danang_config, drops), 10)
    assert [r["salary_step"] for r in records] == [2]
    assert pages[-1].watermark == f"drop1:{done.name}:1:"


async def test_malformed_rows_are_skipped_and_reported(danang_config: FileDropConfig,
                                                       drops: Path) -> None:
    drop(drops, [person(1), person(2, **{"Số CCCD": "không có"}), person(3)], stamp(1))
    feed = system_for(danang_config, drops)
    records, _ = await walk(feed, 10)
    assert ids(records) == ["DN00000001", "DN00000003"]
    problems = feed.problems()
    assert problems is not None
    assert [p.row for p in problems[1]] == [3]


async def test_an_unreadable_newest_export_stops_the_feed(danang_config: FileDropConfig,
                                                          drops: Path) -> None:
    drop(drops, [person(1)], stamp(1))
    feed = system_for(danang_config, drops)
    _, pages = await walk(feed, 10)
    big = drop(drops, [person(n) for n in range(1, 400)], stamp(2))
    small = system_for(danang_config, drops, max_file_bytes=big.stat().st_size - 1)
    # It must not quietly skip what the agency sent: the run fails, naming the file.
    with pytest.raises(SourceUnavailable, match=big.name):
        await small.changes(pages[-1].watermark, 10)


@pytest.mark.parametrize("watermark", [
    "", "drop1", "drop1:", "drop1::0:", "drop1:../../etc/passwd:0:",
    "drop1:nhansu_20261101T180000.csv:0:/etc/passwd",
    "drop1:nhansu_20261101T180000.csv:-1:", "drop1:nhansu_20261101T180000.csv:1e3:",
    "drop1:nhansu_20261101T180000.csv:٣:", "drop1:nhansu_20261101T180000.csv:0",
    "drop1:nhansu_20261101T180000.csv:0::", "drop1:other_20261101T180000.csv:0:",
    "drop1:nhansu_20261101T180000.exe:0:", "drop1:nhansu_20261301T180000.csv:0:",
    "drop1:.nhansu_20261101T180000.csv.part:0:",
    "drop1:nhansu_20261101T180000.csv:9999999999:",
    'db1:["2026-11-01T00:00:00+00:00", 5]', '{"since": "2026-11-01T00:00:00+00:00"}',
])
async def test_a_watermark_not_ours_is_refused(danang_config: FileDropConfig, drops: Path,
                                               watermark: str) -> None:
    drop(drops, [person(1)], stamp(1))
    with pytest.raises(ValueError):
        await system_for(danang_config, drops).changes(watermark, 10)


async def test_nothing_dropped_yet(danang_config: FileDropConfig, drops: Path) -> None:
    feed = system_for(danang_config, drops)
    assert await feed.changes(None, 10) == ChangePage([], None, more=False)
    with pytest.raises(ValueError):
        await feed.changes(None, 0)
