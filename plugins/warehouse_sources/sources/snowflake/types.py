"""Snowflake column types -> what we select and the Arrow type we store (README "Type mapping
(Snowflake -> Delta)").

Types come from INFORMATION_SCHEMA.COLUMNS.DATA_TYPE, where Snowflake writes every integer alias
(INT, BIGINT, ...) as NUMBER(38,0) and every string type as TEXT. The connector's Arrow batches
carry the physical type that fits each result chunk (a NUMBER(38,0) chunk may arrive as int8 or
int64, decimals as decimal128), so every batch is cast to the one declared type per column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from warehouse_sources.sources.sql.dialect import quote_ident
from warehouse_sources.warehouse.state import KeyKind

if TYPE_CHECKING:
    import pyarrow as pa

TIMESTAMP_TYPES = frozenset({"TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"})
MAX_INT64_DIGITS = 18  # every NUMBER(p,0) with p <= 18 fits int64
SEMI_STRUCTURED = frozenset({"VARIANT", "OBJECT", "ARRAY", "MAP"})
# Types the connector hands over as Arrow we cast ourselves; any other (GEOGRAPHY, VECTOR, a type
# newer than this list) is selected as Snowflake's own text, so no Arrow cast can fail on it.
READ_AS_IS = frozenset({"NUMBER", "FLOAT", "TEXT", "BOOLEAN", "DATE", "BINARY", "TIME"}) | TIMESTAMP_TYPES
CURSOR_TYPES: dict[str, KeyKind] = {
    "DATE": "date",
    "TIMESTAMP_NTZ": "timestamp",
    "TIMESTAMP_LTZ": "timestamp",
    "TIMESTAMP_TZ": "timestamp",
}
CURSOR_TYPE_NAMES = (
    "NUMBER(p,s) (INTEGER, BIGINT, NUMBER(12,2), ...)",
    "DATE",
    "TIMESTAMP_NTZ",
    "TIMESTAMP_LTZ",
    "TIMESTAMP_TZ",
)


@dataclass(frozen=True)
class SnowflakeColumn:
    """A column as INFORMATION_SCHEMA.COLUMNS describes it (`data_type` upper case, no width)."""

    name: str
    data_type: str
    precision: int | None = None
    scale: int | None = None

    @property
    def type_sql(self) -> str:
        if self.data_type == "NUMBER" and self.precision is not None:
            return f"NUMBER({self.precision},{self.scale or 0})"
        return self.data_type

    @property
    def is_whole_number(self) -> bool:
        return self.data_type == "NUMBER" and not self.scale

    @property
    def is_integer(self) -> bool:
        """Stored as int64 (NUMBER(p,0), p <= 18). Wider whole numbers are stored as decimal(p,0),
        whose file statistics delta-rs clamps to the int64 range, so no MERGE is pruned by them."""
        return self.is_whole_number and (self.precision or 38) <= MAX_INT64_DIGITS

    @property
    def cursor_kind(self) -> KeyKind | None:
        if self.is_whole_number:
            return "int"
        if self.data_type == "NUMBER":
            return "decimal"
        return CURSOR_TYPES.get(self.data_type)

    @property
    def is_native_array(self) -> bool:
        return False  # ARRAY values are stored as JSON text

    def select_sql(self) -> str:
        """The column in the SELECT list: as is, semi-structured values as compact JSON text, and any
        other type as Snowflake's text for it."""
        ident = quote_ident(self.name)
        if self.data_type in SEMI_STRUCTURED:
            return f"TO_JSON({ident}) AS {ident}"
        return ident if self.data_type in READ_AS_IS else f"TO_VARCHAR({ident}) AS {ident}"


def arrow_type(column: SnowflakeColumn) -> pa.DataType:
    """The Arrow type stored for `column` (what the README's table says)."""
    import pyarrow as pa

    if column.data_type == "NUMBER":
        precision, scale = column.precision or 38, column.scale or 0
        return pa.int64() if column.is_integer else pa.decimal128(precision, scale)
    if column.data_type in TIMESTAMP_TYPES:
        return pa.timestamp("us", tz="UTC")
    simple = {"FLOAT": pa.float64(), "BOOLEAN": pa.bool_(), "DATE": pa.date32(), "BINARY": pa.binary()}
    return simple.get(column.data_type, pa.string())  # TEXT, JSON text, TIME, GEOGRAPHY, any type not listed


def to_arrow(values: pa.Array, target: pa.DataType) -> pa.Array:
    """One column of a fetched batch as `target` (the connector's physical type varies by chunk)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.type == target:
        return values
    if pa.types.is_timestamp(target):
        if values.type.tz is None:  # NTZ: UTC wall clock
            values = values.cast(pa.timestamp(values.type.unit, tz="UTC"))
        return pc.cast(values, target, safe=False)  # nanoseconds truncated to Delta's microseconds
    if pa.types.is_string(target) and pa.types.is_time(values.type):
        return values.cast(pa.time64("us"), safe=False).cast(pa.string())
    return values.cast(target)


def normalize_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """A fetched batch in the stored types, columns in the table's order."""
    import pyarrow as pa

    arrays = [to_arrow(batch.column(i), field.type) for i, field in enumerate(schema)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
