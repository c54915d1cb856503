"""The national civil-servant database, reached with an asyncpg pool.

Every query is generated from a whitelist of tables and columns read from the database's own
catalogue at start-up and takes its values as parameters: identifiers never come from a caller
unchecked and values are never spliced into SQL. Lists are batched with ``= ANY($1)``.

With standbys configured (``adapters.replicas``) the adapter has two faces over the same pools:
the primary face (``open`` returns it, ``primary``) sends everything to the primary; the query
face (``for_queries()``), which the GraphQL read path is given, sends the read-only methods
(``fetch_*``, ``count*``, ``read``) to a standby in rotation, falling back to the primary, and
everything else (``query``, which may write; ``transaction``; ``ping``) to the primary.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any

import asyncpg

from adapters.call_log import record_call
from adapters.errors import SourceTimeout, SourceUnavailable
from adapters.filters import Related, RowFilter
from adapters.observe import observe
from adapters.pg_pool import open_pool
from adapters.replicas import Replica, ReplicaSet, reads_on_primary

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
# A standby failing so cannot serve now (shut down, restarting, unreachable, full): its reads
# go to the primary. (Statement timeouts, OperatorInterventionErrors too, are caught first.)
_REPLICA_DOWN = (*_CONNECTION_ERRORS, asyncpg.OperatorInterventionError)


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
                 *, timeout: float, replicas: ReplicaSet | None = None,
                 routed: bool = False) -> None:
        self._pool = pool
        self._sql = _Sql(columns)
        self._timeout = timeout
        self.columns = columns
        self._replicas = replicas
        # The query face: read-only methods go to a standby in rotation.
        self._routed = routed and replicas is not None

    @classmethod
    async def open(cls, dsn: str, *, min_size: int = 2, max_size: int = 10,
                   timeout: float = 5.0, role: str | None = None,
                   replica_urls: Sequence[str] = (), max_lag_seconds: float = 30.0,
                   check_seconds: float = 2.0) -> NationalDatabase:
        """The primary face. ``role``: the database role to act as (SET ROLE at connection
        start), on the primary and the standbys alike; ``replica_urls``: standbys for the
        query face, taken out of rotation beyond ``max_lag_seconds`` behind, measured every
        ``check_seconds``."""
        try:
            pool = await open_pool(dsn, min_size=min_size, max_size=max_size, timeout=timeout,
                                   role=role)
        except _CONNECTION_ERRORS as exc:
            raise SourceUnavailable(cls.name, "cannot connect to the national database") from exc
        rows = await pool.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public'")
        columns: dict[str, dict[str, str]] = {}
        for row in rows:
            columns.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
        replicas = None
        if replica_urls:
            async def open_replica(url: str) -> asyncpg.Pool:
                return await open_pool(url, min_size=min_size, max_size=max_size,
                                       timeout=timeout, role=role)

            try:
                replicas = await ReplicaSet.open(replica_urls, pool, open_replica,
                                                 max_lag_seconds=max_lag_seconds,
                                                 check_seconds=check_seconds, timeout=timeout,
                                                 capacity=max_size)
            except BaseException:
                await pool.close()
                raise
        return cls(pool, columns, timeout=timeout, replicas=replicas)

    def for_queries(self) -> NationalDatabase:
        """The query face: the same pools, read-only methods answered by a standby in
        rotation (itself when there are no standbys)."""
        if self._replicas is None or self._routed:
            return self
        return NationalDatabase(self._pool, self.columns, timeout=self._timeout,
                                replicas=self._replicas, routed=True)

    @property
    def primary(self) -> NationalDatabase:
        """The primary face: everything on the primary, for work that reads its writes."""
        if not self._routed:
            return self
        return NationalDatabase(self._pool, self.columns, timeout=self._timeout,
                                replicas=self._replicas)

    def replica_status(self) -> list[dict[str, Any]]:
        """Each standby's state and lag (empty without standbys), for ``/readyz``."""
        return self._replicas.status() if self._replicas is not None else []

    async def close(self) -> None:
        """Close the pools, the standbys' too (whichever face is closed: they share them)."""
        if self._replicas is not None:
            await self._replicas.close()
        await self._pool.close()

    async def ping(self) -> None:
        await self._fetch("SELECT 1", [], operation="ping")

    async def fetch_many(self, table: str, key: str, keys: Sequence[Hashable],
                         columns: Sequence[str], row_filter: RowFilter = ()) -> list[Row]:
        """Rows whose ``key`` column is one of ``keys`` (in no particular order)."""
        args: list[Any] = [list(keys)]
        clauses = [f"{self._sql.column(table, key)} = ANY($1)",
                   *self._sql.where(table, row_filter, args)]
        sql = (f"SELECT {self._sql.select_list(table, columns)} FROM {self._sql.table(table)}"
               f" WHERE {' AND '.join(clauses)}")
        return await self._fetch(sql, args, read=True, operation="fetch_many",
                                 batch=len(keys))

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
        return await self._fetch(sql, args, read=True, operation="fetch_page")

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
        return await self._fetch(sql, args, read=True, operation="fetch_pages_by_key",
                                 batch=len(keys))

    async def count(self, table: str, row_filter: RowFilter) -> int:
        args: list[Any] = []
        clauses = self._sql.where(table, row_filter, args)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._fetch(f"SELECT count(*) AS n FROM {self._sql.table(table)}{where}",
                                 args, read=True, operation="count")
        return int(rows[0]["n"])

    async def count_by_key(self, table: str, key: str, keys: Sequence[Hashable],
                           row_filter: RowFilter = ()) -> dict[Hashable, int]:
        args: list[Any] = [list(keys)]
        key_column = self._sql.column(table, key)
        clauses = [f"{key_column} = ANY($1)", *self._sql.where(table, row_filter, args)]
        sql = (f"SELECT {key_column} AS key, count(*) AS n FROM {self._sql.table(table)}"
               f" WHERE {' AND '.join(clauses)} GROUP BY {key_column}")
        rows = await self._fetch(sql, args, read=True, operation="count_by_key",
                                 batch=len(keys))
        return {row["key"]: int(row["n"]) for row in rows}

    async def fetch_all(self, table: str, columns: Sequence[str], row_filter: RowFilter = (),
                        *, order_by: str) -> list[Row]:
        """A whole (small) table: code lists and the agency directory."""
        args: list[Any] = []
        clauses = self._sql.where(table, row_filter, args)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (f"SELECT {self._sql.select_list(table, columns)} FROM {self._sql.table(table)}"
               f"{where} ORDER BY {self._sql.column(table, order_by)}")
        return await self._fetch(sql, args, read=True, operation="fetch_all")

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

    async def read(self, sql: str, args: Sequence[Any]) -> list[Row]:
        """As ``query``, for a statement that only reads: on the query face a standby may
        answer it (so it may not see the latest writes)."""
        return await self._fetch(sql, list(args), read=True, operation="read")

    async def _fetch(self, sql: str, args: list[Any], *, read: bool = False,
                     operation: str = "query", batch: int | None = None) -> list[Row]:
        record_call(self.name)
        with observe(self.name, operation, batch=batch) as seen:
            seen.server = "primary"
            if read and self._routed and not reads_on_primary():
                assert self._replicas is not None
                replica = self._replicas.choose()
                if replica is not None:
                    rows = await self._fetch_on_replica(replica, sql, args)
                    if rows is not None:
                        seen.server, seen.rows = replica.name, len(rows)
                        return rows
            rows = await self._fetch_on_primary(sql, args)
            seen.rows = len(rows)
            return rows

    async def _fetch_on_primary(self, sql: str, args: list[Any]) -> list[Row]:
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

    async def _fetch_on_replica(self, replica: Replica, sql: str,
                                args: list[Any]) -> list[Row] | None:
        """Rows from a standby; None when the standby could not answer, for the primary to
        answer instead. A statement out of time is not asked again: the primary would most
        likely take as long, and the caller has waited its budget already."""
        assert self._replicas is not None
        with self._replicas.lease(replica) as pool:
            try:
                connection = await pool.acquire(timeout=self._timeout)
            except (TimeoutError, *_REPLICA_DOWN) as exc:
                self._replicas.failed(replica, exc)
                return None
            try:
                records = await connection.fetch(sql, *args, timeout=self._timeout)
            except (TimeoutError, asyncpg.QueryCanceledError) as exc:
                raise SourceTimeout(self.name,
                                    "the national database did not answer in time") from exc
            except _REPLICA_DOWN as exc:
                self._replicas.failed(replica, exc)
                return None
            except asyncpg.PostgresError as exc:
                # The standby, not the statement, may be at fault (a recovery conflict, a
                # migration not replayed yet): the primary decides.
                log.warning("replica %s failed a read, the primary answers: %s",
                            replica.name, exc)
                return None
            finally:
                await pool.release(connection)
        return [dict(record) for record in records]
