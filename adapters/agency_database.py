"""An agency HR system whose PostgreSQL database the hub reads directly (``kind: database``).

The hub is a guest in the vendor's database: its sessions are read-only
(``default_transaction_read_only``), every statement is bounded by the source's time budget
(``statement_timeout``, and the same budget client-side), and it reads one table of
employees and, optionally, a child table of discipline decisions. Table and column names come
from configuration: each must be a plain identifier, must exist in the database's catalogue
(checked on first use, so a misnamed column is reported as this source failing, not as SQL
reaching a client), and is quoted; every value is a parameter. Lookups are batched with
``= ANY($1)`` and select only the columns asked for; the change feed walks the table in
``(modified, key)`` order by keyset.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from adapters.call_log import record_call
from adapters.change_feeds import FEED_COLUMNS, ChangePage
from adapters.errors import SourceTimeout, SourceUnavailable
from adapters.filters import Condition, RowFilter
from adapters.observe import observe
from adapters.pg_pool import reset_unobserved
from adapters.record_mapping import RecordMapping
from adapters.stored_records import (
    DISCIPLINE_COLUMNS,
    check_identifier,
    map_disciplines,
    plain_value,
)

__all__ = ["DatabaseAgencySystem", "DatabaseAgencySystemConfig", "DisciplineTable"]

log = logging.getLogger(__name__)

_CONNECTION_ERRORS: Final = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
                             asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)
_TEXT_TYPES: Final = frozenset({"text", "character varying", "character"})
_INTEGER_TYPES: Final = frozenset({"smallint", "integer", "bigint"})
# Column aliases of the hub's own bookkeeping in a result (never configuration text).
_KEY: Final = "__hub_key"
_MODIFIED: Final = "__hub_modified"
_PARENT: Final = "__hub_parent"
_WATERMARK_PREFIX: Final = "db1:"


@dataclass(frozen=True, slots=True)
class DisciplineTable:
    """Discipline decisions kept in a child table, one row per decision."""

    table: str
    parent_column: str  # the child's column holding the employee row's key column
    mapping: RecordMapping  # canonical decision field (DISCIPLINE_COLUMNS) -> child column


@dataclass(frozen=True, slots=True)
class DatabaseAgencySystemConfig:
    name: str
    serves: tuple[str, ...]
    dsn: str
    table: str
    key_column: str  # the row's own unique id: orders rows changed at the same moment
    modified_column: str  # when the row (or its decisions) last changed
    mapping: RecordMapping  # canonical -> column of ``table``
    schema: str = "public"
    disciplines: DisciplineTable | None = None
    timeout_seconds: float = 2.0
    max_batch: int = 1000
    pool_max: int = 4
    # Rows changed less than this long ago are left for the next read: a transaction still
    # open in the vendor's application may commit a row with an earlier timestamp, which a
    # reader that went past that timestamp would never see.
    settle_seconds: float = 5.0

    def __post_init__(self) -> None:
        name = self.name
        for what, identifier in (("schema", self.schema), ("table", self.table),
                                 ("key column", self.key_column),
                                 ("modified column", self.modified_column),
                                 *(("column", c) for c in self.mapping.fields.values())):
            check_identifier(name, what, identifier)
        if "personal_id" not in self.mapping.fields:
            raise ValueError(f"{name}: fields must map personal_id (the lookup key)")
        if "disciplines" in self.mapping.fields:
            raise ValueError(f"{name}: disciplines come from a child table (disciplines:)")
        if self.disciplines is not None:
            child = self.disciplines
            check_identifier(name, "discipline table", child.table)
            check_identifier(name, "discipline parent column", child.parent_column)
            for column in child.mapping.fields.values():
                check_identifier(name, "discipline column", column)
            unknown = set(child.mapping.fields) - set(DISCIPLINE_COLUMNS)
            if unknown:
                raise ValueError(f"{name}: unknown discipline fields {sorted(unknown)}")
        if not (self.timeout_seconds > 0 and self.max_batch >= 1 and self.pool_max >= 1
                and self.settle_seconds >= 0):
            raise ValueError(f"{name}: timeout_seconds, max_batch and pool_max must be "
                             "positive, settle_seconds not negative")


def _quoted(*parts: str) -> str:
    # Parts are checked identifiers (no quote can occur in them).
    return ".".join(f'"{part}"' for part in parts)


class DatabaseAgencySystem:
    """Lookups and a change feed over the vendor's tables, through a small pool of its own."""

    def __init__(self, pool: asyncpg.Pool, config: DatabaseAgencySystemConfig) -> None:
        self._pool = pool
        self._config = config
        self.name = config.name
        self.serves = config.serves
        # table -> column -> data type, once the configured names are found in the catalogue
        self._catalogue: dict[str, dict[str, str]] | None = None
        self._catalogue_lock = asyncio.Lock()

    @classmethod
    async def open(cls, config: DatabaseAgencySystemConfig) -> DatabaseAgencySystem:
        """A pool that connects on first use: the hub starts even while this system is down
        (its fields are then null, naming it)."""
        budget_ms = max(1, round(config.timeout_seconds * 1000))
        pool = await asyncpg.create_pool(
            config.dsn, min_size=0, max_size=config.pool_max,
            command_timeout=config.timeout_seconds,
            server_settings={"default_transaction_read_only": "on",
                             "statement_timeout": str(budget_ms),
                             "idle_in_transaction_session_timeout": str(budget_ms * 10),
                             "application_name": f"hub:{config.name}"[:63]},
            reset=reset_unobserved)
        return cls(pool, config)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._pool.close(), timeout=5)
        except TimeoutError:
            self._pool.terminate()

    # -- reading -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection in a read-only repeatable-read transaction (an employee's row and its
        decisions are read as of one moment), every failure reported as this source's."""
        record_call(self.name)
        try:
            async with asyncio.timeout(self._config.timeout_seconds):
                async with self._pool.acquire() as connection, connection.transaction(
                        isolation="repeatable_read", readonly=True):
                    yield connection
        except (TimeoutError, asyncpg.QueryCanceledError) as exc:
            raise SourceTimeout(self.name, "the HR database did not answer in time") from exc
        except _CONNECTION_ERRORS as exc:
            raise SourceUnavailable(self.name, "the HR database is unreachable") from exc
        except asyncpg.PostgresError as exc:
            # Logged in full for operators; a client only learns that the source failed.
            log.error("%s: query failed: %s", self.name, exc)
            raise SourceUnavailable(self.name, "the HR database failed to answer") from exc

    async def _types(self, connection: asyncpg.Connection) -> dict[str, dict[str, str]]:
        """The configured tables' column types, after checking every configured name."""
        if self._catalogue is not None:
            return self._catalogue
        async with self._catalogue_lock:
            if self._catalogue is None:
                config = self._config
                tables = [config.table]
                if config.disciplines is not None:
                    tables.append(config.disciplines.table)
                rows = await connection.fetch(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = $1 AND table_name = ANY($2::text[])",
                    config.schema, tables)
                found: dict[str, dict[str, str]] = {}
                for row in rows:
                    found.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
                problems = self._problems(found)
                if problems:
                    log.error("%s: misconfigured: %s", self.name, "; ".join(problems))
                    raise SourceUnavailable(self.name, "is misconfigured (see the hub's log)")
                self._catalogue = found
        return self._catalogue

    def _problems(self, found: dict[str, dict[str, str]]) -> list[str]:
        config = self._config
        wanted = {config.table: {config.key_column, config.modified_column,
                                 *config.mapping.fields.values()}}
        if config.disciplines is not None:
            child = config.disciplines
            wanted[child.table] = {child.parent_column, *child.mapping.fields.values()}
        problems = [f"no column {table}.{column}" for table, columns in wanted.items()
                    for column in sorted(columns) if column not in found.get(table, {})]
        types = found.get(config.table, {})
        # What a watermark can hold: an instant with its zone, and a whole number or text.
        if types.get(config.modified_column, "timestamp with time zone") != \
                "timestamp with time zone":
            problems.append(f"{config.modified_column} is not a timestamp with time zone")
        if types.get(config.key_column, "text") not in _INTEGER_TYPES | _TEXT_TYPES:
            problems.append(f"{config.key_column} is neither an integer nor text")
        return problems

    async def fetch_many(self, keys: Sequence[str], columns: Sequence[str],
                         row_filter: RowFilter = ()) -> list[dict[str, Any]]:
        wanted = tuple(dict.fromkeys([*columns, *(c.column for c in row_filter)]))
        unique = list(dict.fromkeys(keys))
        if not unique:
            return []
        size = self._config.max_batch
        with observe(self.name, "lookup", batch=len(unique)) as seen:
            batches = await asyncio.gather(*(self._lookup(unique[i:i + size], wanted,
                                                          row_filter)
                                             for i in range(0, len(unique), size)))
            rows = [row for batch in batches for row in batch]
            if row_filter:
                # Conditions the query could not carry (coded or converted fields) hold here;
                # the ones it carried hold twice, harmlessly.
                rows = [r for r in rows if all(c.matches(r) for c in row_filter)]
            seen.rows = len(rows)
        return rows

    async def _lookup(self, ids: Sequence[str], wanted: tuple[str, ...],
                      row_filter: RowFilter) -> list[dict[str, Any]]:
        config = self._config
        async with self._snapshot() as connection:
            types = (await self._types(connection))[config.table]
            args: list[Any] = [list(ids)]
            clauses = [f"{_quoted(config.mapping.fields['personal_id'])} = ANY($1)",
                       *self._pushed(row_filter, types, args)]
            sql = (f"SELECT {self._select_list(wanted)} FROM {self._table()}"
                   f" WHERE {' AND '.join(clauses)}")
            records = await connection.fetch(sql, *args)
            return await self._canonical(connection, records, wanted)

    async def changes(self, watermark: str | None, limit: int) -> ChangePage:
        """Rows changed after the watermark, in (modified, key) order; the watermark is
        ``db1:`` and the JSON pair [modified (ISO 8601), key] of the last row handed out."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        config = self._config
        async with self._snapshot() as connection:
            types = (await self._types(connection))[config.table]
            after = self._parse_watermark(watermark, types[config.key_column])
            modified, key = _quoted(config.modified_column), _quoted(config.key_column)
            args: list[Any] = [float(config.settle_seconds)]
            clauses = [f"{modified} <= now() - make_interval(secs => $1)"]
            if after is not None:
                args.extend(after)
                clauses.append(f"({modified}, {key}) > ($2, $3)")
            args.append(limit + 1)
            sql = (f"SELECT {self._select_list(FEED_COLUMNS)}, {modified} AS \"{_MODIFIED}\","
                   f" {key} AS \"{_KEY}\" FROM {self._table()}"
                   f" WHERE {' AND '.join(clauses)}"
                   f" ORDER BY {modified}, {key} LIMIT ${len(args)}")
            records = await connection.fetch(sql, *args)
            page = records[:limit]
            rows = await self._canonical(connection, page, FEED_COLUMNS)
        if not page:
            return ChangePage([], watermark, more=False)
        last = page[-1]
        return ChangePage(rows, _WATERMARK_PREFIX + json.dumps(
            [last[_MODIFIED].isoformat(), last[_KEY]]), more=len(records) > limit)

    def _parse_watermark(self, watermark: str | None, key_type: str
                         ) -> tuple[datetime, int | str] | None:
        if watermark is None:
            return None
        if not isinstance(watermark, str) or not watermark.startswith(_WATERMARK_PREFIX):
            raise ValueError(f"{self.name}: not a watermark of this feed")
        try:
            stamp, key = json.loads(watermark[len(_WATERMARK_PREFIX):])
            modified = datetime.fromisoformat(stamp)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{self.name}: malformed watermark") from exc
        integer_key = key_type in _INTEGER_TYPES
        if (modified.tzinfo is None or isinstance(key, bool)
                or not isinstance(key, int if integer_key else str)):
            raise ValueError(f"{self.name}: malformed watermark")
        return modified, key

    # -- SQL pieces ----------------------------------------------------------------------

    def _table(self) -> str:
        return _quoted(self._config.schema, self._config.table)

    def _select_list(self, wanted: Sequence[str]) -> str:
        config = self._config
        columns = dict.fromkeys(config.mapping.fields[c] for c in wanted
                                if c in config.mapping.fields)
        parts = [_quoted(c) for c in columns]
        if "disciplines" in wanted and config.disciplines is not None:
            parts.append(f'{_quoted(config.key_column)} AS "{_PARENT}"')
        # A lookup of nothing the system holds still finds out who it holds.
        return ", ".join(parts) or _quoted(config.mapping.fields["personal_id"])

    def _pushed(self, row_filter: RowFilter, types: dict[str, str], args: list[Any]
                ) -> list[str]:
        """SQL conditions for the filter's conditions on columns the system keeps as they
        are (no code list, no conversion, a text column), so fewer rows travel."""
        clauses = []
        for condition in row_filter:
            column = self._plain_text_column(condition, types)
            if column is None:
                continue
            if condition.op == "eq" and isinstance(condition.value, str):
                args.append(condition.value)
                clauses.append(f"{column} = ${len(args)}")
            elif condition.op == "in" and isinstance(condition.value, tuple) and all(
                    isinstance(v, str) for v in condition.value):
                args.append(list(condition.value))
                clauses.append(f"{column} = ANY(${len(args)}::text[])")
            elif condition.op == "prefix" and isinstance(condition.value, str):
                escaped = (condition.value.replace("\\", "\\\\").replace("%", "\\%")
                           .replace("_", "\\_"))
                args.append(escaped + "%")
                clauses.append(f"{column} LIKE ${len(args)}")
        return clauses

    def _plain_text_column(self, condition: Condition, types: dict[str, str]) -> str | None:
        mapping = self._config.mapping
        column = mapping.fields.get(condition.column)
        if (column is None or condition.column in mapping.codes
                or mapping.types.get(condition.column, "str") != "str"
                or types.get(column) not in _TEXT_TYPES):
            return None
        return _quoted(column)

    async def _canonical(self, connection: asyncpg.Connection, records: Sequence[Any],
                         wanted: Sequence[str]) -> list[dict[str, Any]]:
        read = self._config.mapping.reader(wanted)
        rows = []
        for record in records:
            row = read({k: plain_value(v) for k, v in record.items()})
            rows.append(row)
        child = self._config.disciplines
        if "disciplines" in wanted and child is not None and records:
            decisions = await self._decisions(connection, child,
                                              [r[_PARENT] for r in records])
            for record, row in zip(records, rows, strict=True):
                row["disciplines"] = decisions.get(record[_PARENT], [])
        return rows

    async def _decisions(self, connection: asyncpg.Connection, child: DisciplineTable,
                         parents: list[Any]) -> dict[Any, list[dict[str, Any]]]:
        fields = child.mapping.fields
        columns = ", ".join(dict.fromkeys(_quoted(c) for c in fields.values()))
        order = [_quoted(fields[c]) for c in ("decided_on", "decision_number") if c in fields]
        parent = _quoted(child.parent_column)
        sql = (f"SELECT {parent} AS \"{_PARENT}\", {columns}"
               f" FROM {_quoted(self._config.schema, child.table)}"
               f" WHERE {parent} = ANY($1) ORDER BY {', '.join([parent, *order])}")
        grouped: dict[Any, list[dict[str, Any]]] = {}
        for record in await connection.fetch(sql, list(dict.fromkeys(parents))):
            grouped.setdefault(record[_PARENT], []).append(
                {k: plain_value(v) for k, v in record.items()})
        return {key: map_disciplines(child.mapping, rows) for key, rows in grouped.items()}

    async def ping(self) -> None:
        async with self._snapshot() as connection:
            await self._types(connection)
            await connection.fetchval("SELECT 1")
