"""PostgreSQL column types -> selected SQL and stored Arrow types."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from warehouse_sources.sources.postgres.types import PgColumn, arrow_type, normalize_batch


def numeric_typmod(precision: int, scale: int) -> int:
    """What Postgres stores in atttypmod for numeric(precision, scale)."""
    return ((precision << 16) | scale) + 4


def column(type_name: str, typmod: int = -1, name: str = "c", element_type: str | None = None) -> PgColumn:
    return PgColumn(name=name, type_name=type_name, type_sql=type_name, typmod=typmod, element_type=element_type)


def test_numeric_typmod_helper_matches_postgres() -> None:
    # numeric(12,2): SELECT atttypmod gives 786438.
    assert numeric_typmod(12, 2) == 786438


@pytest.mark.parametrize(("precision", "scale"), [(12, 2), (1, 0), (38, 38), (38, 0), (10, 10), (20, 4)])
def test_numeric_precision_scale_decoded(precision: int, scale: int) -> None:
    col = column("numeric", numeric_typmod(precision, scale))
    assert col.numeric_precision_scale == (precision, scale)
    assert col.is_native
    # Read as the server's text and cast to decimal128(p, s): cheaper than the driver's conversion.
    assert col.select_sql() == f'"{col.name}"::text AS "{col.name}"'


def test_unconstrained_numeric_is_text() -> None:
    col = column("numeric", -1, name="amount")
    assert col.numeric_precision_scale is None
    assert not col.is_native
    assert col.select_sql() == '"amount"::text AS "amount"'


@pytest.mark.parametrize(("precision", "scale"), [(39, 0), (50, 10), (1000, 2)])
def test_numeric_wider_than_decimal128_is_text(precision: int, scale: int) -> None:
    col = column("numeric", numeric_typmod(precision, scale))
    assert col.numeric_precision_scale is None
    assert not col.is_native


def test_non_numeric_types_have_no_precision() -> None:
    assert column("int4", numeric_typmod(12, 2)).numeric_precision_scale is None


@pytest.mark.parametrize(
    "type_name", ["int2", "int4", "int8", "float4", "float8", "bool", "text", "varchar", "date", "timestamptz", "bytea"]
)
def test_native_scalars_are_selected_as_is(type_name: str) -> None:
    col = column(type_name, name="Mixed Case")
    assert col.is_native
    assert col.select_sql() == '"Mixed Case"'


@pytest.mark.parametrize("type_name", ["uuid", "json", "jsonb", "interval", "time", "inet", "my_enum", "money"])
def test_other_types_are_selected_as_text(type_name: str) -> None:
    col = column(type_name, name='we"ird')
    assert not col.is_native
    assert col.select_sql() == '"we""ird"::text AS "we""ird"'


def test_arrays_native_only_for_simple_elements() -> None:
    assert column("_int4", element_type="int4").is_native
    assert column("_text", element_type="text").is_native
    assert not column("_uuid", element_type="uuid").is_native
    assert not column("_numeric", element_type="numeric").is_native


def test_arrow_type_for_numeric_is_decimal128_whatever_arrived() -> None:
    assert arrow_type(column("numeric", numeric_typmod(12, 2)), pa.string()) == pa.decimal128(12, 2)


@pytest.mark.parametrize("type_name", ["timestamp", "timestamptz"])
def test_arrow_type_for_timestamps_is_utc_microseconds(type_name: str) -> None:
    assert arrow_type(column(type_name), pa.timestamp("us")) == pa.timestamp("us", tz="UTC")


def test_arrow_type_keeps_other_received_types() -> None:
    assert arrow_type(column("int8"), pa.int64()) == pa.int64()
    assert arrow_type(column("numeric"), pa.string()) == pa.string()


def test_arrow_type_unwraps_extension_types() -> None:
    received = pa.opaque(pa.binary(), type_name="geometry", vendor_name="postgresql")
    assert arrow_type(column("geometry"), received) == pa.binary()


def test_normalize_batch_casts_string_to_decimal_and_naive_timestamp_to_utc() -> None:
    batch = pa.record_batch(
        {
            "amount": pa.array(["1.50", "12345678.99", None], pa.string()),
            "at": pa.array([datetime(2024, 5, 1, 12), None, datetime(2024, 5, 2, 0, 0, 0, 5)], pa.timestamp("us")),
            "id": pa.array([1, 2, 3], pa.int64()),
        }
    )
    schema = pa.schema(
        [
            pa.field("amount", pa.decimal128(12, 2)),
            pa.field("at", pa.timestamp("us", tz="UTC")),
            pa.field("id", pa.int64()),
        ]
    )
    result = normalize_batch(batch, schema)
    assert result.schema == schema
    assert result.column("amount").to_pylist() == [Decimal("1.50"), Decimal("12345678.99"), None]
    assert result.column("at").to_pylist() == [
        datetime(2024, 5, 1, 12, tzinfo=UTC),
        None,
        datetime(2024, 5, 2, 0, 0, 0, 5, tzinfo=UTC),
    ]
    assert result.column("id").equals(batch.column("id"))


def test_normalize_batch_unwraps_extension_arrays() -> None:
    ext_type = pa.opaque(pa.string(), type_name="numeric", vendor_name="postgresql")
    storage = pa.array(["3.14", None], pa.string())
    batch = pa.RecordBatch.from_arrays([pa.ExtensionArray.from_storage(ext_type, storage)], names=["n"])
    schema = pa.schema([pa.field("n", pa.decimal128(5, 2))])
    assert normalize_batch(batch, schema).column("n").to_pylist() == [Decimal("3.14"), None]


def test_normalize_batch_refuses_values_that_do_not_fit() -> None:
    batch = pa.record_batch({"amount": pa.array(["123.456"], pa.string())})
    with pytest.raises(pa.ArrowInvalid):
        normalize_batch(batch, pa.schema([pa.field("amount", pa.decimal128(5, 2))]))


def test_values_outside_years_1_to_9999_and_decimal_nan_become_null_and_are_counted() -> None:
    from collections import Counter

    wrapped_infinity = -9_222_425_352_054_775_809  # what ADBC hands over for timestamp 'infinity'
    schema = pa.schema(
        [
            pa.field("ts", pa.timestamp("us", tz="UTC")),
            pa.field("d", pa.date32()),
            pa.field("n", pa.decimal128(10, 2)),
        ]
    )
    received = pa.record_batch(
        [
            pa.array([wrapped_infinity, 0, 253_402_300_800_000_000], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            pa.array([-2_147_472_692, 0, -719_163], pa.int32()).cast(pa.date32()),
            pa.array(["nan", "1.50", None], pa.string()),
        ],
        names=["ts", "d", "n"],
    )
    notes: Counter[tuple[str, str]] = Counter()
    batch = normalize_batch(received, schema, notes)
    assert batch.column("ts").to_pylist() == [None, datetime(1970, 1, 1, tzinfo=UTC), None]
    assert batch.column("d").null_count == 2 and batch.column("n").to_pylist() == [None, Decimal("1.50"), None]
    assert notes == {("ts", "infinity, or outside years 1-9999"): 2, ("d", "infinity, or outside years 1-9999"): 2,
                     ("n", "NaN"): 1}  # fmt: skip


def test_an_array_column_read_as_text_selects_the_server_text() -> None:
    col = column("_int4", name="a", element_type="int4")
    assert col.is_native_array and col.select_sql() == '"a"'
    assert col.read_as_text().select_sql() == '"a"::text AS "a"'
    assert not col.read_as_text().is_native_array
