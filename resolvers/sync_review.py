"""Settling a conflict synchronisation queued: the rules, shared by ``hub sync resolve`` and
the ``resolveSyncConflict`` mutation.

A conflict is settled once. Keeping the national file (the agency corrects its own record) or
dismissing it is recorded at once; taking the agency's version is possible only where there is
a change to submit — a post, rank or salary step the national file changed after the agency
did — and is submitted by the next synchronisation run, signed and checked like any other
change (its outcome is kept with the conflict). A name, birth date or sex that differs from the
registry-verified national file, a second record of a registered person, a transfer and a
differing discipline decision are never taken from an agency system.
"""

from __future__ import annotations

import uuid
from typing import Any

from adapters.sync_store import SyncStore

__all__ = ["RESOLUTIONS", "ResolutionRefused", "resolve_conflict"]

RESOLUTIONS = ("kept-national", "taken-agency", "dismissed")
MAX_BY = 200
MAX_NOTE = 2_000


class ResolutionRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _text(value: str | None, name: str, limit: int, *, required: bool) -> str | None:
    if value is None or not value.strip():
        if required:
            raise ResolutionRefused("BAD_USER_INPUT", f"{name} is required")
        return None
    value = value.strip()
    if len(value) > limit or not value.isprintable():
        raise ResolutionRefused("BAD_USER_INPUT", f"{name} is at most {limit} printable "
                                                  "characters")
    return value


async def resolve_conflict(store: SyncStore, conflict_id: uuid.UUID, status: str, by: str,
                           note: str | None, *,
                           agencies: frozenset[str] | None = None) -> dict[str, Any]:
    """The conflict as settled. ``agencies``: the agency codes the resolver may settle
    conflicts of (None: any). Raises ResolutionRefused (NOT_FOUND, CONFLICT, BAD_USER_INPUT)."""
    if status not in RESOLUTIONS:
        raise ResolutionRefused("BAD_USER_INPUT", f"a resolution is one of {RESOLUTIONS}")
    resolver = _text(by, "the resolver", MAX_BY, required=True)
    assert resolver is not None
    note = _text(note, "the note", MAX_NOTE, required=False)
    conflict = await store.conflict(conflict_id)
    if conflict is None or (agencies is not None and conflict["agency_code"] not in agencies):
        raise ResolutionRefused("NOT_FOUND", f"no conflict {conflict_id}")
    if conflict["status"] != "open":
        raise ResolutionRefused("CONFLICT", f"conflict {conflict_id} is already settled "
                                            f"({conflict['status']})")
    if status == "taken-agency" and conflict.get("proposed") is None:
        raise ResolutionRefused("BAD_USER_INPUT", f"a {conflict['kind']} conflict cannot take "
                                                  "the agency's version: the agency corrects "
                                                  "its own record")
    resolved = await store.resolve(conflict_id, status, resolver, note)
    if resolved is None:  # settled meanwhile by someone else
        raise ResolutionRefused("CONFLICT", f"conflict {conflict_id} is already settled")
    return resolved
