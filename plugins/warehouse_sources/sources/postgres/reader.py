"""Stream a PostgreSQL table as Arrow batches through ADBC (which reads with binary COPY).

One connection per sync, one REPEATABLE READ snapshot per read, so the cursor bounds and the
rows streamed are the same view of the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.postgres.catalog import TableDescription, describe_table
from warehouse_sources.sources.postgres.sql import cursor_literal, qualified, quote_ident
from warehouse_sources.sources.postgres.types import arrow_type, normalize_batch
from warehouse_sources.state import CursorValue

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_BYTES = 8 * 1024 * 1024
SESSION_SQL = ("SET TIME ZONE 'UTC'", "SET intervalstyle = iso_8601", "SET application_name = 'warehouse-sources'")


class PostgresReader:
    """A connection to one source database, used as a context manager."""

    def __init__(self, uri: str, *, batch_bytes: int = BATCH_BYTES) -> None:
        self._uri = uri
        self._batch_bytes = batch_bytes
        self._conn: Any = None

    def __enter__(self) -> PostgresReader:
        import adbc_driver_postgresql.dbapi as adbc

        self._conn = adbc.connect(self._uri, autocommit=True)
        with self._conn.cursor() as cur:
            for statement in SESSION_SQL:
                cur.execute(statement)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def describe(self, schema: str, table: str) -> TableDescription | None:
        with self._conn.cursor() as cur:
            return describe_table(cur, schema, table)

    def begin_snapshot(self) -> None:
        with self._conn.cursor() as cur:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def end_snapshot(self) -> None:
        with self._conn.cursor() as cur:
            cur.execute("ROLLBACK")

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        """(max key at or above `lower`, rows whose key is NULL) in the current snapshot."""
        ident, table = quote_ident(key), qualified(desc.schema, desc.table)
        where = f" WHERE {ident} >= {cursor_literal(lower, _type(desc, key))}" if lower is not None else ""
        sql = f"SELECT (SELECT max({ident}) FROM {table}{where}), (SELECT count(*) FROM {table} WHERE {ident} IS NULL)"
        with self._conn.cursor() as cur:
            cur.execute(sql)
            upper, nulls = cur.fetchone()
        return upper, int(nulls)

    def read(self, desc: TableDescription, where: str = "", columns: list[str] | None = None) -> pa.RecordBatchReader:
        """Stream `SELECT <columns> FROM table [WHERE ...]` as batches in the stored types."""
        import pyarrow as pa

        chosen = [c for c in desc.columns if columns is None or c.name in columns]
        select = ", ".join(c.select_sql() for c in chosen)
        sql = f"SELECT {select} FROM {qualified(desc.schema, desc.table)}" + (f" WHERE {where}" if where else "")
        cur = self._conn.cursor()
        cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(self._batch_bytes)})
        cur.execute(sql)
        raw = cur.fetch_record_batch()
        schema = pa.schema([pa.field(c.name, arrow_type(c, f.type)) for c, f in zip(chosen, raw.schema, strict=True)])

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for batch in raw:
                    yield normalize_batch(batch, schema)
            finally:
                cur.close()

        return pa.RecordBatchReader.from_batches(schema, batches())


def key_condition(desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
    """`"key" >= '...'::timestamptz`, the value rendered as a typed literal."""
    return f"{quote_ident(key)} {op} {cursor_literal(value, _type(desc, key))}"


def _type(desc: TableDescription, key: str) -> str:
    column = desc.column(key)
    assert column is not None
    return column.type_name
