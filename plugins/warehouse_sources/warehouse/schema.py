"""Schema drift between a source and its synced table (DESIGN §4.5).

New source columns are added; a source column that got wider widens the table (rewritten
once, in one commit); a narrower one is cast up to the table's type; integers meeting a
table's double or decimal column are cast to it value by value, exactly or not at all (a
bucket file's whole-number amounts next to a table of fractions is not drift, 2**53 + 1 in a
double is an error); anything else is an error that says what changed and that a resync fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

METADATA_PREFIX = "_ws_"
_INT_ORDER = ["int8", "int16", "int32", "int64"]


@dataclass
class SchemaPlan:
    """How to bring source batches and the table together."""

    incoming: pa.Schema
    widen: dict[str, pa.DataType] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def canonical(type_: pa.DataType) -> pa.DataType:
    """Collapse Arrow's several layouts of one logical type (string/large_string/string_view...)."""
    import pyarrow as pa

    if pa.types.is_large_string(type_) or pa.types.is_string_view(type_):
        return pa.string()
    if pa.types.is_large_binary(type_) or pa.types.is_binary_view(type_):
        return pa.binary()
    if pa.types.is_large_list(type_) or pa.types.is_list_view(type_):
        return pa.list_(canonical(type_.value_type))
    if pa.types.is_list(type_):
        return pa.list_(canonical(type_.value_type))
    return type_


def is_widening(old: pa.DataType, new: pa.DataType) -> bool:
    """True when every value of `old` fits `new` exactly (the type widenings Delta allows)."""
    import pyarrow as pa

    if pa.types.is_integer(old) and pa.types.is_integer(new):
        if str(old) not in _INT_ORDER or str(new) not in _INT_ORDER:
            return False
        return _INT_ORDER.index(str(old)) < _INT_ORDER.index(str(new))
    if pa.types.is_integer(old) and pa.types.is_float64(new):
        return str(old) in ("int8", "int16", "int32")
    if pa.types.is_float32(old) and pa.types.is_float64(new):
        return True
    if pa.types.is_decimal(old) and pa.types.is_decimal(new):
        return new.scale >= old.scale and new.precision - new.scale >= old.precision - old.scale and old != new
    if pa.types.is_timestamp(old) and pa.types.is_timestamp(new):  # naive = UTC wall clock, same values
        return old.tz is None and new.tz == "UTC" and old.unit == new.unit
    return pa.types.is_date32(old) and pa.types.is_timestamp(new)


def takes_exactly(table: pa.DataType, source: pa.DataType) -> bool:
    """True when the table's column takes the source's values that it holds exactly, checked as
    they are cast (`cast_reader`): integers into a double or a decimal column."""
    import pyarrow as pa

    return pa.types.is_integer(source) and (pa.types.is_float64(table) or pa.types.is_decimal(table))


def plan_schema(table: pa.Schema, source: pa.Schema) -> SchemaPlan:
    """Compare the synced table's schema with the source's, column by column."""
    import pyarrow as pa

    existing = {f.name: canonical(f.type) for f in table}
    plan = SchemaPlan(incoming=source)
    fields = []
    for column in source:
        old, new = existing.get(column.name), canonical(column.type)
        if old is None or old == new:
            fields.append(column)
        elif is_widening(old, new):
            plan.widen[column.name] = new
            fields.append(column)
        elif is_widening(new, old) or takes_exactly(old, new):
            fields.append(column.with_type(old))
        elif pa.types.is_list(old) and pa.types.is_string(new):
            plan.problems.append(
                f"column {column.name!r} now holds arrays a list cannot keep (several dimensions, or a lower "
                f"bound other than 1), so it must be stored as array text instead of {old}"
            )
        else:
            plan.problems.append(f"column {column.name!r} changed type from {old} to {new}")
    plan.incoming = pa.schema(fields)
    return plan


def cast_reader(data: pa.RecordBatchReader, schema: pa.Schema) -> pa.RecordBatchReader:
    """`data` with every batch cast to `schema` (same column names and order); a value the target
    type cannot hold exactly fails naming the column."""
    import pyarrow as pa

    if data.schema.equals(schema):
        return data
    return pa.RecordBatchReader.from_batches(schema, (_cast_batch(batch, schema) for batch in data))


def _cast_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    import pyarrow as pa

    arrays = []
    for array, target in zip(batch.columns, schema, strict=True):
        try:
            arrays.append(_cast(array, target.type))
        except pa.ArrowInvalid as exc:
            raise pa.ArrowInvalid(
                f"column {target.name!r}: a {array.type} value cannot be stored exactly in the table's "
                f"{target.type} column: {exc}"
            ) from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _cast(array: pa.Array, target: pa.DataType) -> pa.Array:
    import pyarrow as pa

    if array.type == target:
        return array
    if pa.types.is_integer(array.type) and pa.types.is_decimal(target):  # via 38 digits: checked per value
        array = array.cast(pa.decimal128(38, 0))
    return array.cast(target)
