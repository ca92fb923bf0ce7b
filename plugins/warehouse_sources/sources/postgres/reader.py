"""Stream a PostgreSQL table as Arrow batches through ADBC (which reads with binary COPY).

One connection per sync, one REPEATABLE READ snapshot per cursor read, so the cursor bounds and
the rows streamed are the same view of the table. The driver manager's low-level API is used,
not its DB-API layer, which would import pandas (+80 MB and 2 s per task) for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.postgres.catalog import describe_table, similar_tables
from warehouse_sources.sources.postgres.sql import cursor_literal, qualified, quote_ident, within_cursor_range
from warehouse_sources.sources.postgres.types import CURSOR_TYPE_NAMES, PgColumn, arrow_type, normalize_batch
from warehouse_sources.warehouse.state import CursorValue

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_BYTES = 2 * 1024 * 1024  # per ADBC batch: small batches keep peak memory low at the same speed
SESSION_SQL = (
    "SET TIME ZONE 'UTC'",
    "SET intervalstyle = iso_8601",
    "SET standard_conforming_strings = on",
    "SET application_name = 'warehouse-sources'",
)


class PostgresReader:
    """A connection to one source database, used as a context manager (a `SourceReader`)."""

    cursor_type_names: tuple[str, ...] = CURSOR_TYPE_NAMES

    def __init__(self, uri: str, *, batch_bytes: int = BATCH_BYTES) -> None:
        self._uri = uri
        self._batch_bytes = batch_bytes
        self._database: Any = None
        self._conn: Any = None
        self._open: dict[int, tuple[Any, Any]] = {}  # streams not read to the end: (stream, statement)
        self.value_notes: ValueNotes = ValueNotes()  # values stored as NULL, by (column, what)

    def __enter__(self) -> PostgresReader:
        import adbc_driver_manager
        import adbc_driver_postgresql

        self._database = adbc_driver_postgresql.connect(self._uri)
        try:
            self._conn = adbc_driver_manager.AdbcConnection(self._database)
            for statement in SESSION_SQL:
                self.execute(statement)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for stream, statement in list(self._open.values()):
            stream.close()
            statement.close()
        self._open.clear()
        for handle in (self._conn, self._database):
            if handle is not None:
                handle.close()
        self._conn = self._database = None

    def execute(self, sql: str) -> None:
        """Run a statement that returns no rows."""
        import adbc_driver_manager

        with adbc_driver_manager.AdbcStatement(self._conn) as statement:
            statement.set_sql_query(sql)
            statement.execute_update()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a small query and return its rows as tuples."""
        table = self._stream(sql).read_all()
        return list(zip(*(column.to_pylist() for column in table.columns), strict=True))

    def describe(self, schema: str, table: str) -> TableDescription | None:
        return describe_table(self.rows, schema, table)

    def similar_tables(self, schema: str, table: str) -> list[str]:
        """`schema.table` names the user may have meant (another schema, another case)."""
        return similar_tables(self.rows, schema, table)

    def begin_snapshot(self) -> None:
        self.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def end_snapshot(self) -> None:
        """End the read-only snapshot. Never raises: after a dropped connection the ROLLBACK
        fails too, and its error must not hide the one that explains the failure."""
        try:
            self.execute("ROLLBACK")
        except Exception:  # nothing was written in a read-only snapshot
            pass

    def key_condition(self, desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
        return key_condition(desc, key, op, value)

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        """(max key at or above `lower`, rows whose key no cursor can hold) in the current snapshot.

        A cursor can't hold NULL, infinity or a date outside years 1-9999; those rows are counted.
        """
        column = pg_column(desc, key)
        ident, table = quote_ident(key), qualified(desc.schema, desc.table)
        in_range = within_cursor_range(ident, column.type_name)
        where = key_condition(desc, key, ">=", lower) if lower is not None else in_range
        outside = f"{ident} IS NULL OR NOT ({in_range})"
        sql = f"SELECT (SELECT max({ident}) FROM {table} WHERE {where}), (SELECT count(*) FROM {table} WHERE {outside})"
        (upper, nulls), *_ = self.rows(sql)
        return upper, int(nulls)

    def key_problems(self, desc: TableDescription, keys: tuple[str, ...], where: str) -> tuple[int, str | None]:
        """(rows matching `where` with a NULL in a key column, one duplicated key's text or None)."""
        idents = ", ".join(quote_ident(k) for k in keys)
        table = qualified(desc.schema, desc.table)
        condition = f"WHERE {where}" if where else ""
        any_null = " OR ".join(f"{quote_ident(k)} IS NULL" for k in keys)
        nulls = f"SELECT count(*) FROM {table} {condition}{' AND' if where else ' WHERE'} ({any_null})"
        dup = f"SELECT ROW({idents})::text FROM {table} {condition} GROUP BY {idents} HAVING count(*) > 1 LIMIT 1"
        (null_rows, duplicate), *_ = self.rows(f"SELECT ({nulls}), ({dup})")
        return int(null_rows), duplicate

    def irregular_arrays(self, desc: TableDescription, where: str) -> list[str]:
        """Array columns holding a value Arrow's list cannot keep as is (several dimensions, or
        a lower bound other than 1) among the rows matching `where`."""
        arrays = [c.name for c in desc.columns if c.is_native_array]
        if not arrays:
            return []
        checks = ", ".join(
            f"coalesce(bool_or(coalesce(array_ndims({quote_ident(n)}), 1) > 1 "
            f"OR coalesce(array_lower({quote_ident(n)}, 1), 1) <> 1), false)"
            for n in arrays
        )
        sql = f"SELECT {checks} FROM {qualified(desc.schema, desc.table)}" + (f" WHERE {where}" if where else "")
        (flags, *_) = self.rows(sql)
        return [name for name, irregular in zip(arrays, flags, strict=True) if irregular]

    def value_range(self, desc: TableDescription, column: str, where: str) -> tuple[Any, Any]:
        """(min, max) of `column` over the rows matching `where`, in the current snapshot."""
        ident = quote_ident(column)
        # OFFSET 0 keeps the planner from answering min/max by walking `column`'s index and
        # filtering row by row (slow when `where` picks the newest rows of a big table).
        inner = f"SELECT {ident} AS v FROM {qualified(desc.schema, desc.table)} WHERE {where or 'TRUE'} OFFSET 0"
        (low, high), *_ = self.rows(f"SELECT min(v), max(v) FROM ({inner}) AS changed")
        return low, high

    def read(
        self, desc: TableDescription, where: str = "", text_columns: frozenset[str] = frozenset()
    ) -> pa.RecordBatchReader:
        """Stream `SELECT * FROM table [WHERE ...]` as batches in the stored types.

        Array columns are read as array<...> unless the warehouse keeps them as text
        (`text_columns`) or a value among these rows would not survive as a list.
        """
        import pyarrow as pa

        as_text = text_columns | set(self.irregular_arrays(desc, where))
        chosen = [pg_column(desc, c.name) for c in desc.columns]
        chosen = [c.read_as_text() if c.name in as_text else c for c in chosen]
        select = ", ".join(c.select_sql() for c in chosen)
        sql = f"SELECT {select} FROM {qualified(desc.schema, desc.table)}" + (f" WHERE {where}" if where else "")
        raw = self._stream(sql, self._batch_bytes)
        schema = pa.schema([pa.field(c.name, arrow_type(c, f.type)) for c, f in zip(chosen, raw.schema, strict=True)])

        def batches() -> Iterator[pa.RecordBatch]:
            for batch in raw:
                yield normalize_batch(batch, schema, self.value_notes)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _stream(self, sql: str, batch_bytes: int | None = None) -> pa.RecordBatchReader:
        import adbc_driver_manager
        import pyarrow as pa

        statement = adbc_driver_manager.AdbcStatement(self._conn)
        try:
            if batch_bytes:
                statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(batch_bytes)})
            statement.set_sql_query(sql)
            handle, _ = statement.execute_query()
            raw = pa.RecordBatchReader.from_stream(handle)
        except BaseException:
            statement.close()
            raise

        self._open[id(statement)] = (raw, statement)

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from raw
            finally:
                if self._open.pop(id(statement), None) is not None:
                    raw.close()
                    statement.close()

        return pa.RecordBatchReader.from_batches(raw.schema, batches())


def key_condition(desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
    """`"key" >= '...'::timestamptz AND "key" BETWEEN ...`: the value as a typed literal, and the
    key kept within what a cursor can hold (an `infinity` key would otherwise match every run)."""
    column = pg_column(desc, key)
    ident = quote_ident(key)
    condition = f"{ident} {op} {cursor_literal(value, column.type_name)}"
    limits = within_cursor_range(ident, column.type_name)
    return condition if limits == "TRUE" else f"{condition} AND {limits}"


def pg_column(desc: TableDescription, name: str) -> PgColumn:
    """A column of a table this reader described (so a `PgColumn`)."""
    column = desc.column(name)
    assert isinstance(column, PgColumn), name
    return column
