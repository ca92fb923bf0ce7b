"""MySQL/MariaDB column types -> what we select and the Arrow type we store (README "Type mapping
(MySQL -> Delta)").

Rows arrive as the server's text (the reader turns PyMySQL's per-value decoders off), and each
column is cast once per batch by Arrow: no Python object per value. Delta has no unsigned
integers, so unsigned types take the next wider signed type, and BIGINT UNSIGNED, wider than any,
becomes decimal(20,0) (exact, and ordered like the source, so it still works as a key).

Values no Delta column can hold become NULL and are counted (`ValueNotes`): zero dates
('0000-00-00'), dates with a zero month or day (lax sql_modes allow them), year 0 and days past
the month's end ('2024-02-30', which ALLOW_INVALID_DATES lets in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from warehouse_sources.sources.base import ValueNotes
from warehouse_sources.sources.sql.dialect import quote_ident
from warehouse_sources.warehouse.state import KeyKind

if TYPE_CHECKING:
    import pyarrow as pa

BACKTICK = "`"  # MySQL's identifier quote
# data type -> (Arrow type name when signed, when unsigned)
INTEGER_TYPES = {
    "tinyint": ("int8", "int16"),
    "smallint": ("int16", "int32"),
    "mediumint": ("int32", "int32"),
    "int": ("int32", "int64"),
    "integer": ("int32", "int64"),
    "bigint": ("int64", "decimal(20,0)"),
}
CURSOR_TYPES: dict[str, KeyKind] = {"date": "date", "datetime": "timestamp", "timestamp": "timestamp"}
CURSOR_TYPE_NAMES = (
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "bigint (signed or unsigned)",
    "date",
    "datetime",
    "timestamp",
)
TEXT_TYPES = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json", "enum", "set", "time"})
BINARY_TYPES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})
SPATIAL_TYPES = frozenset(
    {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
     "geometrycollection"}
)  # fmt: skip
MAX_DECIMAL_PRECISION = 38
# A zero date, a zero month or day, or year 0: no Delta date holds them.
NOT_A_DATE = r"^0000-|^\d{4}-00-|^\d{4}-\d{2}-00"
ZERO_DATE_NOTE = "zero date, zero month or day, year 0, or a day past the month's end"
FIRST_DAY, FIRST_MICROSECOND = -719_162, -62_135_596_800_000_000  # 0001-01-01 as date32 and timestamp[us]


@dataclass(frozen=True)
class MySQLColumn:
    """A column as information_schema.COLUMNS describes it (`data_type` lower case, no width)."""

    name: str
    data_type: str
    column_type: str
    precision: int | None = None
    scale: int | None = None
    unique_key: bool = False  # part of the primary key or a unique index: its values identify rows

    @property
    def type_sql(self) -> str:
        return self.column_type

    @property
    def unsigned(self) -> bool:
        return " unsigned" in self.column_type.lower()

    @property
    def is_boolean(self) -> bool:
        """TINYINT(1), which BOOL and BOOLEAN are aliases of: stored as boolean (nonzero is true).
        Not in a unique key: there 1, 2 and 3 are three rows, and as booleans they would be one."""
        return self.column_type.lower() == "tinyint(1)" and not self.unique_key

    @property
    def is_integer(self) -> bool:
        """Stored as an integer type. Not BIGINT UNSIGNED: stored as decimal(20,0), whose file
        statistics delta-rs 1.6 clamps to the int64 range, so a MERGE pruned by its key span
        would skip the files holding keys above 2**63-1 and insert those rows again."""
        return self.data_type in INTEGER_TYPES and not self.is_boolean and not self.is_unsigned_bigint

    @property
    def is_unsigned_bigint(self) -> bool:
        return self.data_type == "bigint" and self.unsigned

    @property
    def cursor_kind(self) -> KeyKind | None:
        if self.data_type in INTEGER_TYPES and not self.is_boolean:
            return "int"
        return CURSOR_TYPES.get(self.data_type)

    @property
    def is_native_array(self) -> bool:
        return False  # MySQL has no array types

    @property
    def decimal_precision_scale(self) -> tuple[int, int] | None:
        if self.data_type != "decimal" or self.precision is None:
            return None
        scale = self.scale or 0
        return (self.precision, scale) if self.precision <= MAX_DECIMAL_PRECISION else None

    def key_sql(self) -> str:
        """The column as the warehouse compares it in a merge key: booleans as true or false, text
        byte by byte (a case-insensitive or PAD SPACE collation calls 'abc', 'ABC' and 'abc ' equal)."""
        ident = quote_ident(self.name, BACKTICK)
        if self.is_boolean:
            return f"({ident} <> 0)"
        if self.data_type in TEXT_TYPES:
            return f"CAST({ident} AS BINARY)"
        return ident

    def shown_sql(self) -> str:
        """One value of a group of `key_sql` twins, quoted for a message, as the warehouse stores it."""
        ident = quote_ident(self.name, BACKTICK)
        if self.is_boolean:
            return f"IF(MIN({ident}) <> 0, 'true', 'false')"
        return f"QUOTE(MIN({ident}))"

    def select_sql(self) -> str:
        """The column in the SELECT list: as is, or rendered where the raw text would not do."""
        ident = quote_ident(self.name, BACKTICK)
        if self.data_type == "bit":  # raw bytes otherwise; as a number the text casts to an integer
            return f"CAST({ident} AS UNSIGNED) AS {ident}"
        if self.data_type == "float":  # the text protocol rounds FLOAT to 6 digits; a double holds it exactly
            return f"CAST({ident} AS DOUBLE) AS {ident}"
        if self.data_type in SPATIAL_TYPES:  # the internal format (SRID + WKB) otherwise
            return f"ST_AsText({ident}) AS {ident}"
        return ident


def arrow_type(column: MySQLColumn) -> pa.DataType:
    """The Arrow type stored for `column` (what the README's table says)."""
    import pyarrow as pa

    if column.is_boolean:
        return pa.bool_()
    if column.data_type in INTEGER_TYPES:
        name = INTEGER_TYPES[column.data_type][1 if column.unsigned else 0]
        return pa.decimal128(20, 0) if name.startswith("decimal") else pa.type_for_alias(name)
    simple = {
        "float": pa.float32(),
        "double": pa.float64(),
        "real": pa.float64(),
        "year": pa.int16(),
        "bit": pa.int64(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us", tz="UTC"),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    if column.data_type in simple:
        if column.data_type == "bit" and (column.precision or 64) > 63:
            return pa.decimal128(20, 0)
        return simple[column.data_type]
    if column.data_type == "decimal":
        precision_scale = column.decimal_precision_scale
        return pa.decimal128(*precision_scale) if precision_scale else pa.string()
    if column.data_type in BINARY_TYPES:
        return pa.binary()
    return pa.string()  # text, json, enum, set, time, spatial as WKT, and any type not listed


def to_arrow(values: pa.Array | Sequence[object], target: pa.DataType) -> tuple[pa.Array, int]:
    """One column of server text as `target`; also how many values became NULL as not-a-date."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = values if isinstance(values, pa.Array) else pa.array(values, wire_type(target))
    if pa.types.is_binary(target) or pa.types.is_string(target):
        return text, 0
    if pa.types.is_boolean(target):
        return pc.not_equal(text.cast(pa.int64()), 0), 0
    if pa.types.is_date32(target) or pa.types.is_timestamp(target):
        return _dates(text, target)
    return text.cast(target), 0


def wire_type(target: pa.DataType) -> pa.DataType:
    """How a column's values are taken from the driver: bytes for binary columns, else text (a
    text type with a binary collation comes as bytes too: Arrow checks their UTF-8)."""
    import pyarrow as pa

    return pa.binary() if pa.types.is_binary(target) else pa.string()


def _dates(text: pa.Array, target: pa.DataType) -> tuple[pa.Array, int]:
    """Dates and timestamps, not-a-date values NULL and counted. Arrow's cast refuses a zero
    month or day and a day past the month's end but takes year 0, so a column the cast takes
    whole, all from year 1 on (nearly every column), needs none of the checks below."""
    import pyarrow as pa
    import pyarrow.compute as pc

    day = pa.types.is_date32(target)
    naive = pa.date32() if day else pa.timestamp("us")
    try:
        fast = text.cast(naive)
    except pa.ArrowInvalid:  # a zero month or day, or a day past the month's end
        fast = None
    if fast is not None and (pc.min(fast).value or 0) >= (FIRST_DAY if day else FIRST_MICROSECOND):
        return fast.cast(target), 0
    bad = pc.fill_null(pc.or_(pc.match_substring_regex(text, NOT_A_DATE), _past_month_end(text)), False)
    count = pc.sum(bad).as_py() or 0
    if count:
        text = pc.if_else(bad, pa.scalar(None, pa.string()), text)
    return text.cast(naive).cast(target), count


def _past_month_end(text: pa.Array) -> pa.Array:
    """True for a day the month does not have ('2024-02-30'): parsing rolls it over into the next
    month ('2024-03-01'), so it does not print back as it was read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    day = pc.utf8_slice_codeunits(text, 0, 10)
    parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    return pc.not_equal(pc.fill_null(parsed.cast(pa.date32()).cast(pa.string()), ""), day)


def rows_to_batch(rows: list[tuple[object, ...]], schema: pa.Schema, notes: ValueNotes) -> pa.RecordBatch:
    """Fetched rows (server text) -> one batch in the stored types; not-a-date values counted.

    The rows are read into Arrow whole, as one struct array of text columns, and split into
    columns there: no Python object per column, which `zip(*rows)` made (a fifth of the read)."""
    import pyarrow as pa

    wire = pa.struct([pa.field(f.name, wire_type(f.type)) for f in schema])
    arrays = []
    for text, field in zip(pa.array(rows, wire).flatten(), schema, strict=True):
        array, nulled = to_arrow(text, field.type)
        if nulled:
            notes[(field.name, ZERO_DATE_NOTE)] += nulled
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
