"""Root query fields."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, cast

import strawberry

from adapters import Condition, RowFilter, eq, one_of, prefix
from resolvers.access_history import history_page, history_window
from resolvers.errors import BadUserInput, NotFound
from resolvers.history import inbox_page, inbox_window, shape_submission
from resolvers.info import Info, Row
from resolvers.pagination import check_page_size, decode_cursor, make_page
from resolvers.quality import data_quality
from resolvers.scalars import PersonalId
from resolvers.sync_conflicts import conflict_page
from resolvers.types.access_history import AccessHistory
from resolvers.types.agency import Agency
from resolvers.types.appointment import AppointmentCheck, check_by_personal_id
from resolvers.types.civil_servant import CivilServant
from resolvers.types.code_lists import LegacyProvince, Province, Rank
from resolvers.types.connection import CivilServantConnection
from resolvers.types.enums import AgencyKind, Category, ServiceStatus
from resolvers.types.inbox import SubmissionPage
from resolvers.types.person import Person
from resolvers.types.quality import DataQuality
from resolvers.types.submission import SubmissionStatus
from resolvers.types.sync_conflict import SyncConflictPage, SyncConflictStatus

__all__ = ["REVEALED_WHERE_SHOWN", "REVEALS", "Query"]

AGENCY_CODE = re.compile(r"\d{3}\.\d{2}\.\d{2}\.[GH]\d{2}")
EMPLOYEE_CODE = re.compile(r"[A-Z0-9]{1,32}")
MAX_NAME_PREFIX = 100


def _check_agency_code(code: str, argument: str) -> str:
    if not AGENCY_CODE.fullmatch(code):
        raise BadUserInput(f"`{argument}` is not an agency code (000.SS.MM.X, X = Gnn or Hpp)",
                           argument=argument)
    return code


# What a filter input or a structural field lets a client learn: (type, field) -> the fields
# whose values it reveals. A client's schema keeps it only if every one of them is granted
# unmasked; otherwise filtering would be an oracle for a field the client may not read (a name
# prefix filter answers "is there a Nguyễn Văn A?"), and a cursor would carry an employee code.
REVEALS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("CivilServantFilter", "agencyCode"): (("CivilServant", "agencyCode"),),
    ("CivilServantFilter", "provinceCode"): (("CivilServant", "agency"),
                                             ("Agency", "provinceCode")),
    ("CivilServantFilter", "rankCode"): (("CivilServant", "rank"),),
    ("CivilServantFilter", "category"): (("CivilServant", "category"),),
    ("CivilServantFilter", "status"): (("CivilServant", "status"),),
    ("CivilServantFilter", "namePrefix"): (("CivilServant", "fullName"),),
    ("AgencyFilter", "provinceCode"): (("Agency", "provinceCode"),),
    ("AgencyFilter", "kind"): (("Agency", "kind"),),
    ("AgencyFilter", "parentCode"): (("Agency", "parentCode"),),
    ("CivilServantEdge", "cursor"): (("CivilServant", "employeeCode"),),
    ("PageInfo", "endCursor"): (("CivilServant", "employeeCode"),),
    # arguments, as ("Type.field", argument): a forged `after` would bisect employee codes
    ("Query.civilServants", "after"): (("CivilServant", "employeeCode"),),
    ("Agency.employees", "after"): (("CivilServant", "employeeCode"),),
    # a lookup by a key answers "does this key exist?": trying candidates would recover a key
    # the client sees masked (the six digits a `last4` hides) or not at all
    ("Query.civilServant", "employeeCode"): (("CivilServant", "employeeCode"),),
    ("Query.civilServantByPersonalId", "personalId"): (("CivilServant", "personalId"),),
    ("Query.person", "personalId"): (("Person", "personalId"),),
    ("Query.appointmentCheck", "personalId"): (("CivilServant", "personalId"),),
    ("Query.agency", "code"): (("Agency", "code"),),
    ("Query.dataQuality", "agencyCode"): (("DataQuality", "agencyCode"),),
    ("Query.syncConflicts", "agencyCode"): (("SyncConflict", "agencyCode"),),
    # whether anyone read a person's data answers "is this ID in the log?"
    ("Query.accessHistory", "personalId"): (("CivilServant", "personalId"),
                                            ("Person", "personalId"),
                                            ("AgencyRecord", "personalId")),
}

# Entries of REVEALS that hold where the client can see the fields at all, rather than needing
# them granted: a citizen portal looks people up by an ID it holds no field of (the citizen
# types it in), which recovers nothing a mask hides. A client that sees personal IDs masked
# anywhere still may not (it would try candidates for the hidden digits).
REVEALED_WHERE_SHOWN: frozenset[tuple[str, str]] = frozenset({
    ("Query.accessHistory", "personalId"),
})


@strawberry.input(description="Conditions a civil servant must meet; all given ones apply.")
class CivilServantFilter:
    agency_code: str | None = None
    province_code: str | None = strawberry.field(
        default=None, description="Agencies located in this province (2-digit code).")
    rank_code: str | None = None
    category: Category | None = None
    status: ServiceStatus | None = None
    name_prefix: str | None = strawberry.field(
        default=None, description="Full name starts with this (exact, with diacritics).")


@strawberry.input
class AgencyFilter:
    province_code: str | None = None
    kind: AgencyKind | None = None
    parent_code: str | None = None


async def _employee_filter(info: Info, where: CivilServantFilter | None) -> RowFilter:
    if where is None:
        return ()
    context = info.context
    conditions: list[Condition] = []
    if where.agency_code is not None:
        code = _check_agency_code(where.agency_code, "filter.agencyCode")
        if await context.loaders.agency.load(code) is None:
            raise BadUserInput(f"unknown agency {code}", argument="filter.agencyCode")
        conditions.append(eq("agency_code", code))
    if where.province_code is not None:
        if where.province_code not in context.code_lists.provinces:
            raise BadUserInput(f"unknown province code {where.province_code!r}",
                               argument="filter.provinceCode")
        agencies = await context.sources.national.fetch_all(
            "agency", ("code",), (eq("province_code", where.province_code),), order_by="code")
        conditions.append(one_of("agency_code", [a["code"] for a in agencies]))
    if where.rank_code is not None:
        if where.rank_code not in context.code_lists.ranks:
            raise BadUserInput(f"unknown rank code {where.rank_code!r}",
                               argument="filter.rankCode")
        conditions.append(eq("rank_code", where.rank_code))
    if where.category is not None:
        conditions.append(eq("category", where.category.value))
    if where.status is not None:
        conditions.append(eq("status", where.status.value))
    if where.name_prefix is not None:
        if not 1 <= len(where.name_prefix) <= MAX_NAME_PREFIX or "\x00" in where.name_prefix:
            raise BadUserInput(f"`filter.namePrefix` must be 1 to {MAX_NAME_PREFIX} characters"
                               " of text", argument="filter.namePrefix")
        conditions.append(prefix("full_name", where.name_prefix))
    return tuple(conditions)


@strawberry.type
class Query:
    @strawberry.field(description="A civil servant by employee code.")
    async def civil_servant(self, info: Info, employee_code: str) -> CivilServant | None:
        if not EMPLOYEE_CODE.fullmatch(employee_code):
            raise BadUserInput("`employeeCode` is 1 to 32 capital letters and digits",
                               argument="employeeCode")
        row: Row | None = await info.context.loaders.employee.load(employee_code)
        if row is None:
            raise NotFound(f"no civil servant with employee code {employee_code}")
        return cast("CivilServant", row)

    @strawberry.field(description="A civil servant by personal identification number.")
    async def civil_servant_by_personal_id(self, info: Info,
                                           personal_id: PersonalId) -> CivilServant | None:
        row: Row | None = await info.context.loaders.employee_by_personal_id.load(personal_id)
        if row is None:
            raise NotFound("no civil servant with this personal ID")
        return cast("CivilServant", row)

    @strawberry.field(description="Civil servants matching a filter, a page at a time, ordered "
                                  "by employee code.")
    async def civil_servants(self, info: Info, filter: CivilServantFilter | None = None,
                             first: int | None = None,
                             after: str | None = None) -> CivilServantConnection:
        context = info.context
        size = check_page_size(first, context.limits)
        cursor = decode_cursor(after)
        row_filter = (*await _employee_filter(info, filter),
                      *context.loaders.row_filter("employee"))
        national = context.sources.national
        rows = await national.fetch_page("employee", context.loaders.columns("employee"),
                                         row_filter, order_by="employee_code", after=cursor,
                                         limit=size + 1)
        finish = context.loaders.finish("employee")
        rows = [finish(r) for r in rows]

        async def count() -> int:
            return await national.count("employee", row_filter)

        return cast("CivilServantConnection", make_page(rows, size, "employee_code", count))

    @strawberry.field(description="Who read this person's data through the hub, when, for what "
                                  "purpose and which fields, newest first. Null when the "
                                  "person is outside the rows the caller may read.")
    async def access_history(
            self, info: Info, personal_id: PersonalId,
            from_: Annotated[datetime | None, strawberry.argument(
                name="from", description="Events recorded at or after this time.")] = None,
            to: Annotated[datetime | None, strawberry.argument(
                description="Events recorded before this time.")] = None,
            first: int | None = None, after: str | None = None) -> AccessHistory | None:
        context = info.context
        window, size = history_window(context.limits, from_, to, first, after)
        if context.loaders.row_filter("employee") and await (
                context.loaders.employee_by_personal_id.load(personal_id)) is None:
            return None  # a client held to some civil servants sees only theirs
        rows: list[Row] = await context.loaders.access_history(window).load(personal_id)
        return cast("AccessHistory", history_page(rows, size))

    @strawberry.field(description="The caller's own submissions (never another client's), "
                                  "newest first: accepted ones with the version they made, "
                                  "rejected ones with their reasons, to correct and resubmit.")
    async def submissions(
            self, info: Info, status: SubmissionStatus | None = None,
            from_: Annotated[datetime | None, strawberry.argument(
                name="from", description="Submissions received at or after this time.")
            ] = None,
            to: Annotated[datetime | None, strawberry.argument(
                description="Submissions received before this time.")] = None,
            first: int | None = None, after: str | None = None) -> SubmissionPage:
        context = info.context
        window, size = inbox_window(context.limits, None if status is None else status.value,
                                    from_, to, first, after)
        rows = await context.sources.submission_reads.inbox(
            context.caller.client_id, window, context.loaders.row_filter("submission"))
        finish = context.loaders.finish("submission")
        return cast("SubmissionPage", inbox_page([finish(shape_submission(r)) for r in rows],
                                                 size))

    @strawberry.field(description="Differences between agency HR systems and the national "
                                  "database that synchronisation queued for review, newest "
                                  "first, with both versions side by side.")
    async def sync_conflicts(
            self, info: Info,
            agency_code: Annotated[str | None, strawberry.argument(
                description="Only conflicts about employees of this agency.")] = None,
            status: SyncConflictStatus | None = SyncConflictStatus.OPEN,
            first: int | None = None, after: str | None = None) -> SyncConflictPage:
        if agency_code is not None:
            _check_agency_code(agency_code, "agencyCode")
        return await conflict_page(info.context, agency_code, status, first, after)

    @strawberry.field(description="Data-quality measures of an agency, or of a reporting "
                                  "authority's agencies rolled up (agencyCode G02, H01), per "
                                  "dimension and source, over a window of time (`hub quality "
                                  "measure` takes them).")
    async def data_quality(
            self, info: Info, agency_code: str,
            from_: Annotated[datetime | None, strawberry.argument(
                name="from", description="Measures taken at or after this time.")] = None,
            to: Annotated[datetime | None, strawberry.argument(
                description="Measures taken before this time.")] = None) -> DataQuality:
        return cast("DataQuality", await data_quality(info, agency_code, from_, to))

    @strawberry.field(description="Whether discipline bars appointing a person on a day "
                                  "(today when `asOf` is not given): every decision the "
                                  "national database and the agency HR systems hold, pending "
                                  "cases, recent evaluations, what bars it and until when, "
                                  "where the sources disagree, and which sources answered. "
                                  "Never CLEAR when a source that may hold a decision could "
                                  "not be read.")
    async def appointment_check(
            self, info: Info, personal_id: PersonalId,
            as_of: Annotated[date | None, strawberry.argument(
                description="The day of the appointment; today when not given.")] = None
            ) -> AppointmentCheck | None:
        return await check_by_personal_id(info, personal_id, as_of)

    @strawberry.field(description="A person in the National Population Database.")
    async def person(self, info: Info, personal_id: PersonalId) -> Person | None:
        row: Row | None = await info.context.loaders.citizen.load(personal_id)
        if row is None:
            raise NotFound("no person with this personal ID in the population registry")
        return cast("Person", row)

    @strawberry.field(description="An agency by code.")
    async def agency(self, info: Info, code: str) -> Agency | None:
        row: Row | None = await info.context.loaders.agency.load(
            _check_agency_code(code, "code"))
        if row is None:
            raise NotFound(f"no agency with code {code}")
        return cast("Agency", row)

    @strawberry.field(description="The agency directory, by code.")
    async def agencies(self, info: Info,
                       filter: AgencyFilter | None = None) -> list[Agency]:
        conditions: list[Condition] = []
        if filter is not None:
            if filter.province_code is not None:
                if filter.province_code not in info.context.code_lists.provinces:
                    raise BadUserInput(f"unknown province code {filter.province_code!r}",
                                       argument="filter.provinceCode")
                conditions.append(eq("province_code", filter.province_code))
            if filter.kind is not None:
                conditions.append(eq("kind", filter.kind.value))
            if filter.parent_code is not None:
                conditions.append(eq("parent_code", _check_agency_code(
                    filter.parent_code, "filter.parentCode")))
        loaders = info.context.loaders
        rows = await info.context.sources.national.fetch_all(
            "agency", loaders.columns("agency"),
            (*conditions, *loaders.row_filter("agency")), order_by="code")
        finish = loaders.finish("agency")
        shaped = [finish(r) for r in rows]
        if set(loaders.columns("agency")) <= set(shaped[0] if shaped else ()):
            loaders.remember(loaders.agency, shaped, "code")  # only complete rows
        return cast("list[Agency]", shaped)

    @strawberry.field(description="Province-level units in force since 1 July 2025.")
    def provinces(self, info: Info) -> list[Province]:
        return cast("list[Province]", list(info.context.code_lists.provinces.values()))

    @strawberry.field(description="Province-level units before 1 July 2025 with their "
                                  "successors: the crosswalk for older records.")
    def legacy_provinces(self, info: Info) -> list[LegacyProvince]:
        return cast("list[LegacyProvince]",
                    list(info.context.code_lists.legacy_provinces.values()))

    @strawberry.field(description="Ranks and professional titles with their salary ladders.")
    def ranks(self, info: Info) -> list[Rank]:
        return cast("list[Rank]", list(info.context.code_lists.ranks.values()))


