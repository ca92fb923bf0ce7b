"""Schema drift: new columns added, widening applied, narrowing cast up, anything else reported."""

from __future__ import annotations

import pyarrow as pa
import pytest

from warehouse_sources.warehouse.schema import canonical, cast_reader, is_widening, plan_schema


def schema(**types: pa.DataType) -> pa.Schema:
    return pa.schema([pa.field(name, type_) for name, type_ in types.items()])


def test_same_schema_needs_nothing() -> None:
    table = schema(id=pa.int64(), name=pa.string())
    plan = plan_schema(table, table)
    assert plan.incoming == table
    assert plan.widen == {} and plan.problems == []


def test_new_source_column_is_kept_in_the_incoming_schema() -> None:
    plan = plan_schema(schema(id=pa.int64()), schema(id=pa.int64(), email=pa.string()))
    assert plan.incoming == schema(id=pa.int64(), email=pa.string())
    assert plan.widen == {} and plan.problems == []


def test_column_missing_from_the_source_is_not_a_problem() -> None:
    plan = plan_schema(
        schema(id=pa.int64(), gone=pa.string(), _ws_synced_at=pa.timestamp("us", tz="UTC")), schema(id=pa.int64())
    )
    assert plan.problems == [] and plan.widen == {}
    assert plan.incoming == schema(id=pa.int64())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (pa.int32(), pa.int64()),
        (pa.int16(), pa.int32()),
        (pa.int8(), pa.int64()),
        (pa.float32(), pa.float64()),
        (pa.int32(), pa.float64()),
        (pa.decimal128(10, 2), pa.decimal128(12, 2)),
        (pa.decimal128(10, 2), pa.decimal128(12, 4)),
        (pa.date32(), pa.timestamp("us", tz="UTC")),
        (pa.timestamp("us"), pa.timestamp("us", tz="UTC")),  # a timestamp_ntz table from before the rule
    ],
)
def test_widening_is_planned(old: pa.DataType, new: pa.DataType) -> None:
    plan = plan_schema(schema(id=pa.int64(), v=old), schema(id=pa.int64(), v=new))
    assert plan.widen == {"v": new}
    assert plan.problems == []
    assert plan.incoming.field("v").type == new


@pytest.mark.parametrize(
    ("table_type", "source_type"),
    [
        (pa.int64(), pa.int32()),
        (pa.float64(), pa.float32()),
        (pa.decimal128(12, 2), pa.decimal128(10, 2)),
        (pa.float64(), pa.int16()),
        (pa.float64(), pa.int64()),  # checked value by value (below)
        (pa.decimal128(12, 2), pa.int64()),
        (pa.timestamp("us", tz="UTC"), pa.timestamp("us")),  # naive timestamps are UTC wall clocks
    ],
)
def test_narrower_source_column_is_cast_up_to_the_table_type(table_type: pa.DataType, source_type: pa.DataType) -> None:
    plan = plan_schema(schema(v=table_type), schema(v=source_type))
    assert plan.widen == {} and plan.problems == []
    assert plan.incoming == schema(v=table_type)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (pa.int64(), pa.string()),
        (pa.string(), pa.int64()),
        (pa.timestamp("us", tz="Europe/Paris"), pa.timestamp("us")),
        (pa.decimal128(10, 2), pa.decimal128(10, 4)),
        (pa.int64(), pa.float64()),
        (pa.bool_(), pa.int32()),
    ],
)
def test_incompatible_change_is_reported_with_the_column_name(old: pa.DataType, new: pa.DataType) -> None:
    plan = plan_schema(schema(id=pa.int64(), Amount=old), schema(id=pa.int64(), Amount=new))
    assert plan.widen == {}
    assert plan.problems == [f"column 'Amount' changed type from {canonical(old)} to {canonical(new)}"]


def test_every_incompatible_column_is_reported() -> None:
    plan = plan_schema(schema(a=pa.int64(), b=pa.string()), schema(a=pa.string(), b=pa.bool_()))
    assert len(plan.problems) == 2
    assert "'a'" in plan.problems[0] and "'b'" in plan.problems[1]


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        (pa.large_string(), pa.string()),
        (pa.string_view(), pa.string()),
        (pa.string(), pa.string()),
        (pa.large_binary(), pa.binary()),
        (pa.large_list(pa.large_string()), pa.list_(pa.string())),
        (pa.list_(pa.large_string()), pa.list_(pa.string())),
        (pa.int64(), pa.int64()),
    ],
)
def test_canonical(type_: pa.DataType, expected: pa.DataType) -> None:
    assert canonical(type_) == expected


def test_string_and_large_string_are_the_same_column() -> None:
    plan = plan_schema(schema(name=pa.string()), schema(name=pa.large_string()))
    assert plan.problems == [] and plan.widen == {}
    plan = plan_schema(schema(name=pa.large_string()), schema(name=pa.string()))
    assert plan.problems == [] and plan.widen == {}


def test_is_widening_is_not_reflexive_or_backwards() -> None:
    assert not is_widening(pa.int64(), pa.int64())
    assert not is_widening(pa.int64(), pa.int32())
    assert not is_widening(pa.decimal128(10, 2), pa.decimal128(10, 2))
    assert not is_widening(pa.float64(), pa.float32())
    assert not is_widening(pa.int64(), pa.float64())


def test_unsigned_integer_column_does_not_crash_the_plan() -> None:
    plan = plan_schema(schema(v=pa.int64()), schema(v=pa.uint32()))
    assert plan.problems or plan.incoming.field("v").type == pa.int64()


def test_cast_reader_casts_every_batch() -> None:
    source = schema(id=pa.int32(), name=pa.large_string())
    target = schema(id=pa.int64(), name=pa.string())
    batches = [pa.record_batch([pa.array([1, 2], pa.int32()), pa.array(["a", "b"], pa.large_string())], schema=source)]
    result = cast_reader(pa.RecordBatchReader.from_batches(source, batches), target).read_all()
    assert result.schema == target
    assert result.to_pydict() == {"id": [1, 2], "name": ["a", "b"]}


def test_cast_reader_passes_a_matching_reader_through() -> None:
    source = schema(id=pa.int64())
    reader = pa.RecordBatchReader.from_batches(source, [])
    assert cast_reader(reader, source) is reader


@pytest.mark.parametrize(
    ("table_type", "fits", "does_not_fit"),
    [
        (pa.float64(), 2**53, 2**53 + 1),
        (pa.decimal128(12, 2), 9_999_999_999, 10_000_000_000),
    ],
)
def test_integers_into_a_double_or_decimal_column_are_exact_or_refused(
    table_type: pa.DataType, fits: int, does_not_fit: int
) -> None:
    """A bucket file's whole numbers next to a table of fractions: stored exactly, or the run
    fails naming the column; never rounded."""
    plan = plan_schema(schema(v=table_type), schema(v=pa.int64()))
    assert plan.problems == []

    def cast(value: int) -> list[object]:
        batch = pa.record_batch({"v": pa.array([value], pa.int64())})
        reader = cast_reader(pa.RecordBatchReader.from_batches(batch.schema, [batch]), plan.incoming)
        return reader.read_all().column("v").to_pylist()

    assert cast(fits) == [pa.scalar(fits).cast(pa.decimal128(38, 0)).cast(table_type).as_py()]
    with pytest.raises(pa.ArrowInvalid, match=r"column 'v': a int64 value cannot be stored exactly"):
        cast(does_not_fit)
