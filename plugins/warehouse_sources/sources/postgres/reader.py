"""Stream a PostgreSQL table as Arrow batches through ADBC (which reads with binary COPY).

One connection per sync, one REPEATABLE READ snapshot per cursor read (the dialect's `begin_sql`),
so the cursor bounds and the rows streamed are the same view of the table. The statements are the
SQL table reader's (sources/sql/); this module connects and streams. The driver manager's low-level
API is used, not its DB-API layer, which would import pandas (+80 MB and 2 s per task) for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.postgres.dialect import PostgresDialect
from warehouse_sources.sources.postgres.types import CURSOR_TYPE_NAMES, PgColumn, arrow_type, normalize_batch
from warehouse_sources.sources.sql.reader import SqlTableReader

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_BYTES = 2 * 1024 * 1024  # per ADBC batch: small batches keep peak memory low at the same speed
SESSION_SQL = (
    "SET TIME ZONE 'UTC'",
    "SET intervalstyle = iso_8601",
    "SET standard_conforming_strings = on",
    "SET application_name = 'warehouse-sources'",
)


class PostgresReader(SqlTableReader[PgColumn]):
    """A connection to one source database, used as a context manager (a `SourceReader`)."""

    dialect = PostgresDialect()
    cursor_type_names = CURSOR_TYPE_NAMES

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
        return self.dialect.describe(self.rows, schema, table)

    def irregular_arrays(self, desc: TableDescription, where: str) -> list[str]:
        """Array columns holding a value Arrow's list cannot keep as is among the rows matching `where`."""
        arrays = [c.name for c in desc.columns if c.is_native_array]
        if not arrays:
            return []
        (flags, *_) = self.rows(self.dialect.irregular_arrays_sql(desc, arrays, where))
        return [name for name, irregular in zip(arrays, flags, strict=True) if irregular]

    def read_columns(self, desc: TableDescription, where: str, text_columns: frozenset[str]) -> list[PgColumn]:
        """Array columns are read as array<...> unless the warehouse keeps them as text
        (`text_columns`) or a value among these rows would not survive as a list."""
        as_text = text_columns | set(self.irregular_arrays(desc, where))
        chosen = super().read_columns(desc, where, text_columns)
        return [c.read_as_text() if c.name in as_text else c for c in chosen]

    def stream(self, statement: str, columns: Sequence[PgColumn]) -> pa.RecordBatchReader:
        import pyarrow as pa

        raw = self._stream(statement, self._batch_bytes)
        schema = pa.schema([pa.field(c.name, arrow_type(c, f.type)) for c, f in zip(columns, raw.schema, strict=True)])

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
