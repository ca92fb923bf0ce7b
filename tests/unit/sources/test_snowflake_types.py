"""Snowflake column types -> stored Arrow types and cursor kinds; each fetched chunk cast to them."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pyarrow as pa
import pytest

from warehouse_sources.sources.snowflake.types import SnowflakeColumn, arrow_type, normalize_batch, to_arrow


@pytest.mark.parametrize(
    ("column", "stored", "cursor_kind", "is_integer"),
    [
        (SnowflakeColumn("c", "NUMBER", 18, 0), pa.int64(), "int", True),
        (SnowflakeColumn("c", "NUMBER", 9, 0), pa.int64(), "int", True),
        (SnowflakeColumn("c", "NUMBER", 38, 0), pa.decimal128(38, 0), "int", False),
        (SnowflakeColumn("c", "NUMBER", 19, 0), pa.decimal128(19, 0), "int", False),
        (SnowflakeColumn("c", "NUMBER", 12, 2), pa.decimal128(12, 2), "decimal", False),
        (SnowflakeColumn("c", "FLOAT"), pa.float64(), None, False),
        (SnowflakeColumn("c", "TEXT"), pa.string(), None, False),
        (SnowflakeColumn("c", "BOOLEAN"), pa.bool_(), None, False),
        (SnowflakeColumn("c", "DATE"), pa.date32(), "date", False),
        (SnowflakeColumn("c", "TIMESTAMP_NTZ"), pa.timestamp("us", tz="UTC"), "timestamp", False),
        (SnowflakeColumn("c", "TIMESTAMP_LTZ"), pa.timestamp("us", tz="UTC"), "timestamp", False),
        (SnowflakeColumn("c", "TIMESTAMP_TZ"), pa.timestamp("us", tz="UTC"), "timestamp", False),
        (SnowflakeColumn("c", "VARIANT"), pa.string(), None, False),
        (SnowflakeColumn("c", "OBJECT"), pa.string(), None, False),
        (SnowflakeColumn("c", "ARRAY"), pa.string(), None, False),
        (SnowflakeColumn("c", "BINARY"), pa.binary(), None, False),
        (SnowflakeColumn("c", "TIME"), pa.string(), None, False),
        (SnowflakeColumn("c", "GEOGRAPHY"), pa.string(), None, False),
    ],
)
def test_type_mapping(column: SnowflakeColumn, stored: pa.DataType, cursor_kind: str | None, is_integer: bool) -> None:
    assert arrow_type(column) == stored
    assert column.cursor_kind == cursor_kind and column.is_integer is is_integer
    assert not column.is_native_array


def test_type_sql_names_precision_and_scale() -> None:
    assert SnowflakeColumn("c", "NUMBER", 12, 2).type_sql == "NUMBER(12,2)"
    assert SnowflakeColumn("c", "TIMESTAMP_TZ").type_sql == "TIMESTAMP_TZ"


def test_semi_structured_columns_are_selected_as_compact_json() -> None:
    assert SnowflakeColumn("Doc", "VARIANT").select_sql() == 'TO_JSON("Doc") AS "Doc"'
    assert SnowflakeColumn("Id", "NUMBER", 38, 0).select_sql() == '"Id"'


@pytest.mark.parametrize("data_type", ["GEOGRAPHY", "GEOMETRY", "VECTOR", "SOMETHING_NEW"])
def test_types_not_cast_here_are_read_as_snowflakes_text(data_type: str) -> None:
    assert SnowflakeColumn("G", data_type).select_sql() == 'TO_VARCHAR("G") AS "G"'


@pytest.mark.parametrize(
    ("values", "target", "expected"),
    [
        (pa.array([1, None], pa.int8()), pa.int64(), [1, None]),
        (pa.array([Decimal(7)], pa.decimal128(9, 0)), pa.int64(), [7]),
        (pa.array([2**62], pa.int64()), pa.decimal128(38, 0), [Decimal(2**62)]),
        (pa.array([Decimal("1.50")], pa.decimal128(12, 2)), pa.decimal128(12, 2), [Decimal("1.50")]),
        (pa.array([time(12, 34, 56)], pa.time64("ns")), pa.string(), ["12:34:56.000000"]),
    ],
)
def test_chunks_are_cast_to_the_declared_type(values: pa.Array, target: pa.DataType, expected: list[object]) -> None:
    assert to_arrow(values, target).to_pylist() == expected


def test_timestamps_become_utc_microseconds() -> None:
    naive = pa.array([1_704_164_645_123_456_789], pa.timestamp("ns"))  # NTZ: UTC wall clock
    aware = pa.array([1_704_164_645_123_456_789], pa.timestamp("ns", tz="Etc/GMT-2"))
    target = pa.timestamp("us", tz="UTC")
    expected = [datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)]
    assert to_arrow(naive, target).to_pylist() == expected
    assert to_arrow(aware, target).to_pylist() == expected


def test_an_integer_too_wide_for_int64_is_an_error_not_a_wrap() -> None:
    with pytest.raises(pa.ArrowInvalid):
        to_arrow(pa.array([Decimal(2**64)], pa.decimal128(38, 0)), pa.int64())


def test_normalize_batch_keeps_the_schema() -> None:
    schema = pa.schema([pa.field("A", pa.int64()), pa.field("B", pa.string())])
    batch = pa.record_batch([pa.array([1], pa.int16()), pa.array(["x"], pa.large_string())], names=["A", "B"])
    assert normalize_batch(batch, schema).schema == schema
