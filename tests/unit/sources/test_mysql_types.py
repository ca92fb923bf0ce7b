"""MySQL types -> stored Arrow types, and server text -> Arrow values (no service needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from warehouse_sources.sources.base import ValueNotes
from warehouse_sources.sources.mysql.types import ZERO_DATE_NOTE, MySQLColumn, arrow_type, rows_to_batch, to_arrow


def col(
    data_type: str, column_type: str | None = None, precision: int | None = None, scale: int | None = None
) -> MySQLColumn:
    return MySQLColumn("c", data_type, column_type or data_type, precision, scale)


@pytest.mark.parametrize(
    ("column", "stored"),
    [
        (col("tinyint", "tinyint(4)"), pa.int8()),
        (col("tinyint", "tinyint(3) unsigned"), pa.int16()),
        (col("tinyint", "tinyint(1)"), pa.bool_()),
        (col("smallint", "smallint(5) unsigned"), pa.int32()),
        (col("mediumint", "mediumint(8) unsigned"), pa.int32()),
        (col("int", "int(11)"), pa.int32()),
        (col("int", "int(10) unsigned"), pa.int64()),
        (col("bigint", "bigint(20)"), pa.int64()),
        (col("bigint", "bigint(20) unsigned"), pa.decimal128(20, 0)),
        (col("decimal", "decimal(12,2)", 12, 2), pa.decimal128(12, 2)),
        (col("decimal", "decimal(65,4)", 65, 4), pa.string()),
        (col("float"), pa.float32()),
        (col("double"), pa.float64()),
        (col("bit", "bit(8)", 8), pa.int64()),
        (col("bit", "bit(64)", 64), pa.decimal128(20, 0)),
        (col("year", "year(4)"), pa.int16()),
        (col("date"), pa.date32()),
        (col("datetime", "datetime(6)"), pa.timestamp("us", tz="UTC")),
        (col("timestamp"), pa.timestamp("us", tz="UTC")),
        (col("time"), pa.string()),
        (col("json"), pa.string()),
        (col("enum", "enum('a','b')"), pa.string()),
        (col("set", "set('a','b')"), pa.string()),
        (col("varchar", "varchar(10)"), pa.string()),
        (col("longtext"), pa.string()),
        (col("varbinary", "varbinary(4)"), pa.binary()),
        (col("blob"), pa.binary()),
        (col("point"), pa.string()),
    ],
)
def test_stored_types(column: MySQLColumn, stored: pa.DataType) -> None:
    assert arrow_type(column) == stored


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        (col("int", "int(11)"), "int"),
        (col("bigint", "bigint(20) unsigned"), "int"),
        (col("tinyint", "tinyint(3) unsigned"), "int"),
        (col("date"), "date"),
        (col("datetime"), "timestamp"),
        (col("timestamp"), "timestamp"),
        (col("tinyint", "tinyint(1)"), None),
        (col("decimal", "decimal(10,0)", 10, 0), None),
        (col("varchar", "varchar(10)"), None),
        (col("time"), None),
        (col("year"), None),
        (col("float"), None),
    ],
)
def test_cursor_kinds(column: MySQLColumn, kind: str | None) -> None:
    assert column.cursor_kind == kind
    assert column.is_integer == (kind == "int" and not column.is_unsigned_bigint)
    assert not column.is_native_array


def test_unsigned_bigint_is_a_cursor_but_gets_no_merge_key_span() -> None:
    column = col("bigint", "bigint(20) unsigned")
    assert column.cursor_kind == "int" and not column.is_integer


def test_a_tinyint_1_in_a_unique_key_is_an_integer_and_compared_as_stored() -> None:
    keyed = MySQLColumn("c", "tinyint", "tinyint(1)", unique_key=True)
    assert arrow_type(keyed) == pa.int8() and keyed.cursor_kind == "int" and keyed.key_sql() == "`c`"
    flag = MySQLColumn("c", "tinyint", "tinyint(1)")
    assert flag.key_sql() == "(`c` <> 0)" and flag.shown_sql() == "IF(MIN(`c`) <> 0, 'true', 'false')"
    assert col("varchar", "varchar(5)").key_sql() == "CAST(`c` AS BINARY)" and col("int").key_sql() == "`c`"


def test_select_renders_bit_and_spatial_columns() -> None:
    assert col("bit", "bit(3)").select_sql() == "CAST(`c` AS UNSIGNED) AS `c`"
    assert col("point").select_sql() == "ST_AsText(`c`) AS `c`"
    assert col("float").select_sql() == "CAST(`c` AS DOUBLE) AS `c`"
    assert MySQLColumn("a`b", "int", "int(11)").select_sql() == "`a``b`"


def test_text_casts_to_each_stored_type() -> None:
    assert to_arrow(("18446744073709551615", "0", None), pa.decimal128(20, 0))[0].to_pylist() == [
        Decimal(2**64 - 1),
        Decimal(0),
        None,
    ]
    assert to_arrow(("1", "0", "2", None), pa.bool_())[0].to_pylist() == [True, False, True, None]
    assert to_arrow(("-128", "127"), pa.int8())[0].to_pylist() == [-128, 127]
    assert to_arrow(("1.25", "-0.5"), pa.decimal128(5, 2))[0].to_pylist() == [Decimal("1.25"), Decimal("-0.50")]
    assert to_arrow((b"\x00\xff", None), pa.binary())[0].to_pylist() == [b"\x00\xff", None]
    assert to_arrow((b"caf\xc3\xa9",), pa.string())[0].to_pylist() == ["café"]


def test_zero_dates_become_counted_nulls() -> None:
    dates, nulled = to_arrow(("2024-02-29", "0000-00-00", "2024-00-10", "2024-03-00", "0000-01-01", None), pa.date32())
    assert dates.to_pylist() == [date(2024, 2, 29), None, None, None, None, None]
    assert nulled == 4
    stamps, nulled = to_arrow(
        ("2024-01-02 03:04:05.123456", "2024-01-02 03:04:05", "0000-00-00 00:00:00", "0001-01-01 00:00:00"),
        pa.timestamp("us", tz="UTC"),
    )
    assert stamps.to_pylist() == [
        datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        None,
        datetime(1, 1, 1, tzinfo=UTC),
    ]
    assert nulled == 1


def test_rows_to_batch_counts_nulled_values_per_column() -> None:
    schema = pa.schema([("id", pa.int64()), ("d", pa.date32()), ("s", pa.string())])
    notes = ValueNotes()
    batch = rows_to_batch([("1", "0000-00-00", "x"), ("2", "2024-01-01", None)], schema, notes)
    assert batch.schema == schema and batch.num_rows == 2
    assert batch.column("d").to_pylist() == [None, date(2024, 1, 1)]
    assert notes == {("d", ZERO_DATE_NOTE): 1}


def test_days_past_the_month_end_become_null_and_are_counted() -> None:
    days, nulled = to_arrow(("2024-02-29", "2023-02-29", "2024-04-31", "2000-02-29", "1900-02-29", None), pa.date32())
    assert days.to_pylist() == [date(2024, 2, 29), None, None, date(2000, 2, 29), None, None]
    assert nulled == 3
    stamps, nulled = to_arrow(("2024-02-30 10:00:00.5", "0999-12-31 23:59:59"), pa.timestamp("us", tz="UTC"))
    assert stamps.to_pylist() == [None, datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)] and nulled == 1
