"""Stream a MySQL or MariaDB table as Arrow batches through asyncmy's unbuffered cursor.

One connection per sync, one `START TRANSACTION WITH CONSISTENT SNAPSHOT` per cursor read, so
the key bounds, the checks and the rows streamed see one state of the table (InnoDB). asyncmy
(driver.py) parses rows in C inside that snapshot; connectorx opens connections of its own (so
it cannot share the snapshot) and panics on a zero date, so it is not used (README).

Rows come as the server's text, a bounded chunk at a time, and each column is cast by Arrow:
chunks are sized from the previous one so a batch stays under `batch_bytes` and `batch_rows`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.mysql.catalog import describe_table, similar_tables
from warehouse_sources.sources.mysql.driver import Connection
from warehouse_sources.sources.mysql.errors import error_sqlstate
from warehouse_sources.sources.mysql.params import MySQLParams
from warehouse_sources.sources.mysql.sql import cursor_literal, qualified, quote_ident, within_cursor_range
from warehouse_sources.sources.mysql.types import CURSOR_TYPE_NAMES, MySQLColumn, arrow_type, rows_to_batch
from warehouse_sources.warehouse.state import CursorValue

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_BYTES = 2 * 1024 * 1024
BATCH_ROWS = 65_536
FIRST_CHUNK_ROWS = 256  # rows fetched before the row size is known
SESSION_SQL = (
    "SET time_zone = '+00:00'",  # TIMESTAMP values (stored in UTC) come back in UTC
    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",  # what the consistent snapshot needs
    "SET SESSION net_write_timeout = 3600",  # a slow warehouse write must not cut a streaming read
)


class MySQLReader:
    """A connection to one MySQL/MariaDB server, used as a context manager (a `SourceReader`)."""

    cursor_type_names: tuple[str, ...] = CURSOR_TYPE_NAMES

    def __init__(
        self,
        uri: str | None = None,
        *,
        batch_bytes: int = BATCH_BYTES,
        batch_rows: int = BATCH_ROWS,
        **params: Any,
    ) -> None:
        self._params = MySQLParams.from_uri(uri) if uri else MySQLParams(**params)
        self._batch_bytes = batch_bytes
        self._batch_rows = batch_rows
        self._conn: Connection | None = None
        self._streaming: Any = None  # the unbuffered cursor of a read not consumed to its end
        self.value_notes: ValueNotes = ValueNotes()

    def __enter__(self) -> MySQLReader:
        self._connect()
        return self

    def __exit__(self, *exc: object) -> None:
        unfinished = self._streaming is not None
        self._streaming = None
        if self._conn is not None:
            self._conn.close(quit_first=not unfinished)
        self._conn = None

    def _connect(self) -> None:
        self._conn = Connection(self._params)
        try:
            for statement in SESSION_SQL:
                self.execute(statement)
        except BaseException:
            self.__exit__()
            raise

    @property
    def _connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the MySQL reader is not open: use it as a context manager")
        return self._conn

    def execute(self, sql: str) -> None:
        """Run a statement that returns no rows."""
        self._connection.execute(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a small query; values as Python objects (ints, Decimals, dates, datetimes, str)."""
        from asyncmy.converters import conversions

        found, types = self._connection.fetch_all(sql)
        decoders = [conversions.get(t) for t in types]
        return [tuple(_decode(v, d) for v, d in zip(row, decoders, strict=True)) for row in found]

    def error_sqlstate(self, exc: BaseException) -> str | None:
        """How the engine sorts this driver's errors (`SourceReader`'s optional hook)."""
        return error_sqlstate(exc)

    def describe(self, schema: str, table: str) -> TableDescription | None:
        return describe_table(self.rows, schema, table)

    def similar_tables(self, schema: str, table: str) -> list[str]:
        """`database.table` names the user may have meant (another database, another case)."""
        return similar_tables(self.rows, schema, table)

    def begin_snapshot(self) -> None:
        self.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def end_snapshot(self) -> None:
        """End the read-only snapshot. Never raises: after a dropped connection the ROLLBACK
        fails too, and its error must not hide the one that explains the failure. A read left
        unfinished is not drained (that could mean the rest of a big table): the connection is
        closed, which ends the transaction, and opened again."""
        try:
            if self._abandon_stream():
                self._connect()
            else:
                self.execute("ROLLBACK")
        except Exception:  # nothing was written in a read-only snapshot
            pass

    def key_condition(self, desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
        return key_condition(desc, key, op, value)

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        """(max key at or above `lower`, rows whose key no cursor can hold) in the current snapshot.

        A cursor can't hold NULL, a zero date, a zero month or day, year 0 or a day past the month's end;
        those rows are counted.
        """
        column = mysql_column(desc, key)
        ident, table = quote_ident(key), qualified(desc.schema, desc.table)
        in_range = within_cursor_range(ident, column.data_type)
        where = key_condition(desc, key, ">=", lower) if lower is not None else in_range
        outside = f"{ident} IS NULL OR NOT ({in_range})"
        sql = f"SELECT (SELECT max({ident}) FROM {table} WHERE {where}), (SELECT count(*) FROM {table} WHERE {outside})"
        (upper, nulls), *_ = self.rows(sql)
        return upper, int(nulls)

    def key_problems(self, desc: TableDescription, keys: tuple[str, ...], where: str) -> tuple[int, str | None]:
        """(rows matching `where` with a NULL in a key column, one duplicated key's text or None)."""
        columns = [mysql_column(desc, k) for k in keys]
        table = qualified(desc.schema, desc.table)
        any_null = " OR ".join(f"{quote_ident(k)} IS NULL" for k in keys)
        condition = f"({where}) AND ({any_null})" if where else any_null
        (null_rows,), *_ = self.rows(f"SELECT count(*) FROM {table} WHERE {condition}")
        # Keys compared as the warehouse will compare them (`key_sql`), not by the column's collation.
        stored = ", ".join(c.key_sql() for c in columns)
        shown = "CONCAT('(', CONCAT_WS(', ', " + ", ".join(c.shown_sql() for c in columns) + "), ')')"
        dup = f"SELECT {shown} FROM {table} WHERE {where or 'TRUE'} GROUP BY {stored} HAVING count(*) > 1 LIMIT 1"
        found = self.rows(dup)
        return int(null_rows), (str(found[0][0]) if found else None)

    def value_range(self, desc: TableDescription, column: str, where: str) -> tuple[Any, Any]:
        """(min, max) of `column` over the rows matching `where`, in the current snapshot."""
        ident = quote_ident(column)
        (low, high), *_ = self.rows(
            f"SELECT min({ident}), max({ident}) FROM {qualified(desc.schema, desc.table)} WHERE {where or 'TRUE'}"
        )
        return low, high

    def read(
        self, desc: TableDescription, where: str = "", text_columns: frozenset[str] = frozenset()
    ) -> pa.RecordBatchReader:
        """Stream `SELECT ... FROM table [WHERE ...]` as batches in the stored types.

        `text_columns` is for array columns kept as text; MySQL has no arrays, so it is unused.
        """
        import pyarrow as pa

        columns = [mysql_column(desc, c.name) for c in desc.columns]
        select = ", ".join(c.select_sql() for c in columns)
        sql = f"SELECT {select} FROM {qualified(desc.schema, desc.table)}" + (f" WHERE {where}" if where else "")
        schema = pa.schema([pa.field(c.name, arrow_type(c)) for c in columns])
        return pa.RecordBatchReader.from_batches(schema, self._batches(sql, schema))

    def _batches(self, sql: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        if self._streaming is not None:  # the engine reads one stream at a time; a second would end the snapshot
            raise RuntimeError("a read from this MySQL connection is still streaming")
        conn = self._connection
        cursor = conn.stream(sql)
        self._streaming = cursor
        size = min(FIRST_CHUNK_ROWS, self._batch_rows)
        while True:
            rows = conn.fetchmany(cursor, size)
            if not rows:
                break
            batch = rows_to_batch(rows, schema, self.value_notes)
            yield batch
            per_row = max(1, batch.nbytes // batch.num_rows)
            size = max(1, min(self._batch_rows, self._batch_bytes // per_row))
        self._streaming = None
        conn.finish(cursor)

    def _abandon_stream(self) -> bool:
        """Drop a read not consumed to its end (closing the connection); True when there was one."""
        if self._streaming is None:
            return False
        self._streaming = None
        if self._conn is not None:
            self._conn.close(quit_first=False)
        self._conn = None
        return True


def _decode(value: Any, decoder: Any) -> Any:
    if value is None or decoder is None:
        return value
    return decoder(value)


def key_condition(desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
    """`` `key` >= TIMESTAMP'...' AND `key` BETWEEN ... ``: the value as a typed literal, and the key
    kept within what a cursor can hold (a zero date would otherwise be below every cursor)."""
    column = mysql_column(desc, key)
    ident = quote_ident(key)
    condition = f"{ident} {op} {cursor_literal(value, column.data_type)}"
    limits = within_cursor_range(ident, column.data_type)
    return condition if limits == "TRUE" else f"{condition} AND {limits}"


def mysql_column(desc: TableDescription, name: str) -> MySQLColumn:
    """A column of a table this reader described (so a `MySQLColumn`)."""
    column = desc.column(name)
    assert isinstance(column, MySQLColumn), name
    return column
