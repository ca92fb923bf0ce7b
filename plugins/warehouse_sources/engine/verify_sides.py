"""The two sides a deep verification compares: the source table (its SQL) and the Delta table (DuckDB).

Both hash the same columns rendered the same way (sources/sql/checksum.py) over the same rows: at
or below the stored cursor for a cursor table, and only the live (not tombstoned) warehouse rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import checks
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.state import CursorValue, as_utc

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

    from warehouse_sources.sources.base import SourceReader, TableDescription

DELETED_AT = "_ws_deleted_at"
Sums = list[tuple[int, int]]  # (rows, hash sum) per range


def rendering_of(kind: pa.DataType) -> tuple[str, tuple[int, int] | None] | None:
    """How a warehouse column type is rendered in the row text; None: left out of the hash."""
    import pyarrow as pa

    checks_ = (
        (pa.types.is_integer, "int"),
        (pa.types.is_string, "text"),
        (pa.types.is_large_string, "text"),
        (pa.types.is_timestamp, "timestamp"),
        (pa.types.is_date, "date"),
        (pa.types.is_boolean, "bool"),
    )
    for test, family in checks_:
        if test(kind):
            return family, None
    if pa.types.is_decimal(kind):
        return "decimal", (kind.precision, kind.scale)
    return None


def _duck_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def warehouse_view(table: DeltaTable, wanted: set[str]) -> Any:
    """A DuckDB connection whose view `wh` holds the table's rows (the `wanted` columns at least).

    Bounded like the deletion check's anti-join: the scan streams, the sums are small. A local
    table's files are read by DuckDB's own Parquet scan (pyarrow's scan of a 2M-row table held
    300 MB more), each column in the table's type: files written before a widening hold the
    narrower one. Object stores go through pyarrow's dataset, whose S3 client ships in its wheel
    (DuckDB's httpfs is a download)."""
    import duckdb
    import pyarrow as pa

    from warehouse_sources.warehouse.storage import is_object_store

    con = duckdb.connect(config={"memory_limit": "256MB", "threads": 2})
    con.execute("SET TimeZone = 'UTC'")
    files = table.file_uris()
    if is_object_store(table.table_uri) or not files:
        con.register("wh", table.to_pyarrow_dataset())
        return con
    picked = [f for f in pa.schema(table.schema().to_arrow()) if f.name in wanted]
    select = ", ".join(f"{_duck_cast(f)} AS {_duck_ident(f.name)}" for f in picked)
    listed = ", ".join(_duck_string(path) for path in files)
    con.execute(f"CREATE VIEW wh AS SELECT {select} FROM read_parquet([{listed}], union_by_name = true)")
    return con


def _duck_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _duck_cast(field: pa.Field) -> str:
    """The column in the table's type where the rendering depends on it (a decimal's scale, a
    timestamp's zone); integers, text, dates and booleans render the same at any width."""
    import pyarrow as pa

    kind, ident = field.type, _duck_ident(field.name)
    if pa.types.is_decimal(kind):
        return f"CAST({ident} AS DECIMAL({kind.precision}, {kind.scale}))"
    if pa.types.is_timestamp(kind):
        return f"CAST({ident} AS {'TIMESTAMPTZ' if kind.tz else 'TIMESTAMP'})"
    return ident


def _duck_literal(value: CursorValue) -> str:
    if isinstance(value, datetime):
        return f"TIMESTAMPTZ '{as_utc(value).isoformat()}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return str(value)


@dataclass
class Pair:
    reader: Any  # a SQL reader with `range_checksums`
    desc: TableDescription
    table: DeltaTable
    key: str
    int_key: bool
    columns: list[tuple[str, tuple[str, tuple[int, int] | None]]]
    unchecked: list[str]
    source_where: str
    warehouse_where: str
    cursor_column: str | None = None  # the replication key the cursor filters compare

    def __post_init__(self) -> None:
        wanted = {name for name, _ in self.columns} | {self.key, DELETED_AT, self.cursor_column or ""}
        self.con = warehouse_view(self.table, wanted)

    def _within(self, ranges: list[tuple[int, int]] | None, ident: str, base: str) -> str:
        if not ranges:
            return base
        spans = " OR ".join(f"({ident} >= {lo} AND {ident} < {hi})" for lo, hi in ranges)
        return f"({base or 'TRUE'}) AND ({spans})"

    def sums(self, bounds: list[int], ranges: list[tuple[int, int]] | None) -> Sums:
        where = self._within(ranges, self.reader.dialect.ident(self.key), self.source_where)
        found = self.reader.range_checksums(self.desc, self.columns, self.key, bounds, where)
        return [found.get(i, (0, 0)) for i in range(len(bounds) + 1)]

    def warehouse_sums(self, bounds: list[int], ranges: list[tuple[int, int]] | None) -> Sums:
        from warehouse_sources.sources.sql.checksum import DUCKDB, bucket_sql, row_hash_sql

        key = _duck_ident(self.key)
        where = self._within(ranges, key, self.warehouse_where) or "TRUE"
        bucket = bucket_sql(key, [str(b) for b in bounds])
        hashed = row_hash_sql(DUCKDB, self.columns, _duck_ident)
        sql = f"SELECT b, COUNT(*), SUM(h) FROM (SELECT {bucket} AS b, {hashed} AS h FROM wh WHERE {where}) GROUP BY b"
        found = {int(b): (int(n), int(h or 0)) for b, n, h in self.con.execute(sql).fetchall()}
        return [found.get(i, (0, 0)) for i in range(len(bounds) + 1)]

    def key_span(self) -> tuple[int, int] | None:
        """The smallest and largest key on either side, for an integer key."""
        if not self.int_key:
            return None
        low, high = self.reader.value_range(self.desc, self.key, self.source_where)
        key = _duck_ident(self.key)
        w_low, w_high = self.con.execute(
            f"SELECT MIN({key}), MAX({key}) FROM wh WHERE {self.warehouse_where or 'TRUE'}"
        ).fetchone() or (None, None)
        lows = [int(v) for v in (low, w_low) if v is not None]
        highs = [int(v) for v in (high, w_high) if v is not None]
        return (min(lows), max(highs)) if lows else None


def open_pair(reader: SourceReader, plan: TablePlan, table: DeltaTable | None) -> Pair | str | None:
    """Both sides of `plan`'s table, or why it cannot be verified (None: no warehouse table)."""
    import pyarrow as pa

    if table is None:
        return None
    from warehouse_sources.sources.sql.checksum import renderings_of

    if getattr(reader, "range_checksums", None) is None or renderings_of(reader) is None:
        return "the deep verification speaks PostgreSQL and MySQL/MariaDB only so far"
    desc = checks.require_table(reader.describe(plan.schema, plan.table), plan, [])
    keys = plan.primary_key or desc.primary_key
    if not keys:
        return "the table has no primary key to cut ranges on; declare primary_key"
    stored = pa.schema(table.schema().to_arrow())
    columns, unchecked = [], []
    for column in desc.columns:
        kind = stored.field(column.name).type if column.name in stored.names else None
        rendering = rendering_of(kind) if kind is not None else None
        (columns.append((column.name, rendering)) if rendering else unchecked.append(column.name))
    state = delta.read_state(table)
    source_where, warehouse_where = cursor_filters(reader, desc, plan, state)
    if DELETED_AT in stored.names:
        warehouse_where = f"({warehouse_where or 'TRUE'}) AND {_duck_ident(DELETED_AT)} IS NULL"
    int_key = getattr(desc.column(keys[0]), "cursor_kind", None) == "int"
    return Pair(
        reader, desc, table, keys[0], int_key, columns, unchecked, source_where, warehouse_where, plan.replication_key
    )


def cursor_filters(reader: Any, desc: TableDescription, plan: TablePlan, state: Any) -> tuple[str, str]:
    """A cursor table is compared at or below its stored cursor, on both sides."""
    key = plan.replication_key
    if plan.method == "full_table" or key is None or state is None or state.cursor is None:
        return "", ""
    source = reader.key_condition(desc, key, "<=", state.cursor)
    return source, f"{_duck_ident(key)} <= {_duck_literal(state.cursor)}"
