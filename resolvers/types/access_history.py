"""Access history: who read a person's data, when, for what purpose, which fields.

Read from the audit log (one event per GraphQL operation that disclosed something of the
person). ``CivilServant.accessHistory`` is fetched for a whole list of civil servants at once:
one audit-log query per level of the query, whatever the list's length.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from resolvers.access_history import history_page, history_window
from resolvers.info import Info, Row
from resolvers.links import Link, link

if TYPE_CHECKING:
    from resolvers.types.agency import Agency

__all__ = ["AccessEvent", "AccessHistory", "AccessHistoryPageInfo", "civil_servant_history"]

AgencyRef = Annotated["Agency", strawberry.lazy("resolvers.types.agency")]

_agency = link("AccessEvent", "agency", Link(key_columns=("agency_code",),
                                             loader=attrgetter("agency"), target_key="code",
                                             shows=("code",)))


@strawberry.type(description="One operation that disclosed something of the person: which "
                             "system read it, for which agency and purpose, and what.")
class AccessEvent:
    at: datetime = strawberry.field(description="When the hub recorded the operation.")
    agency_code: str | None = strawberry.field(
        description="The agency the reading system belongs to.")
    agency: AgencyRef | None = strawberry.field(resolver=_agency)
    system: str = strawberry.field(
        description="The integrating system (OAuth client id) that read the data.")
    end_user: str | None = strawberry.field(
        description="The official the system named as the person at the keyboard, if any.")
    purpose: str | None = strawberry.field(description="The declared purpose of use.")
    operation_name: str | None
    field_groups: list[str] = strawberry.field(
        description="The groups of the person's data disclosed (identity, salary, ...).")
    fields: list[str] = strawberry.field(
        description="Exactly which fields were disclosed of the person, as Type.field.")
    outcome: str = strawberry.field(
        description="allowed, partial (some fields failed), refused or failed.")
    request_id: str = strawberry.field(description="The request's id in the hub's records.")


@strawberry.type
class AccessHistoryPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of a person's access events, newest first.")
class AccessHistory:
    events: list[AccessEvent]
    page_info: AccessHistoryPageInfo


async def civil_servant_history(
        root: strawberry.Parent[Row], info: Info,
        from_: Annotated[datetime | None, strawberry.argument(
            name="from", description="Events recorded at or after this time.")] = None,
        to: Annotated[datetime | None, strawberry.argument(
            description="Events recorded before this time.")] = None,
        first: int | None = None, after: str | None = None) -> AccessHistory:
    """Batched across the list the civil servant is in: every object asks the same window's
    loader, which fetches once per tick. Keyed by the real personal ID, never a masked one."""
    window, size = history_window(info.context.limits, from_, to, first, after)
    rows: list[Row] = await info.context.loaders.access_history(window).load(
        root["personal_id"])
    return cast("AccessHistory", history_page(rows, size))
