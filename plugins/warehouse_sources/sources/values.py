"""Values every kind stores the same way, whatever its reader: one rule, kept in one place.

- Dates and timestamps outside years 1-9999 become NULL and are counted (`ValueNotes`): a Delta
  table holding them can be written but not read back by the deltalake Python reader (it parses
  file statistics as ISO dates), and delta-rs cannot write dates after year 262142.
- Naive timestamps are UTC wall clocks: stored as `timestamp` (UTC), never Delta's
  `timestamp_ntz`, which raises the table's protocol (reader 3 / writer 7) for every reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.base import ValueNotes

if TYPE_CHECKING:
    import pyarrow as pa

# Years 1-9999, relative to 1970-01-01, in days and in microseconds.
FIRST_DAY, LAST_DAY = -719_162, 2_932_896
FIRST_US, LAST_US = FIRST_DAY * 86_400_000_000, (LAST_DAY + 1) * 86_400_000_000 - 1
OUTSIDE_YEARS = "outside years 1-9999"
US_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}


def storable_batch(batch: pa.RecordBatch, notes: ValueNotes) -> pa.RecordBatch:
    """`batch` with naive timestamps as UTC and far dates and timestamps NULL (counted in `notes`)."""
    import pyarrow as pa

    arrays, fields = [], []
    for array, field in zip(batch.columns, batch.schema, strict=True):
        array = utc_wall_clock(array)
        array, count = far_dates_to_null(array)
        if count:
            notes[(field.name, OUTSIDE_YEARS)] += count
        arrays.append(array)
        fields.append(field.with_type(array.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=batch.schema.metadata))


def storable_type(type_: pa.DataType) -> pa.DataType:
    """The type `storable_batch` gives a column of `type_`."""
    import pyarrow as pa

    if pa.types.is_timestamp(type_) and type_.tz is None:
        return pa.timestamp(type_.unit, tz="UTC")
    return type_


def utc_wall_clock(array: pa.Array) -> pa.Array:
    """A naive timestamp array as UTC: the same wall-clock values, labelled UTC (no shift)."""
    import pyarrow as pa

    if pa.types.is_timestamp(array.type) and array.type.tz is None:
        return array.cast(pa.timestamp(array.type.unit, tz="UTC"))
    return array


def far_dates_to_null(array: pa.Array) -> tuple[pa.Array, int]:
    """`array` with its dates or timestamps outside years 1-9999 set to NULL, and how many."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(array.type):
        if array.type.unit not in US_PER_UNIT:  # int64 nanoseconds span years 1677-2262: all inside
            return array, 0
        per = US_PER_UNIT[array.type.unit]
        first, last, values = FIRST_US // per, LAST_US // per, array.cast(pa.int64())
    elif pa.types.is_date32(array.type):
        first, last, values = FIRST_DAY, LAST_DAY, array.cast(pa.int32())
    else:
        return array, 0
    # One min/max pass settles almost every batch: building the mask (four kernels, three arrays)
    # for each timestamp column cost 0.4 CPU-s per 2M bucket rows, all of them in range.
    bounds = pc.min_max(values)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None or (low >= first and high <= last):
        return array, 0
    mask = pc.or_(pc.less(values, first), pc.greater(values, last))
    count = pc.sum(mask).as_py() or 0
    if not count:
        return array, 0
    return pc.if_else(mask, pa.scalar(None, array.type), array), count
