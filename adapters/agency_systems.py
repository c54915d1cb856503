"""Agency HR systems: each ministry's or province's own system, reached its own way.

Every adapter answers the same question — the system's own records of these people, in the
hub's canonical fields — and the registry routes each agency code to the system that serves it
(by glob patterns over agency codes, from configuration).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from adapters.batch_lookup import fetch_in_batches, records_or_fail
from adapters.errors import SourceUnavailable
from adapters.filters import RowFilter
from adapters.http_json import call_json
from adapters.record_mapping import RecordMapping
from adapters.resilience import Guard, Resilience

__all__ = ["AGENCY_RECORD_COLUMNS", "AgencySystem", "AgencySystemRegistry",
           "GraphQLAgencySystem", "GraphQLAgencySystemConfig", "RestAgencySystem",
           "RestAgencySystemConfig"]

# ``disciplines``: the system's discipline decisions of the person, a list of records with
# decision_number, decided_on, form_code (national), issuer, reason, effective_from and
# effective_to; None when the system does not say.
AGENCY_RECORD_COLUMNS = (
    "personal_id", "local_id", "full_name", "birth_date", "sex", "agency_code", "unit_name",
    "position_code", "rank_code", "salary_step", "salary_coefficient", "pending_discipline",
    "address", "hired_on", "disciplines", "updated_at",
)


class AgencySystem(Protocol):
    name: str
    serves: tuple[str, ...]

    async def fetch_many(self, keys: Sequence[str], columns: Sequence[str],
                         row_filter: RowFilter = ()) -> list[dict[str, Any]]: ...

    async def ping(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RestAgencySystemConfig:
    name: str
    serves: tuple[str, ...]
    base_url: str
    lookup_path: str
    ids_field: str
    records_field: str
    mapping: RecordMapping
    headers: dict[str, str]
    health_path: str = "/healthz"
    timeout_seconds: float = 2.0
    max_batch: int = 500
    resilience: Resilience = field(default_factory=Resilience)


class RestAgencySystem:
    """A REST/JSON HR system with a batch lookup endpoint (POST a list of personal IDs)."""

    def __init__(self, client: httpx.AsyncClient, config: RestAgencySystemConfig) -> None:
        self._client = client
        self._config = config
        self.name = config.name
        self.serves = config.serves
        self.guard = Guard(config.name, config.resilience)

    async def fetch_many(self, keys: Sequence[str], columns: Sequence[str],
                         row_filter: RowFilter = ()) -> list[dict[str, Any]]:
        return await fetch_in_batches(self._lookup, self._config.mapping,
                                      self._config.max_batch, keys, columns, row_filter)

    async def _lookup(self, ids: Sequence[str], wanted: tuple[str, ...]
                      ) -> list[dict[str, Any]]:
        async def once(seconds: float) -> list[dict[str, Any]]:
            answer = await call_json(
                self._client, self.name, "POST",
                self._config.base_url + self._config.lookup_path,
                body={self._config.ids_field: list(ids)}, headers=self._config.headers,
                timeout=seconds,
                max_bytes=self.guard.settings.max_response_bytes)
            records = (answer.get(self._config.records_field) if isinstance(answer, dict)
                       else None)
            return records_or_fail(self.name, records)

        return await self.guard.run(once, timeout=self._config.timeout_seconds,
                                    idempotent=True, operation="lookup", batch=len(ids))

    async def ping(self) -> None:
        self.guard.raise_if_open()
        await call_json(self._client, self.name, "GET",
                        self._config.base_url + self._config.health_path,
                        timeout=self._config.timeout_seconds)


@dataclass(frozen=True, slots=True)
class GraphQLAgencySystemConfig:
    name: str
    serves: tuple[str, ...]
    endpoint: str
    lookup_field: str
    ids_argument: str
    mapping: RecordMapping
    headers: dict[str, str]
    health_url: str | None = None
    timeout_seconds: float = 2.0
    max_batch: int = 500
    resilience: Resilience = field(default_factory=Resilience)
    ids_type: str = "[String!]!"  # the GraphQL type of the vendor's ids argument


_LIST_TYPE = re.compile(r"\[[A-Za-z_][A-Za-z0-9_]*!?\]!?")


def _selection(paths: Sequence[str]) -> str:
    """GraphQL selection text for dotted vendor paths: a.b, a.c, d -> 'a { b c } d'."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})

    def render(node: dict[str, Any]) -> str:
        return " ".join(f"{k} {{ {render(v)} }}" if v else k for k, v in node.items())

    return render(tree)


class GraphQLAgencySystem:
    """An HR system that speaks GraphQL: one request per batch, selecting only what is asked."""

    def __init__(self, client: httpx.AsyncClient, config: GraphQLAgencySystemConfig) -> None:
        self._client = client
        self._config = config
        self.name = config.name
        self.serves = config.serves
        self.guard = Guard(config.name, config.resilience)
        self._documents: dict[tuple[str, ...], str] = {}
        mapping = config.mapping
        for name in (config.lookup_field, config.ids_argument,
                     *mapping.vendor_paths([*mapping.fields, *mapping.lists])):
            if not all(part.isidentifier() for part in name.split(".")):
                raise ValueError(f"{config.name}: {name!r} is not a GraphQL name")
        if not _LIST_TYPE.fullmatch(config.ids_type):
            raise ValueError(f"{config.name}: {config.ids_type!r} is not a list type")

    def _document(self, columns: tuple[str, ...]) -> str:
        """The lookup query selecting the vendor fields behind ``columns`` (built once per
        column list: the same text every time also lets the vendor cache its parse)."""
        document = self._documents.get(columns)
        if document is None:
            paths = self._config.mapping.vendor_paths(columns)
            document = self._documents[columns] = (
                f"query HubLookup($ids: {self._config.ids_type}) {{ {self._config.lookup_field}"
                f"({self._config.ids_argument}: $ids) {{ {_selection(paths)} }} }}")
        return document

    async def fetch_many(self, keys: Sequence[str], columns: Sequence[str],
                         row_filter: RowFilter = ()) -> list[dict[str, Any]]:
        return await fetch_in_batches(self._lookup, self._config.mapping,
                                      self._config.max_batch, keys, columns, row_filter)

    async def _lookup(self, ids: Sequence[str], wanted: tuple[str, ...]
                      ) -> list[dict[str, Any]]:
        document = self._document(wanted)

        async def once(seconds: float) -> list[dict[str, Any]]:
            answer = await call_json(
                self._client, self.name, "POST", self._config.endpoint,
                body={"query": document, "variables": {"ids": list(ids)}},
                headers=self._config.headers, timeout=seconds,
                max_bytes=self.guard.settings.max_response_bytes)
            if not isinstance(answer, dict) or answer.get("errors"):
                raise SourceUnavailable(self.name, "answered with GraphQL errors")
            data = answer.get("data")
            records = data.get(self._config.lookup_field) if isinstance(data, dict) else None
            return records_or_fail(self.name, records)

        return await self.guard.run(once, timeout=self._config.timeout_seconds,
                                    idempotent=True, operation="lookup", batch=len(ids))

    async def ping(self) -> None:
        self.guard.raise_if_open()
        url = self._config.health_url
        if url is None:
            await call_json(self._client, self.name, "POST", self._config.endpoint,
                            body={"query": "{ __typename }"}, headers=self._config.headers,
                            timeout=self._config.timeout_seconds)
        else:
            await call_json(self._client, self.name, "GET", url,
                            timeout=self._config.timeout_seconds)


class AgencySystemRegistry:
    """Which system serves which agency codes. First matching system wins."""

    def __init__(self, systems: Sequence[AgencySystem]) -> None:
        self.systems = tuple(systems)
        self._cache: dict[str, AgencySystem | None] = {}

    def system_for(self, agency_code: str) -> AgencySystem | None:
        try:
            return self._cache[agency_code]
        except KeyError:
            found = next((s for s in self.systems
                          if any(fnmatch.fnmatchcase(agency_code, p) for p in s.serves)), None)
            if len(self._cache) < 100_000:
                self._cache[agency_code] = found
            return found
