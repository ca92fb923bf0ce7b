"""PostgreSQL column types -> what we select and the Arrow type we store (README "Type mapping").

Types a Delta table cannot hold (time, interval, uuid, json, unconstrained numeric, enums,
network and geometric types...) are selected as `::text`, so the server renders them once
and the warehouse keeps an exact, readable string.

Values the warehouse cannot hold become NULL and are counted (`ValueNotes`), never wrapped or
crashed on: `NaN` in a `numeric(p, s)` column, and dates and timestamps outside years 1-9999:
PostgreSQL's `infinity`/`-infinity` (the binary protocol's markers wrap around the epoch shift
into year -28134), BC dates and far-future ones. A Delta table holding those can be written but
not read back by the deltalake Python reader (it parses file statistics as ISO dates), and
delta-rs cannot write dates after 262142.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from warehouse_sources.sources.base import ValueNotes
from warehouse_sources.sources.sql.dialect import quote_ident
from warehouse_sources.sources.values import FIRST_DAY, FIRST_US, LAST_DAY, LAST_US
from warehouse_sources.warehouse.state import KeyKind

if TYPE_CHECKING:
    import pyarrow as pa

NATIVE_SCALARS = {
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "bool",
    "text",
    "varchar",
    "bpchar",
    "name",
    "date",
    "timestamp",
    "timestamptz",
    "bytea",
}
NATIVE_ARRAY_ELEMENTS = {"int2", "int4", "int8", "float4", "float8", "bool", "text", "varchar"}
INTEGER_TYPES = frozenset({"int2", "int4", "int8"})
CURSOR_TYPES: dict[str, KeyKind] = {
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
}
CURSOR_TYPE_NAMES = ("smallint", "integer", "bigint", "date", "timestamp", "timestamp with time zone")
MAX_DECIMAL_PRECISION = 38


@dataclass(frozen=True)
class PgColumn:
    """A column as the catalog describes it (`type_name` is the base type's typname)."""

    name: str
    type_name: str
    type_sql: str
    typmod: int
    element_type: str | None = None
    as_text: bool = False  # read as the server's text form whatever the type (irregular arrays)

    @property
    def numeric_precision_scale(self) -> tuple[int, int] | None:
        if self.type_name != "numeric" or self.typmod < 4:
            return None
        packed = self.typmod - 4
        precision, scale = (packed >> 16) & 0xFFFF, packed & 0xFFFF
        return (precision, scale) if 0 < precision <= MAX_DECIMAL_PRECISION and scale <= precision else None

    @property
    def is_native(self) -> bool:
        if self.as_text:
            return False
        if self.type_name == "numeric":
            return self.numeric_precision_scale is not None
        if self.element_type is not None:
            return self.element_type in NATIVE_ARRAY_ELEMENTS
        return self.type_name in NATIVE_SCALARS

    @property
    def cursor_kind(self) -> KeyKind | None:
        return CURSOR_TYPES.get(self.type_name) if self.element_type is None else None

    @property
    def is_integer(self) -> bool:
        return self.type_name in INTEGER_TYPES and self.element_type is None

    @property
    def is_native_array(self) -> bool:
        """Stored as array<...>, as long as every value is one-dimensional with lower bound 1."""
        return self.is_native and self.element_type is not None

    def read_as_text(self) -> PgColumn:
        return replace(self, as_text=True)

    def select_sql(self) -> str:
        """`numeric(p, s)` is selected as text too: the driver's own numeric-to-string took 0.95 CPU-s
        per 2M values of ours against 0.27 for the server's text (bench/README.md), and the cast to
        decimal128(p, s) parses either the same way."""
        ident = quote_ident(self.name)
        native = self.is_native and self.numeric_precision_scale is None
        return ident if native else f"{ident}::text AS {ident}"


def arrow_type(column: PgColumn, received: pa.DataType) -> pa.DataType:
    """The Arrow type stored for `column`, given the type ADBC handed over."""
    import pyarrow as pa

    if column.numeric_precision_scale:
        return pa.decimal128(*column.numeric_precision_scale)
    if column.type_name in ("timestamp", "timestamptz"):
        return pa.timestamp("us", tz="UTC")
    if isinstance(received, pa.BaseExtensionType):
        return received.storage_type
    return received


def normalize_batch(batch: pa.RecordBatch, schema: pa.Schema, notes: ValueNotes | None = None) -> pa.RecordBatch:
    """Cast one batch from ADBC's types to the stored schema (no per-row Python).

    Values the stored type cannot hold become NULL, counted per column in `notes`.
    """
    import pyarrow as pa

    arrays = []
    for array, target in zip(batch.columns, schema, strict=True):
        if isinstance(array.type, pa.BaseExtensionType):
            array = array.storage
        array, what, count = _unrepresentable_to_null(array, target.type)
        if count and notes is not None:
            notes[(target.name, what)] += count
        arrays.append(array if array.type == target.type else array.cast(target.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _unrepresentable_to_null(array: pa.Array, target: pa.DataType) -> tuple[pa.Array, str, int]:
    """`array` with the values `target` cannot hold set to NULL, what they were, and how many."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(array.type):
        mask = _outside(array.cast(pa.int64()), FIRST_US, LAST_US)
        what = "infinity, or outside years 1-9999"
    elif pa.types.is_date32(array.type):
        mask = _outside(array.cast(pa.int32()), FIRST_DAY, LAST_DAY)
        what = "infinity, or outside years 1-9999"
    elif pa.types.is_decimal(target) and pa.types.is_string(array.type):
        mask = pc.or_(pc.equal(array, "NaN"), pc.equal(array, "nan"))  # the server's text, the driver's
        what = "NaN"
    else:
        return array, "", 0
    count = pc.sum(mask).as_py() or 0
    if not count:
        return array, what, 0
    return pc.if_else(mask, pa.scalar(None, array.type), array), what, count


def _outside(values: pa.Array, first: int, last: int) -> pa.Array:
    import pyarrow.compute as pc

    return pc.or_(pc.less(values, first), pc.greater(values, last))
