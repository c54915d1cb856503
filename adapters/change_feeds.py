"""Reading what an agency HR system changed since a watermark, in the hub's canonical fields.

Every kind of agency system (REST change feed, GraphQL, a database read directly, a file drop)
answers the same question: the records changed after this point, a page at a time, and the
point to continue from. The watermark is the adapter's own (a vendor cursor, a timestamp, a
file name): the hub stores it as given and hands it back, never reads it.

A page's records carry the canonical fields of ``AGENCY_RECORD_COLUMNS`` plus
``FEED_EXTRA_COLUMNS``; a record may be seen again after a restart (the feed resumes from the
last page kept), so its consumer must be idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import httpx
import orjson

from adapters.agency_systems import AGENCY_RECORD_COLUMNS
from adapters.batch_lookup import records_or_fail
from adapters.errors import SourceUnavailable
from adapters.http_json import call_json
from adapters.record_mapping import RecordMapping
from adapters.resilience import Guard

__all__ = ["FEED_COLUMNS", "FEED_EXTRA_COLUMNS", "SETTLE", "ChangeFeed", "ChangePage",
           "GraphQLChangeFeed", "GraphQLFeedConfig", "RestChangeFeed", "RestFeedConfig"]

# Beyond the lookup's columns: the hire date (a new hire's registration needs it) and the
# system's discipline decisions (a list of records, each with decision_number, decided_on,
# form_code, issuer, reason, effective_from, effective_to).
FEED_EXTRA_COLUMNS = ("hired_on", "disciplines")
FEED_COLUMNS = tuple(dict.fromkeys((*AGENCY_RECORD_COLUMNS, *FEED_EXTRA_COLUMNS)))


@dataclass(frozen=True, slots=True)
class ChangePage:
    records: list[dict[str, Any]]
    # Where the next page starts; handing it back continues strictly after this page (or,
    # at worst, repeats some of its records). Never None once a page has been read.
    watermark: str | None
    # Whether more changes are waiting now (another page follows at once).
    more: bool
    # What the system sent but could not be read as a record (a malformed row of an export):
    # each a mapping with at least "reasons" (texts) and where it was ("row", "source").
    rejected: tuple[Mapping[str, Any], ...] = ()


@runtime_checkable
class ChangeFeed(Protocol):
    name: str

    async def changes(self, watermark: str | None, limit: int) -> ChangePage:
        """Records changed after ``watermark`` (None: from the beginning), at most ``limit``;
        raises ``SourceUnavailable`` (or ``SourceTimeout``) when the system cannot answer,
        and ``ValueError`` when ``watermark`` is not one this feed issued."""
        ...


# ------------------------------------------------------------------------ watermarks

_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_WATERMARK_CHARS = 2_048


def _watermark(since: datetime, cursor: str | None) -> str:
    return orjson.dumps({"since": since.isoformat(), "cursor": cursor}).decode("ascii")


def _read_watermark(watermark: str | None) -> tuple[datetime, str | None]:
    """(since, vendor cursor) of a watermark this module issued; ValueError otherwise."""
    if watermark is None:
        return _BEGINNING, None
    if len(watermark) > _MAX_WATERMARK_CHARS:
        raise ValueError("not a watermark of this feed: too long")
    try:
        raw = orjson.loads(watermark)
        since = datetime.fromisoformat(raw["since"])
        cursor = raw["cursor"]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ValueError("not a watermark of this feed") from None
    if since.tzinfo is None or not (cursor is None or isinstance(cursor, str)):
        raise ValueError("not a watermark of this feed")
    return since, cursor


# How far back a caught-up feed starts again: a vendor row committed late may carry a time
# earlier than rows already read (a transaction's start); its consumer finds nothing new in the
# rows it sees twice.
SETTLE = timedelta(seconds=5)


def _caught_up(records: Sequence[Mapping[str, Any]], since: datetime) -> str:
    """The watermark after the last page: from the latest change seen, less ``SETTLE``
    (times without an offset, which cannot be ordered, are left out)."""
    stamps: list[datetime] = [r["updated_at"] for r in records
                              if isinstance(r.get("updated_at"), datetime)
                              and r["updated_at"].tzinfo is not None]
    latest = max(stamps, default=None)
    if latest is None or latest - SETTLE <= since:
        return _watermark(since, None)
    return _watermark(latest - SETTLE, None)


def _page_size(limit: int, largest: int) -> int:
    if limit < 1:
        raise ValueError(f"a page holds at least one record, not {limit}")
    return min(limit, largest)


# ------------------------------------------------------------------------ REST

@dataclass(frozen=True, slots=True)
class RestFeedConfig:
    """A REST change feed: GET ``path`` with the time to start from, the vendor's cursor
    (continuing strictly after its last row) and a page size; the answer holds the records
    under ``records_field`` and, when more follow, the next cursor under ``next_field``."""

    path: str
    since_param: str
    cursor_param: str
    limit_param: str
    records_field: str
    next_field: str
    max_page: int = 1000


class RestChangeFeed:
    def __init__(self, client: httpx.AsyncClient, name: str, base_url: str,
                 headers: Mapping[str, str], mapping: RecordMapping, guard: Guard,
                 timeout_seconds: float, config: RestFeedConfig) -> None:
        self.name = name
        self._client = client
        self._url = base_url + config.path
        self._headers = dict(headers)
        self._read = mapping.reader(FEED_COLUMNS)
        self._guard = guard
        self._timeout = timeout_seconds
        self._config = config

    async def changes(self, watermark: str | None, limit: int) -> ChangePage:
        since, cursor = _read_watermark(watermark)
        config = self._config
        params = {config.limit_param: str(_page_size(limit, config.max_page))}
        if cursor is None:
            params[config.since_param] = since.isoformat()
        else:
            params[config.cursor_param] = cursor

        async def once(seconds: float) -> Any:
            return await call_json(self._client, self.name, "GET", self._url,
                                   headers=self._headers, params=params, timeout=seconds,
                                   max_bytes=self._guard.settings.max_response_bytes)

        answer = await self._guard.run(once, timeout=self._timeout, idempotent=True,
                                       operation="changes")
        if not isinstance(answer, dict):
            raise SourceUnavailable(self.name, "answered its change feed in an unexpected shape")
        records = [self._read(r) for r in records_or_fail(self.name,
                                                          answer.get(config.records_field))]
        following = answer.get(config.next_field)
        if following is not None and not isinstance(following, str):
            raise SourceUnavailable(self.name, "answered a cursor that is not a string")
        if following:
            return ChangePage(records, _watermark(since, following), True)
        # Caught up: next time, start again just before the latest change seen.
        return ChangePage(records, _caught_up(records, since), False)


# ------------------------------------------------------------------------ GraphQL

@dataclass(frozen=True, slots=True)
class GraphQLFeedConfig:
    """A GraphQL change feed: a root field taking the time to start from, a page size and a
    cursor, answering a page with its records, its last record's cursor and whether more
    follow."""

    field: str
    since_argument: str = "since"
    first_argument: str = "first"
    after_argument: str = "after"
    nodes_field: str = "nodes"
    cursor_field: str = "endCursor"
    more_field: str = "hasMore"
    since_type: str = "DateTime!"
    max_page: int = 1000

    def __post_init__(self) -> None:
        names = (self.field, self.since_argument, self.first_argument, self.after_argument,
                 self.nodes_field, self.cursor_field, self.more_field)
        if not all(name.isidentifier() for name in names):
            raise ValueError(f"GraphQL feed {self.field!r}: every name must be a GraphQL name")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*!?", self.since_type):
            raise ValueError(f"GraphQL feed {self.field!r}: {self.since_type!r} is not a type")


class GraphQLChangeFeed:
    def __init__(self, client: httpx.AsyncClient, name: str, endpoint: str,
                 headers: Mapping[str, str], mapping: RecordMapping, guard: Guard,
                 timeout_seconds: float, config: GraphQLFeedConfig, selection: str) -> None:
        """``selection``: the GraphQL selection of one record's vendor fields."""
        self.name = name
        self._client = client
        self._endpoint = endpoint
        self._headers = dict(headers)
        self._read = mapping.reader(FEED_COLUMNS)
        self._guard = guard
        self._timeout = timeout_seconds
        self._config = config
        c = config
        self._document = (
            f"query HubChanges($since: {c.since_type}, $first: Int, $after: String) "
            f"{{ {c.field}({c.since_argument}: $since, {c.first_argument}: $first, "
            f"{c.after_argument}: $after) {{ {c.nodes_field} {{ {selection} }} "
            f"{c.cursor_field} {c.more_field} }} }}")

    async def changes(self, watermark: str | None, limit: int) -> ChangePage:
        since, cursor = _read_watermark(watermark)
        config = self._config
        variables = {"since": since.isoformat(), "after": cursor,
                     "first": _page_size(limit, config.max_page)}

        async def once(seconds: float) -> Any:
            return await call_json(self._client, self.name, "POST", self._endpoint,
                                   body={"query": self._document, "variables": variables},
                                   headers=self._headers, timeout=seconds,
                                   max_bytes=self._guard.settings.max_response_bytes)

        answer = await self._guard.run(once, timeout=self._timeout, idempotent=True,
                                       operation="changes")
        data = answer.get("data") if isinstance(answer, dict) else None
        page = data.get(config.field) if isinstance(data, dict) else None
        if not isinstance(page, dict) or answer.get("errors"):
            raise SourceUnavailable(self.name, "answered its change feed with GraphQL errors")
        records = [self._read(r) for r in records_or_fail(self.name,
                                                          page.get(config.nodes_field))]
        following = page.get(config.cursor_field)
        more = page.get(config.more_field)
        if not (following is None or isinstance(following, str)) or not isinstance(more, bool):
            raise SourceUnavailable(self.name, "answered its change feed in an unexpected shape")
        if more:
            # The cursor continues strictly after the last record.
            return ChangePage(records, _watermark(since, following or cursor), True)
        return ChangePage(records, _caught_up(records, since), False)
