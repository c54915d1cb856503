"""hub.audit.export and ``hub audit export``: exactly the selected records, as JSON Lines."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from hub.audit.export import ExportFilter, FilterError, export_records, parse_moment
from tests.audit.chains import SUBJECTS, LogWriter, Record
from tests.audit.commands import hub_audit


async def write_log(log: LogWriter) -> list[Record]:
    chains = [await log.open() for _ in range(3)]
    for round_ in range(6):
        for chain in chains:
            await log.append(chain, 1 + round_ % 3)
        await log.checkpoint()
    return log.all_records()


def line_of(record: Record) -> dict[str, Any]:
    return {"chain": str(record.chain), "seq": record.seq, "recordedAt": record.entry["at"],
            "prevHash": record.prev_hash.hex(), "hash": record.hash.hex(),
            "entry": record.entry}


async def export(conn: asyncpg.Connection, **selection: Any) -> list[dict[str, Any]]:
    out = io.BytesIO()
    count = await export_records(conn, ExportFilter(**selection), out)
    text = out.getvalue().decode()
    assert text.endswith("\n") or not text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == count
    return lines


async def test_filters_select_exactly_the_expected_records(conn: asyncpg.Connection,
                                                           writer: LogWriter) -> None:
    records = await write_log(writer)
    assert len(records) == 36
    assert await export(conn) == [line_of(r) for r in records]
    window = records[10:20]
    assert await export(conn, start=window[0].at, end=records[20].at) == [
        line_of(r) for r in window]
    assert await export(conn, start=records[-1].at + timedelta(microseconds=1)) == []
    client = records[0].client
    assert await export(conn, client=client) == [
        line_of(r) for r in records if r.client == client]
    for subject in SUBJECTS[:4]:
        chosen = [line_of(r) for r in records if subject in r.subjects]
        assert chosen, subject
        assert await export(conn, subject=subject) == chosen
    combined = [line_of(r) for r in window if r.client == client and SUBJECTS[1] in r.subjects]
    assert await export(conn, start=window[0].at, end=records[20].at, client=client,
                        subject=SUBJECTS[1]) == combined
    assert await export(conn, subject="999999999999") == []
    assert await export(conn, client="nobody-at-all") == []


def test_moments() -> None:
    assert parse_moment("2025-01-31", "--from") == datetime(2025, 1, 31, tzinfo=UTC)
    assert parse_moment("2025-01-31T08:30:00", "--from") == datetime(2025, 1, 31, 8, 30,
                                                                      tzinfo=UTC)
    seven = timezone(timedelta(hours=7))
    assert parse_moment("2025-01-31T08:30:00+07:00", "--to") == datetime(2025, 1, 31, 8, 30,
                                                                          tzinfo=seven)


@pytest.mark.parametrize("text", [
    "2025-13-01", "2025-02-30", "yesterday", "", "2025-01-01'; DROP TABLE audit_record; --",
    "2025-01-01T25:00:00", "9" * 400, "２０２５-01-01",
])
def test_bad_moments_are_refused(text: str) -> None:
    with pytest.raises(FilterError, match="--from must be an ISO date"):
        parse_moment(text, "--from")


@pytest.mark.parametrize(("selection", "message"), [
    ({"start": datetime(2025, 2, 1, tzinfo=UTC), "end": datetime(2025, 1, 1, tzinfo=UTC)},
     "must be before --to"),
    ({"start": datetime(2025, 1, 1, tzinfo=UTC), "end": datetime(2025, 1, 1, tzinfo=UTC)},
     "must be before --to"),
    ({"subject": "12345"}, "personal ID of 12 digits"),
    ({"subject": "001090000001 OR 1=1"}, "personal ID"),
    ({"subject": "١٢٣٤٥٦٧٨٩٠١٢"}, "personal ID"),  # Arabic-Indic digits
    ({"subject": "00109000000\n"}, "personal ID"),
    ({"client": "x' OR '1'='1"}, "--client must be a client id"),
    ({"client": ""}, "--client"),
    ({"client": "a" * 65}, "--client"),
])
def test_bad_filters_are_refused(selection: dict[str, Any], message: str) -> None:
    with pytest.raises(FilterError, match=message):
        ExportFilter(**selection)


async def test_cli_writes_a_file_and_refuses_hostile_input(
        conn: asyncpg.Connection, writer: LogWriter, cli_env: dict[str, str],
        tmp_path: Path) -> None:
    records = await write_log(writer)
    start, end = records[5].at, records[30].at
    client = records[7].client
    target = tmp_path / "export.jsonl"
    done = await hub_audit(cli_env, "export", "--from", start.isoformat(), "--to",
                           end.isoformat(), "--client", client, "--output", str(target),
                           "--progress")
    assert done.returncode == 0, done.stderr
    expected = [line_of(r) for r in records[5:30] if r.client == client]
    assert [json.loads(line) for line in target.read_text().splitlines()] == expected
    assert f"exported {len(expected)} record(s)" in done.stderr
    assert "rec" in done.stderr  # the progress bar

    to_stdout = await hub_audit(cli_env, "export", "--subject", SUBJECTS[2])
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert [json.loads(line) for line in to_stdout.stdout.splitlines()] == [
        line_of(r) for r in records if SUBJECTS[2] in r.subjects]
    assert "\r" not in to_stdout.stderr  # no progress bar when stderr is not a terminal

    for arguments, message in [
            (["--from", "2025-13-01"], "--from must be an ISO date"),
            (["--from", "2025-02-01", "--to", "2025-01-01"], "must be before --to"),
            (["--subject", "1'; DELETE FROM audit_record; --"], "personal ID of 12 digits"),
            (["--client", "a b; DROP TABLE audit_record"], "--client must be a client id")]:
        refused = await hub_audit(cli_env, "export", *arguments)
        assert refused.returncode == 2, refused
        assert refused.stderr.startswith("hub audit export: ")
        assert message in refused.stderr
        assert "Traceback" not in refused.stderr
        assert refused.stdout == ""
    assert await conn.fetchval("SELECT count(*) FROM audit_record") == len(records)
