"""Stream a PostgreSQL table as Arrow batches through ADBC (which reads with binary COPY).

One connection per sync, one REPEATABLE READ snapshot per cursor read, so the cursor bounds and
the rows streamed are the same view of the table. The driver manager's low-level API is used,
not its DB-API layer, which would import pandas (+80 MB and 2 s per task) for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine.state import CursorValue
from warehouse_sources.sources.postgres.catalog import TableDescription, describe_table
from warehouse_sources.sources.postgres.sql import cursor_literal, qualified, quote_ident
from warehouse_sources.sources.postgres.types import arrow_type, normalize_batch

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
    """A connection to one source database, used as a context manager."""

    def __init__(self, uri: str, *, batch_bytes: int = BATCH_BYTES) -> None:
        self._uri = uri
        self._batch_bytes = batch_bytes
        self._database: Any = None
        self._conn: Any = None
        self._open: dict[int, tuple[Any, Any]] = {}  # streams not read to the end: (stream, statement)

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

    def begin_snapshot(self) -> None:
        self.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def end_snapshot(self) -> None:
        """End the read-only snapshot. Never raises: after a dropped connection the ROLLBACK
        fails too, and its error must not hide the one that explains the failure."""
        try:
            self.execute("ROLLBACK")
        except Exception:  # nothing was written in a read-only snapshot
            pass

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        """(max key at or above `lower`, rows whose key is NULL) in the current snapshot."""
        ident, table = quote_ident(key), qualified(desc.schema, desc.table)
        where = f" WHERE {key_condition(desc, key, '>=', lower)}" if lower is not None else ""
        sql = f"SELECT (SELECT max({ident}) FROM {table}{where}), (SELECT count(*) FROM {table} WHERE {ident} IS NULL)"
        (upper, nulls), *_ = self.rows(sql)
        return upper, int(nulls)

    def value_range(self, desc: TableDescription, column: str, where: str) -> tuple[Any, Any]:
        """(min, max) of `column` over the rows matching `where`, in the current snapshot."""
        ident = quote_ident(column)
        # OFFSET 0 keeps the planner from answering min/max by walking `column`'s index and
        # filtering row by row (slow when `where` picks the newest rows of a big table).
        inner = f"SELECT {ident} AS v FROM {qualified(desc.schema, desc.table)} WHERE {where} OFFSET 0"
        (low, high), *_ = self.rows(f"SELECT min(v), max(v) FROM ({inner}) AS changed")
        return low, high

    def read(self, desc: TableDescription, where: str = "", columns: list[str] | None = None) -> pa.RecordBatchReader:
        """Stream `SELECT <columns> FROM table [WHERE ...]` as batches in the stored types."""
        import pyarrow as pa

        chosen = [c for c in desc.columns if columns is None or c.name in columns]
        select = ", ".join(c.select_sql() for c in chosen)
        sql = f"SELECT {select} FROM {qualified(desc.schema, desc.table)}" + (f" WHERE {where}" if where else "")
        raw = self._stream(sql, self._batch_bytes)
        schema = pa.schema([pa.field(c.name, arrow_type(c, f.type)) for c, f in zip(chosen, raw.schema, strict=True)])

        def batches() -> Iterator[pa.RecordBatch]:
            for batch in raw:
                yield normalize_batch(batch, schema)

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
    """`"key" >= '...'::timestamptz`, the value rendered as a typed literal."""
    column = desc.column(key)
    assert column is not None
    return f"{quote_ident(key)} {op} {cursor_literal(value, column.type_name)}"
