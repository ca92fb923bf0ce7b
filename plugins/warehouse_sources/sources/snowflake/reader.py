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
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.snowflake.dialect import SnowflakeDialect, time_travel
from warehouse_sources.sources.snowflake.params import connect_kwargs_from_uri
from warehouse_sources.sources.snowflake.types import CURSOR_TYPE_NAMES, SnowflakeColumn, arrow_type, normalize_batch
from warehouse_sources.sources.sql.reader import SqlTableReader

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


class SnowflakeReader(SqlTableReader[SnowflakeColumn]):
    """A connection to one Snowflake database, used as a context manager (a `SourceReader`)."""

    dialect = SnowflakeDialect()
    cursor_type_names = CURSOR_TYPE_NAMES

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
        desc = self.dialect.describe(self.rows, self.records, schema, table)
        if desc is not None:
            self._pinned[(schema, table)] = self._can_pin(desc)
        return desc

    def begin_snapshot(self) -> None:
        """Open a transaction and take its first statement's query id as the Time Travel point."""
        super().begin_snapshot()
        self._snapshot_id = self.execute("SELECT CURRENT_TIMESTAMP()")

    def close_snapshot(self) -> None:
        self._snapshot_id = None
        super().close_snapshot()

    def stream(self, statement: str, columns: Sequence[SnowflakeColumn]) -> pa.RecordBatchReader:
        import pyarrow as pa

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

    def table_sql(self, desc: TableDescription) -> str:
        """The table in FROM: pinned to the snapshot's point when inside one and Time Travel reaches it."""
        name = super().table_sql(desc)
        if self._snapshot_id is None or not self._pinned.get((desc.schema, desc.table)):
            return name
        return f"{name} {time_travel(self._snapshot_id)}"

    def _can_pin(self, desc: TableDescription) -> bool:
        """Whether the table can be read as of a statement (Time Travel); a warning when not."""
        name = super().table_sql(desc)
        try:
            point = self.execute("SELECT 1")
            if point is None:
                raise ValueError("the server gave no query id")
            self.rows(f"SELECT 1 FROM {name} {time_travel(point)} LIMIT 0")
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
