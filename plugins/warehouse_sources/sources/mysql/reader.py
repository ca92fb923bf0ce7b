"""Stream a MySQL or MariaDB table as Arrow batches through asyncmy's unbuffered cursor.

One connection per sync, one `START TRANSACTION WITH CONSISTENT SNAPSHOT` per cursor read, so
the key bounds, the checks and the rows streamed see one state of the table (InnoDB). The
statements are the SQL table reader's (sources/sql/) in the MySQL dialect. asyncmy
(driver.py) parses rows in C inside that snapshot; connectorx opens connections of its own (so
it cannot share the snapshot) and panics on a zero date, so it is not used (README).

Rows come as the server's text, a bounded chunk at a time, and each column is cast by Arrow:
chunks are sized from the previous one so a batch stays under `batch_bytes` and `batch_rows`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.mysql.dialect import MySQLDialect
from warehouse_sources.sources.mysql.driver import Connection
from warehouse_sources.sources.mysql.params import MySQLParams
from warehouse_sources.sources.mysql.types import CURSOR_TYPE_NAMES, MySQLColumn, arrow_type, rows_to_batch
from warehouse_sources.sources.sql.reader import SqlTableReader

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


class MySQLReader(SqlTableReader[MySQLColumn]):
    """A connection to one MySQL/MariaDB server, used as a context manager (a `SourceReader`)."""

    dialect = MySQLDialect()
    cursor_type_names = CURSOR_TYPE_NAMES

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

    def describe(self, schema: str, table: str) -> TableDescription | None:
        return self.dialect.describe(self.rows, schema, table)

    def close_snapshot(self) -> None:
        """A read left unfinished is not drained (that could mean the rest of a big table): the
        connection is closed, which ends the transaction, and opened again."""
        if self._abandon_stream():
            self._connect()
        else:
            super().close_snapshot()

    def stream(self, statement: str, columns: Sequence[MySQLColumn]) -> pa.RecordBatchReader:
        import pyarrow as pa

        schema = pa.schema([pa.field(c.name, arrow_type(c)) for c in columns])
        return pa.RecordBatchReader.from_batches(schema, self._batches(statement, schema))

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
