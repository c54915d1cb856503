"""The submission desk: every signed change is decided here, and kept whatever the decision.

In order, each step able to reject with reasons (code, payload path, message):
1. a retry (same client and idempotency key) gets the first decision, nothing more;
2. the agency's signature (``signatures``): registered key, valid at signing, the agency the
   client acts for; the payload's kind must be the mutation's;
3. authority: the client's policy grants this kind of change for this purpose, and the
   employee is within the grant's row scope (``hub.policy`` write grants);
4. the employee's own co-signature, where the grant or the kind asks for one;
5. the data: the file exists, the personal ID matches it, the change passes the code lists,
   ladders and dates (``checks``), and it names the file version it was prepared from;
6. the write (``adapters.submission_store``): a stale version is a CONFLICT, a signed change
   already applied is REPLAYED; otherwise the new version and its history, in one
   transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from adapters import NationalDatabase
from adapters.submission_store import Decision, Submission, SubmissionStore
from hub.updates.changes import record_change
from hub.updates.checks import CHECKED_KINDS, Reason, check_change
from hub.updates.keys import SignerKeys
from hub.updates.signatures import (
    SignatureRejected,
    kid_of,
    verify_co_signature,
    verify_submission,
)
from resolvers.code_lists import CodeLists
from resolvers.mutations import MUTATION_KINDS

__all__ = ["DECLARATION_KINDS", "SubmissionDesk"]

log = logging.getLogger(__name__)

_FIELD_OF = {kind: field for field, kind in MUTATION_KINDS.items()}
# The employee's own declarations: the employee signs too, whatever a policy says.
DECLARATION_KINDS = frozenset({"personal-history", "family", "asset-declaration"})


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
    payload: dict[str, Any]
    employee_code: str
    base_version: int
    signatures: list[str]


def _signature_reason(error: SignatureRejected, path: str) -> Reason:
    return Reason(error.code, f"{path}.{error.field}" if error.field else path, error.message)


def _employee_code(payload: Mapping[str, Any]) -> str:
    employee = payload.get("employee")
    code = employee.get("employeeCode") if isinstance(employee, Mapping) else None
    if not isinstance(code, str) or not 1 <= len(code) <= 32:
        raise _Rejected(Reason("REQUIRED", "employee.employeeCode",
                               "the payload names the employee by employeeCode"))
    return code


def _base_version(payload: Mapping[str, Any]) -> int:
    value = payload.get("baseVersion")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Rejected(Reason("REQUIRED", "baseVersion",
                               "the payload names the version of the personnel file it was "
                               "prepared from (a positive integer)"))
    return value


class SubmissionDesk:
    def __init__(self, national: NationalDatabase, codes: CodeLists, *,
                 leeway_seconds: int = 60) -> None:
        self._national = national
        self._store = SubmissionStore(national)
        self._registry = _RegistryReader(national)
        self._codes = codes
        self._leeway = leeway_seconds

    async def submit(self, context: Any, kind: str, submission: str, idempotency_key: str,
                     employee_signature: str | None) -> Decision:
        caller = context.caller
        earlier = await self._store.earlier(caller.client_id, idempotency_key)
        if earlier is not None:
            return earlier
        received = Submission(client_id=caller.client_id, idempotency_key=idempotency_key,
                              kind=kind, agency_code=caller.agency_code,
                              signatures=[submission])
        try:
            checked = await self._check(context, kind, submission, employee_signature)
        except _Rejected as rejected:
            if rejected.payload is not None:
                received = _with_payload(received, rejected.payload)
            return await self._store.reject(received, [r.as_json() for r in rejected.reasons])
        payload = checked.payload
        employee = payload["employee"]
        accepted = Submission(
            client_id=caller.client_id, idempotency_key=idempotency_key, kind=kind,
            agency_code=caller.agency_code, jti=payload["jti"],
            employee_code=checked.employee_code, personal_id=employee.get("personalId"),
            base_version=checked.base_version, payload=payload,
            signatures=checked.signatures)
        current = await self._store.employee(checked.employee_code)
        assert current is not None  # checked just before; a deletion would fail the write
        try:
            return await self._store.apply(accepted, record_change(
                kind, payload["change"], current, self._codes))
        except LookupError as error:  # the record to update is not this employee's
            return await self._store.reject(accepted, [Reason(
                "NOT_FOUND", "change", str(error)).as_json()])

    async def submit_many(self, context: Any,
                          items: Sequence[tuple[str, str, str, str | None]]) -> list[Decision]:
        """Each item decided in order, exactly as if submitted alone."""
        return [await self.submit(context, kind, token, key, co_signature)
                for kind, token, key, co_signature in items]

    async def _check(self, context: Any, kind: str, token: str,
                     employee_signature: str | None) -> _Checked:
        now = datetime.now(UTC)
        keys = await SignerKeys.load(self._registry, kids=[
            k for k in (kid_of(token), employee_signature and kid_of(employee_signature))
            if k])
        try:
            signed = verify_submission(token, keys, now=now, leeway_seconds=self._leeway,
                                       expected_issuer=context.caller.agency_code)
        except SignatureRejected as error:
            raise _Rejected(_signature_reason(error, "submission")) from None
        try:
            return await self._check_signed(context, kind, token, signed.payload, keys, now,
                                            employee_signature)
        except _Rejected as rejected:
            rejected.payload = signed.payload
            raise

    async def _check_signed(self, context: Any, kind: str, token: str,
                            payload: dict[str, Any], keys: SignerKeys, now: datetime,
                            employee_signature: str | None) -> _Checked:
        if payload.get("kind") != kind:
            raise _Rejected(Reason("KIND_MISMATCH", "kind",
                                   f"the signed change is a {payload.get('kind')!r}, sent as "
                                   f"a {kind!r}"))
        code = _employee_code(payload)
        await self._check_authority(context, kind, code)
        signatures = [token]
        grant = context.view.writes.get(kind)
        if kind in DECLARATION_KINDS or getattr(grant, "cosign", False):
            if employee_signature is None:
                raise _Rejected(Reason("EMPLOYEE_SIGNATURE_REQUIRED", "employeeSignature",
                                       "this change needs the employee's own signature too"))
            try:
                verify_co_signature(employee_signature, payload, keys, code, now=now,
                                    leeway_seconds=self._leeway)
            except SignatureRejected as error:
                raise _Rejected(_signature_reason(error, "employeeSignature")) from None
            signatures.append(employee_signature)
        current = await self._store.employee(code)
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
        version = _base_version(payload)
        reasons = (check_change(kind, payload.get("change"), current, self._codes, _today())
                   if kind in CHECKED_KINDS else
                   [Reason("UNKNOWN_KIND", "kind", f"{kind!r} is not taken yet")])
        if reasons:
            raise _Rejected(*reasons)
        return _Checked(payload, code, version, signatures)

    async def _check_authority(self, context: Any, kind: str, employee_code: str) -> None:
        grant = context.view.writes.get(kind)
        if grant is None:
            raise _Rejected(Reason("NOT_AUTHORIZED", "kind",
                                   f"the client's policy does not let it submit {kind!r} "
                                   f"for purpose {context.caller.purpose!r}"))
        visible = await self._national.fetch_many("employee", "employee_code", [employee_code],
                                                  ["employee_code"], grant.rows)
        if not visible:
            raise _Rejected(Reason("NOT_AUTHORIZED", "employee.employeeCode",
                                   f"employee {employee_code} is not one the client's policy "
                                   f"lets it change (or does not exist)"))


def _with_payload(received: Submission, payload: Mapping[str, Any]) -> Submission:
    employee = payload.get("employee")
    employee = employee if isinstance(employee, Mapping) else {}
    code, personal_id = employee.get("employeeCode"), employee.get("personalId")
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

