"""``hub submit`` with several batches in flight: which batches may be decided at the same
time, and that answers are reported and acknowledged in the file's order whatever order the
hub answers in."""

from __future__ import annotations

import argparse
import base64
import json
import random
import threading
import time
from typing import Any

import pytest

from hub.updates.bulk import Prepared
from hub.updates.cli_submit import Tally, _independence, _Run, _send_in_order


def _token(payload: Any) -> str:
    def segment(value: Any) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{segment({'alg': 'ES256', 'kid': 'k'})}.{segment(payload)}.c2ln"


def _item(number: int, employee: str, kind: str = "position-change") -> Prepared:
    token = _token({"kind": kind, "employee": {"employeeCode": employee}})
    return Prepared(number, f"key-{number}", {"kind": kind, "submission": token,
                                              "idempotencyKey": f"key-{number}"})


def test_batches_of_own_file_changes_name_their_employees() -> None:
    assert _independence([_item(1, "CB1"), _item(2, "CB2"), _item(3, "CB1")]) == frozenset(
        {"CB1", "CB2"})
    # An input error rides along without an employee.
    assert _independence([_item(1, "CB1"), Prepared(2, "key-2", None, "bad line")]) == frozenset(
        {"CB1"})


@pytest.mark.parametrize("odd_one", [
    _item(9, "CB9", kind="register-employee"),
    _item(9, "CB9", kind="transfer-in"),
    _item(9, "CB9", kind="transfer-out"),
    _item(9, "CB9", kind="no-such-kind"),
    Prepared(9, "key-9", {"kind": "position-change", "submission": "not.a-token"}),
    Prepared(9, "key-9", {"kind": "position-change", "submission": _token(["a list"])}),
    Prepared(9, "key-9", {"kind": "position-change",
                          "submission": _token({"employee": {"employeeCode": "X" * 33}})}),
    Prepared(9, "key-9", {"kind": "position-change"}),
])
def test_a_batch_reaching_beyond_its_employees_files_waits_for_all(odd_one: Prepared) -> None:
    assert _independence([_item(1, "CB1"), odd_one]) is None


class _FakeHub:
    """Answers each batch after a random pause, noting which batches overlapped."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: list[frozenset[str] | None] = []
        self.overlaps: list[tuple[frozenset[str] | None, frozenset[str] | None]] = []
        self.most = 0

    def send(self, batch: list[Prepared]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        mine = _independence(batch)
        with self.lock:
            self.overlaps += [(mine, other) for other in self.running]
            self.running.append(mine)
            self.most = max(self.most, len(self.running))
        time.sleep(random.uniform(0, 0.01))
        with self.lock:
            self.running.remove(mine)
        return {p.key: {"status": "ACCEPTED", "id": p.key} for p in batch if p.item}, {}


@pytest.mark.parametrize("in_flight", [1, 2, 4])
def test_answers_are_reported_in_order_and_related_batches_never_overlap(
        in_flight: int) -> None:
    random.seed(in_flight)
    employees = [f"CB{i}" for i in range(200)]
    records = [_item(n, random.choice(employees),
                     kind="register-employee" if n % 37 == 0 else "position-change")
               for n in range(1, 301)]
    batches = [records[i:i + 5] for i in range(0, len(records), 5)]
    hub = _FakeHub()
    run = _Run(argparse.Namespace(), None, "line", None, Tally(), None)  # type: ignore[arg-type]
    run.send = hub.send  # type: ignore[method-assign]
    reported: list[int] = []
    run.write = lambda prepared, answer, error=None: reported.append(  # type: ignore[method-assign]
        prepared.number)
    acknowledged: list[int] = []
    _send_in_order(iter(batches), run, in_flight, lambda b: acknowledged.append(b[-1].number))
    assert reported == list(range(1, 301))
    assert acknowledged == [b[-1].number for b in batches]
    assert hub.most <= in_flight
    if in_flight > 1:
        assert hub.most == in_flight  # it did overlap
    for mine, other in hub.overlaps:  # only batches for different employees' own files
        assert mine is not None
        assert other is not None
        assert not mine & other


def test_a_failed_batch_stops_the_run_with_what_came_before_acknowledged() -> None:
    class Gone(Exception):
        pass

    def send(batch: list[Prepared]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        if batch[0].number == 11:
            raise Gone
        time.sleep(0.005)
        return {p.key: {"status": "ACCEPTED"} for p in batch}, {}

    run = _Run(argparse.Namespace(), None, "line", None, Tally(), None)  # type: ignore[arg-type]
    run.send = send  # type: ignore[method-assign]
    run.write = lambda prepared, answer, error=None: None  # type: ignore[method-assign]
    batches = [[_item(n, f"CB{n}") for n in range(start, start + 5)]
               for start in range(1, 31, 5)]
    acknowledged: list[int] = []
    with pytest.raises(Gone):
        _send_in_order(iter(batches), run, 2, lambda b: acknowledged.append(b[-1].number))
    assert acknowledged == [5, 10]


def test_a_file_that_cannot_be_read_further_reports_what_was_in_flight_first() -> None:
    class Unreadable(Exception):
        pass

    def batches() -> Any:
        for start in (1, 6):
            yield [_item(n, f"CB{n}") for n in range(start, start + 5)]
        raise Unreadable

    def send(batch: list[Prepared]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        time.sleep(0.02)
        return {p.key: {"status": "ACCEPTED"} for p in batch}, {}

    run = _Run(argparse.Namespace(), None, "line", None, Tally(), None)  # type: ignore[arg-type]
    run.send = send  # type: ignore[method-assign]
    run.write = lambda prepared, answer, error=None: None  # type: ignore[method-assign]
    acknowledged: list[int] = []
    with pytest.raises(Unreadable):
        _send_in_order(batches(), run, 4, lambda b: acknowledged.append(b[-1].number))
    assert acknowledged == [5, 10]
