"""``syncConflicts``: the review queue of synchronisation, read under the caller's grants.

Rows come from ``sync_conflict`` (adapters.sync_store) filtered by the caller's row conditions
on ``SyncConflict`` (pushed into SQL, following ``agency`` into the agency table like any
national entity), newest first, a keyset page at a time; each conflict, its two sides and its
differences are shaped and masked once per object.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, cast

from adapters.filters import eq
from adapters.sync_store import ConflictKey, ConflictWindow, SyncStore
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput, HubError, NotFound
from resolvers.pagination import check_page_size
from resolvers.sync_review import ResolutionRefused, resolve_conflict
from resolvers.types.sync_conflict import (
    SyncConflict,
    SyncConflictPage,
    SyncConflictStatus,
    SyncResolution,
)


class _Settled(HubError):
    code = "CONFLICT"


# Each resolution, as the review queue keeps it.
_SETTLED_AS = {"KEEP_NATIONAL": "kept-national", "TAKE_AGENCY": "taken-agency",
               "DISMISS": "dismissed"}

__all__ = ["conflict_page", "settle_conflict"]

_SIDE = ("employee_code", "local_id", "personal_id", "full_name", "birth_date", "sex",
         "agency_code", "unit_name", "position_code", "rank_code", "salary_step",
         "salary_coefficient", "hired_on", "version", "updated_at")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _side(values: dict[str, Any] | None) -> dict[str, Any]:
    """A side as kept (JSON) made the values its GraphQL type shows."""
    row: dict[str, Any] = {name: (values or {}).get(name) for name in _SIDE}
    for name in ("birth_date", "hired_on"):
        day = row[name]
        if isinstance(day, str):
            row[name] = date.fromisoformat(day[:10])
    moment = row["updated_at"]
    if isinstance(moment, str):
        row["updated_at"] = datetime.fromisoformat(moment)
    if row["salary_coefficient"] is not None:
        row["salary_coefficient"] = float(row["salary_coefficient"])
    if row["salary_step"] is not None:
        row["salary_step"] = int(row["salary_step"])
    for name in ("employee_code", "local_id", "personal_id", "full_name", "sex",
                 "agency_code", "unit_name", "position_code", "rank_code"):
        row[name] = _text(row[name])
    return row


_DECISION_FIELD = re.compile(r"discipline\[.*\]\.([a-z_]+)")


def _difference_shown(context: RequestContext) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A difference as the caller may see it: its values are the values of a field — a side's
    (``full_name``), or a discipline decision's (``discipline[N].form_code``) — withheld
    where the caller's grant does not give that field, masked as the grant masks it."""
    grants = context.grants
    masks = {m.column: m for entity in ("sync_side", "discipline")
             for m in grants.masks.get(entity, ())}

    def shown(difference: dict[str, Any]) -> dict[str, Any]:
        name = str(difference.get("field"))
        decision = _DECISION_FIELD.fullmatch(name)
        entity, column = ("discipline", decision.group(1)) if decision else ("sync_side", name)
        if decision is None and name == "discipline":
            return difference  # which decision number only one source holds
        granted = grants.columns is None or column in grants.columns.get(entity, frozenset())
        if not granted:
            return {**difference, "national": None, "agency": None}
        mask = masks.get(column)
        if mask is not None:
            try:
                return {**difference, "national": _text(mask.apply(difference["national"])),
                        "agency": _text(mask.apply(difference["agency"]))}
            except Exception:  # a value the mask cannot take: withheld, never shown raw
                return {**difference, "national": None, "agency": None}
        return difference

    return shown


def _shape(row: dict[str, Any], context: RequestContext) -> dict[str, Any]:
    loaders = context.loaders
    side = loaders.finish("sync_side")
    withheld = _difference_shown(context)
    finish_difference = loaders.finish("sync_difference")

    def difference(values: dict[str, Any]) -> dict[str, Any]:
        return finish_difference(withheld(values))

    outcome = row.get("resolution_outcome")
    return loaders.finish("sync_conflict")({
        "id": str(row["id"]), "system": row["system"],
        "kind": row["kind"], "status": row["status"], "agency_code": row["agency_code"],
        "employee_code": row["employee_code"], "personal_id": row["personal_id"],
        "differences": [difference({"field": d.get("field"), "national": _text(d.get("national")),
                                    "agency": _text(d.get("agency"))})
                        for d in row["fields"] or []],
        "national": side({**_side(row["national"]), "version": row["national_version"]}),
        "agency_version": side(_side(row["agency"])),
        "can_take_agency": row["proposed"] is not None and row["status"] == "open",
        "detected_at": row["detected_at"], "resolved_at": row["resolved_at"],
        "resolved_by": row["resolved_by"], "resolution_note": row["resolution_note"],
        "resolution_outcome": None if not isinstance(outcome, dict) else {
            "status": outcome.get("status"), "reasons": outcome.get("reasons") or []},
    })


async def conflict_page(context: RequestContext, agency_code: str | None,
                        status: SyncConflictStatus | None, first: int | None,
                        after: str | None) -> SyncConflictPage:
    size = check_page_size(first, context.limits)
    try:
        key = ConflictKey.decode(after) if after is not None else None
    except ValueError:
        raise BadUserInput("`after` is not a cursor of this list", argument="after") from None
    window = ConflictWindow([agency_code] if agency_code is not None else None,
                            None if status is None else status.value, key, size + 1)
    rows = await SyncStore(context.sources.national).conflicts(
        window, context.loaders.row_filter("sync_conflict"))
    shown = rows[:size]
    last = shown[-1] if shown and len(rows) > size else None
    return cast("SyncConflictPage", {
        "conflicts": [_shape(r, context) for r in shown],
        "page_info": {"has_next_page": len(rows) > size,
                      "end_cursor": ConflictKey(last["detected_at"], last["id"]).encode()
                      if last is not None else None}})


async def settle_conflict(context: RequestContext, conflict_id: str,
                          resolution: SyncResolution, note: str | None) -> SyncConflict:
    """A reviewer's decision on a conflict within the caller's row scope (one outside it is
    NOT_FOUND, as one that does not exist); recorded as made by the calling client."""
    try:
        ident = uuid.UUID(conflict_id)
    except ValueError:
        raise BadUserInput("`id` is not the id of a conflict", argument="id") from None
    store = SyncStore(context.sources.national)
    visible = await store.conflicts(ConflictWindow(None, None, None, 1),
                                    (*context.loaders.row_filter("sync_conflict"),
                                     eq("id", ident)))
    if not visible:
        raise NotFound(f"no conflict {conflict_id}")
    try:
        settled = await resolve_conflict(store, ident, _SETTLED_AS[resolution.name],
                                         context.caller.client_id, note)
    except ResolutionRefused as refused:
        if refused.code == "NOT_FOUND":
            raise NotFound(str(refused)) from None
        if refused.code == "CONFLICT":
            raise _Settled(str(refused)) from None
        raise BadUserInput(str(refused)) from None
    return cast("SyncConflict", _shape(settled, context))
