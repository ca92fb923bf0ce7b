"""PostgreSQL column types -> what we select and the Arrow type we store (README "Type mapping").

Types a Delta table cannot hold (time, interval, uuid, json, unconstrained numeric, enums,
network and geometric types...) are selected as `::text`, so the server renders them once
and the warehouse keeps an exact, readable string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from warehouse_sources.sources.postgres.sql import quote_ident

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
CURSOR_TYPES = {
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
}
CURSOR_TYPE_NAMES = ["smallint", "integer", "bigint", "date", "timestamp", "timestamp with time zone"]
MAX_DECIMAL_PRECISION = 38


@dataclass(frozen=True)
class PgColumn:
    """A column as the catalog describes it (`type_name` is the base type's typname)."""

    name: str
    type_name: str
    type_sql: str
    typmod: int
    element_type: str | None = None

    @property
    def numeric_precision_scale(self) -> tuple[int, int] | None:
        if self.type_name != "numeric" or self.typmod < 4:
            return None
        packed = self.typmod - 4
        precision, scale = (packed >> 16) & 0xFFFF, packed & 0xFFFF
        return (precision, scale) if 0 < precision <= MAX_DECIMAL_PRECISION and scale <= precision else None

    @property
    def is_native(self) -> bool:
        if self.type_name == "numeric":
            return self.numeric_precision_scale is not None
        if self.element_type is not None:
            return self.element_type in NATIVE_ARRAY_ELEMENTS
        return self.type_name in NATIVE_SCALARS

    def select_sql(self) -> str:
        ident = quote_ident(self.name)
        return ident if self.is_native else f"{ident}::text AS {ident}"


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


def normalize_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Cast one batch from ADBC's types to the stored schema (no per-row Python)."""
    import pyarrow as pa

    arrays = []
    for array, target in zip(batch.columns, schema, strict=True):
        if isinstance(array.type, pa.BaseExtensionType):
            array = array.storage
        arrays.append(array if array.type == target.type else array.cast(target.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
