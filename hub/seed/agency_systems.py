"""The two agency HR systems: the Ministry of Finance's (REST, ``nhan_su``) holds everyone in a
``*.G02`` agency, Hà Nội's (GraphQL, ``staff``) everyone in a ``*.H01`` agency.

Each speaks its vendor's language (field names, sex as 'Nam'/'Nữ' or 'M'/'F', its own position
codes; ranks without dots in the ministry's system) but holds mostly the national values. A few
percent of rows *drift*, as real systems do, and each drift is written to the system's
``seed_drift`` table so tests can check the hub notices exactly these:

- ``position_changed``: the agency recorded a promotion or a step raise after the national
  database was last updated (its timestamp is later);
- ``pending_discipline``: a discipline case under way, unknown to the national database;
- ``misspelt_name``: one diacritic dropped or two letters swapped;
- ``stale_address``: a pre-2025 address instead of the registry's current one;
- ``invalid_coefficient`` / ``unknown_code``: a coefficient off the rank's ladder, or a post
  code missing from the vendor's own code list;
- ``new_hire``: someone just hired, in the agency system and the registry but not yet in the
  national database;
- ``discipline_missing``: a recent discipline decision, in effect, that only the agency system
  records (see :mod:`hub.seed.agency_decisions`);
- ``duplicate_person``: a second record of someone the system already holds (another local id,
  the same name, birth date, sex, agency and post) under a personal ID one serial digit off,
  which is nobody's number (:meth:`~hub.seed.serials.SerialAllocator.lookalike`).

Each record also holds the hire date and a copy of the person's national discipline decision.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from hub.seed import binary
from hub.seed.agency_decisions import (
    Decision,
    decision_rows,
    describe,
    missing_decision,
    national_copy,
)
from hub.seed.context import Context
from hub.seed.draw import below, between
from hub.seed.employees import Employee
from hub.seed.names import Urn, misspell
from hub.seed.plan import chunk_random
from hub.seed.serials import SerialAllocator
from hub.seed.tables import (
    GRAPHQL_DRIFT,
    KY_LUAT,
    NHAN_SU,
    REST_DRIFT,
    STAFF,
    STAFF_DISCIPLINE,
    Table,
)
from hub.seed.timeline import (
    AS_OF_ORDINAL,
    PG_EPOCH_ORDINAL,
    UPDATES_FROM_ORDINAL,
    moment,
    to_date,
)
from sandbox.agency_graphql.codes import JOB_TITLES, NATIONAL_TO_VENDOR_JOB_TITLE
from sandbox.agency_rest.codes import NATIONAL_TO_VENDOR_POSITION, POSITION_CODES, vendor_rank_code

__all__ = ["DRIFT_KINDS", "agency_system_rows"]

DRIFT_KINDS: Final = ("position_changed", "pending_discipline", "misspelt_name",
                      "stale_address", "invalid_coefficient", "unknown_code", "new_hire",
                      "discipline_missing", "duplicate_person")
# Percent of an agency system's rows with each kind of drift (new hires come with the
# employees, see hub.seed.employees).
_DRIFT_RATES: Final = (("position_changed", 2.0), ("pending_discipline", 1.5),
                       ("misspelt_name", 1.5), ("stale_address", 2.0),
                       ("invalid_coefficient", 0.5), ("unknown_code", 0.5),
                       ("discipline_missing", 0.5), ("duplicate_person", 0.3))
_DRIFT: Final = Urn([*_DRIFT_RATES, (None, 100.0 - sum(r for _, r in _DRIFT_RATES))],
                    resolution=2_000)
# The post a promotion leads to, where the agency has such posts to give.
_PROMOTION: Final = {"CHUYEN_VIEN": "PHO_TRUONG_PHONG", "KE_TOAN": "PHO_TRUONG_PHONG",
                     "THANH_TRA_VIEN": "PHO_TRUONG_PHONG", "PHO_TRUONG_PHONG": "TRUONG_PHONG",
                     "GIANG_VIEN": "PHO_TRUONG_PHONG", "BAC_SI": "PHO_TRUONG_PHONG"}
_UNKNOWN_REST_CODES: Final = tuple(c for c in ("TBP", "CVCC", "PBT", "QLNS")
                                   if c not in POSITION_CODES)
_UNKNOWN_JOB_TITLES: Final = tuple(c for c in ("SENIOR_OFFICER", "TEAM_LEAD", "ADVISOR")
                                   if c not in JOB_TITLES)
_PENDING_REASONS: Final = (
    "vi phạm quy định về quản lý tài chính, tài sản công",
    "thiếu trách nhiệm trong thực hiện nhiệm vụ được giao",
    "vi phạm quy chế làm việc của cơ quan",
    "vi phạm quy định về kê khai tài sản, thu nhập",
)
_SECONDS_PER_DAY: Final = 86_400
_OFFICE_OPENS_UTC: Final = 1_800  # 07:30 in Vietnam
_FIRST_UPDATE: Final = (UPDATES_FROM_ORDINAL - PG_EPOCH_ORDINAL) * _SECONDS_PER_DAY + 1_800
_SEX: Final = {"agency_rest": {"male": "Nam", "female": "Nữ"},
               "agency_graphql": {"male": "M", "female": "F"}}
_NHAN_SU_FIELDS: Final = binary.field_count(len(NHAN_SU.columns))
_STAFF_FIELDS: Final = binary.field_count(len(STAFF.columns))
_DRIFT_FIELDS: Final = binary.field_count(3)
_TABLES: Final = {"agency_rest": (NHAN_SU, KY_LUAT, REST_DRIFT),
                  "agency_graphql": (STAFF, STAFF_DISCIPLINE, GRAPHQL_DRIFT)}


@dataclass(slots=True)
class _Entry:
    """One person as the agency system holds them, in national terms until encoded."""

    name: str
    position: str
    position_code: str  # the vendor's code, as stored (normally the translation of position)
    step: int
    coefficient: Decimal
    pending_discipline: str | None
    address: str
    modified: int  # seconds since 2000-01-01 UTC
    decisions: list[Decision]


@dataclass(slots=True)
class _Chunk:
    """What the chunk's drift draws from besides the generator: its numbering."""

    number: int
    serials: SerialAllocator
    missing: int = 0  # decisions only an agency system holds, so far


@dataclass(frozen=True, slots=True)
class _Drift:
    kind: str
    detail: str
    # duplicate_person: the second record's personal ID and local id.
    duplicate: tuple[str, str] | None = None


def agency_system_rows(context: Context, chunk: int, employees: list[Employee],
                       hires: list[Employee], addresses: dict[str, str],
                       serials: SerialAllocator) -> dict[Table, list[bytes]]:
    rng = chunk_random(context.plan.seed, chunk, "agency-systems")
    rows: dict[Table, list[bytes]] = {t: [] for tables in _TABLES.values() for t in tables}
    state = _Chunk(chunk, serials)
    hire_number = 0
    for e in (*employees, *hires):
        system = e.agency.agency.system
        if system is None:
            continue
        # The agency recorded the same facts a day or two before they reached the national
        # database (same office hours, never before the national database went live).
        synced = max(e.updated_at - below(rng, 3) * _SECONDS_PER_DAY, _FIRST_UPDATE)
        national = national_copy(e)
        entry = _Entry(e.full_name, e.position, _vendor_position(system, e.position), e.step,
                       e.rank.coefficients[e.step - 1], None, addresses[e.pid], synced,
                       [] if national is None else [national])
        if national is not None:  # the decision was recorded no earlier than it was taken
            entry.modified = max(entry.modified, _day_start(national.decided))
        if e.is_new_hire:
            hire_number += 1
            local_id = f"TCM{chunk:05d}{hire_number:03d}"
            drift: _Drift | None = _Drift(
                "new_hire", f"hired {to_date(e.hired).isoformat()} as {e.position} at "
                f"{e.agency.agency.code}; not yet in the national database")
            entry.modified = e.updated_at
        else:
            local_id = f"TC{e.index + 1:08d}"
            drift = _drift(context, rng, state, system, e, entry, local_id)
        record_table, decision_table, drift_table = _TABLES[system]
        owner = binary.text(local_id) if system == "agency_rest" else e.pid_field
        rows[record_table].append(_record(context, system, local_id, e.pid_field, e, entry))
        rows[decision_table].extend(decision_rows(context, system, owner, entry.decisions))
        if drift is None:
            continue
        drifted = e.pid_field
        if drift.duplicate is not None:
            pid, duplicate_id = drift.duplicate
            drifted = binary.text(pid)
            rows[record_table].append(_record(context, system, duplicate_id, drifted, e,
                                              _duplicate_entry(rng, e, entry)))
        rows[drift_table].append(b"".join((_DRIFT_FIELDS, drifted, context.text[drift.kind],
                                           binary.text(drift.detail))))
    return rows


def _day_start(day: int) -> int:
    """The first office moment of ``day``, as seconds since 2000-01-01 UTC."""
    return (day - PG_EPOCH_ORDINAL) * _SECONDS_PER_DAY + _OFFICE_OPENS_UTC


def _duplicate_entry(rng: random.Random, e: Employee, entry: _Entry) -> _Entry:
    """The second record: keyed in afresh from the appointment papers (the national name and
    post), with none of the first record's decisions or pending case."""
    return _Entry(e.full_name, e.position, entry.position_code, entry.step, entry.coefficient,
                  None, entry.address, moment(rng, UPDATES_FROM_ORDINAL, AS_OF_ORDINAL - 1), [])


def _vendor_position(system: str, position: str) -> str:
    if system == "agency_rest":
        return NATIONAL_TO_VENDOR_POSITION[position]
    return NATIONAL_TO_VENDOR_JOB_TITLE[position]


def _drift(context: Context, rng: random.Random, state: _Chunk, system: str, e: Employee,
           entry: _Entry, local_id: str) -> _Drift | None:
    """Maybe make ``entry`` differ from the national record; the drift if it does."""
    kind = _DRIFT.draw(rng)
    if kind is None:
        return None
    if kind == "discipline_missing":
        return _missing_decision(context, rng, state, e, entry)
    if kind == "duplicate_person":
        return _duplicate(state, system, e, local_id)
    found = _record_drift(context, rng, system, kind, e, entry)
    return None if found is None else _Drift(*found)


def _missing_decision(context: Context, rng: random.Random, state: _Chunk, e: Employee,
                      entry: _Entry) -> _Drift | None:
    if e.status != "active":  # decisions against people still at work
        return None
    decision = missing_decision(context, rng, e, state.number, state.missing)
    if decision is None:
        return None
    state.missing += 1
    entry.decisions.append(decision)
    entry.modified = max(entry.modified, moment(rng, decision.decided, AS_OF_ORDINAL - 1))
    return _Drift("discipline_missing",
                  f"{describe(decision)}: held only by the agency system")


def _duplicate(state: _Chunk, system: str, e: Employee, local_id: str) -> _Drift | None:
    pid = state.serials.lookalike(e.pid)
    if pid is None:
        return None
    # The Ministry's system keys records by its own ids, the second one too; Hà Nội's numbers
    # its staff as they are loaded (the second record right after the first).
    if system == "agency_rest":
        duplicate_id = f"TCD{e.index + 1:08d}"
        held = f"{e.pid} ({local_id}) under personal ID {pid} ({duplicate_id})"
    else:
        duplicate_id = ""
        held = f"{e.pid} under personal ID {pid}"
    return _Drift("duplicate_person", f"second record of {held}: same name, birth date, sex, "
                                      "agency and post", (pid, duplicate_id))


def _record_drift(context: Context, rng: random.Random, system: str, kind: str, e: Employee,
                  entry: _Entry) -> tuple[str, str] | None:
    """The drift kinds that change the record itself: (kind, detail)."""
    rest = system == "agency_rest"
    position_column = "chuc_vu" if rest else "job_title_code"
    step_column, coefficient_column = ("bac_luong", "he_so_luong") if rest \
        else ("pay_step", "pay_coefficient")
    if kind == "position_changed":
        changed = _newer_post(context, rng, system, e, entry, position_column, step_column,
                              coefficient_column)
        if changed is not None:
            return changed
        kind = "stale_address"  # nothing to promote to: drift the address instead
    if kind == "pending_discipline":
        opened = AS_OF_ORDINAL - between(rng, 5, 90)
        abbreviation = e.agency.agency.abbreviation
        entry.pending_discipline = (
            f"Đang xem xét kỷ luật: {_PENDING_REASONS[int(rng.random() * len(_PENDING_REASONS))]}"
            f" (Tờ trình số {between(rng, 10, 999)}/TTr-{abbreviation} ngày "
            f"{to_date(opened).strftime('%d/%m/%Y')})")
        entry.modified = max(entry.modified, moment(rng, opened, AS_OF_ORDINAL - 1))
        return kind, entry.pending_discipline
    if kind == "misspelt_name":
        entry.name = misspell(e.full_name, rng)
        return kind, f"{e.full_name} -> {entry.name}"
    if kind == "stale_address":
        registry = entry.address
        entry.address = context.places.stale_address(rng, e.agency.agency.province_code)
        return kind, f"registry: {registry} | agency: {entry.address}"
    if kind == "invalid_coefficient":
        invalid = entry.coefficient + Decimal("0.01")
        entry.coefficient = invalid
        return kind, (f"{coefficient_column}: {invalid} is not on the ladder of rank "
                      f"{e.rank.code} (step {e.step} is {e.rank.coefficients[e.step - 1]})")
    # unknown_code
    unknown = _UNKNOWN_REST_CODES if rest else _UNKNOWN_JOB_TITLES
    valid = entry.position_code
    entry.position_code = unknown[int(rng.random() * len(unknown))]
    return kind, f"{position_column}: {entry.position_code} is not in the vendor code list " \
                 f"(national {e.position} is {valid})"


def _newer_post(context: Context, rng: random.Random, system: str, e: Employee, entry: _Entry,
                position_column: str, step_column: str, coefficient_column: str
                ) -> tuple[str, str] | None:
    promotion = None if e.designated else _PROMOTION.get(e.position)
    if promotion is not None and promotion not in {p for p, _ in e.agency.profile.positions}:
        promotion = None
    raise_step = e.step < e.rank.steps
    if promotion is None and not raise_step:
        return None
    # Recorded by the agency after the national database's last update of this person.
    first_day = (e.updated_at // _SECONDS_PER_DAY) + PG_EPOCH_ORDINAL + 1
    entry.modified = moment(rng, min(first_day, AS_OF_ORDINAL - 1), AS_OF_ORDINAL - 1)
    if promotion is not None and (not raise_step or rng.random() < 0.5):
        old = entry.position_code
        entry.position = promotion
        entry.position_code = _vendor_position(system, promotion)
        return "position_changed", f"{position_column}: {old} -> {entry.position_code}"
    entry.step = e.step + 1
    entry.coefficient = e.rank.coefficients[e.step]
    return "position_changed", (f"{step_column}: {e.step} -> {entry.step}; {coefficient_column}: "
                                f"{e.rank.coefficients[e.step - 1]} -> {entry.coefficient}")


def _record(context: Context, system: str, local_id: str, pid_field: bytes, e: Employee,
            entry: _Entry) -> bytes:
    if system == "agency_rest":
        return _nhan_su(context, local_id, pid_field, e, entry)
    return _staff(context, pid_field, e, entry)


def _nhan_su(context: Context, local_id: str, pid_field: bytes, e: Employee,
             entry: _Entry) -> bytes:
    text = context.text
    return b"".join((
        _NHAN_SU_FIELDS, binary.text(local_id), pid_field, binary.text(entry.name),
        binary.date(e.birth), text[_SEX["agency_rest"][e.sex]], e.agency.code_field,
        text[e.unit], text[entry.position_code], text[vendor_rank_code(e.rank.code)],
        binary.int2(entry.step), context.coefficient_field(entry.coefficient),
        binary.NULL if entry.pending_discipline is None else binary.text(entry.pending_discipline),
        binary.text(entry.address), binary.date(e.hired), binary.timestamp(entry.modified)))


def _staff(context: Context, pid_field: bytes, e: Employee, entry: _Entry) -> bytes:
    text = context.text
    return b"".join((
        _STAFF_FIELDS, pid_field, binary.text(entry.name), binary.date(e.birth),
        text[_SEX["agency_graphql"][e.sex]], e.agency.code_field, text[e.unit],
        text[entry.position_code], text[e.rank.code], binary.int2(entry.step),
        context.coefficient_field(entry.coefficient),
        binary.NULL if entry.pending_discipline is None else binary.text(entry.pending_discipline),
        binary.text(entry.address), binary.date(e.hired), binary.timestamp(entry.modified)))
