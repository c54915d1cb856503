"""The submission desk: every signed change is decided here, and kept whatever the decision.

In order, each step able to reject with reasons (code, payload path, message):
1. a retry (same client and idempotency key) gets the first decision, nothing more;
2. the agency's signature (``signatures``): registered key, valid at signing, the agency the
   client acts for; the payload's kind must be the mutation's;
3. authority: the client's policy grants this kind of change for this purpose, and the
   employee is within the grant's row scope (``hub.policy`` write grants);
4. the employee's own co-signature, where the grant or the kind asks for one;
5. the data: the file exists, the personal ID matches it, the change passes the code lists,
   ladders and dates (``checks``, with the facts its kind needs: the agency joined, a pending
   transfer), and it names the file version it was prepared from;
6. the write (``adapters.submission_store``): a stale version is a CONFLICT, a signed change
   already applied is REPLAYED; otherwise the new version and its history, in one
   transaction.

A registration (``register-employee``) has no file yet: its authority is the grant's scope
over the agency the employee joins, its data is checked in two steps (the new file's own
structure, then the agency's quota, duplicates and the person's identity in the population
registry), and its write creates the file at version 1. A transfer into an agency
(``transfer-in``) is also scoped on the agency joined, and completes the transfer the
employee's agency released them for (``transfer-out``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from adapters import NationalDatabase
from adapters.population import Identity
from adapters.submission_store import (
    Decision,
    KeyReused,
    RecordChange,
    Submission,
    SubmissionStore,
)
from hub.updates.changes import record_changes, registration
from hub.updates.checks import (
    CHECKED_KINDS,
    REGISTRATION,
    Reason,
    RegistrationFacts,
    check_change,
    check_registration,
    check_registration_facts,
)
from hub.updates.keys import SignerKeys
from hub.updates.signatures import (
    SignatureRejected,
    kid_of,
    peek_employee,
    verify_co_signature,
    verify_submission,
)
from resolvers.code_lists import CodeLists
from resolvers.mutations import MUTATION_KINDS
from resolvers.personal_id import is_well_formed as pid_well_formed

__all__ = ["DECLARATION_KINDS", "DEFAULT_MAX_AGE_SECONDS", "OWN_FILE_KINDS", "SubmissionDesk",
           "request_digest"]

log = logging.getLogger(__name__)

# How long after signing a change may be submitted (HUB_SUBMISSION_MAX_AGE_DAYS).
DEFAULT_MAX_AGE_SECONDS = 30 * 86_400

_FIELD_OF = {kind: field for field, kind in MUTATION_KINDS.items()}
# The employee's own declarations: the employee signs too, whatever a policy says.
DECLARATION_KINDS = frozenset({"personal-history", "family", "asset-declaration"})
# Kinds scoped on (and writing into) the agency the employee joins, named by change.agencyCode.
_JOINING = frozenset({REGISTRATION, "transfer-in"})
# Kinds that read and write only the employee's own file (no agency quota, no pending
# transfer, no new file): ``submit_many`` decides runs of them for different employees
# together, and ``hub submit`` may have batches of them for different employees in flight
# at once.
OWN_FILE_KINDS = CHECKED_KINDS - _JOINING - {"transfer-out", REGISTRATION}
# What the population registry said, by personal ID (an id it does not know maps to None).
Identities = dict[str, Identity | None]


class _Rejected(Exception):
    def __init__(self, *reasons: Reason) -> None:
        self.reasons = list(reasons)
        # The verified payload, when the signature held: the inbox keeps it with the reasons.
        self.payload: dict[str, Any] | None = None


class _RegistryReader:
    """The key registry read through the national database's pool (``SignerKeys.load``
    wants ``fetch(sql, *args)``)."""

    def __init__(self, national: NationalDatabase) -> None:
        self._national = national

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return await self._national.query(sql, args)


@dataclass(frozen=True, slots=True)
class _Checked:
    """A change found acceptable, and what it writes."""

    payload: dict[str, Any]
    employee_code: str
    personal_id: str | None
    base_version: int | None
    signatures: list[str]
    writes: list[RecordChange]
    new_file: bool = False             # a registration: the writes create the file
    quota_agency: str | None = None    # the agency joined, whose quota the write re-checks


class _Known:
    """What a round of ``submit_many`` read ahead: the signer keys, the employees each
    kind's grant has in scope (by kind; a kind absent is checked the usual way), and the
    files of the employees named (``read``: the codes asked; one absent has no file)."""

    def __init__(self, keys: SignerKeys, scopes: dict[str, set[str]],
                 employees: dict[str, dict[str, Any]], read: set[str]) -> None:
        self.keys = keys
        self.scopes = scopes
        self.employees = employees
        self.read = read


@dataclass(frozen=True, slots=True)
class _Batch:
    """What ``submit_many`` knows of its whole batch: its id, each item's request digest
    and the submission it corrects (by index), and which of those the client may correct."""

    id: uuid.UUID
    digests: list[str]
    resubmission_of: list[uuid.UUID | None]
    resubmittable: set[uuid.UUID]


def _signed_content(token: str) -> Any:
    """What a compact JWS says, for telling requests apart: its key id and payload without
    ``iat``, read WITHOUT verifying it (the same change signed again, as a resumed bulk
    run does, is the same request; its signature bytes and signing time differ). A token
    that cannot be read stands for itself."""
    try:
        header_segment, payload_segment, _ = token.split(".")
        header, payload = (json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
                           for s in (header_segment, payload_segment))
    except Exception:
        return token
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return token
    return {"kid": header.get("kid"), "alg": header.get("alg"),
            "payload": {k: v for k, v in payload.items() if k != "iat"}}


def request_digest(kind: str, token: str, employee_signature: str | None) -> str:
    """What a request sent, digested: a retry under its idempotency key must send the same
    kind, signed change and co-signature (each as ``_signed_content``)."""
    sent = json.dumps([kind, _signed_content(token),
                       None if employee_signature is None
                       else _signed_content(employee_signature)],
                      ensure_ascii=True, sort_keys=True, default=str)
    return hashlib.sha256(sent.encode("ascii")).hexdigest()


def _same_request(decision: Decision, digest: str) -> bool:
    """Whether ``decision`` (an earlier one) answered the request digested (a submission
    kept before digests were has none: any retry of it matches)."""
    return decision.request_digest is None or decision.request_digest == digest


_NOT_RESUBMITTABLE = Reason("RESUBMISSION_INVALID", "resubmissionOf",
                            "no rejected submission of yours with this id")


def _signature_reason(error: SignatureRejected, path: str) -> Reason:
    return Reason(error.code, f"{path}.{error.field}" if error.field else path, error.message)


def _employee_code(payload: Mapping[str, Any]) -> str:
    employee = payload.get("employee")
    code = employee.get("employeeCode") if isinstance(employee, Mapping) else None
    if not isinstance(code, str) or not 1 <= len(code) <= 32:
        raise _Rejected(Reason("REQUIRED", "employee.employeeCode",
                               "the payload names the employee by employeeCode"))
    return code


def _base_version(payload: Mapping[str, Any], *, required: bool = True) -> int | None:
    value = payload.get("baseVersion")
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**31:
        raise _Rejected(Reason("REQUIRED", "baseVersion",
                               "the payload names the version of the personnel file it was "
                               "prepared from (a positive integer)"))
    return value


_TOKEN = re.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+")


def _storable(token: str) -> str:
    """A token as the inbox keeps it: as sent when it is a compact JWS, else only its
    digest (a NUL or a lone surrogate, which jsonb cannot hold, must not lose the
    rejection)."""
    if _TOKEN.fullmatch(token):
        return token
    return "unreadable:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _joined_agency(change: Any) -> str:
    """The agency a registration or transfer-in joins (change.agencyCode)."""
    code = change.get("agencyCode") if isinstance(change, Mapping) else None
    if not isinstance(code, str) or not 1 <= len(code.strip()) <= 32:
        raise _Rejected(Reason("REQUIRED", "change.agencyCode",
                               "the change names the agency the employee joins"))
    return code.strip()


def _registration_claim(payload: Mapping[str, Any]) -> str | None:
    """The personal ID a registration payload names, to look up ahead."""
    employee = payload.get("employee")
    number = employee.get("personalId") if isinstance(employee, Mapping) else None
    return number if isinstance(number, str) and len(number) == 12 else None


class SubmissionDesk:
    def __init__(self, national: NationalDatabase, codes: CodeLists, *,
                 leeway_seconds: int = 60,
                 max_age_seconds: int | None = DEFAULT_MAX_AGE_SECONDS) -> None:
        self._national = national
        self._store = SubmissionStore(national)
        self._registry = _RegistryReader(national)
        self._codes = codes
        self._leeway = leeway_seconds
        self._max_age = max_age_seconds

    async def submit(self, context: Any, kind: str, submission: str, idempotency_key: str,
                     employee_signature: str | None, *,
                     identities: Identities | None = None,
                     resubmission_of: uuid.UUID | None = None,
                     batch_id: uuid.UUID | None = None,
                     resubmittable: set[uuid.UUID] | None = None) -> Decision:
        """``identities``: the population registry's answers already fetched for a batch
        (a registration whose person is not among them asks the registry itself).
        ``resubmission_of``: the client's rejected submission this one corrects (else the
        submission is rejected, RESUBMISSION_INVALID); ``resubmittable``: those found so,
        read ahead for a batch. ``batch_id``: the batch it came in.

        Raises ``KeyReused`` (nothing decided nor kept) when the idempotency key already
        answered another request."""
        caller = context.caller
        digest = request_digest(kind, submission, employee_signature)
        earlier = await self._store.earlier(caller.client_id, idempotency_key)
        if earlier is not None:
            if not _same_request(earlier, digest):
                raise KeyReused
            return earlier
        decision = await self._decide(context, kind, submission, idempotency_key,
                                      employee_signature, identities, digest,
                                      resubmission_of, batch_id, resubmittable)
        if decision.repeated and not _same_request(decision, digest):
            raise KeyReused  # another request under this key got there first
        return decision

    async def _decide(self, context: Any, kind: str, submission: str, idempotency_key: str,
                      employee_signature: str | None, identities: Identities | None,
                      digest: str, resubmission_of: uuid.UUID | None,
                      batch_id: uuid.UUID | None,
                      resubmittable: set[uuid.UUID] | None) -> Decision:
        caller = context.caller
        received = Submission(client_id=caller.client_id, idempotency_key=idempotency_key,
                              kind=kind, agency_code=caller.agency_code,
                              signatures=[_storable(submission)], batch_id=batch_id,
                              request_digest=digest)
        if resubmission_of is not None:
            if resubmittable is None:
                resubmittable = await self._store.resubmittable(caller.client_id,
                                                                [resubmission_of])
            if resubmission_of not in resubmittable:
                return await self._store.reject(received, [_NOT_RESUBMITTABLE.as_json()])
            received = replace(received, resubmission_of=resubmission_of)
        try:
            checked = await self._check(context, kind, submission, employee_signature,
                                        identities)
        except _Rejected as rejected:
            if rejected.payload is not None:
                received = _with_payload(received, rejected.payload)
            return await self._store.reject(received, [r.as_json() for r in rejected.reasons])
        payload = checked.payload
        accepted = replace(
            received, jti=payload["jti"],
            employee_code=checked.employee_code, personal_id=checked.personal_id,
            base_version=checked.base_version, payload=payload,
            signatures=checked.signatures)
        if checked.new_file:
            return await self._store.register(accepted, *checked.writes)
        return await self._store.apply(accepted, checked.writes,
                                       quota_agency=checked.quota_agency)

    async def submit_many(self, context: Any,
                          items: Sequence[tuple[str, str, str, str | None]], *,
                          resubmission_of: Sequence[uuid.UUID | None] | None = None
                          ) -> list[Decision]:
        """Each item decided in order, exactly as if submitted alone; the people the
        registrations among them name are looked up in the population registry at once.
        ``resubmission_of``: by item, the client's rejected submission it corrects (or
        None); checked for all items in one query. Every submission kept carries the same
        new batch id.

        Raises ``KeyReused`` (naming the item) before deciding anything when an item's
        idempotency key already answered another request, or another item of the batch
        sends another request under it.

        Changes to one employee's own file (``OWN_FILE_KINDS``) are decided in rounds: a run
        of consecutive items naming different employees and different idempotency keys,
        whose reads (earlier decisions, signer keys, the grant's scope, the files) are made
        once for the round and whose writes are one transaction, a savepoint per item
        (``SubmissionStore.apply_many``). No item of a round can change what another one is
        decided on: each reads and writes only its own employee's file, the agency's quota
        and pending transfers are not involved, and an item for an employee (or a key)
        already in the round starts the next one, decided after this one is committed.
        Every other item (registrations, transfers, what the peek cannot read) is decided
        alone with ``submit``."""
        caller = context.caller
        resubmits = list(resubmission_of) if resubmission_of is not None else []
        resubmits += [None] * (len(items) - len(resubmits))
        digests = [request_digest(kind, token, co_signature)
                   for kind, token, _, co_signature in items]
        sent: dict[str, str] = {}
        for index, ((_, _, key, _), digest) in enumerate(zip(items, digests, strict=True)):
            if sent.setdefault(key, digest) != digest:
                raise KeyReused(index)
        earlier = await self._store.earlier_many(caller.client_id, list(sent))
        for index, ((_, _, key, _), digest) in enumerate(zip(items, digests, strict=True)):
            if key in earlier and not _same_request(earlier[key], digest):
                raise KeyReused(index)
        batch = _Batch(uuid.uuid4(), digests, resubmits, await self._store.resubmittable(
            caller.client_id, [r for r in resubmits if r is not None]))
        # Items answered before are not decided again: no one is looked up for them.
        identities = await self._prefetch_identities(
            context, [item for item in items if item[2] not in earlier])
        keys = await SignerKeys.load(self._registry, kids=[
            k for _, token, _, co_signature in items
            for k in (kid_of(token), co_signature and kid_of(co_signature)) if k])
        decisions: list[Decision] = []
        current: list[tuple[str, str, str, str | None, str, int]] = []
        codes: set[str] = set()
        idempotency_keys: set[str] = set()
        for index, (kind, token, key, co_signature) in enumerate(items):
            code = peek_employee(token) if kind in OWN_FILE_KINDS else None
            if current and (code is None or code in codes or key in idempotency_keys):
                decisions += await self._decide_round(context, current, keys, batch)
                current, codes, idempotency_keys = [], set(), set()
            if code is None:
                decisions.append(await self._submit_item(context, items[index], index, batch,
                                                         identities))
                continue
            current.append((kind, token, key, co_signature, code, index))
            codes.add(code)
            idempotency_keys.add(key)
        if current:
            decisions += await self._decide_round(context, current, keys, batch)
        for index, decision in enumerate(decisions):
            if decision.repeated and not _same_request(decision, digests[index]):
                raise KeyReused(index)  # another request under this key got there first
        return decisions

    async def _submit_item(self, context: Any, item: tuple[str, str, str, str | None],
                           index: int, batch: _Batch,
                           identities: Identities | None = None) -> Decision:
        """One item of a batch decided alone, as ``submit`` would."""
        kind, token, key, co_signature = item
        try:
            return await self.submit(context, kind, token, key, co_signature,
                                     identities=identities,
                                     resubmission_of=batch.resubmission_of[index],
                                     batch_id=batch.id, resubmittable=batch.resubmittable)
        except KeyReused:
            raise KeyReused(index) from None

    async def _decide_round(self, context: Any,
                            items: Sequence[tuple[str, str, str, str | None, str, int]],
                            keys: SignerKeys, batch: _Batch) -> list[Decision]:
        """One round of ``submit_many``: items for distinct employees, under distinct keys."""
        caller = context.caller
        earlier = await self._store.earlier_many(caller.client_id, [i[2] for i in items])
        fresh = [item for item in items if item[2] not in earlier]
        scopes: dict[str, set[str]] = {}
        for kind in sorted({item[0] for item in fresh}):
            grant = context.view.writes.get(kind)
            if grant is None or grant.entity == "agency":
                continue
            wanted = sorted({item[4] for item in fresh if item[0] == kind})
            scopes[kind] = {row["employee_code"] for row in await self._national.fetch_many(
                "employee", "employee_code", wanted, ["employee_code"], grant.rows)}
        named = {item[4] for item in fresh}
        known = _Known(keys, scopes, await self._store.employees(sorted(named)), named)
        to_write: list[tuple[Submission, Sequence[RecordChange] | None,
                             Sequence[Mapping[str, str]]]] = []
        for kind, token, key, co_signature, _, index in fresh:
            received = Submission(client_id=caller.client_id, idempotency_key=key,
                                  kind=kind, agency_code=caller.agency_code,
                                  signatures=[_storable(token)], batch_id=batch.id,
                                  request_digest=batch.digests[index])
            corrects = batch.resubmission_of[index]
            if corrects is not None:
                if corrects not in batch.resubmittable:
                    to_write.append((received, None, [_NOT_RESUBMITTABLE.as_json()]))
                    continue
                received = replace(received, resubmission_of=corrects)
            try:
                checked = await self._check(context, kind, token, co_signature, None, known)
            except _Rejected as rejected:
                if rejected.payload is not None:
                    received = _with_payload(received, rejected.payload)
                to_write.append((received, None, [r.as_json() for r in rejected.reasons]))
                continue
            assert not checked.new_file
            assert checked.quota_agency is None
            payload = checked.payload
            to_write.append((replace(
                received, jti=payload["jti"],
                employee_code=checked.employee_code, personal_id=checked.personal_id,
                base_version=checked.base_version, payload=payload,
                signatures=checked.signatures), checked.writes, ()))
        try:
            written = iter(await self._store.apply_many(to_write))
        except asyncpg.TransactionRollbackError as error:
            # A deadlock with another writer: nothing of the round was kept; decide its items
            # one by one, as if sent alone.
            log.info("a round of %d submissions decided one by one: %s", len(items), error)
            return [await self._submit_item(context, (kind, token, key, co_signature), index,
                                            batch)
                    for kind, token, key, co_signature, _, index in items]
        return [earlier[key] if key in earlier else next(written)
                for _, _, key, _, _, _ in items]

    async def _prefetch_identities(self, context: Any,
                                   items: Sequence[tuple[str, str, str, str | None]]
                                   ) -> Identities | None:
        """The registry's answers for the people the batch's registrations name, in one
        call — only for registrations whose signature holds and whose target agency is in
        the client's scope: no one is looked up on the word of an unverified payload."""
        tokens = [token for kind, token, _, _ in items if kind == REGISTRATION]
        grant = context.view.writes.get(REGISTRATION)
        if len(tokens) < 2 or grant is None:
            return None
        keys = await SignerKeys.load(self._registry, kids=[k for t in tokens
                                                           if (k := kid_of(t))])
        now = datetime.now(UTC)
        claimed: list[tuple[str, str]] = []
        for token in tokens:
            try:
                payload = verify_submission(token, keys, now=now, leeway_seconds=self._leeway,
                                            max_age_seconds=self._max_age,
                                            expected_issuer=context.caller.agency_code).payload
            except SignatureRejected:
                continue
            number = _registration_claim(payload)
            change = payload.get("change")
            agency = change.get("agencyCode") if isinstance(change, Mapping) else None
            if (payload.get("kind") == REGISTRATION and number is not None
                    and pid_well_formed(number) and isinstance(agency, str)):
                claimed.append((number, agency))
        if len(claimed) < 2:
            return None
        in_scope = {row["code"] for row in await self._national.fetch_many(
            "agency", "code", sorted({a for _, a in claimed}), ["code"], grant.rows)}
        wanted = [number for number, agency in claimed if agency in in_scope]
        if not wanted:
            return None
        for number in wanted:  # the audit record names everyone asked about
            context.disclosures.looked_up(number, f"Mutation.{_FIELD_OF[REGISTRATION]}")
        found = await context.sources.population.identities(wanted)
        return {number: found.get(number) for number in wanted}

    async def _check(self, context: Any, kind: str, token: str,
                     employee_signature: str | None,
                     identities: Identities | None, known: _Known | None = None) -> _Checked:
        now = datetime.now(UTC)
        keys = known.keys if known is not None else await SignerKeys.load(
            self._registry, kids=[k for k in (kid_of(token),
                                              employee_signature and kid_of(employee_signature))
                                  if k])
        try:
            signed = verify_submission(token, keys, now=now, leeway_seconds=self._leeway,
                                       max_age_seconds=self._max_age,
                                       expected_issuer=context.caller.agency_code)
        except SignatureRejected as error:
            raise _Rejected(_signature_reason(error, "submission")) from None
        try:
            if signed.payload.get("kind") != kind:
                raise _Rejected(Reason("KIND_MISMATCH", "kind",
                                       f"the signed change is a {signed.payload.get('kind')!r},"
                                       f" sent as a {kind!r}"))
            if kind == REGISTRATION:
                return await self._check_registration(context, token, signed.payload,
                                                      identities)
            return await self._check_signed(context, kind, token, signed.payload, keys, now,
                                            employee_signature, known)
        except _Rejected as rejected:
            rejected.payload = signed.payload
            raise

    def _grant(self, context: Any, kind: str) -> Any:
        grant = context.view.writes.get(kind)
        if grant is None:
            raise _Rejected(Reason("NOT_AUTHORIZED", "kind",
                                   f"the client's policy does not let it submit {kind!r} "
                                   f"for purpose {context.caller.purpose!r}"))
        return grant

    async def _check_authority(self, grant: Any, employee_code: str,
                               agency_code: str | None = None,
                               in_scope: set[str] | None = None) -> None:
        """The grant's row scope holds for the employee's record or, for kinds scoped on the
        agency joined (``grant.entity == "agency"``), for that agency. ``in_scope``: the
        employees the grant's scope was found to hold, read ahead for a batch."""
        if grant.entity == "agency":
            assert agency_code is not None
            visible = await self._national.fetch_many("agency", "code", [agency_code],
                                                      ["code"], grant.rows)
            if not visible:
                raise _Rejected(Reason("NOT_AUTHORIZED", "change.agencyCode",
                                       f"agency {agency_code} is not one the client's policy "
                                       f"lets it bring employees into (or does not exist)"))
            return
        if in_scope is not None:
            allowed = employee_code in in_scope
        else:
            allowed = bool(await self._national.fetch_many(
                "employee", "employee_code", [employee_code], ["employee_code"], grant.rows))
        if not allowed:
            raise _Rejected(Reason("NOT_AUTHORIZED", "employee.employeeCode",
                                   f"employee {employee_code} is not one the client's policy "
                                   f"lets it change (or does not exist)"))

    async def _check_signed(self, context: Any, kind: str, token: str,
                            payload: dict[str, Any], keys: SignerKeys, now: datetime,
                            employee_signature: str | None,
                            known: _Known | None = None) -> _Checked:
        """A change to an existing file."""
        code = _employee_code(payload)
        grant = self._grant(context, kind)
        change = payload.get("change")
        joined = _joined_agency(change) if kind in _JOINING else None
        await self._check_authority(grant, code, joined,
                                    None if known is None else known.scopes.get(kind))
        if kind == "transfer-in":
            # The receiving agency's scope is the agency, not the employee: before anything
            # about the employee is looked at (and could answer whether such a file exists),
            # a transfer of them to it must be pending. One answer for every other case.
            pending = await self._store.pending_transfer(code)
            if pending is None or pending["to_agency"] != joined:
                raise _Rejected(Reason("NOT_FOUND", "change.agencyCode",
                                       f"no pending transfer of employee {code} to {joined}"))
        signatures = [token]
        if kind in DECLARATION_KINDS or getattr(grant, "cosign", False):
            if employee_signature is None:
                raise _Rejected(Reason("EMPLOYEE_SIGNATURE_REQUIRED", "employeeSignature",
                                       "this change needs the employee's own signature too"))
            try:
                verify_co_signature(employee_signature, payload, keys, code, now=now,
                                    leeway_seconds=self._leeway,
                                    max_age_seconds=self._max_age)
            except SignatureRejected as error:
                raise _Rejected(_signature_reason(error, "employeeSignature")) from None
            signatures.append(employee_signature)
        current = (known.employees.get(code) if known is not None and code in known.read
                   else await self._store.employee(code))
        if current is None:
            raise _Rejected(Reason("NOT_FOUND", "employee.employeeCode",
                                   f"no employee {code} in the national database"))
        # The audit record names the person a change was submitted for.
        context.disclosures.looked_up(current["personal_id"],
                                      f"Mutation.{_FIELD_OF.get(kind, kind)}")
        stated = payload["employee"].get("personalId")
        if stated is not None and stated != current["personal_id"]:
            raise _Rejected(Reason("IDENTITY_MISMATCH", "employee.personalId",
                                   f"employee {code} has another personal ID"))
        # The receiving agency may not read the file it takes in: no version to name.
        version = _base_version(payload, required=kind != "transfer-in")
        if kind not in CHECKED_KINDS:
            raise _Rejected(Reason("UNKNOWN_KIND", "kind", f"{kind!r} is not taken yet"))
        facts = await self._facts(kind, change, current, joined)
        reasons = check_change(kind, change, current, self._codes, _today(), facts)
        if reasons:
            raise _Rejected(*reasons)
        assert isinstance(change, Mapping)
        return _Checked(payload, code, current["personal_id"], version, signatures,
                        record_changes(kind, change, current, self._codes, facts),
                        quota_agency=joined)

    async def _facts(self, kind: str, change: Any, current: Mapping[str, Any],
                     joined: str | None) -> dict[str, Any]:
        """What the national database holds that a change of ``kind`` is checked against."""
        code = current["employee_code"]
        if kind == "transfer-out":
            target = change.get("toAgencyCode") if isinstance(change, Mapping) else None
            return {"to_agency": await self._store.agency(target.strip())
                    if isinstance(target, str) and target.strip() else None,
                    "pending": await self._store.pending_transfer(code)}
        if kind == "transfer-in":
            assert joined is not None
            pending = await self._store.pending_transfer(code)
            return {"transfer": pending if pending is not None
                    and pending["to_agency"] == joined else None,
                    "agency": await self._store.agency(joined),
                    "open_entry": await self._store.open_work_entry(code)}
        if kind == "family":
            return {"relatives": await self._store.family_members(code)}
        return {}

    async def _check_registration(self, context: Any, token: str, payload: dict[str, Any],
                                  identities: Identities | None) -> _Checked:
        """A new file: authority over the agency joined, the file's structure, then the
        agency's quota, duplicates and the person's identity in the population registry."""
        grant = self._grant(context, REGISTRATION)
        change = payload.get("change")
        joined = _joined_agency(change)
        code = change.get("employeeCode") if isinstance(change, Mapping) else None
        await self._check_authority(grant, code if isinstance(code, str) else "", joined)
        reasons = check_registration(change, payload.get("employee"), self._codes, _today())
        if reasons:
            raise _Rejected(*reasons)
        assert isinstance(change, Mapping)
        number = payload["employee"]["personalId"]
        code = change["employeeCode"].strip()
        # The audit record names the person registered (and so looked up in the registry).
        context.disclosures.looked_up(number, f"Mutation.{_FIELD_OF[REGISTRATION]}")
        agency = await self._store.agency(joined)
        person, taken = await self._store.registered(number, code)
        if identities is not None and number in identities:
            identity = identities[number]
        else:
            identity = (await context.sources.population.identities([number])).get(number)
        reasons = check_registration_facts(change, number, RegistrationFacts(
            agency=agency, person_registered=person, code_taken=taken, identity=identity))
        if reasons:
            raise _Rejected(*reasons)
        assert agency is not None
        file, entry = registration(change, number, agency, self._codes)
        return _Checked(payload, code, number, None, [token], [file, entry], new_file=True)


def _with_payload(received: Submission, payload: Mapping[str, Any]) -> Submission:
    employee = payload.get("employee")
    employee = employee if isinstance(employee, Mapping) else {}
    code, personal_id = employee.get("employeeCode"), employee.get("personalId")
    change = payload.get("change")
    if code is None and isinstance(change, Mapping):  # a registration names it in the change
        code = change.get("employeeCode")
    version = payload.get("baseVersion")
    return replace(received, payload=payload,
                   jti=payload.get("jti") if isinstance(payload.get("jti"), str) else None,
                   employee_code=code if isinstance(code, str) and len(code) <= 32 else None,
                   personal_id=(personal_id if isinstance(personal_id, str)
                                and len(personal_id) <= 12 else None),
                   base_version=version if isinstance(version, int)
                   and not isinstance(version, bool) and 0 < version < 2**31 else None)


def _today() -> date:
    return datetime.now(UTC).date()

