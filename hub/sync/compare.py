"""What an agency HR system's record says that the national database does not: pure rules.

Matching is by personal ID. For each record of an agency's change feed, ``classify`` returns
the differences found, each one of:

- ``new``: a person the national database lacks (a new hire), to register; or a discipline
  decision the national file lacks, to record;
- ``changed``: a post, rank or salary step the agency changed after the national file was last
  updated, to apply as a position change;
- ``conflict``: a difference the hub must not settle on its own, queued for review with both
  versions side by side — the national file is as new as or newer than the agency's change
  (``national-newer``); the name, birth date or sex differ from the national file, which was
  verified against the population registry (``identity``); the record looks like a second
  record of someone already registered under another personal ID (``duplicate``); the agency
  places the employee in an agency other than the national file's (``transfer``: transfers
  go through the two agencies' own signed release and receipt); or a decision known to both
  says different things (``discipline``);
- ``invalid``: the agency's values cannot be national values (a code outside the national code
  lists, which is what an untranslated vendor code is; a coefficient not on the rank's
  ladder), reported with reasons and never applied;
- ``unmatched``: a record whose personal ID is malformed, so no national file can be matched.

A record with no difference yields nothing. Fields the national database does not keep (the
address, which is the population registry's; a pending discipline case, which appointment
checks read live) are not compared here.

Everything a ``new`` or ``changed`` finding carries is a change in the form the submission
desk takes (``hub.updates``): the desk verifies it exactly as it verifies an agency's own
submission, and may still refuse it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from resolvers.code_lists import CodeLists
from resolvers.personal_id import is_well_formed

__all__ = ["Finding", "classify", "fingerprint", "identity_key", "registration_code"]

Row = Mapping[str, Any]

_IDENTITY_FIELDS = ("full_name", "birth_date", "sex")
_EMPLOYMENT_FIELDS = ("position_code", "rank_code", "salary_step")
_DISCIPLINE_FIELDS = ("form_code", "decided_on", "issuer", "effective_from", "effective_to")
_CODE_CHARACTERS = re.compile(r"[^A-Z0-9]")
# The civil service's own day: a change recorded at 06:00 in Hà Nội is that day's, not the UTC
# day before.
_VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def aware(value: Any) -> datetime | None:
    """A time with its offset, or None: a vendor's time without one cannot be ordered
    against the national file's."""
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def local_day(moment: datetime) -> str:
    return moment.astimezone(_VIETNAM).date().isoformat()


@dataclass(frozen=True, slots=True)
class Finding:
    outcome: str                        # new | changed | conflict | invalid | unmatched
    kind: str | None = None             # the change kind to submit (new, changed)
    change: dict[str, Any] | None = None
    conflict: str | None = None         # conflict kind
    # [{field, national, agency}] for what differs, as JSON values
    fields: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[dict[str, str]] = field(default_factory=list)
    twin: Row | None = None             # duplicate: the national file it seems to repeat


def _json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _normal(text: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text or "")).casefold().split())


def _text_form(text: Any) -> str:
    """A text as written, whatever its Unicode composition and spacing (case kept)."""
    return " ".join(unicodedata.normalize("NFC", str(text or "")).split())


def identity_key(full_name: Any, birth_date: Any, sex: Any) -> tuple[str, str, str]:
    """What makes two records the same person when their personal IDs differ: the name (case,
    spacing and Unicode composition aside — not diacritics), birth date and sex."""
    return _normal(full_name), _json(birth_date) or "", str(sex or "")


def _same(field_name: str, national: Any, agency: Any) -> bool:
    if field_name == "full_name":
        return _normal(national) == _normal(agency)
    if field_name in ("issuer", "reason"):
        return _text_form(national) == _text_form(agency)
    if field_name == "salary_coefficient":
        return _decimal(national) == _decimal(agency)
    return bool(national == agency)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None
    except InvalidOperation:
        return None


def _differences(national: Row, agency: Row, names: Sequence[str]) -> list[dict[str, Any]]:
    return [{"field": name, "national": _json(national.get(name)),
             "agency": _json(agency.get(name))}
            for name in names if not _same(name, national.get(name), agency.get(name))]


def _reason(code: str, path: str, message: str) -> dict[str, str]:
    return {"code": code, "path": path, "message": message}


def _employment_problems(record: Row, codes: CodeLists) -> list[dict[str, str]]:
    """Why the agency's post, rank, step and coefficient cannot be national values."""
    problems = []
    position = record.get("position_code")
    if position is None or position not in codes.positions:
        problems.append(_reason("UNKNOWN_CODE", "position_code",
                                f"{position!r} is not a national position code (an untranslated "
                                "code of the agency system)"))
    rank_code = record.get("rank_code")
    rank = codes.ranks.get(rank_code) if isinstance(rank_code, str) else None
    if rank is None:
        problems.append(_reason("UNKNOWN_CODE", "rank_code",
                                f"{rank_code!r} is not a national rank code"))
        return problems
    step = record.get("salary_step")
    ladder: list[Decimal] = rank["ladder"]
    if not isinstance(step, int) or not 1 <= step <= len(ladder):
        problems.append(_reason("NOT_ON_LADDER", "salary_step",
                                f"rank {rank_code} has steps 1 to {len(ladder)}, not {step!r}"))
        return problems
    coefficient = _decimal(record.get("salary_coefficient"))
    if coefficient is not None and coefficient != _decimal(ladder[step - 1]):
        problems.append(_reason("NOT_ON_LADDER", "salary_coefficient",
                                f"step {step} of rank {rank_code} has coefficient "
                                f"{ladder[step - 1]}, not {coefficient}"))
    return problems


def registration_code(prefix: str, local_id: Any) -> str | None:
    """The employee code a new hire is registered under: the system's prefix and its own
    employee id (letters and digits only), or None when that makes no valid code."""
    local = _CODE_CHARACTERS.sub("", str(local_id or "").upper())
    code = prefix + local
    return code if local and len(code) <= 32 else None


def _name_parts(full_name: str) -> dict[str, str]:
    """Family name first, given name last, the rest middle: how Vietnamese names are
    written, and how the national file keeps them."""
    words = unicodedata.normalize("NFC", full_name).split()
    if len(words) < 2:
        return {"familyName": words[0] if words else "", "middleName": "", "givenName": ""}
    return {"familyName": words[0], "middleName": " ".join(words[1:-1]),
            "givenName": words[-1]}


def _registration(record: Row, codes: CodeLists, prefix: str) -> Finding:
    problems = _employment_problems(record, codes)
    code = registration_code(prefix, record.get("local_id"))
    if code is None:
        problems.append(_reason("INVALID", "local_id", "the agency's employee id makes no "
                                                       "employee code"))
    for name in ("full_name", "birth_date", "sex", "agency_code", "hired_on"):
        if record.get(name) in (None, ""):
            problems.append(_reason("REQUIRED", name, f"the agency record has no {name}"))
    if problems:
        return Finding("invalid", kind="register-employee", reasons=problems)
    rank = codes.ranks[record["rank_code"]]
    change = {
        "employeeCode": code, **_name_parts(str(record["full_name"])),
        "birthDate": _json(record["birth_date"]), "sex": record["sex"],
        "category": rank["category"], "agencyCode": record["agency_code"],
        "unitName": record.get("unit_name") or "", "positionCode": record["position_code"],
        "rankCode": record["rank_code"], "salaryStep": record["salary_step"],
        "hiredOn": _json(record["hired_on"]),
    }
    return Finding("new", kind="register-employee", change=change)


def _employment(record: Row, employee: Row, codes: CodeLists) -> list[Finding]:
    differing = _differences(employee, record, _EMPLOYMENT_FIELDS)
    coefficient = _differences(employee, record, ("salary_coefficient",))
    if not differing and not coefficient:
        return []
    problems = _employment_problems(record, codes)
    if problems:
        return [Finding("invalid", kind="position-change", fields=differing + coefficient,
                        reasons=problems)]
    if not differing:
        return []  # the same coefficient written otherwise (4.4 / 4.40)
    agency_time = aware(record.get("updated_at"))
    if agency_time is None or agency_time <= employee["updated_at"]:
        return [Finding("conflict", conflict="national-newer", fields=differing)]
    names = {d["field"] for d in differing}
    change: dict[str, Any] = {}
    if "position_code" in names:
        change["positionCode"] = record["position_code"]
    if "rank_code" in names:
        change["rankCode"] = record["rank_code"]
        change["salaryStep"] = record["salary_step"]
    elif "salary_step" in names:
        change["salaryStep"] = record["salary_step"]
    change["effectiveFrom"] = local_day(agency_time)
    return [Finding("changed", kind="position-change", change=change, fields=differing)]


def _disciplines(record: Row, employee: Row, national: Sequence[Row]) -> list[Finding]:
    held = {d["decision_number"]: d for d in national}
    findings = []
    for decision in record.get("disciplines") or ():
        number = decision.get("decision_number")
        known = held.get(number)
        if known is None:
            change = {"formCode": decision.get("form_code"), "decisionNumber": number,
                      "decidedOn": _json(decision.get("decided_on")),
                      "issuer": decision.get("issuer"), "reason": decision.get("reason") or "",
                      "effectiveFrom": _json(decision.get("effective_from"))}
            if decision.get("effective_to") is not None:
                change["effectiveTo"] = _json(decision["effective_to"])
            findings.append(Finding("new", kind="discipline-decision", change=change,
                                    fields=[{"field": "discipline", "national": None,
                                             "agency": number}]))
            continue
        differing = _differences(known, decision, _DISCIPLINE_FIELDS)
        if differing:
            findings.append(Finding("conflict", conflict="discipline", fields=[
                {**d, "field": f"discipline[{number}].{d['field']}"} for d in differing]))
    return findings


def classify(record: Row, employee: Row | None, national_disciplines: Sequence[Row],
             twin: Row | None, codes: CodeLists, *, code_prefix: str,
             in_scope: bool = True) -> list[Finding]:
    """The differences between ``record`` (canonical fields of an agency's record) and the
    national file of the same personal ID (``employee``, None when there is none, with its
    discipline decisions). ``twin``: a national file of the same identity under another
    personal ID, if any. ``in_scope``: whether the national file's agency is one the system
    serves."""
    pid = record.get("personal_id")
    if not isinstance(pid, str) or not is_well_formed(pid):
        return [Finding("unmatched", reasons=[_reason(
            "INVALID_PERSONAL_ID", "personal_id",
            f"{pid!r} is not a personal ID: no national file can be matched")])]
    if employee is None:
        if twin is not None:
            return [Finding("conflict", conflict="duplicate", twin=twin, fields=[
                {"field": "personal_id", "national": twin["personal_id"], "agency": pid}])]
        registration = _registration(record, codes, code_prefix)
        if registration.outcome != "new":
            return [registration]
        # The new hire's decisions follow the registration (decided after it, on the file it
        # makes; refused with it if it is refused).
        return [registration, *_disciplines(record, {}, [])]
    if not in_scope or record.get("agency_code") != employee["agency_code"]:
        return [Finding("conflict", conflict="transfer", fields=_differences(
            employee, record, ("agency_code",)) or [
            {"field": "agency_code", "national": employee["agency_code"],
             "agency": record.get("agency_code")}])]
    identity = _differences(employee, record, _IDENTITY_FIELDS)
    if identity:
        # Not the person the national file describes, or not written as the registry has
        # them: nothing of the record is applied to the file until a reviewer settles who it
        # is. What else differs is shown with it.
        others = [*_employment(record, employee, codes),
                  *_disciplines(record, employee, national_disciplines)]
        return [Finding("conflict", conflict="identity",
                        fields=identity + [d for f in others for d in f.fields])]
    return [*_employment(record, employee, codes),
            *_disciplines(record, employee, national_disciplines)]


def fingerprint(system: str, record: Row, finding: Finding) -> str:
    """The same difference found again (a rerun, the same record seen twice) has the same
    fingerprint; a further change by the agency makes another one."""
    # An identity conflict is the identity's: other differences shown with it do not make it
    # another one.
    fields = [d for d in finding.fields if finding.conflict != "identity"
              or d["field"] in _IDENTITY_FIELDS]
    key = [system, record.get("personal_id"), record.get("local_id"), finding.conflict,
           sorted((d["field"], orjson.dumps(d["agency"], default=str).decode())
                  for d in fields)]
    return hashlib.sha256(orjson.dumps(key, default=str)).hexdigest()
