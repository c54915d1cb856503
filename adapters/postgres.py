"""The national civil-servant database, reached with an asyncpg pool.

Every query is generated from a whitelist of tables and columns read from the database's own
catalogue at start-up and takes its values as parameters: identifiers never come from a caller
unchecked and values are never spliced into SQL. Lists are batched with ``= ANY($1)``.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any

import asyncpg

from adapters.call_log import record_call
from adapters.errors import SourceTimeout, SourceUnavailable
from adapters.filters import Related, RowFilter

__all__ = ["NationalDatabase", "Row"]

Row = dict[str, Any]
log = logging.getLogger(__name__)

# Numeric columns are read as float8: clients get JSON numbers, and the values we hold
# (coefficients with two decimals) are exact in binary floating point at that precision.
_FLOAT_TYPES = frozenset({"numeric"})
# Column types a set-wise write sends as typed arrays (``unnest($1::date[], ...)``).
_ARRAY_TYPES = frozenset({"text", "date", "smallint", "integer", "bigint", "boolean",
                          "numeric", "uuid", "jsonb", "timestamp with time zone"})
_CONNECTION_ERRORS = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
                      asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)


class _Sql:
    """Builds SQL text for one table from whitelisted identifiers."""

    def __init__(self, columns: dict[str, dict[str, str]]) -> None:
        self._columns = columns

    def table(self, table: str) -> str:
        if table not in self._columns:
            raise ValueError(f"unknown table {table!r}")
        return f'"{table}"'

    def column(self, table: str, column: str) -> str:
        if column not in self._columns[table]:
            raise ValueError(f"unknown column {table}.{column}")
        return f'"{column}"'

    def array_type(self, table: str, column: str) -> str:
        """The SQL type to send a column's values as an array parameter of. Fixed-length
        text is sent as ``text`` (a bare ``character[]`` would cut each value to one
        character); the assignment casts it back."""
        kind = self._columns[table][column] if column in self._columns.get(table, {}) else None
        if kind is None:
            raise ValueError(f"unknown column {table}.{column}")
        if kind in ("character", "character varying"):
            return "text"
        if kind in _ARRAY_TYPES:
            return kind
        raise ValueError(f"{table}.{column} ({kind}) cannot be sent as an array")

    def select_list(self, table: str, columns: Sequence[str], alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        parts = []
        for column in columns:
            quoted = self.column(table, column)
            if self._columns[table][column] in _FLOAT_TYPES:
                parts.append(f"{prefix}{quoted}::float8 AS {quoted}")
            else:
                parts.append(f"{prefix}{quoted}")
        return ", ".join(parts)

    def where(self, table: str, row_filter: RowFilter, args: list[Any]) -> list[str]:
        clauses = []
        for condition in row_filter:
            column = self.column(table, condition.column)
            if condition.op == "eq":
                args.append(condition.value)
                clauses.append(f"{column} = ${len(args)}")
            elif condition.op == "in":
                args.append(list(condition.value))  # type: ignore[arg-type]
                clauses.append(f"{column} = ANY(${len(args)})")
            elif condition.op == "related":
                target = condition.value
                assert isinstance(target, Related)
                inner = self.where(target.table, target.conditions, args)
                where = f" WHERE {' AND '.join(inner)}" if inner else ""
                clauses.append(f"{column} IN (SELECT {self.column(target.table, target.key)} "
                               f"FROM {self.table(target.table)}{where})")
            else:
                assert isinstance(condition.value, str)
                escaped = (condition.value.replace("\\", "\\\\").replace("%", "\\%")
                           .replace("_", "\\_"))
                args.append(escaped + "%")
                clauses.append(f"{column} LIKE ${len(args)}")
        return clauses


class _Transaction:
    """Acquire a connection and open a transaction; release both, committing on success."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._connection: asyncpg.Connection | None = None
        self._transaction: Any = None

    async def __aenter__(self) -> asyncpg.Connection:
        record_call(NationalDatabase.name)
        try:
            self._connection = await self._pool.acquire(timeout=self._timeout)
        except (TimeoutError, *_CONNECTION_ERRORS) as exc:
            raise SourceUnavailable(NationalDatabase.name,
                                    "the national database is unreachable") from exc
        self._transaction = self._connection.transaction()
        await self._transaction.start()
        return self._connection

    async def __aexit__(self, kind: Any, error: Any, trace: Any) -> None:
        assert self._connection is not None
        try:
            if kind is None:
                await self._transaction.commit()
            else:
                await self._transaction.rollback()
        finally:
            await self._pool.release(self._connection)
            self._connection = None


class NationalDatabase:
    """The adapter contract for the national database: fetch many by key, with the columns
    asked and a row filter; plus keyset pages and counts for list fields."""

    name = "national"

    def __init__(self, pool: asyncpg.Pool, columns: dict[str, dict[str, str]],
                 *, timeout: float) -> None:
        self._pool = pool
        self._sql = _Sql(columns)
        self._timeout = timeout
        self.columns = columns

    @classmethod
    async def open(cls, dsn: str, *, min_size: int = 2, max_size: int = 10,
                   timeout: float = 5.0, role: str | None = None) -> NationalDatabase:
        """``role``: the database role to act as (SET ROLE at connection start)."""
        try:
            pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size,
                                             server_settings={"role": role} if role else None,
                                             command_timeout=timeout)
        except _CONNECTION_ERRORS as exc:
            raise SourceUnavailable(cls.name, "cannot connect to the national database") from exc
        rows = await pool.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public'")
        columns: dict[str, dict[str, str]] = {}
        for row in rows:
            columns.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
        return cls(pool, columns, timeout=timeout)

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        await self._fetch("SELECT 1", [])

    async def fetch_many(self, table: str, key: str, keys: Sequence[Hashable],
                         columns: Sequence[str], row_filter: RowFilter = ()) -> list[Row]:
        """Rows whose ``key`` column is one of ``keys`` (in no particular order)."""
        args: list[Any] = [list(keys)]
        clauses = [f"{self._sql.column(table, key)} = ANY($1)",
                   *self._sql.where(table, row_filter, args)]
        sql = (f"SELECT {self._sql.select_list(table, columns)} FROM {self._sql.table(table)}"
               f" WHERE {' AND '.join(clauses)}")
        return await self._fetch(sql, args)

    async def fetch_page(self, table: str, columns: Sequence[str], row_filter: RowFilter,
                         *, order_by: str, after: Hashable | None, limit: int) -> list[Row]:
        """One keyset page ordered by ``order_by`` (a unique column), after a cursor value."""
        args: list[Any] = []
        clauses = self._sql.where(table, row_filter, args)
        order = self._sql.column(table, order_by)
        if after is not None:
            args.append(after)
            clauses.append(f"{order} > ${len(args)}")
        args.append(limit)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (f"SELECT {self._sql.select_list(table, columns)} FROM {self._sql.table(table)}"
               f"{where} ORDER BY {order} LIMIT ${len(args)}")
        return await self._fetch(sql, args)

    async def fetch_pages_by_key(self, table: str, key: str, keys: Sequence[Hashable],
                                 columns: Sequence[str], row_filter: RowFilter, *,
                                 order_by: str, after: Hashable | None, limit: int) -> list[Row]:
        """The same keyset page for each of many parents, in one query (LATERAL per key)."""
        args: list[Any] = [list(keys)]
        key_column = self._sql.column(table, key)
        clauses = [f"t.{key_column} = k.key", *(
            f"t.{c}" for c in self._sql.where(table, row_filter, args))]
        order = self._sql.column(table, order_by)
        if after is not None:
            args.append(after)
            clauses.append(f"t.{order} > ${len(args)}")
        args.append(limit)
        select_list = self._sql.select_list(table, columns, alias="t")
        sql = (f"SELECT p.* FROM unnest($1::text[]) AS k(key) CROSS JOIN LATERAL ("
               f"SELECT {select_list} FROM {self._sql.table(table)} AS t"
               f" WHERE {' AND '.join(clauses)} ORDER BY t.{order} LIMIT ${len(args)}) AS p")
        return await self._fetch(sql, args)

    async def count(self, table: str, row_filter: RowFilter) -> int:
        args: list[Any] = []
        clauses = self._sql.where(table, row_filter, args)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._fetch(f"SELECT count(*) AS n FROM {self._sql.table(table)}{where}",
                                 args)
        return int(rows[0]["n"])

    async def count_by_key(self, table: str, key: str, keys: Sequence[Hashable],
                           row_filter: RowFilter = ()) -> dict[Hashable, int]:
        args: list[Any] = [list(keys)]
        key_column = self._sql.column(table, key)
        clauses = [f"{key_column} = ANY($1)", *self._sql.where(table, row_filter, args)]
        sql = (f"SELECT {key_column} AS key, count(*) AS n FROM {self._sql.table(table)}"
               f" WHERE {' AND '.join(clauses)} GROUP BY {key_column}")
        return {row["key"]: int(row["n"]) for row in await self._fetch(sql, args)}

    async def fetch_all(self, table: str, columns: Sequence[str], row_filter: RowFilter = (),
                        *, order_by: str) -> list[Row]:
        """A whole (small) table: code lists and the agency directory."""
        args: list[Any] = []
        clauses = self._sql.where(table, row_filter, args)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (f"SELECT {self._sql.select_list(table, columns)} FROM {self._sql.table(table)}"
               f"{where} ORDER BY {self._sql.column(table, order_by)}")
        return await self._fetch(sql, args)

    def transaction(self) -> _Transaction:
        """A connection in a transaction, for an adapter that writes (the submissions
        store): ``async with national.transaction() as connection``."""
        return _Transaction(self._pool, self._timeout)

    def array_type(self, table: str, column: str) -> str:
        """The type a column's values are sent as in an array parameter (ValueError for one
        that cannot be)."""
        return self._sql.array_type(table, column)

    def where(self, table: str, row_filter: RowFilter, args: list[Any]) -> list[str]:
        """SQL conditions for ``row_filter`` on ``table`` (values appended to ``args`` as
        parameters), for another adapter's own statements over this database."""
        return self._sql.where(table, row_filter, args)

    def quoted(self, table: str, column: str | None = None) -> str:
        """A whitelisted identifier, quoted: a table, or one of its columns."""
        return self._sql.table(table) if column is None else self._sql.column(table, column)

    async def query(self, sql: str, args: Sequence[Any]) -> list[Row]:
        """Rows of ``sql``, for another adapter over this database (the audit log) that
        writes its own statements: constant text, every value a parameter. Same pool, time
        budget and failure mapping as the queries above."""
        return await self._fetch(sql, list(args))

    async def _fetch(self, sql: str, args: list[Any]) -> list[Row]:
        record_call(self.name)
        try:
            # Waiting for a free connection counts against the same budget as the query.
            async with self._pool.acquire(timeout=self._timeout) as connection:
                records = await connection.fetch(sql, *args, timeout=self._timeout)
        except (TimeoutError, asyncpg.QueryCanceledError) as exc:
            raise SourceTimeout(self.name, "the national database did not answer in time") from exc
        except _CONNECTION_ERRORS as exc:
            raise SourceUnavailable(self.name, "the national database is unreachable") from exc
        except asyncpg.PostgresError as exc:
            # Logged in full for operators; the client only learns that the source failed.
            log.error("national database query failed: %s", exc, extra={"sql": sql})
            raise SourceUnavailable(self.name, "the national database failed to answer") from exc
        return [dict(record) for record in records]
