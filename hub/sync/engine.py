"""One synchronisation run of one agency system: read its change feed from the watermark,
compare each record with the national file of the same personal ID, submit what is valid
through the submission desk, queue conflicts, report the rest — a page at a time.

Every change is signed with the synchronisation's key for the agency and decided by the desk
exactly as the agency's own submission would be (signature, the policy's write grant and row
scope, the checks, the population registry for new hires — looked up once per page — and the
version the change was prepared from). Its idempotency key and ``jti`` are derived from its
content, so a page decided again after a crash is answered from the inbox, never applied
twice; the page's differences, conflicts and the watermark after it are then kept in one
transaction.

Changes to the same employee found in one page (a new post and a missing discipline decision)
are submitted in turns, each prepared from the version the one before left.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson

from adapters.change_feeds import ChangeFeed, ChangePage
from adapters.errors import SourceError
from adapters.postgres import Row
from adapters.submission_store import Decision
from adapters.sync_store import NewConflict, NewItem, SyncStore
from hub.sync.compare import Finding, aware, classify, fingerprint, identity_key
from hub.sync.settings import SyncTarget
from hub.updates.bulk import Signer
from resolvers.code_lists import CodeLists
from resolvers.context import RequestContext
from resolvers.personal_id import is_well_formed

__all__ = ["PageDone", "SyncReport", "Synchroniser"]

log = logging.getLogger(__name__)

# What a record of the agency is shown as beside the national file in a conflict.
_AGENCY_SHOWN = ("local_id", "personal_id", "full_name", "birth_date", "sex", "agency_code",
                 "unit_name", "position_code", "rank_code", "salary_step",
                 "salary_coefficient", "hired_on", "updated_at", "disciplines")
_NATIONAL_SHOWN = ("employee_code", "personal_id", "full_name", "birth_date", "sex",
                   "agency_code", "unit_name", "position_code", "rank_code", "salary_step",
                   "salary_coefficient", "hired_on", "version", "updated_at")


@dataclass(slots=True)
class SyncReport:
    system: str
    run_id: uuid.UUID | None = None
    status: str = "running"
    records: int = 0
    pages: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"system": self.system, "run": str(self.run_id), "status": self.status,
                "records": self.records, "pages": self.pages, "counts": dict(self.counts),
                "seconds": round(self.seconds, 3), "error": self.error}


@dataclass(frozen=True, slots=True)
class PageDone:
    """Progress: a page kept (records read in it, totals so far)."""

    records: int
    report: SyncReport


@dataclass(slots=True)
class _Pending:
    """A finding to submit: its record, its national file (None for a registration)."""

    record: Mapping[str, Any]
    employee: Row | None
    finding: Finding
    conflict_id: uuid.UUID | None = None  # a reviewer's decision being carried out
    # The file version the change was judged against (a reviewer's decision: the version the
    # reviewer saw, so a file changed since is a CONFLICT, not overwritten); None: the file's.
    base_version: int | None = None


def _shown(record: Mapping[str, Any] | None, names: Sequence[str]) -> dict[str, Any]:
    return {} if record is None else {n: record.get(n) for n in names if n in record}


def _derived(prefix: str, content: Any) -> str:
    digest = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS, default=str))
    return f"{prefix}{digest.hexdigest()[:40]}"


class Synchroniser:
    def __init__(self, target: SyncTarget, feed: ChangeFeed, store: SyncStore,
                 codes: CodeLists, signer: Signer,
                 context: Callable[[], RequestContext],
                 record_audit: Callable[[RequestContext, SyncReport], Any] | None = None
                 ) -> None:
        """``context``: a new request context acting as the target's client (one per page:
        the page's disclosures are its own audit record, through ``record_audit``)."""
        self.target = target
        self._feed = feed
        self._store = store
        self._codes = codes
        self._signer = signer
        self._context = context
        self._record_audit = record_audit
        self._redecide = False  # a full run decides again what was refused before

    async def run(self, *, full: bool = False, max_pages: int | None = None,
                  progress: Callable[[PageDone], None] | None = None) -> SyncReport:
        """Read the feed until it is caught up (or ``max_pages`` pages); ``full``: from the
        beginning rather than the watermark. A source or database failure ends the run as
        failed, after the pages kept so far."""
        report = SyncReport(self.target.system)
        started = time.perf_counter()
        system = self.target.system
        self._redecide = full
        if full:
            await self._store.reset(system)
        state = await self._store.state(system)
        watermark = state.watermark if state is not None else None
        report.run_id = await self._store.start_run(system, watermark)
        following: asyncio.Task[ChangePage] | None = None
        try:
            await self._apply_taken(report)
            page = await self._feed.changes(watermark, self.target.page_size)
            while True:
                last = not page.more or (max_pages is not None
                                         and report.pages + 1 >= max_pages)
                # The next page is read while this one is decided (its watermark is known
                # already): the feed's latency overlaps the desk's work.
                following = None if last else asyncio.create_task(
                    self._feed.changes(page.watermark, self.target.page_size))
                await self._page(page, report)
                if progress is not None:
                    progress(PageDone(len(page.records), report))
                if following is None:
                    break
                previous, page = page, await following
                if page.more and page.watermark == previous.watermark:
                    raise ValueError("the feed says more follows but does not move on from "
                                     f"{page.watermark!r}")
            report.status = "completed"
        except (SourceError, ValueError) as error:
            report.status, report.error = "failed", str(error)
            log.warning("sync of %s failed: %s", system, error)
        finally:
            if following is not None and not following.done():
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError, SourceError, ValueError):
                    await following
            report.seconds = time.perf_counter() - started
            await self._store.finish_run(report.run_id, system,
                                         status=report.status if report.status != "running"
                                         else "failed", counts=report.counts,
                                         error=report.error or (
                                             "interrupted" if report.status == "running"
                                             else None))
        return report

    # ------------------------------------------------------------------ one page

    async def _page(self, page: ChangePage, report: SyncReport) -> None:
        records = page.records
        report.pages += 1
        report.records += len(records)
        report.counts["read"] += len(records)
        ids = sorted({pid for r in records
                      if isinstance(pid := r.get("personal_id"), str) and is_well_formed(pid)})
        files = await self._store.files(ids) if ids else {}
        disciplines = await self._store.disciplines(
            sorted({f["employee_code"] for f in files.values()})) if files else {}
        twins = await self._twins([r for r in records if r.get("personal_id") not in files])
        items: list[NewItem] = []
        conflicts: list[NewConflict] = []
        pending: list[_Pending] = []
        for record in records:
            employee = files.get(record.get("personal_id"))  # type: ignore[arg-type]
            twin = twins.get(identity_key(record.get("full_name"), record.get("birth_date"),
                                          record.get("sex")))
            if twin is not None and twin["personal_id"] == record.get("personal_id"):
                twin = None
            findings = classify(
                record, employee,
                disciplines.get(employee["employee_code"], []) if employee else [],
                twin, self._codes, code_prefix=self.target.code_prefix,
                in_scope=employee is None or self._serves(employee["agency_code"]))
            if not findings:
                report.counts["unchanged"] += 1
            for finding in findings:
                report.counts[f"conflict:{finding.conflict}" if finding.conflict
                              else finding.outcome] += 1
                if finding.outcome in ("new", "changed"):
                    pending.append(_Pending(record, employee, finding))
                elif finding.outcome == "conflict":
                    conflict = self._conflict(record, employee or finding.twin, finding)
                    conflicts.append(conflict)
                    items.append(self._item(record, employee, finding, "queued",
                                            detail={"conflict": conflict.fingerprint}))
                else:
                    items.append(self._item(record, employee, finding, "reported"))
        pending = await self._not_settled_otherwise(pending, items, report)
        for rejected in page.rejected:
            # Sent, but not readable as a record: reported with where it was, for the agency.
            report.counts["unreadable"] += 1
            items.append(NewItem(
                local_id=None, personal_id=None, employee_code=None, agency_code=None,
                outcome="invalid", status="reported", reasons=[{
                    "code": "UNREADABLE", "path": f"row {rejected.get('row')}",
                    "message": "; ".join(map(str, rejected.get("reasons") or ()))[:2000]}],
                detail={k: v for k, v in rejected.items() if k in ("source", "row")}))
        items += await self._submit(pending, report)
        synced = max((moment for r in records if (moment := aware(r.get("updated_at")))),
                     default=None)
        await self._store.keep_page(report.run_id or uuid.uuid4(), self.target.system, items,
                                    conflicts, page.watermark, synced, report.counts)

    async def _not_settled_otherwise(self, pending: list[_Pending], items: list[NewItem],
                                     report: SyncReport) -> list[_Pending]:
        """The changes to submit, less those a conflict already holds: the same values the
        national file was found newer than before. Their record changed since (an unrelated
        field), but a reviewer has them (open), or decided to keep the national file, to
        dismiss them, or to take them (submitted as that decision): never applied behind the
        reviewer's back."""
        newer = {id(p): Finding("conflict", conflict="national-newer", fields=p.finding.fields)
                 for p in pending if p.finding.outcome == "changed"}
        if not newer:
            return pending
        keys = {id(p): fingerprint(self.target.system, p.record, newer[id(p)])
                for p in pending if id(p) in newer}
        held = await self._store.conflict_statuses(self.target.system, list(keys.values()))
        kept = []
        for p in pending:
            status = held.get(keys[id(p)]) if id(p) in keys else None
            if status is None:
                kept.append(p)
                continue
            report.counts["changed"] -= 1
            report.counts["conflict:national-newer"] += 1
            items.append(self._item(p.record, p.employee, newer[id(p)], "queued",
                                    detail={"conflict": keys[id(p)], "review": status}))
        return kept

    def _serves(self, agency_code: str) -> bool:
        return any(fnmatch.fnmatchcase(agency_code, p) for p in self.target.serves)

    async def _twins(self, unmatched: Sequence[Mapping[str, Any]]
                     ) -> dict[tuple[str, str, str], Row]:
        births = [(r["birth_date"], r["sex"]) for r in unmatched
                  if isinstance(r.get("birth_date"), date) and isinstance(r.get("sex"), str)]
        found: dict[tuple[str, str, str], Row] = {}
        for row in await self._store.same_birth(births):
            # Only a file of the system's own agencies can be its second record: a namesake
            # elsewhere is someone else, and their file is not this agency's to see.
            if self._serves(row["agency_code"]):
                found.setdefault(identity_key(row["full_name"], row["birth_date"], row["sex"]),
                                 row)
        return found

    # ------------------------------------------------------------------ submitting

    async def _submit(self, pending: list[_Pending], report: SyncReport) -> list[NewItem]:
        """Each employee's changes in turns: the first of each, then (their files read again)
        the second, ..."""
        items: list[NewItem] = []
        turn: dict[str, int] = {}
        rounds: list[list[_Pending]] = []
        for p in pending:
            who = str(p.record.get("personal_id"))
            number = turn[who] = turn.get(who, -1) + 1
            if number == len(rounds):
                rounds.append([])
            rounds[number].append(p)
        for number, batch in enumerate(rounds):
            if number > 0:
                files = await self._store.files(
                    sorted({str(p.record["personal_id"]) for p in batch}))
                for p in batch:
                    p.employee = files.get(str(p.record["personal_id"]), p.employee)
                # A new hire's decisions need the file its registration made.
                orphans = [p for p in batch if p.employee is None]
                batch = [p for p in batch if p.employee is not None]
                for p in orphans:
                    report.counts["rejected"] += 1
                    items.append(self._item(p.record, None, p.finding, "rejected", reasons=[{
                        "code": "NOT_REGISTERED", "path": "employee",
                        "message": "the person has no national file: the registration "
                                   "carried with this change was refused"}]))
            if batch:
                items += await self._decide(batch, report)
        return items

    def _payload(self, p: _Pending) -> dict[str, Any]:
        finding = p.finding
        assert finding.kind is not None
        assert finding.change is not None
        payload: dict[str, Any] = {
            "kind": finding.kind, "iss": self._signer.agency,
            "sourceSystem": self.target.system, "change": finding.change}
        if p.employee is None:
            payload["employee"] = {"employeeCode": finding.change["employeeCode"],
                                   "personalId": p.record["personal_id"]}
        else:
            payload["employee"] = {"employeeCode": p.employee["employee_code"],
                                   "personalId": p.employee["personal_id"]}
            payload["baseVersion"] = (p.base_version if p.base_version is not None
                                      else p.employee["version"])
        payload["jti"] = _derived("sync-", [self.target.system, payload])
        return payload

    async def _decide(self, batch: list[_Pending], report: SyncReport) -> list[NewItem]:
        context = self._context()
        desk = context.desk
        assert desk is not None
        now = int(time.time())
        sent: list[tuple[str, str, str, str | None]] = []
        for p in batch:
            payload = self._payload(p)
            token = self._signer.sign({**payload, "iat": now})
            # The same change sent again (a page decided again after a crash) has the same
            # key and is answered from the inbox; a new signing key, or a reviewer's decision,
            # makes another request.
            key = _derived(f"sync:{self.target.system}:", [
                p.finding.kind, payload["jti"], self._signer.kid, str(p.conflict_id or "")])
            sent.append((str(p.finding.kind), token, key, None))
        items = []
        try:
            for start in range(0, len(sent), 500):
                chunk = sent[start:start + 500]
                decisions = await desk.submit_many(context, chunk)
                if self._redecide:
                    decisions = await self._again(context, chunk, decisions)
                for p, decision in zip(batch[start:start + 500], decisions, strict=True):
                    items.append(await self._decided(p, decision, report))
        finally:
            # Whatever was looked up for the page is recorded, even if a chunk failed.
            if self._record_audit is not None:
                await self._record_audit(context, report)
        return items

    async def _again(self, context: RequestContext,
                     sent: Sequence[tuple[str, str, str, str | None]],
                     decisions: list[Decision]) -> list[Decision]:
        """A full run decides again what was refused before (the quota raised since, the
        registry caught up): each as a resubmission of the refusal, under a key of its own,
        kept beside it in the inbox."""
        again = [i for i, d in enumerate(decisions) if d.repeated and d.status == "rejected"]
        if not again:
            return decisions
        desk = context.desk
        assert desk is not None
        answers = await desk.submit_many(
            context, [(sent[i][0], sent[i][1],
                       _derived(f"sync:{self.target.system}:", [sent[i][2],
                                                                str(decisions[i].submission_id)]),
                       sent[i][3]) for i in again],
            resubmission_of=[decisions[i].submission_id for i in again])
        redecided = list(decisions)
        for i, answer in zip(again, answers, strict=True):
            redecided[i] = answer
        return redecided

    async def _decided(self, p: _Pending, decision: Decision, report: SyncReport) -> NewItem:
        accepted = decision.status == "accepted"
        report.counts["applied" if accepted else "rejected"] += 1
        for reason in [] if accepted else decision.reasons:
            report.counts[f"rejected:{reason.get('code')}"] += 1
        if p.conflict_id is not None:
            await self._store.taken_applied(
                p.conflict_id, decision.submission_id,
                {"status": decision.status, "reasons": decision.reasons})
        return self._item(p.record, p.employee, p.finding,
                          "applied" if accepted else "rejected",
                          submission_id=decision.submission_id, reasons=decision.reasons)

    # ------------------------------------------------------------------ what is kept

    def _item(self, record: Mapping[str, Any], employee: Row | None, finding: Finding,
              status: str, *, detail: Mapping[str, Any] | None = None,
              submission_id: uuid.UUID | None = None,
              reasons: Sequence[Mapping[str, str]] = ()) -> NewItem:
        updated = record.get("updated_at")
        return NewItem(
            local_id=_text(record.get("local_id")), personal_id=_text(record.get("personal_id")),
            employee_code=employee["employee_code"] if employee is not None else None,
            agency_code=_text(record.get("agency_code")) or (
                employee["agency_code"] if employee is not None else None),
            outcome=finding.outcome, status=status, kind=finding.kind,
            submission_id=submission_id, reasons=list(reasons) or finding.reasons,
            detail={**({"fields": finding.fields} if finding.fields else {}),
                    **(detail or {})},
            agency_updated_at=updated if isinstance(updated, datetime) else None)

    def _conflict(self, record: Mapping[str, Any], national: Mapping[str, Any] | None,
                  finding: Finding) -> NewConflict:
        updated = record.get("updated_at")
        proposed = None
        if finding.conflict == "national-newer" and national is not None:
            change = _position_change(record, finding)
            proposed = {"kind": "position-change", "change": change}
        return NewConflict(
            agency_code=(national["agency_code"] if national is not None
                         else str(record.get("agency_code"))),
            personal_id=_text(record.get("personal_id")),
            employee_code=national["employee_code"] if national is not None else None,
            local_id=_text(record.get("local_id")), kind=str(finding.conflict),
            fields=finding.fields, national=_shown(national, _NATIONAL_SHOWN),
            agency=_shown(record, _AGENCY_SHOWN),
            national_version=national["version"] if national is not None else None,
            national_updated_at=national["updated_at"] if national is not None else None,
            agency_updated_at=updated if isinstance(updated, datetime) else None,
            proposed=proposed, fingerprint=fingerprint(self.target.system, record, finding))

    # ------------------------------------------------------------------ reviewers' decisions

    async def _apply_taken(self, report: SyncReport) -> None:
        """Carry out the conflicts a reviewer resolved by taking the agency's version: each
        submitted, prepared from the file's version now, as any other change."""
        taken = await self._store.taken_to_apply(self.target.system)
        if not taken:
            return
        files = await self._store.files(sorted({c["personal_id"] for c in taken
                                                if c["personal_id"]}))
        pending = []
        for conflict in taken:
            employee = files.get(conflict["personal_id"])
            proposed = conflict.get("proposed")
            if employee is None or not isinstance(proposed, dict):
                await self._store.taken_applied(conflict["id"], None, {
                    "status": "rejected", "reasons": [{
                        "code": "NOT_FOUND", "path": "employee",
                        "message": "no national file to take the agency's version into"}]})
                continue
            finding = Finding("changed", kind=str(proposed["kind"]),
                              change=dict(proposed["change"]))
            pending.append(_Pending(conflict["agency"], employee, finding, conflict["id"],
                                    base_version=conflict["national_version"]))
        report.counts["resolutions"] += len(pending)
        await self._decide(pending, report)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _position_change(record: Mapping[str, Any], finding: Finding) -> dict[str, Any]:
    names = {d["field"] for d in finding.fields}
    change: dict[str, Any] = {}
    if "position_code" in names:
        change["positionCode"] = record.get("position_code")
    if "rank_code" in names:
        change["rankCode"] = record.get("rank_code")
        change["salaryStep"] = record.get("salary_step")
    elif "salary_step" in names:
        change["salaryStep"] = record.get("salary_step")
    updated = record.get("updated_at")
    if isinstance(updated, datetime):
        change["effectiveFrom"] = updated.date().isoformat()
    return change
