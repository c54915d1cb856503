"""``hub submit`` end to end against a running hub: JSON Lines and CSV files of Hà Nội
employees' position changes, valid and invalid mixed; the report, the exit codes and the
national database; and a crash mid-run (SIGKILL) followed by a rerun that applies every valid
change exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from hub.config import PROJECT_ROOT
from hub.databases import DatabaseSet
from hub.updates.keys import add_signer_key, generate_signer_key
from tests.e2e.audit_records import fetch_rows

HANOI_AGENCY = "000.00.01.H01"
CLIENT, PURPOSE = "hanoi-doha", "personnel-updates"
TODAY = date.today().isoformat()


@dataclass
class Employee:
    code: str
    personal_id: str
    version: int
    step: int
    ladder: int

    def other_step(self, step: int | None = None) -> int:
        """A step on the ladder other than ``step`` (default the current one)."""
        step = self.step if step is None else step
        return step + 1 if step < self.ladder else step - 1


@dataclass
class Setup:
    hub_url: str
    secret: str
    key_file: Path
    databases: DatabaseSet
    pool: Iterator[Employee]

    def take(self, count: int) -> list[Employee]:
        return [next(self.pool) for _ in range(count)]

    def run(self, *args: str, wait: bool = True, **kwargs: Any) -> Any:
        # Given arguments last: they override the defaults (argparse keeps the last one).
        command = [sys.executable, "-m", "hub", "submit", "--hub", self.hub_url,
                   "--client", CLIENT, "--purpose", PURPOSE, "--key", str(self.key_file),
                   "--agency", HANOI_AGENCY, *args]
        env = {**os.environ, "HUB_CLIENT_SECRET": self.secret}
        if not wait:
            return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True,
                              text=True, timeout=300, check=False, **kwargs)

    def employee(self, code: str) -> tuple[int, int]:
        (row,) = fetch_rows(self.databases.national, "SELECT version, salary_step FROM"
                            " employee WHERE employee_code = $1", code)
        return row["version"], row["salary_step"]


def _employees(databases: DatabaseSet) -> list[Employee]:
    rows = fetch_rows(databases.national,
                      "SELECT e.employee_code, e.personal_id, e.version, e.salary_step,"
                      " (SELECT count(*) FROM salary_ladder l WHERE l.rank_code = e.rank_code)"
                      " AS ladder FROM employee e JOIN agency a ON a.code = e.agency_code"
                      " WHERE a.authority = 'H01' AND e.status = 'active'"
                      " AND e.hired_on <= current_date ORDER BY e.employee_code")
    return [Employee(r["employee_code"], r["personal_id"], r["version"], r["salary_step"],
                     int(r["ladder"])) for r in rows if r["ladder"] >= 2]


@pytest.fixture(scope="module")
def setup(hub_url: str, client_secrets: dict[str, str], databases: DatabaseSet,
          tmp_path_factory: pytest.TempPathFactory) -> Setup:
    key = generate_signer_key("ES256")
    key_file = tmp_path_factory.mktemp("agency") / "agency.jwk"
    key_file.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")

    async def register() -> None:
        conn = await asyncpg.connect(databases.national)
        try:
            await add_signer_key(conn, "agency", HANOI_AGENCY, key.as_dict(private=False),
                                 valid_from=datetime.now(UTC) - timedelta(days=1))
        finally:
            await conn.close()

    asyncio.run(register())
    return Setup(hub_url, client_secrets[CLIENT], key_file, databases,
                 iter(_employees(databases)))


def _change(employee: Employee, step: int, version: int | None = None) -> dict[str, Any]:
    return {"kind": "position-change",
            "employee": {"employeeCode": employee.code, "personalId": employee.personal_id},
            "baseVersion": employee.version if version is None else version,
            "change": {"salaryStep": step, "effectiveFrom": TODAY},
            "sourceSystem": "hanoi-hrm"}


def _report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_mixed_jsonl_file(setup: Setup, tmp_path: Path) -> None:
    good, off_ladder, stale = setup.take(6), setup.take(3), setup.take(2)
    lines = [json.dumps(_change(e, e.other_step())) for e in good]
    lines += [json.dumps(_change(e, 19)) for e in off_ladder]
    lines += [json.dumps(_change(e, e.other_step(), e.version + 5)) for e in stale]
    lines.insert(3, "{this is not json")
    lines.insert(7, json.dumps({"kind": "position-change", "employee": "nobody"}))
    path = tmp_path / "changes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "report.jsonl"

    result = setup.run(str(path), "--report", str(report), "--batch-size", "4")
    assert result.returncode == 1, result.stderr  # two lines could not be sent
    assert "Traceback" not in result.stderr
    assert "6 accepted" in result.stdout + result.stderr
    assert "NOT_ON_LADDER 3" in result.stderr
    assert "CONFLICT 2" in result.stderr
    assert "line 4: not JSON" in result.stderr

    answers = _report(report)
    assert [a["line"] for a in answers] == list(range(1, len(lines) + 1))
    by_status: dict[str, list[dict[str, Any]]] = {}
    for answer in answers:
        by_status.setdefault(answer["status"], []).append(answer)
    assert len(by_status["accepted"]) == 6
    assert len(by_status["rejected"]) == 5
    assert [a["line"] for a in by_status["error"]] == [4, 8]
    for employee in good:
        assert setup.employee(employee.code) == (employee.version + 1, employee.other_step())
    for employee in off_ladder + stale:
        assert setup.employee(employee.code) == (employee.version, employee.step)
    keys = [a["idempotencyKey"] for a in by_status["rejected"]]
    kept = fetch_rows(setup.databases.national,
                      "SELECT status, reasons::text AS reasons FROM submission WHERE"
                      " client_id = $1 AND idempotency_key = ANY($2)", CLIENT, keys)
    assert len(kept) == 5
    assert {k["status"] for k in kept} == {"rejected"}

    # The same file again: every record answered with its first decision, nothing applied.
    again = setup.run(str(path), "--report", str(report))
    assert again.returncode == 1
    repeated = _report(report)
    assert all(a["repeated"] for a in repeated if a["status"] != "error")
    for employee in good:
        assert setup.employee(employee.code) == (employee.version + 1, employee.other_step())


def test_a_mapped_csv_export(setup: Setup, tmp_path: Path) -> None:
    staff = setup.take(4)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("""
kind: position-change
sourceSystem: hanoi-hrm
employee:
  employeeCode: "Mã cán bộ"
  personalId: "Số định danh"
baseVersion: "Phiên bản hồ sơ"
change:
  salaryStep: {column: "Bậc lương", type: integer}
  effectiveFrom: {column: "Ngày hưởng", type: date, format: dd/mm/yyyy}
""", encoding="utf-8")
    day = date.today().strftime("%d/%m/%Y")
    rows = ["Mã cán bộ,Số định danh,Phiên bản hồ sơ,Bậc lương,Ngày hưởng,Ghi chú"]
    rows += [f"{e.code},{e.personal_id},{e.version},{e.other_step()},{day},"
             for e in staff[:3]]
    rows.append(f"{staff[3].code},{staff[3].personal_id},{staff[3].version},19,{day},")
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = tmp_path / "report.jsonl"
    result = setup.run(str(path), "--mapping", str(mapping), "--report", str(report))
    assert result.returncode == 0, result.stderr
    answers = _report(report)
    assert [(a["row"], a["status"]) for a in answers] == [
        (2, "accepted"), (3, "accepted"), (4, "accepted"), (5, "rejected")]
    assert answers[3]["reasons"][0]["code"] == "NOT_ON_LADDER"
    for employee in staff[:3]:
        assert setup.employee(employee.code) == (employee.version + 1, employee.other_step())
    assert setup.employee(staff[3].code) == (staff[3].version, staff[3].step)


def test_usage_and_connection_errors(setup: Setup, tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(_change(setup.take(1)[0], 1)) + "\n", encoding="utf-8")
    wrong = subprocess.run(
        [sys.executable, "-m", "hub", "submit", str(path), "--hub", setup.hub_url,
         "--client", CLIENT, "--purpose", PURPOSE],
        cwd=PROJECT_ROOT, env={**os.environ, "HUB_CLIENT_SECRET": "wrong"},
        capture_output=True, text=True, timeout=60, check=False)
    assert wrong.returncode == 2
    assert "refused a token" in wrong.stderr
    reader = setup.run(str(path), "--purpose", "personnel-management")
    assert reader.returncode == 2, reader.stderr
    assert "Traceback" not in reader.stderr
    unreachable = setup.run(str(path), "--hub", "http://127.0.0.1:9", "--retries", "1")
    assert unreachable.returncode == 2
    assert "cannot reach the hub" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    csv_file = tmp_path / "x.csv"
    csv_file.write_text("a,b\n", encoding="utf-8")
    no_mapping = setup.run(str(csv_file))
    assert no_mapping.returncode == 2
    assert "--mapping" in no_mapping.stderr


def test_a_crash_mid_batch_then_a_rerun_applies_every_valid_change_once(
        setup: Setup, tmp_path: Path) -> None:
    staff = setup.take(50)
    # Per employee, in order: valid, invalid (off the ladder), valid, valid, invalid,
    # valid...: each valid change is based on the version the valid ones before it made.
    lines: list[str] = []
    expected: dict[str, tuple[int, int]] = {}
    valid = invalid = 0
    for employee in staff:
        version, step = employee.version, employee.step
        for index in range(8):
            if index in (1, 4, 6):
                lines.append(json.dumps(_change(employee, 19, version)))
                invalid += 1
            else:
                step = employee.other_step(step)
                lines.append(json.dumps(_change(employee, step, version)))
                version += 1
                valid += 1
        expected[employee.code] = (version, step)
    # Interleave the employees so that every batch touches many of them.
    ordered = [lines[e * 8 + i] for i in range(8) for e in range(len(staff))]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(ordered) + "\n", encoding="utf-8")
    state, report = tmp_path / "state.json", tmp_path / "report.jsonl"
    args = (str(path), "--batch-size", "5", "--state", str(state), "--report", str(report))

    process = setup.run(*args, wait=False)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        if state.exists():
            done = json.loads(state.read_text(encoding="utf-8"))["done"]
            if done >= 40:
                break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert 40 <= done < len(ordered), done  # killed mid-run, after some batches

    rerun = setup.run(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming after line" in rerun.stderr
    answers = _report(report)
    assert [a["line"] for a in answers] == list(range(1, len(ordered) + 1))
    assert sum(a["status"] == "accepted" for a in answers) == valid
    assert sum(a["status"] == "rejected" for a in answers) == invalid

    for employee in staff:
        assert setup.employee(employee.code) == expected[employee.code], employee.code
    codes = [e.code for e in staff]
    (history,) = fetch_rows(setup.databases.national,
                            "SELECT count(*) AS n, count(DISTINCT (employee_code, version))"
                            " AS distinct_versions FROM record_version WHERE employee_code ="
                            " ANY($1) AND entity = 'employee'", codes)
    assert history["n"] == history["distinct_versions"] == valid
    keys = [a["idempotencyKey"] for a in answers]
    (kept,) = fetch_rows(setup.databases.national,
                         "SELECT count(*) FILTER (WHERE status = 'accepted') AS accepted,"
                         " count(*) FILTER (WHERE status = 'rejected') AS rejected,"
                         " count(DISTINCT idempotency_key) AS distinct_keys FROM submission"
                         " WHERE client_id = $1 AND idempotency_key = ANY($2)", CLIENT, keys)
    assert (kept["accepted"], kept["rejected"]) == (valid, invalid)
    assert kept["distinct_keys"] == len(ordered)

    # Without the state file, a rerun sends everything again and changes nothing.
    state.unlink()
    third = setup.run(*args)
    assert third.returncode == 0, third.stderr
    assert all(a["repeated"] for a in _report(report))
    for employee in staff:
        assert setup.employee(employee.code) == expected[employee.code]


def test_batches_in_flight_keep_each_employees_changes_in_order(setup: Setup,
                                                                tmp_path: Path) -> None:
    """Each employee's changes follow one another, across batch boundaries, and every one
    is based on the version the one before made: sent four batches at a time, a batch
    naming an employee still in flight waits, so none is a CONFLICT."""
    staff = setup.take(12)
    lines: list[str] = []
    expected: dict[str, tuple[int, int]] = {}
    for employee in staff:
        version, step = employee.version, employee.step
        for _ in range(4):
            step = employee.other_step(step)
            lines.append(json.dumps(_change(employee, step, version)))
            version += 1
        expected[employee.code] = (version, step)
    path, report = tmp_path / "runs.jsonl", tmp_path / "report.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = setup.run(str(path), "--batch-size", "3", "--in-flight", "4", "--report",
                       str(report))
    assert result.returncode == 0, result.stderr
    answers = _report(report)
    assert [a["line"] for a in answers] == list(range(1, len(lines) + 1))
    assert {a["status"] for a in answers} == {"accepted"}, answers
    for employee in staff:
        assert setup.employee(employee.code) == expected[employee.code]
    refused = setup.run(str(path), "--in-flight", "9")
    assert refused.returncode == 2
    assert "--in-flight must be 1 to 8" in refused.stderr
