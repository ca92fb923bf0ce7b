"""Stream a Snowflake table as Arrow batches through the connector's `fetch_arrow_batches`.

One connection per sync. Snowflake runs every statement at READ COMMITTED (its only isolation
level for tables): a transaction does not give its statements one snapshot. So a cursor read
opens a transaction and pins each table it reads to the time of its first statement with Time
Travel (`AT(STATEMENT => <query id>)`): bounds, checks and rows then see one state of the table.
A table Time Travel cannot reach (a view, DATA_RETENTION_TIME_IN_DAYS = 0) is read unpinned,
and the task log says so (README "Snowflake").

Rows never pass through Python objects: each result chunk arrives as Arrow, is cut into batches
bounded by rows and bytes and cast to the stored types.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.snowflake import sql
from warehouse_sources.sources.snowflake.catalog import describe_table, similar_tables
from warehouse_sources.sources.snowflake.params import connect_kwargs_from_uri
from warehouse_sources.sources.snowflake.types import CURSOR_TYPE_NAMES, SnowflakeColumn, arrow_type, normalize_batch
from warehouse_sources.warehouse.state import CursorValue

if TYPE_CHECKING:
    import pyarrow as pa

LOG = logging.getLogger(__name__)
BATCH_BYTES = 8 * 1024 * 1024
BATCH_ROWS = 65_536
# Session settings: TIMESTAMP_LTZ values and literals in UTC; the connector's fixed options.
SESSION_PARAMETERS = {"TIMEZONE": "UTC", "QUERY_TAG": "warehouse-sources"}
CONNECT_OPTIONS = {
    "arrow_number_to_decimal": True,  # NUMBER(p,s) as decimal128, never float64
    "client_prefetch_threads": 2,  # result chunks downloaded ahead: what bounds memory besides the batch
    "autocommit": True,  # transactions only where a read opens one
}


class SnowflakeReader:
    """A connection to one Snowflake database, used as a context manager (a `SourceReader`)."""

    cursor_type_names: tuple[str, ...] = CURSOR_TYPE_NAMES

    def __init__(
        self,
        uri: str | None = None,
        *,
        batch_bytes: int = BATCH_BYTES,
        batch_rows: int = BATCH_ROWS,
        **connect_kwargs: Any,
    ) -> None:
        self._connect_kwargs = connect_kwargs_from_uri(uri) if uri else dict(connect_kwargs)
        self._batch_bytes = batch_bytes
        self._batch_rows = batch_rows
        self._conn: Any = None
        self._snapshot_id: str | None = None  # query id every read of the current snapshot is pinned to
        self._pinned: dict[tuple[str, str], bool] = {}  # per table: can Time Travel reach it
        self.value_notes: ValueNotes = ValueNotes()  # no Snowflake value is stored as NULL: stays empty

    def __enter__(self) -> SnowflakeReader:
        import snowflake.connector

        kwargs = dict(self._connect_kwargs)
        kwargs["session_parameters"] = {**SESSION_PARAMETERS, **(kwargs.get("session_parameters") or {})}
        self._conn = snowflake.connector.connect(**kwargs, **CONNECT_OPTIONS)
        try:
            (database,), *_ = self.rows("SELECT CURRENT_DATABASE()")
            if not database:
                raise ValueError("the connection names no database; set database in the Snowflake connection")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already gone; nothing left to release
                pass
        self._conn = None

    def execute(self, statement: str) -> str | None:
        """Run a statement; its query id."""
        with self._conn.cursor() as cursor:
            cursor.execute(statement)
            return str(cursor.sfqid) if cursor.sfqid else None

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        """Run a small query; values as the connector's Python objects."""
        with self._conn.cursor() as cursor:
            cursor.execute(statement)
            return [tuple(r) for r in cursor.fetchall()]

    def records(self, statement: str) -> list[dict[str, Any]]:
        """Run a small query (a SHOW command); rows as dicts keyed by lower-case column name."""
        with self._conn.cursor() as cursor:
            cursor.execute(statement)
            names = [d.name.lower() for d in cursor.description or ()]
            return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

    def describe(self, schema: str, table: str) -> TableDescription | None:
        """The table's columns and key; also learns whether Time Travel reaches it (asked here, outside
        any transaction, since a failed statement may end a transaction on some servers)."""
        desc = describe_table(self.rows, self.records, schema, table)
        if desc is not None:
            self._pinned[(schema, table)] = self._can_pin(desc)
        return desc

    def similar_tables(self, schema: str, table: str) -> list[str]:
        """`SCHEMA.TABLE` names the user may have meant (another schema, another case)."""
        return similar_tables(self.rows, schema, table)

    def begin_snapshot(self) -> None:
        """Open a transaction and take its first statement's query id as the Time Travel point."""
        self.execute("BEGIN TRANSACTION")
        self._snapshot_id = self.execute("SELECT CURRENT_TIMESTAMP()")

    def end_snapshot(self) -> None:
        """End the read's transaction. Never raises: after a dropped connection the ROLLBACK fails
        too, and its error must not hide the one that explains the failure."""
        self._snapshot_id = None
        try:
            self.execute("ROLLBACK")
        except Exception:  # nothing was written
            pass

    def key_condition(self, desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
        return key_condition(desc, key, op, value)

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        """(max key at or above `lower`, rows whose key no cursor can hold) in the current snapshot.

        A cursor can't hold NULL or a date outside years 1-9999; those rows are counted.
        """
        column = snowflake_column(desc, key)
        ident, table = sql.quote_ident(key), self._table(desc)
        in_range = sql.within_cursor_range(ident, column.data_type)
        where = key_condition(desc, key, ">=", lower) if lower is not None else in_range
        outside = f"{ident} IS NULL OR NOT ({in_range})"
        statement = (
            f"SELECT (SELECT MAX({ident}) FROM {table} WHERE {where}), (SELECT COUNT(*) FROM {table} WHERE {outside})"
        )
        (upper, nulls), *_ = self.rows(statement)
        return (int(upper) if column.is_whole_number and upper is not None else upper), int(nulls)

    def key_problems(self, desc: TableDescription, keys: tuple[str, ...], where: str) -> tuple[int, str | None]:
        """(rows matching `where` with a NULL in a key column, one duplicated key's text or None)."""
        idents = [sql.quote_ident(k) for k in keys]
        table = self._table(desc)
        any_null = " OR ".join(f"{i} IS NULL" for i in idents)
        condition = f"({where}) AND ({any_null})" if where else any_null
        (null_rows,), *_ = self.rows(f"SELECT COUNT(*) FROM {table} WHERE {condition}")
        shown = "'(' || CONCAT_WS(', ', " + ", ".join(f"{i}::VARCHAR" for i in idents) + ") || ')'"
        duplicate = (
            f"SELECT {shown} FROM {table} WHERE {where or 'TRUE'} "
            f"GROUP BY {', '.join(idents)} HAVING COUNT(*) > 1 LIMIT 1"
        )
        found = self.rows(duplicate)
        return int(null_rows), (str(found[0][0]) if found else None)

    def value_range(self, desc: TableDescription, column: str, where: str) -> tuple[Any, Any]:
        """(min, max) of `column` over the rows matching `where`, in the current snapshot."""
        ident = sql.quote_ident(column)
        (low, high), *_ = self.rows(
            f"SELECT MIN({ident}), MAX({ident}) FROM {self._table(desc)} WHERE {where or 'TRUE'}"
        )
        return low, high

    def read(
        self, desc: TableDescription, where: str = "", text_columns: frozenset[str] = frozenset()
    ) -> pa.RecordBatchReader:
        """Stream `SELECT ... FROM table [WHERE ...]` as batches in the stored types.

        `text_columns` is for array columns kept as text; Snowflake ARRAYs are JSON text already.
        """
        import pyarrow as pa

        columns = [snowflake_column(desc, c.name) for c in desc.columns]
        select = ", ".join(c.select_sql() for c in columns)
        statement = f"SELECT {select} FROM {self._table(desc)}" + (f" WHERE {where}" if where else "")
        schema = pa.schema([pa.field(c.name, arrow_type(c)) for c in columns])
        return pa.RecordBatchReader.from_batches(schema, self._batches(statement, schema))

    def _batches(self, statement: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        cursor = self._conn.cursor()
        try:
            cursor.execute(statement)
            for chunk in cursor.fetch_arrow_batches(force_microsecond_precision=True):
                per_row = max(1, chunk.nbytes // max(1, chunk.num_rows))
                size = max(1, min(self._batch_rows, self._batch_bytes // per_row))
                for batch in chunk.to_batches(max_chunksize=size):
                    yield normalize_batch(batch, schema)
        finally:
            cursor.close()

    def _table(self, desc: TableDescription) -> str:
        """The table in FROM: pinned to the snapshot's point when inside one and Time Travel reaches it."""
        name = sql.qualified(desc.schema, desc.table)
        if self._snapshot_id is None or not self._pinned.get((desc.schema, desc.table)):
            return name
        return f"{name} {sql.time_travel(self._snapshot_id)}"

    def _can_pin(self, desc: TableDescription) -> bool:
        """Whether the table can be read as of a statement (Time Travel); a warning when not."""
        name = sql.qualified(desc.schema, desc.table)
        try:
            point = self.execute("SELECT 1")
            if point is None:
                raise ValueError("the server gave no query id")
            self.rows(f"SELECT 1 FROM {name} {sql.time_travel(point)} LIMIT 0")
            return True
        except Exception as exc:
            LOG.warning(
                "Snowflake table %s.%s cannot be read at one point in time (Time Travel: %s); each statement "
                "of its reads sees the rows committed when it starts (READ COMMITTED)",
                desc.schema,
                desc.table,
                " ".join(str(exc).split())[:200],
            )
            return False


def key_condition(desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
    """`"KEY" >= TO_TIMESTAMP_NTZ(...) AND "KEY" BETWEEN ...`: the value as a typed literal, and the
    key kept within what a cursor can hold."""
    column = snowflake_column(desc, key)
    ident = sql.quote_ident(key)
    condition = f"{ident} {op} {sql.cursor_literal(value, column.data_type)}"
    limits = sql.within_cursor_range(ident, column.data_type)
    return condition if limits == "TRUE" else f"{condition} AND {limits}"


def snowflake_column(desc: TableDescription, name: str) -> SnowflakeColumn:
    """A column of a table this reader described (so a `SnowflakeColumn`)."""
    column = desc.column(name)
    assert isinstance(column, SnowflakeColumn), name
    return column
