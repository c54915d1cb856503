"""``hub submit FILE``: an agency's bulk file of changes sent to a hub's ``submitBatch``.

An agency-side client of the hub's GraphQL API: it takes a token with the client's
credentials (``--client``, the secret from ``--secret-env``, default ``HUB_CLIENT_SECRET``),
reads the file (JSON Lines, or CSV / Excel mapped by ``--mapping``; see ``hub.updates.bulk``
for both formats), signs what is not signed yet with ``--key``, and sends the records in
order, ``--batch-size`` at a time (default 200; the hub takes at most 500, and a request body
of at most 1 MB). Every record has a deterministic idempotency key, so a rerun after an
interruption sends the same keys and the hub answers the records it already decided with their
first decision (``repeated``): nothing is applied twice. ``--state FILE`` records the last
line (or row) of the last acknowledged batch, so a rerun skips what is known done.

Up to ``--in-flight`` batches (default 2) are sent at once, so the hub decides one while the
next is on its way, but never two that could change what the other is decided on: a batch
waits for those in flight when it names an employee one of them names, or holds a change
that reaches beyond the employee's own file (a registration, a transfer) or cannot be read.
Each batch's answers are reported, and the state saved, in the file's order.

Output: ``--report FILE`` gets one JSON line per record (``line`` or ``row``,
``idempotencyKey``, ``status`` accepted / rejected / error, ``repeated``, ``reasons``,
``version``, ``currentVersion``, ``id``); stderr gets a summary (accepted, rejected by reason
code, repeated, input errors) and, on a terminal or with ``--progress``, a progress bar.

Exit codes: 0 every record was decided by the hub (accepted or rejected); 1 input errors kept
some records from being sent (malformed lines, unmapped values, ...: each in the report and the
summary with its line); 2 a wrong question or nothing to ask it of: bad arguments, an
unreadable mapping or key, the hub unreachable, the client's credentials refused, the purpose
not allowed to submit (the state file is kept: rerun to resume). Imports beyond argparse happen
when the command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import httpx

    from hub.updates.bulk import Prepared

__all__ = ["BATCH_MUTATION", "AuthFailed", "BatchRefused", "HubClient", "HubUnavailable",
           "add_submit_command", "run_submit"]

OK, INPUT_ERRORS, USAGE = 0, 1, 2
DEFAULT_BATCH = 200
MAX_BATCH = 500
DEFAULT_IN_FLIGHT = 2
MAX_IN_FLIGHT = 8
#: The hub refuses request bodies over 1 MB; a batch is cut before it gets near.
MAX_BATCH_BYTES = 900_000
BATCH_MUTATION = """mutation SubmitBatch($items: [SubmissionInput!]!) {
  submitBatch(items: $items) {
    id status reasons { code path message } version currentVersion repeated } }"""


class HubUnavailable(Exception):
    """The hub could not be reached or kept failing: exit 2, rerun to resume."""


class AuthFailed(Exception):
    """The credentials, the token or the purpose were refused: exit 2."""


class BatchRefused(Exception):
    """The hub refused the request as a whole (BAD_USER_INPUT, body too large): something in
    these items is malformed."""


@dataclass
class HubClient:
    """The hub's token endpoint and ``submitBatch``, with retries for what may pass (network
    errors, 5xx, 503 with Retry-After) and a new token when the old one expires or is
    refused. Safe to retry: every item carries its idempotency key."""

    hub_url: str
    client_id: str
    secret: str
    purpose: str
    timeout: float = 300.0
    retries: int = 5
    backoff: float = 1.0
    _http: httpx.Client | None = None
    _token: str | None = None
    _expires: float = 0.0

    def __post_init__(self) -> None:
        import httpx

        self.hub_url = self.hub_url.rstrip("/")
        self._http = httpx.Client(timeout=httpx.Timeout(self.timeout, connect=15.0))

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        assert self._http is not None
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, f"{self.hub_url}{path}", **kwargs)
            except httpx.HTTPError as error:
                problem = f"cannot reach the hub at {self.hub_url}: {error or type(error)}"
                retry_after = delay
            else:
                if response.status_code < 500:
                    return response
                problem = f"the hub answered {response.status_code}: {_error_text(response)}"
                retry_after = _retry_after(response, delay)
            if attempt == self.retries:
                raise HubUnavailable(problem)
            time.sleep(retry_after)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def token(self, *, renew: bool = False) -> str:
        if not renew and self._token is not None and time.monotonic() < self._expires - 30:
            return self._token
        response = self._request("POST", "/oauth/token",
                                 data={"grant_type": "client_credentials"},
                                 auth=(self.client_id, self.secret))
        if response.status_code != 200:
            raise AuthFailed(f"the hub refused a token for client {self.client_id} "
                             f"({response.status_code}: {_error_text(response)})")
        try:
            body = response.json()
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise HubUnavailable("the hub's token endpoint answered something else than a "
                                 "token") from None
        self._expires = time.monotonic() + lifetime
        return self._token

    def submit_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The hub's answers to ``items``, in order."""
        body = json.dumps({"query": BATCH_MUTATION, "variables": {"items": list(items)}},
                          ensure_ascii=False).encode("utf-8")
        for renewed in (False, True):
            headers = {"authorization": f"Bearer {self.token(renew=renewed)}",
                       "x-purpose": self.purpose, "content-type": "application/json"}
            response = self._request("POST", "/graphql", content=body, headers=headers)
            if response.status_code == 401 and not renewed:
                continue  # expired or revoked meanwhile: one new token
            return _answers(response, len(items), self.client_id, self.purpose)
        raise AssertionError("unreachable")


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return min(max(float(response.headers.get("retry-after", default)), 0.1), 60.0)
    except ValueError:
        return default


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            if isinstance(first, dict):
                code = (first.get("extensions") or {}).get("code", "")
                return f"{code} {first.get('message', '')}".strip()[:300]
        if "error" in body:
            return f"{body.get('error')} {body.get('error_description', '')}".strip()[:300]
    return str(body)[:200]


def _answers(response: httpx.Response, count: int, client: str,
             purpose: str) -> list[dict[str, Any]]:
    if response.status_code == 413:
        raise BatchRefused("the request body is too large for the hub")
    try:
        body = response.json()
    except ValueError:
        raise HubUnavailable(f"the hub answered {response.status_code} without JSON") from None
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        first = errors[0] if isinstance(errors[0], dict) else {}
        code = (first.get("extensions") or {}).get("code")
        message = str(first.get("message", ""))[:300]
        if code == "BAD_USER_INPUT":
            raise BatchRefused(message)
        if code in ("UNAUTHENTICATED", "FORBIDDEN"):
            raise AuthFailed(f"{code}: {message}")
        if code == "VALIDATION_FAILED":
            raise AuthFailed(f"client {client} cannot submit for purpose {purpose!r} (its "
                             f"schema has no submitBatch: no write grants?): {message}")
        raise HubUnavailable(f"the hub refused the batch: {code}: {message}")
    data = body.get("data") if isinstance(body, dict) else None
    answers = data.get("submitBatch") if isinstance(data, dict) else None
    if response.status_code != 200 or not isinstance(answers, list) or len(answers) != count:
        raise HubUnavailable(f"the hub answered {response.status_code} without the batch's "
                             "answers")
    return answers


# --------------------------------------------------------------------------- the run


@dataclass
class Tally:
    accepted: int = 0
    rejected: int = 0
    repeated: int = 0
    input_errors: int = 0
    skipped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def note_error(self, where: str, message: str) -> None:
        self.input_errors += 1
        if len(self.examples) < 10:
            self.examples.append(f"{where}: {message}")


@dataclass
class _Run:
    args: argparse.Namespace
    client: HubClient
    unit: str  # "line" or "row"
    report: TextIO | None
    tally: Tally
    progress: Any

    def write(self, prepared: Prepared, answer: dict[str, Any] | None,
              error: str | None = None) -> None:
        line: dict[str, Any] = {self.unit: prepared.number,
                                "idempotencyKey": prepared.key}
        if answer is None:
            message = error or prepared.error or "not sent"
            line.update(status="error", error=message, reasons=[])
            self.tally.note_error(f"{self.unit} {prepared.number}", message)
        else:
            status = str(answer.get("status", "")).lower()
            reasons = answer.get("reasons") or []
            line.update(status=status, repeated=bool(answer.get("repeated")), reasons=reasons,
                        version=answer.get("version"),
                        currentVersion=answer.get("currentVersion"), id=answer.get("id"))
            if status == "accepted":
                self.tally.accepted += 1
            else:
                self.tally.rejected += 1
                for reason in reasons:
                    self.tally.reasons[str(reason.get("code"))] += 1
            if answer.get("repeated"):
                self.tally.repeated += 1
        if self.report is not None:
            self.report.write(json.dumps(line, ensure_ascii=False) + "\n")

    def send(self, batch: list[Prepared]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Send the items of ``batch`` (in order), splitting it when the hub refuses it as a
        whole, down to the one malformed item: the answers and the refusals, by idempotency
        key (safe to call from another thread: nothing is written)."""
        items = [p for p in batch if p.item is not None]
        answers: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        self._send(items, answers, errors)
        return answers, errors

    def record(self, batch: list[Prepared], answers: dict[str, dict[str, Any]],
               errors: dict[str, str]) -> None:
        """Report a sent batch's records in order (a refused one as an input error)."""
        for prepared in batch:
            if prepared.item is None:
                self.write(prepared, None)
            elif prepared.key in errors:
                self.write(prepared, None, f"refused by the hub: {errors[prepared.key]}")
            else:
                self.write(prepared, answers[prepared.key])

    def _send(self, items: list[Prepared], answers: dict[str, dict[str, Any]],
              errors: dict[str, str]) -> None:
        if not items:
            return
        try:
            results = self.client.submit_batch([p.item for p in items if p.item is not None])
        except BatchRefused as refused:
            if len(items) == 1:
                errors[items[0].key] = str(refused)
                return
            middle = len(items) // 2
            self._send(items[:middle], answers, errors)
            self._send(items[middle:], answers, errors)
            return
        for prepared, result in zip(items, results, strict=True):
            answers[prepared.key] = result


def _batches(records: Iterator[Prepared], size: int) -> Iterator[list[Prepared]]:
    """Records in order, cut into batches of at most ``size`` items and MAX_BATCH_BYTES (input
    errors ride along with the batch they fall in, to be reported in order)."""
    batch: list[Prepared] = []
    items = weight = 0
    for prepared in records:
        cost = 0 if prepared.item is None else sum(
            len(str(v)) for v in prepared.item.values()) + 100
        if batch and (items >= size or weight + cost > MAX_BATCH_BYTES):
            yield batch
            batch, items, weight = [], 0, 0
        batch.append(prepared)
        if prepared.item is not None:
            items += 1
            weight += cost
    if batch:
        yield batch


def _independence(batch: list[Prepared]) -> frozenset[str] | None:
    """The employees a batch's changes read and write, when each change touches only its
    employee's own file (a batch for other employees can be decided at the same time); None
    when one reaches beyond (a registration, a transfer) or cannot be read."""
    from hub.updates.desk import OWN_FILE_KINDS
    from hub.updates.signatures import peek_employee

    employees: set[str] = set()
    for prepared in batch:
        if prepared.item is None:
            continue
        code = (peek_employee(str(prepared.item.get("submission", "")))
                if prepared.item.get("kind") in OWN_FILE_KINDS else None)
        if code is None:
            return None
        employees.add(code)
    return frozenset(employees)


def _send_in_order(batches: Iterator[list[Prepared]], run: _Run, in_flight: int,
                   done: Callable[[list[Prepared]], None]) -> None:
    """Send ``batches`` with up to ``in_flight`` at once (see the module's notes), and
    report each (``run.record``, then ``done``) in order.

    When the file cannot be read further, the batches in flight are answered and reported
    before the error is raised. When a batch cannot be sent (the hub gone) or the run is
    interrupted, nothing more starts and nothing waits for the batches still in flight:
    their answers are unknown, and a rerun sends them again under the same keys."""
    window: deque[tuple[list[Prepared], Future[Any], frozenset[str] | None]] = deque()

    def finish_oldest() -> None:
        batch, answer, _ = window.popleft()
        run.record(batch, *answer.result())
        done(batch)

    try:
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except Exception:
                while window:
                    finish_oldest()
                raise
            employees = _independence(batch) if in_flight > 1 else None
            while window and (len(window) >= in_flight or employees is None
                              or any(e is None or e & employees for _, _, e in window)):
                finish_oldest()
            window.append((batch, _in_background(run.send, batch), employees))
        while window:
            finish_oldest()
    finally:
        window.clear()


def _in_background(send: Callable[[list[Prepared]], Any], batch: list[Prepared]
                   ) -> Future[Any]:
    """``send(batch)`` in a daemon thread: a run that stops (^C, the hub gone) exits at once
    instead of waiting for requests whose answers it will not report."""
    answer: Future[Any] = Future()

    def run() -> None:
        try:
            answer.set_result(send(batch))
        except BaseException as error:  # handed to whoever waits for the answer
            answer.set_exception(error)

    threading.Thread(target=run, name="hub-submit", daemon=True).start()
    return answer


def _resume_report(path: Path, unit: str, done: int) -> TextIO:
    """The report file, holding the lines of the records up to ``done`` (a run interrupted
    after writing a batch's lines but before its state was saved would repeat them)."""
    kept: list[str] = []
    if done > 0 and path.exists():
        with path.open(encoding="utf-8", errors="replace") as existing:
            for text in existing:
                try:
                    number = json.loads(text).get(unit)
                except (ValueError, AttributeError):
                    continue
                if isinstance(number, int) and number <= done:
                    kept.append(text if text.endswith("\n") else text + "\n")
    handle = path.open("w", encoding="utf-8")
    handle.writelines(kept)
    return handle


def _summary(tally: Tally, unit: str, out: TextIO) -> None:
    decided = tally.accepted + tally.rejected
    print(f"hub submit: {decided:,} decided: {tally.accepted:,} accepted, {tally.rejected:,} "
          f"rejected ({tally.repeated:,} of them repeated: decided by an earlier run); "
          f"{tally.input_errors:,} input error(s) not sent"
          + (f"; {tally.skipped:,} {unit}(s) skipped as done by an earlier run"
             if tally.skipped else ""), file=out)
    if tally.reasons:
        print("  rejected by reason: " + ", ".join(
            f"{code} {count:,}" for code, count in tally.reasons.most_common()), file=out)
    for example in tally.examples:
        print(f"  {example}", file=out)
    if tally.input_errors > len(tally.examples):
        print(f"  ... and {tally.input_errors - len(tally.examples):,} more (see the report)",
              file=out)


def run_submit(args: argparse.Namespace) -> int:
    from hub.updates import bulk

    path = Path(args.file)
    if not 1 <= args.batch_size <= MAX_BATCH:
        return _usage(f"--batch-size must be 1 to {MAX_BATCH}")
    if not 1 <= args.in_flight <= MAX_IN_FLIGHT:
        return _usage(f"--in-flight must be 1 to {MAX_IN_FLIGHT}")
    secret = os.environ.get(args.secret_env)
    if not secret:
        return _usage(f"the client secret is read from ${args.secret_env}, which is not set")
    try:
        fmt = bulk.format_of(path, args.format)
        file_id, lines = bulk.file_identity(path, args.max_bytes)
    except bulk.InputError as error:
        return _usage(str(error))
    mapping = None
    if fmt != "jsonl":
        if args.mapping is None:
            return _usage(f"a {fmt.upper()} file needs --mapping MAPPING.yaml (which column "
                          "gives which field)")
        if args.key is None:
            return _usage("the rows of a CSV or Excel file are signed here: give --key "
                          "AGENCY_KEY.jwk")
        try:
            mapping = bulk.load_mapping(Path(args.mapping))
        except ValueError as error:
            return _usage(f"mapping: {error}")
        if args.agency is None and mapping.iss is None:
            return _usage("give --agency CODE: the agency the key is registered for (the "
                          "payloads' iss)")
    signer = None
    if args.key is not None:
        from hub.updates.keys import read_jwk_file

        try:
            signer = bulk.Signer(read_jwk_file(Path(args.key)), args.agency)
        except ValueError as error:
            return _usage(f"--key: {error}")
    state = None
    if args.state is not None:
        try:
            state, note = bulk.ResumeState.open(Path(args.state), file_id,
                                                mapping.digest if mapping else "")
        except bulk.InputError as error:
            return _usage(str(error))
        if note:
            print(f"hub submit: {note}", file=sys.stderr)
    done = state.done if state is not None else 0
    unit = "line" if fmt == "jsonl" else "row"
    tally = Tally()
    client = HubClient(args.hub, args.client, secret, args.purpose, timeout=args.timeout,
                       retries=args.retries)
    report: TextIO | None = None
    progress: Any = None
    try:
        client.token()  # refused credentials stop the run before anything is read
        try:
            records = bulk.read_records(path, fmt, mapping)
        except bulk.InputError as error:
            print(f"hub submit: {error}", file=sys.stderr)
            return INPUT_ERRORS
        if args.report is not None:
            report = _resume_report(Path(args.report), unit, done)
        progress = _progress(args, lines - (0 if fmt == "jsonl" else 1) if fmt != "xlsx"
                             else None)
        run = _Run(args, client, unit, report, tally, progress)

        def prepared() -> Iterator[Prepared]:
            for record in records:
                if record.number <= done:
                    tally.skipped += 1
                    if progress is not None:
                        progress.update(1)
                    continue
                if record.data is None and record.error is None:
                    continue  # an empty row
                yield bulk.prepare_item(record, file_id, mapping=mapping, signer=signer,
                                        kind=args.kind)

        def acknowledged(batch: list[Prepared]) -> None:
            if report is not None:
                report.flush()
                os.fsync(report.fileno())
            if state is not None:
                state.save(batch[-1].number)
            if progress is not None:
                progress.update(len(batch))

        _send_in_order(_batches(prepared(), args.batch_size), run,
                       args.in_flight, acknowledged)
    except bulk.InputError as error:
        print(f"hub submit: {error}", file=sys.stderr)
        return INPUT_ERRORS
    except (HubUnavailable, AuthFailed) as error:
        _close(progress)
        print(f"hub submit: {error}", file=sys.stderr)
        _summary(tally, unit, sys.stderr)
        if state is not None:
            print(f"hub submit: stopped; rerun to resume after {unit} {state.done:,}",
                  file=sys.stderr)
        return USAGE
    except OSError as error:
        _close(progress)
        return _usage(f"cannot write: {error}")
    except KeyboardInterrupt:
        _close(progress)
        print("hub submit: interrupted; rerun the same command to resume (nothing is applied "
              "twice)", file=sys.stderr)
        _summary(tally, unit, sys.stderr)
        return 130
    finally:
        client.close()
        if report is not None:
            report.close()
    _close(progress)
    _summary(tally, unit, sys.stderr)
    return INPUT_ERRORS if tally.input_errors else OK


def _progress(args: argparse.Namespace, total: int | None) -> Any:
    if not (args.progress or sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="rec", unit_scale=True, file=sys.stderr,
                desc="submitting", dynamic_ncols=True)


def _close(progress: Any) -> None:
    if progress is not None:
        progress.close()


def _usage(message: str) -> int:
    print(f"hub submit: {message}", file=sys.stderr)
    return USAGE


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_submit_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]
                       ) -> None:
    """Add ``submit`` to the ``hub`` parser."""
    submit = subparsers.add_parser(
        "submit", help="send a bulk file of signed changes to a hub (JSON Lines, CSV, Excel)",
        description="Send many changes to a hub's submitBatch: JSON Lines of signed items or "
                    "of payloads to sign, or an agency's CSV/Excel export mapped by a mapping "
                    "file. Reruns are safe: every record has a deterministic idempotency key.")
    submit.add_argument("file", metavar="FILE")
    submit.add_argument("--hub", required=True, metavar="URL", help="the hub's base URL")
    submit.add_argument("--client", required=True, metavar="ID", help="the OAuth client id")
    submit.add_argument("--secret-env", default="HUB_CLIENT_SECRET", metavar="VAR",
                        help="the environment variable holding the client secret "
                             "(default HUB_CLIENT_SECRET)")
    submit.add_argument("--purpose", required=True, metavar="P",
                        help="the purpose of use (one with write grants)")
    submit.add_argument("--format", choices=("jsonl", "csv", "xlsx"),
                        help="default: from the file's extension")
    submit.add_argument("--mapping", metavar="MAPPING.yaml",
                        help="CSV/Excel: which column gives which field of the change")
    submit.add_argument("--key", metavar="AGENCY_KEY.jwk",
                        help="the agency's private signing key, to sign unsigned records")
    submit.add_argument("--agency", metavar="CODE",
                        help="the agency the key is registered for (the payloads' iss)")
    submit.add_argument("--kind", metavar="KIND",
                        help="the kind of change of every record (e.g. position-change)")
    submit.add_argument("--batch-size", type=_positive, default=DEFAULT_BATCH, metavar="N",
                        help=f"records per submitBatch call (default {DEFAULT_BATCH}, at "
                             f"most {MAX_BATCH})")
    submit.add_argument("--in-flight", type=_positive, default=DEFAULT_IN_FLIGHT, metavar="N",
                        help=f"batches sent at once when they concern different employees "
                             f"(default {DEFAULT_IN_FLIGHT}, at most {MAX_IN_FLIGHT}; 1 sends "
                             f"one at a time)")
    submit.add_argument("--state", metavar="STATE_FILE",
                        help="remember the last acknowledged batch here, and resume after it")
    submit.add_argument("--report", metavar="REPORT.jsonl",
                        help="one JSON line per record: its status, reasons and version")
    submit.add_argument("--progress", action="store_true",
                        help="show a progress bar even when stderr is not a terminal")
    submit.add_argument("--max-bytes", type=_positive, default=1 << 30, metavar="N",
                        help="refuse files larger than this (default 1 GiB)")
    submit.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                        help="how long to wait for one batch's answer (default 300)")
    submit.add_argument("--retries", type=int, default=5, metavar="N",
                        help="retries of a call the hub could not answer (network errors, "
                             "5xx), with growing pauses (default 5)")
    submit.set_defaults(run=run_submit)
