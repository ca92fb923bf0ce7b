"""One comparable form for a value read from PostgreSQL (psycopg) and from the warehouse (pyarrow).

Dates and timestamps become day and microsecond counts (`Stamp`), so years Python cannot hold
(BC, beyond 9999) compare exactly; floats become their repr (`Flt`), so NaN equals NaN and -0.0
stays -0.0; numerics compare as Decimal values (a widened scale keeps them equal); arrays become
tuples. The source side reads every column through SQL written here, never the engine's reader.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.reliability.differential_types import PgType

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
STORED_DAYS = ((datetime(1, 1, 1, tzinfo=UTC) - EPOCH).days, (datetime(9999, 12, 31, tzinfo=UTC) - EPOCH).days)
STORED_US = (STORED_DAYS[0] * DAY_US, (STORED_DAYS[1] + 1) * DAY_US - 1)
INFINITE = frozenset({"infinity", "-infinity"})
NUMERIC_SPECIALS = frozenset({"NaN", "Infinity", "-Infinity"})
ARROW_TYPES = {
    "int8": "int8",  # MySQL's TINYINT
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "numeric_text": "string",
    "float32": "float",
    "float64": "double",
    "bool": "bool",
    "string": "string",
    "binary": "binary",
    "date": "date32[day]",
    "timestamp": "timestamp[us, tz=UTC]",
    "text": "string",
}


@dataclass(frozen=True)
class Stamp:
    """A date (days since 1970) or a timestamp (microseconds since 1970, UTC)."""

    kind: str
    n: int

    def __repr__(self) -> str:
        try:
            moment = EPOCH + timedelta(microseconds=self.n * (DAY_US if self.kind == "date" else 1))
            return f"{self.kind} {moment.date() if self.kind == 'date' else moment.isoformat()}"
        except OverflowError:
            return f"{self.kind} {self.n} {'days' if self.kind == 'date' else 'us'} from 1970"


@dataclass(frozen=True)
class Flt:
    """A float by its repr: NaN equals NaN, -0.0 is not 0.0."""

    text: str

    def __repr__(self) -> str:
        return f"float {self.text}"


def flt(value: float, width: int) -> Flt:
    if width == 32:
        value = struct.unpack("f", struct.pack("f", value))[0]
    return Flt(repr(value))


# --- the source side: SQL per column, then the documented mapping in Python ---------------------


def read_sql(ident: str, pg: PgType) -> str:
    """What the snapshot selects for one column (psycopg reads it)."""
    if pg.storage == "date":
        return f"CASE WHEN isfinite({ident}) THEN ({ident} - DATE '1970-01-01')::text ELSE {ident}::text END"
    if pg.storage == "timestamp":
        epoch = f"(extract(epoch FROM {ident}) * 1000000)::numeric(30,0)::text"
        return f"CASE WHEN isfinite({ident}) THEN {epoch} ELSE {ident}::text END"
    if pg.storage in ("decimal", "numeric_text", "text"):
        return f"{ident}::text"
    return ident


def plain_sql(ident: str) -> str:
    """True when an array value survives as a list: one dimension from 1, empty, or NULL."""
    return f"(array_ndims({ident}) IS NULL OR (array_ndims({ident}) = 1 AND array_lower({ident}, 1) = 1))"


def key_sql(ident: str, pg: PgType) -> str:
    """A replication key as a comparable integer, NULL when no cursor can hold it (README)."""
    if pg.storage in ("int16", "int32", "int64"):
        return ident
    zone = "+00" if pg.key == "timestamptz" else ""
    low, high = f"'0001-01-01 00:00:00{zone}'::{pg.sql}", f"'10000-01-01 00:00:00{zone}'::{pg.sql}"
    if pg.key == "date":
        low, high = "'0001-01-01'::date", "'10000-01-01'::date"
        value = f"({ident} - DATE '1970-01-01')"
    else:
        value = f"(extract(epoch FROM {ident}) * 1000000)::bigint"
    return f"CASE WHEN {ident} >= {low} AND {ident} < {high} THEN {value} END"


def expected_value(pg: PgType, raw: Any, as_text: bool, text: str | None, plain: bool = True) -> Any:
    """The warehouse value the README's type mapping promises for a source value."""
    if raw is None:
        return None
    storage = pg.storage
    if storage == "array" and not as_text and not plain:
        return ("irregular array, never read into array<...>", text)  # the oracle expects a refusal if read
    if storage == "array":
        return text if as_text else tuple(_element(pg.element, v) for v in raw)
    if storage == "decimal":
        return None if raw in NUMERIC_SPECIALS else Decimal(raw)
    if storage in ("date", "timestamp"):
        # README: years 1-9999 only; infinities, BC and later years are stored as NULL.
        low, high = STORED_DAYS if storage == "date" else STORED_US
        return None if raw in INFINITE or not low <= int(raw) <= high else Stamp(storage, int(raw))
    if storage in ("float32", "float64"):
        return flt(raw, 32 if storage == "float32" else 64)
    if storage == "binary":
        return bytes(raw)
    return raw


def _element(storage: str, value: Any) -> Any:
    if value is None:
        return None
    if storage in ("float32", "float64"):
        return flt(value, 32 if storage == "float32" else 64)
    return value


def expected_type(pg: PgType, as_text: bool) -> str:
    if pg.storage == "decimal":
        assert pg.scale is not None
        return f"decimal128({pg.scale[0]}, {pg.scale[1]})"
    if pg.storage == "array":
        return "string" if as_text else f"list<{ARROW_TYPES[pg.element]}>"
    return ARROW_TYPES[pg.storage]


def conform(row: tuple[Any, ...], types: list[str]) -> tuple[Any, ...]:
    """A stored row in the warehouse's current column types: a date column widened to timestamp
    holds midnight of the same day."""
    return tuple(
        Stamp("timestamp", v.n * DAY_US)
        if isinstance(v, Stamp) and v.kind == "date" and t.startswith("timestamp")
        else v
        for v, t in zip(row, types, strict=True)
    )


# --- the warehouse side ------------------------------------------------------------------------


def type_label(type_: Any) -> str:
    """Arrow type without layout details (large_string is string, list field names dropped)."""
    import pyarrow as pa

    if pa.types.is_large_string(type_) or pa.types.is_string_view(type_):
        return "string"
    if pa.types.is_large_binary(type_) or pa.types.is_binary_view(type_):
        return "binary"
    if pa.types.is_list(type_) or pa.types.is_large_list(type_) or pa.types.is_list_view(type_):
        return f"list<{type_label(type_.value_type)}>"
    return str(type_)


def warehouse_column(array: Any) -> list[Any]:
    """Comparable values of one warehouse column (no Python datetime: far years overflow it)."""
    import pyarrow as pa

    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    label = type_label(array.type)
    if pa.types.is_date32(array.type):
        return [None if v is None else Stamp("date", v) for v in array.cast(pa.int32()).to_pylist()]
    if pa.types.is_timestamp(array.type):
        scale = {"s": 1_000_000, "ms": 1000, "us": 1, "ns": 0}[array.type.unit]
        raw = array.cast(pa.int64()).to_pylist()
        return [None if v is None else Stamp("timestamp", v * scale if scale else v // 1000) for v in raw]
    if pa.types.is_floating(array.type):
        return [None if v is None else flt(v, 64) for v in array.to_pylist()]
    if label.startswith("list<"):
        inner = warehouse_column(array.values)
        offsets, valid = array.offsets.to_pylist(), array.is_valid().to_pylist()
        return [tuple(inner[offsets[i] : offsets[i + 1]]) if valid[i] else None for i in range(len(array))]
    return array.to_pylist()


def warehouse_rows(uri: str, columns: list[str]) -> tuple[dict[str, str], list[tuple[Any, ...]]]:
    """(column -> type label, rows as tuples in `columns` order) of a synced table."""
    from deltalake import DeltaTable

    table = DeltaTable(uri).to_pyarrow_table()
    types = {f.name: type_label(f.type) for f in table.schema}
    # A missing column reads as NULLs here; the caller reports the column difference itself.
    data = [warehouse_column(table.column(c)) if c in types else [None] * table.num_rows for c in columns]
    return types, [tuple(values) for values in zip(*data, strict=True)] if data else [()] * table.num_rows


def multiset_diff(expected: Counter[tuple[Any, ...]], got: Counter[tuple[Any, ...]], limit: int = 6) -> str:
    """Rows missing from the warehouse and rows it has too many of, as text."""
    missing, extra = expected - got, got - expected
    lines = [f"  missing x{n}: {row!r}" for row, n in list(missing.items())[:limit]]
    lines += [f"  extra   x{n}: {row!r}" for row, n in list(extra.items())[:limit]]
    return "\n".join(lines)
