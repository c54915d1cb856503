"""Đà Nẵng's legacy system read from its dropped exports: lookups from the newest complete
file, a newer drop taking over, partial and foreign files ignored, links refused, malformed
rows left out with reasons, and files over their bounds refused without taking the hub down."""

from __future__ import annotations

import dataclasses
import os
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters import AGENCY_RECORD_COLUMNS, SourceUnavailable, eq
from adapters.drop_directory import DropDirectory, DropRefused
from adapters.drop_export import ExportFormat
from adapters.file_drop import FileDropConfig, FileDropSystem
from adapters.record_mapping import RecordMapping
from hub.databases import DatabaseSet
from hub.source_config import load_source_config
from sandbox.agency_file_drop.codes import FORM_LABELS, POSITION_LABELS
from sandbox.agency_file_drop.export import write_export
from tests.adapters.drop_rows import drop, person, stamp


def in_directory(config: FileDropConfig, directory: Path, **changes: Any) -> FileDropSystem:
    return FileDropSystem(dataclasses.replace(config, directory=directory, **changes))


async def test_lookup_answers_from_the_seeded_export(danang_config: FileDropConfig,
                                                     stored: DatabaseSet) -> None:
    conn = await asyncpg.connect(stored.agency_file_drop)
    try:
        held = await conn.fetch("SELECT * FROM ns_canbo ORDER BY ma_cb")
        decisions = await conn.fetch("SELECT * FROM ns_kyluat")
    finally:
        await conn.close()
    assert len(held) > 20
    system = FileDropSystem(danang_config)
    await system.ping()
    records = await system.fetch_many([r["so_cccd"] for r in held] + ["000000000000"],
                                      (*AGENCY_RECORD_COLUMNS, "hired_on", "disciplines"))
    assert len(records) == len(held)
    by_id = {r["local_id"]: r for r in records}
    with_decisions = {d["ma_cb"] for d in decisions}
    for row in held:
        record = by_id[row["ma_cb"]]
        assert record["personal_id"] == row["so_cccd"]
        assert record["full_name"] == row["ho_ten"]
        assert record["birth_date"] == row["ngay_sinh"]
        assert record["sex"] == {"Nam": "male", "Nữ": "female"}[row["gioi_tinh"]]
        assert record["agency_code"] == row["ma_dv"]
        assert record["unit_name"] == row["phong_ban"]
        assert record["position_code"] == POSITION_LABELS.get(row["chuc_vu"], row["chuc_vu"])
        assert record["rank_code"] == row["ngach"]
        assert record["salary_step"] == row["bac"]
        assert record["salary_coefficient"] == float(row["he_so"])
        assert record["pending_discipline"] == row["ky_luat_cho"]
        assert record["address"] == row["dia_chi"]
        assert record["hired_on"] == row["ngay_tuyen"]
        # Exports keep whole seconds of local time: the same instant.
        assert record["updated_at"] == row["cap_nhat"]
        assert len(record["disciplines"]) == sum(1 for d in decisions
                                                 if d["ma_cb"] == row["ma_cb"])
        if row["ma_cb"] in with_decisions:
            assert {d["form_code"] for d in record["disciplines"]} <= set(FORM_LABELS.values())
    problems = system.problems()
    assert problems is not None
    assert problems[1] == (), "the seed's export reads whole"


async def test_a_newer_export_takes_over(danang_config: FileDropConfig, scratch_legacy: str,
                                         drops: Path) -> None:
    first = await write_export(scratch_legacy, drops, exported_at=stamp(2))
    conn = await asyncpg.connect(scratch_legacy)
    try:
        target = await conn.fetchrow("SELECT * FROM ns_canbo ORDER BY ma_cb LIMIT 1")
        await conn.execute("UPDATE ns_canbo SET bac = bac + 1, cap_nhat = now()"
                           " WHERE ma_cb = $1", target["ma_cb"])
    finally:
        await conn.close()
    system = in_directory(danang_config, drops)
    [before] = await system.fetch_many([target["so_cccd"]], ("personal_id", "salary_step"))
    second = await write_export(scratch_legacy, drops, exported_at=stamp(3), fmt="xlsx")
    [after] = await system.fetch_many([target["so_cccd"]], ("personal_id", "salary_step"))
    assert (before["salary_step"], after["salary_step"]) == (target["bac"], target["bac"] + 1)
    assert first.name < second.name
    # Listing again is throttled: a drop is picked up within rescan_seconds, not per call.
    throttled = in_directory(danang_config, drops, rescan_seconds=3600)
    await throttled.fetch_many([target["so_cccd"]], ("personal_id",))
    drop(drops, [person(1)], stamp(4))
    assert await throttled.fetch_many([target["so_cccd"]], ("personal_id",)) != []


async def test_csv_and_xlsx_exports_read_alike(danang_config: FileDropConfig,
                                               scratch_legacy: str, tmp_path: Path) -> None:
    answers = []
    for fmt in ("csv", "xlsx"):
        directory = tmp_path / fmt
        await write_export(scratch_legacy, directory, exported_at=stamp(2), fmt=fmt)
        system = in_directory(danang_config, directory)
        conn = await asyncpg.connect(scratch_legacy)
        try:
            ids = [r[0] for r in await conn.fetch("SELECT so_cccd FROM ns_canbo")]
        finally:
            await conn.close()
        answers.append(sorted(await system.fetch_many(
            ids, (*AGENCY_RECORD_COLUMNS, "hired_on", "disciplines")),
            key=lambda r: r["local_id"]))
    assert answers[0] == answers[1]


async def test_incomplete_and_foreign_files_are_ignored(danang_config: FileDropConfig,
                                                        drops: Path) -> None:
    drop(drops, [person(1)], stamp(2))
    newer = [person(1, **{"Bậc lương": 9})]
    later = stamp(5)
    for name in (".nhansu_20261105T190000.csv.part", "nhansu_20261105T190000.csv.tmp",
                 "~$nhansu_20261105T190000.xlsx", "nhansu_20261105T190000.CSV",
                 "nhansu_20261305T190000.csv", "nhansu_2026110519.csv",
                 "other_20261105T190000.csv", "nhansu_20261105T190000.csv.bak"):
        drop(drops, newer, later)
        os.replace(drops / "nhansu_20261105T190000.csv", drops / name)
    (drops / "nhansu_20261106T000000.csv").mkdir()  # a directory with an export's name
    system = in_directory(danang_config, drops)
    [record] = await system.fetch_many([person(1)[1]], ("personal_id", "salary_step"))
    assert record["salary_step"] == 2
    assert [f.name for f in DropDirectory(drops, "nhansu_").complete_files()] == [
        "nhansu_20261102T190000.csv"]


async def test_links_are_refused(danang_config: FileDropConfig, drops: Path,
                                 tmp_path: Path) -> None:
    drop(drops, [person(1)], stamp(2))
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = drop(outside, [person(1, **{"Họ và tên": "Không được đọc"})], stamp(9))
    (drops / "nhansu_20261109T190000.csv").symlink_to(secret)
    (drops / "nhansu_20261110T190000.csv").symlink_to(drops / "nhansu_20261102T190000.csv")
    system = in_directory(danang_config, drops)
    [record] = await system.fetch_many([person(1)[1]], ("personal_id", "full_name"))
    assert record["full_name"] == "Nguyễn Văn 1"
    directory = DropDirectory(drops, "nhansu_")
    assert [f.name for f in directory.complete_files()] == ["nhansu_20261102T190000.csv"]
    # Swapped for a link after being listed: refused when opened.
    [listed] = directory.complete_files()
    os.replace(drops / "nhansu_20261109T190000.csv", drops / listed.name)
    with pytest.raises(DropRefused, match="link"):
        directory.read(listed, 1_000_000)


async def test_malformed_rows_are_left_out_with_reasons(danang_config: FileDropConfig,
                                                        drops: Path) -> None:
    rows = [
        person(1),
        person(2, **{"Ngày sinh": "31/02/1990"}),
        person(3, **{"Số CCCD": "04809000003"}),
        person(4, **{"Hệ số lương": "hai phẩy sáu"}),
        person(5, **{"Quyết định kỷ luật": "12/QĐ-UBND | 01/02/2025 | Khiển trách"}),
        person(6, **{"Bậc lương": "2.5", "Cập nhật lúc": "2026-10-01"}),
        person(7, **{"Quyết định kỷ luật":
                     "12/QĐ-UBND | 01/02/2025 | Khiển trách | Chủ tịch UBND | 02/02/2025 |"
                     " 02/08/2025 | vi phạm | quy chế\n\n7/QĐ-UBND | 01/03/2024 | Kỷ luật lạ |"
                     " Chủ tịch UBND | 01/03/2024 |  | lý do"}),
        [*person(8), "thừa"],
        person(9, **{"Ngày sinh": datetime(1990, 5, 6).strftime("%d/%m/%Y")}),
    ]
    # An empty row at the end, as spreadsheets leave them.
    path = drop(drops, [*rows, [None] * len(rows[0])], stamp(2))
    system = in_directory(danang_config, drops)
    found = await system.fetch_many([r[1] for r in rows], ("local_id", "disciplines",
                                                          "birth_date"))
    assert sorted(r["local_id"] for r in found) == ["DN00000001", "DN00000007", "DN00000009"]
    [seven] = [r for r in found if r["local_id"] == "DN00000007"]
    assert [(d["decision_number"], d["form_code"], d["reason"]) for d in seven["disciplines"]
            ] == [("12/QĐ-UBND", "reprimand", "vi phạm | quy chế"),
                  ("7/QĐ-UBND", "Kỷ luật lạ", "lý do")]
    assert seven["disciplines"][1]["effective_to"] is None
    problems = system.problems()
    assert problems is not None
    name, rows_left_out = problems
    assert name == path.name
    reasons = {p.row: " ".join(p.reasons) for p in rows_left_out}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 9]
    assert "Ngày sinh" in reasons[3]
    assert "dd/mm/yyyy" in reasons[3]
    assert "12-digit" in reasons[4]
    assert "Hệ số lương" in reasons[5]
    assert "parts" in reasons[6]
    assert "Bậc lương" in reasons[7]
    assert "Cập nhật lúc" in reasons[7]
    assert "cells" in reasons[9]
    assert not any("04809000003" in r for r in reasons.values()), "no values in reasons"


async def test_xlsx_cells_of_the_wrong_kind(danang_config: FileDropConfig, drops: Path) -> None:
    rows = [person(1), person(2, **{"Số CCCD": 48090000002}),
            person(3, **{"Ngày sinh": "không rõ"}), person(4, **{"Bậc lương": 2.0})]
    drop(drops, rows, stamp(2), fmt="xlsx")
    system = in_directory(danang_config, drops)
    found = await system.fetch_many([r[1] for r in rows if isinstance(r[1], str)],
                                    ("local_id", "salary_step", "birth_date"))
    assert sorted((r["local_id"], r["salary_step"]) for r in found) == [
        ("DN00000001", 2), ("DN00000004", 2)]
    assert found[0]["birth_date"] == date(1990, 1, 2)
    problems = system.problems()
    assert problems is not None
    reasons = {p.row: " ".join(p.reasons) for p in problems[1]}
    assert "leading zeros" in reasons[3]
    assert "Ngày sinh" in reasons[4]


@pytest.mark.parametrize(("content", "fmt", "bounds", "why"), [
    (None, "csv", {"max_file_bytes": 1}, "bytes"),
    (None, "csv", {"export_rows": 2}, "rows"),
    (None, "xlsx", {"max_expanded": 2_000}, "expand"),
    (b"PK\x03\x04 not really a zip", "xlsx", {}, "workbook"),
    ("Mã cán bộ,Số CCCD\r\nDN1,048090000001\r\n".encode(), "csv", {}, "lacks"),
    ("Mã cán bộ;Số CCCD".encode("utf-16"), "csv", {}, "text"),
    (b"\xef\xbb\xbfA\x00B", "csv", {}, "NUL"),
])
async def test_an_unreadable_newest_export_is_refused(
        danang_config: FileDropConfig, drops: Path, content: bytes | None, fmt: str,
        bounds: dict[str, int], why: str) -> None:
    good = drop(drops, [person(1)], stamp(2))
    rows = [person(n) for n in range(1, 4)]
    newest = drop(drops, rows, stamp(3), fmt=fmt)
    if content is not None:
        newest.write_bytes(content)
    export = danang_config.export
    if "export_rows" in bounds:
        export = dataclasses.replace(export, max_rows=bounds["export_rows"])
    if "max_expanded" in bounds:
        export = dataclasses.replace(export, max_expanded_bytes=bounds["max_expanded"])
    # A bound the older, smaller export fits in.
    limit = good.stat().st_size + 10 if "max_file_bytes" in bounds \
        else danang_config.max_file_bytes
    system = in_directory(danang_config, drops, export=export, max_file_bytes=limit)
    with pytest.raises(SourceUnavailable, match=why) as refusal:
        await system.ping()
    assert newest.name in refusal.value.message
    # Lookups go on from the newest export that could be read.
    assert await system.fetch_many([person(1)[1]], ("local_id",)) == [{"local_id": "DN00000001"}]
    # The refusal is remembered: the file is not parsed again until it changes.
    with pytest.raises(SourceUnavailable, match=why):
        await system.ping()


async def test_nothing_to_read(danang_config: FileDropConfig, drops: Path) -> None:
    system = in_directory(danang_config, drops)
    with pytest.raises(SourceUnavailable, match="no complete export"):
        await system.ping()
    with pytest.raises(SourceUnavailable, match="no readable export"):
        await system.fetch_many(["048090000001"], ("personal_id",))
    missing = in_directory(danang_config, drops / "absent")
    with pytest.raises(SourceUnavailable, match="cannot be read"):
        await missing.fetch_many(["048090000001"], ("personal_id",))


async def test_row_filters_hold(danang_config: FileDropConfig, drops: Path) -> None:
    rows = [person(1), person(2, **{"Mã đơn vị": "000.00.02.H48"}), person(3)]
    drop(drops, rows, stamp(2))
    system = in_directory(danang_config, drops)
    found = await system.fetch_many([r[1] for r in rows], ("personal_id",),
                                    (eq("agency_code", "000.00.01.H48"), eq("sex", "male")))
    assert found == [{"personal_id": rows[0][1], "agency_code": "000.00.01.H48",
                      "sex": "male"}, {"personal_id": rows[2][1],
                                       "agency_code": "000.00.01.H48", "sex": "male"}]


@pytest.mark.parametrize("change", [
    {"prefix": "../nhansu_"}, {"prefix": ""}, {"prefix": "nhan su_"}, {"formats": ("pdf",)},
    {"formats": ()}, {"max_file_bytes": 0}, {"timeout_seconds": 0}, {"rescan_seconds": -1},
])
def test_malformed_configuration_is_refused(danang_config: FileDropConfig,
                                            change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(danang_config, **change)  # type: ignore[arg-type]


@pytest.mark.parametrize("change", [
    {"mapping": RecordMapping(fields={"full_name": "Họ và tên"})},
    {"delimiter": ";;"}, {"delimiter": "\n"}, {"encoding": "no-such-encoding"},
    {"header_row": 0}, {"max_rows": 0},
])
def test_malformed_export_format_is_refused(danang_config: FileDropConfig,
                                            change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(danang_config.export, **change)  # type: ignore[arg-type]
    assert isinstance(danang_config.export, ExportFormat)


@pytest.mark.parametrize("entry", [
    "{name: x, kind: file-drop, serves: ['*.H48'], directory: /tmp, fields: {personal_id: a},"
    " utc_offset: '+7'}",
    "{name: x, kind: file-drop, serves: ['*.H48'], directory: /tmp, fields: {personal_id: a},"
    " decimal_comma: perhaps}",
    "{name: x, kind: file-drop, serves: ['*.H48'], directory: /tmp, fields: {personal_id: a},"
    " folder: /tmp}",
    "{name: x, kind: file-drop, serves: ['*.H48'], fields: {personal_id: a}}",
    "{name: x, kind: file-drop, serves: ['*.H48'], directory: /tmp, fields: {personal_id: a},"
    " disciplines: {column: K, parts: [verdict]}}",
    "{name: x, kind: file-drop, serves: ['*.H48'], directory: /tmp, fields: {personal_id: a},"
    " formats: csv}",
])
def test_registry_entries_are_checked(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(f"population: {{base_url: x, api_key: k}}\nagency_systems:\n  - {entry}\n")
    with pytest.raises(ValueError, match="invalid source registry"):
        load_source_config(path)


def test_the_shipped_entry(danang_config: FileDropConfig, stored: DatabaseSet) -> None:
    assert danang_config.directory == Path(stored.file_drops)
    assert danang_config.serves == ("*.H48",)
    assert danang_config.export.utc_offset == timedelta(hours=7)
    assert set(danang_config.export.mapping.codes["position_code"].values()) == set(
        POSITION_LABELS.values())
    assert danang_config.export.disciplines is not None
    assert danang_config.export.disciplines.codes["form_code"] == FORM_LABELS


async def test_hostile_content_refuses_a_file_or_a_row_never_the_hub(
        danang_config: FileDropConfig, drops: Path) -> None:
    # A field past the CSV reader's limit: that row is reported, the rest served.
    rows = [person(1), person(2, **{"Địa chỉ thường trú": "x" * 200_000}), person(3)]
    drop(drops, rows, stamp(2))
    system = in_directory(danang_config, drops)
    found = await system.fetch_many([r[1] for r in rows], ("local_id",))
    assert sorted(r["local_id"] for r in found) == ["DN00000001", "DN00000003"]
    problems = system.problems()
    assert problems is not None
    assert [p.row for p in problems[1]] == [3]
    # A workbook whose sheet is not XML: refused as a whole, the older export still served.
    broken = drop(drops, [person(1)], stamp(3), fmt="xlsx")
    with zipfile.ZipFile(broken) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = next(name for name in parts if name.startswith("xl/worksheets/"))
    parts[sheet] = b"<worksheet><sheetData><row><c><v>1</v></c>" + b"<" * 1000
    with zipfile.ZipFile(broken, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(SourceUnavailable, match=broken.name):
        await system.ping()
    assert len(await system.fetch_many([r[1] for r in rows], ("local_id",))) == 2
    # Something that is not a file under an export's name is not read (a FIFO would block).
    os.mkfifo(drops / "nhansu_20261109T190000.csv")
    assert [f.name for f in DropDirectory(drops, "nhansu_").complete_files()][-1] == broken.name
