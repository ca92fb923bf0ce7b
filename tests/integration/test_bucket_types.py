"""What bucket files' values become in the warehouse: far dates, late fields, numbers that meet
across files, case twins and naive timestamps (README "Bucket sources", Types), each against a
real folder, the real engine and Delta."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.bucket_support import rows, sync, table_plan, write_parquet
from warehouse_sources.errors import SyncFatalError

PARQUET = {"pattern": "t/*.parquet", "format": "parquet"}
JSONL = {"pattern": "t/*.jsonl", "format": "jsonl"}


def url(folder: Path) -> str:
    return f"file://{folder}/"


def write_parquet_typed(path: Path, columns: dict[str, tuple[list[object], str]]) -> None:
    """A Parquet file whose columns have the Arrow types given by name (int64, float64, decimal128(38,18))."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"int64": pa.int64(), "int32": pa.int32(), "float64": pa.float64(), "decimal": pa.decimal128(38, 18),
             "decimal10": pa.decimal128(10, 2), "date": pa.date32(), "ts_ns": pa.timestamp("ns"),
             "ts": pa.timestamp("us"), "ts_ms": pa.timestamp("ms")}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({name: pa.array(values, types[kind]) for name, (values, kind) in columns.items()})
    pq.write_table(table, path)


def write_jsonl(path: Path, lines: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def delta_type(warehouse: str, name: str, column: str) -> str:
    from deltalake import DeltaTable

    field = next(f for f in DeltaTable(f"{warehouse}/{name}").schema().fields if f.name == column)
    return str(field.type)


# -- 2: dates outside years 1-9999 -----------------------------------------------------------------


def test_far_dates_are_stored_as_null_and_counted_and_the_table_stays_readable(
    tmp_path: Path, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "b"
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "t").mkdir(parents=True)
    days = pa.array([-719_162 - 800, 19_000, 2_932_897 + 5], pa.date32())  # year -2, 2022, year 10000
    pq.write_table(pa.table({"id": [1, 2, 3], "seq": [1, 2, 3], "d": days}), folder / "t/a.parquet")
    plan = table_plan("t", "append_only", replication_key="seq")
    with caplog.at_level(logging.WARNING):
        sync(url(folder), warehouse, plan, PARQUET)
    assert [r["d"] for r in rows(warehouse, "t")] == [None, date(2022, 1, 8), None]
    assert "2 values of column 'd' (outside years 1-9999)" in caplog.text
    write_jsonl(folder / "j/a.jsonl", [{"id": 1, "d": "0000-01-01"}, {"id": 2, "d": "2024-02-29"}])
    sync(url(folder), warehouse, table_plan("j"), {"pattern": "j/*.jsonl", "format": "jsonl"})
    assert [r["d"] for r in rows(warehouse, "j")] == [None, date(2024, 2, 29)]
    pq.write_table(pa.table({"id": [4], "seq": [4], "d": days[1:2]}), folder / "t/b.parquet")
    assert sync(url(folder), warehouse, plan, PARQUET).rows == 1  # the next incremental run reads the table


def test_a_far_replication_key_is_counted_not_a_cursor(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "t").mkdir(parents=True)
    keys = pa.array([19_000, 2_932_897 + 5], pa.date32())
    pq.write_table(pa.table({"id": [1, 2], "d": keys}), folder / "t/a.parquet")
    result = sync(url(folder), warehouse, table_plan("t", "append_only", replication_key="d"), PARQUET)
    assert (result.cursor, result.null_keys) == ("2022-01-08", 1)


# -- 3: JSON lines fields first seen late ----------------------------------------------------------


def test_jsonl_fields_first_seen_after_the_sample_are_kept(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    lines: list[dict[str, object]] = [{"id": i, "n": {"a": i}} for i in range(25_000)]
    lines.append({"id": 25_000, "late": "here", "n": {"a": 1, "deep": True}})
    write_jsonl(folder / "t/a.jsonl", lines)
    sync(url(folder), warehouse, table_plan("t"), JSONL)
    last = rows(warehouse, "t")[-1]
    assert last["late"] == "here"
    assert json.loads(str(last["n"])) == {"a": 1, "deep": True}


# -- 4 and 10: numbers that meet across files --------------------------------------------------------


def test_int64_meeting_double_is_stored_exactly_or_refused(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_parquet_typed(folder / "t/a.parquet", {"v": ([1.5], "float64")})
    write_parquet_typed(folder / "t/b.parquet", {"v": ([2**53], "int64")})
    sync(url(folder), warehouse, table_plan("t"), PARQUET)
    assert sorted(r["v"] for r in rows(warehouse, "t")) == [1.5, float(2**53)]
    write_parquet_typed(folder / "t/c.parquet", {"v": ([2**53 + 1], "int64")})
    with pytest.raises(SyncFatalError, match=r"column 'v'.*9007199254740993.*cannot hold it exactly.*t/c\.parquet"):
        sync(url(folder), warehouse, table_plan("t"), PARQUET)


def test_decimal_meeting_double_is_refused_naming_files_column_and_types(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_parquet_typed(folder / "t/a.parquet", {"v": ([1.5], "float64")})
    write_parquet_typed(folder / "t/b.parquet", {"v": ([Decimal("0.100000000000000001")], "decimal")})
    with pytest.raises(
        SyncFatalError,
        match=r"column 'v' is DOUBLE in file 't/a\.parquet' but DECIMAL\(38,18\) in file 't/b\.parquet'.*columns:",
    ):
        sync(url(folder), warehouse, table_plan("t"), PARQUET)
    declared = PARQUET | {"columns": {"v": "VARCHAR"}}
    sync(url(folder), warehouse, table_plan("t"), declared)
    assert sorted(str(r["v"]) for r in rows(warehouse, "t")) == ["0.100000000000000001", "1.5"]


def test_integers_meeting_decimals_widen_exactly(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_parquet_typed(folder / "t/a.parquet", {"v": ([Decimal("1.25")], "decimal10")})
    write_parquet_typed(folder / "t/b.parquet", {"v": ([2**62 + 1], "int64")})
    sync(url(folder), warehouse, table_plan("t"), PARQUET)
    assert sorted(r["v"] for r in rows(warehouse, "t")) == [Decimal("1.25"), Decimal(2**62 + 1)]


def test_jsonl_integers_next_to_fractions_in_another_file(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_jsonl(folder / "t/a.jsonl", [{"v": 1.5}])
    write_jsonl(folder / "t/b.jsonl", [{"v": 2**53 + 1}])
    with pytest.raises(SyncFatalError, match=r"9007199254740993.*cannot hold it exactly"):
        sync(url(folder), warehouse, table_plan("t"), JSONL)
    sync(url(folder), warehouse, table_plan("t"), JSONL | {"columns": {"v": "DECIMAL(20,1)"}})
    assert sorted(r["v"] for r in rows(warehouse, "t")) == [Decimal("1.5"), Decimal(2**53 + 1)]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_append_only_after_a_resync_takes_whole_numbers_into_a_double_column(
    fmt: str, tmp_path: Path, warehouse: str
) -> None:
    folder = tmp_path / "b"
    options = {"pattern": f"t/*.{fmt}", "format": fmt}
    plan = table_plan("t", "append_only")
    write = write_parquet if fmt == "parquet" else lambda p, c: write_jsonl(p, [{"amount": c["amount"][0]}])
    write(folder / f"t/a.{fmt}", {"amount": [1.5]})
    sync(url(folder), warehouse, plan, options, full_refresh=True)
    write(folder / f"t/b.{fmt}", {"amount": [3]})
    assert sync(url(folder), warehouse, plan, options).rows == 1
    write(folder / f"t/c.{fmt}", {"amount": [2**53 + 1]})
    with pytest.raises(SyncFatalError, match=r"amount.*9007199254740993"):
        sync(url(folder), warehouse, plan, options)
    assert sorted(r["amount"] for r in rows(warehouse, "t")) == [1.5, 3.0]


def test_parquet_columns_can_be_declared(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_parquet(folder / "t/a.parquet", {"id": [1], "amount": [7]})
    options = PARQUET | {"columns": {"amount": "DECIMAL(12,2)"}}
    sync(url(folder), warehouse, table_plan("t"), options)
    assert rows(warehouse, "t") == [{"id": 1, "amount": Decimal("7.00")}]


# -- 5: columns differing only by case -------------------------------------------------------------


@pytest.mark.parametrize("where", ["one parquet file", "two parquet files", "jsonl", "csv"])
def test_case_twins_are_refused_before_data_moves(where: str, tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    options = PARQUET
    if where == "one parquet file":
        write_parquet(folder / "t/a.parquet", {"v": [1], "V": [2]})
    elif where == "two parquet files":
        write_parquet(folder / "t/a.parquet", {"v": [1]})
        write_parquet(folder / "t/b.parquet", {"V": [2]})
    elif where == "jsonl":
        options = JSONL
        write_jsonl(folder / "t/a.jsonl", [{"v": 1, "V": 2}])
    else:
        options = {"pattern": "t/*.csv", "format": "csv"}
        (folder / "t").mkdir(parents=True)
        (folder / "t/a.csv").write_text("id,v,V\n1,2,3\n")
    with pytest.raises(SyncFatalError, match=r"'v' and 'V' differ only by case"):
        sync(url(folder), warehouse, table_plan("t"), options)
    assert not (Path(warehouse) / "t").exists()


# -- 7 and 14: naive timestamps and nanoseconds ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_naive_timestamps_are_utc_wall_clock_not_timestamp_ntz(fmt: str, tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    if fmt == "parquet":
        write_parquet(folder / "t/a.parquet", {"ts": [datetime(2024, 5, 1, 12, 30)]})
    elif fmt == "jsonl":
        write_jsonl(folder / "t/a.jsonl", [{"ts": "2024-05-01 12:30:00"}])
    else:
        (folder / "t").mkdir(parents=True)
        (folder / "t/a.csv").write_text("ts\n2024-05-01 12:30:00\n")
    sync(url(folder), warehouse, table_plan("t"), {"pattern": f"t/*.{fmt}", "format": fmt})
    assert delta_type(warehouse, "t", "ts") == 'PrimitiveType("timestamp")'
    assert rows(warehouse, "t") == [{"ts": datetime(2024, 5, 1, 12, 30, tzinfo=UTC)}]


def test_nanosecond_timestamps_work_as_a_replication_key(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    stamps = [1_700_000_000_000_000_001, 1_700_000_000_000_001_000]
    write_parquet_typed(folder / "t/a.parquet", {"id": ([1, 2], "int64"), "ts": (stamps, "ts_ns")})
    plan = table_plan("t", "incremental", replication_key="ts", primary_key=["id"])
    first = sync(url(folder), warehouse, plan, PARQUET)
    assert first.cursor == "2023-11-14T22:13:20.000001+00:00"
    write_parquet_typed(folder / "t/b.parquet", {"id": ([3], "int64"), "ts": ([stamps[1] + 5_000], "ts_ns")})
    second = sync(url(folder), warehouse, plan, PARQUET)
    assert second.rows == 2  # the row at the cursor again, and the new one
    assert [r["id"] for r in rows(warehouse, "t")] == [1, 2, 3]


# -- what the README writes down -------------------------------------------------------------------


def test_json_objects_are_stored_as_the_file_wrote_them(tmp_path: Path, warehouse: str) -> None:
    """No explicit nulls for keys a row does not have (DuckDB's struct inference added them)."""
    folder = tmp_path / "b"
    write_jsonl(folder / "t/a.jsonl", [{"id": 1, "n": {"a": 1}}, {"id": 2, "n": {"b": [2, {"c": None}]}}])
    sync(url(folder), warehouse, table_plan("t"), JSONL)
    assert [r["n"] for r in rows(warehouse, "t")] == ['{"a":1}', '{"b":[2,{"c":null}]}']


def test_a_quoted_empty_csv_field_is_null_like_an_empty_one(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    (folder / "t").mkdir(parents=True)
    (folder / "t/a.csv").write_text('id,s\n1,""\n2,\n3,x\n')
    sync(url(folder), warehouse, table_plan("t"), {"pattern": "t/*.csv", "format": "csv"})
    assert [r["s"] for r in rows(warehouse, "t")] == [None, None, "x"]


def test_csv_types_come_from_the_first_file_so_declare_codes_as_text(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    (folder / "t").mkdir(parents=True)
    (folder / "t/a.csv").write_text("id,zip\n1,12345\n")
    (folder / "t/b.csv").write_text("id,zip\n2,01234\n")
    options = {"pattern": "t/*.csv", "format": "csv"}
    sync(url(folder), warehouse, table_plan("t"), options)
    assert [r["zip"] for r in rows(warehouse, "t")] == [12345, 1234]  # the first file made zip an integer
    sync(url(folder), warehouse, table_plan("t"), options | {"columns": {"zip": "VARCHAR"}})
    assert [r["zip"] for r in rows(warehouse, "t")] == ["12345", "01234"]


def test_parquet_nanoseconds_are_cut_to_the_microsecond(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    stamps = [1_000_001_999, -1]  # 1.000001999 s and one nanosecond before the epoch
    write_parquet_typed(folder / "t/a.parquet", {"id": ([1, 2], "int64"), "ts": (stamps, "ts_ns")})
    sync(url(folder), warehouse, table_plan("t"), PARQUET)
    assert [r["ts"] for r in rows(warehouse, "t")] == [
        datetime(1970, 1, 1, 0, 0, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]


# -- found by the bucket differential fuzzer -------------------------------------------------------


@pytest.mark.parametrize(
    "later",
    [
        [{"id": 2, "v": 0}, {"id": 3, "v": -1}],  # DuckDB infers HUGEINT for 0 and -1 together
        [{"id": 2, "v": None}],  # null on every line: no type of its own
        [],  # a file without a line
    ],
    ids=["zero-and-minus-one", "all-null", "empty-file"],
)
def test_a_later_jsonl_file_fits_the_table(later: list[dict[str, object]], tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    plan = table_plan("t", "incremental", primary_key=["id"])
    write_jsonl(folder / "t/a.jsonl", [{"id": 1, "v": 5}])
    sync(url(folder), warehouse, plan, JSONL)
    write_jsonl(folder / "t/b.jsonl", later)
    assert sync(url(folder), warehouse, plan, JSONL).rows == len(later)
    assert rows(warehouse, "t") == [{"id": 1, "v": 5}, *later]
    assert delta_type(warehouse, "t", "v") == 'PrimitiveType("long")'


def test_jsonl_integers_beyond_int64_fail_naming_the_fix(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_jsonl(folder / "t/a.jsonl", [{"v": -1}, {"v": 2**63}])
    with pytest.raises(SyncFatalError, match=r"holds the integer 9223372036854775808.*BIGINT.*DECIMAL\(38,s\)"):
        sync(url(folder), warehouse, table_plan("t"), JSONL)
    sync(url(folder), warehouse, table_plan("t"), JSONL | {"columns": {"v": "DECIMAL(38,0)"}})
    assert sorted(r["v"] for r in rows(warehouse, "t")) == [Decimal(-1), Decimal(2**63)]


def test_a_file_without_a_column_reads_it_in_the_tables_type(tmp_path: Path, warehouse: str) -> None:
    """A file lacking a column whose files disagree (HUGEINT and BIGINT) read it as HUGEINT NULLs,
    and the union turned the column into decimal(38,0) against the table's long."""
    folder = tmp_path / "b"
    plan = table_plan("t", "incremental", primary_key=["id"], replication_key="seq")
    write_jsonl(folder / "t/a.jsonl", [{"id": 1, "seq": 0, "v": 0}, {"id": 2, "seq": 0, "v": -1}])
    write_jsonl(folder / "t/b.jsonl", [{"id": 3, "seq": 0, "v": 0}])
    sync(url(folder), warehouse, plan, JSONL)
    write_jsonl(folder / "t/c.jsonl", [{"id": 4, "seq": 1}])
    assert sync(url(folder), warehouse, plan, JSONL).rows == 4
    assert [r["v"] for r in rows(warehouse, "t")] == [0, -1, 0, None]
