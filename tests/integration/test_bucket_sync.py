"""Bucket sources on a file:// folder through the real engine and Delta: every format and method."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.bucket_support import rows, sync, table_plan, version, write_csv, write_parquet

CSV = {"pattern": "orders/*.csv*", "format": "csv"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "bucket"


def url(folder: Path) -> str:
    return f"file://{folder}/"


def test_full_table_reads_every_csv_file_plain_gzip_and_zstd(folder: Path, warehouse: str) -> None:
    write_csv(folder / "orders/a.csv", "id,amount,day\n1,9.5,2024-01-01\n2,3.25,2024-01-02\n")
    write_csv(folder / "orders/b.csv.gz", "id,amount,day\n3,1.0,2024-01-03\n", compress="gzip")
    write_csv(folder / "orders/c.csv.zst", "id,amount,day\n4,2.0,2024-01-04\n", compress="zstd")
    write_csv(folder / "other/x.csv", "id\n99\n")
    result = sync(url(folder), warehouse, table_plan("orders"), CSV)
    assert result.rows == 4
    assert rows(warehouse, "orders") == [
        {"id": 1, "amount": 9.5, "day": date(2024, 1, 1)},
        {"id": 2, "amount": 3.25, "day": date(2024, 1, 2)},
        {"id": 3, "amount": 1.0, "day": date(2024, 1, 3)},
        {"id": 4, "amount": 2.0, "day": date(2024, 1, 4)},
    ]
    (folder / "orders/a.csv").unlink()
    sync(url(folder), warehouse, table_plan("orders"), CSV)
    assert [r["id"] for r in rows(warehouse, "orders")] == [3, 4]  # deletions disappear on full_table


def test_csv_dialect_and_declared_types(folder: Path, warehouse: str) -> None:
    write_csv(folder / "orders/a.csv", "id;code;amount\n1;'007';12.50\n2;'a;b';3\n")
    options = CSV | {"csv": {"delimiter": ";", "quote": "'", "escape": "'"},
                     "columns": {"code": "VARCHAR", "amount": "DECIMAL(12,2)"}}  # fmt: skip
    sync(url(folder), warehouse, table_plan("orders"), options)
    from decimal import Decimal

    assert rows(warehouse, "orders") == [
        {"id": 1, "code": "007", "amount": Decimal("12.50")},
        {"id": 2, "code": "a;b", "amount": Decimal("3.00")},
    ]


def test_append_only_without_key_loads_only_new_files(
    folder: Path, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    write_csv(folder / "orders/a.csv", "id,v\n1,a\n2,b\n")
    plan = table_plan("orders", "append_only")
    assert sync(url(folder), warehouse, plan, CSV).write == "overwrite"
    unchanged = sync(url(folder), warehouse, plan, CSV)
    assert (unchanged.write, unchanged.rows) == ("none", 0)
    write_csv(folder / "orders/b.csv", "id,v\n3,c\n")
    second = sync(url(folder), warehouse, plan, CSV)
    assert (second.write, second.rows) == ("append", 1)
    assert [r["id"] for r in rows(warehouse, "orders")] == [1, 2, 3]
    # Rewritten in place: warned about, not appended again (on_file_change: warn is the default).
    write_csv(folder / "orders/a.csv", "id,v\n1,a\n2,b\n5,e\n", mtime=2_000_000_000)
    (folder / "orders/b.csv").unlink()
    with caplog.at_level(logging.WARNING):
        third = sync(url(folder), warehouse, plan, CSV)
    assert third.write == "none"
    assert "changed in place and are NOT read again" in caplog.text and "orders/a.csv" in caplog.text
    assert "were deleted from the bucket" in caplog.text and "orders/b.csv" in caplog.text
    assert [r["id"] for r in rows(warehouse, "orders")] == [1, 2, 3]


def test_append_only_reloads_a_rewritten_file_when_asked(folder: Path, warehouse: str) -> None:
    options = CSV | {"on_file_change": "reload"}
    write_csv(folder / "orders/a.csv", "id,v\n1,a\n")
    plan = table_plan("orders", "append_only")
    sync(url(folder), warehouse, plan, options)
    write_csv(folder / "orders/a.csv", "id,v\n1,a\n2,b\n", mtime=2_000_000_000)
    result = sync(url(folder), warehouse, plan, options)
    assert (result.write, result.rows) == ("append", 2)
    assert [r["id"] for r in rows(warehouse, "orders")] == [1, 1, 2]
    assert sync(url(folder), warehouse, plan, options).write == "none"  # the new fingerprint is remembered


def test_incremental_without_key_merges_new_files_on_primary_key(folder: Path, warehouse: str) -> None:
    write_parquet(folder / "people/1.parquet", {"id": [1, 2], "name": ["ann", "bob"]})
    options = {"pattern": "people/*.parquet", "format": "parquet"}
    plan = table_plan("people", "incremental", primary_key=["id"])
    sync(url(folder), warehouse, plan, options)
    write_parquet(folder / "people/2.parquet", {"id": [2, 3], "name": ["bobby", "cy"]})
    result = sync(url(folder), warehouse, plan, options)
    assert (result.write, result.rows) == ("merge", 2)
    assert rows(warehouse, "people") == [
        {"id": 1, "name": "ann"}, {"id": 2, "name": "bobby"}, {"id": 3, "name": "cy"}
    ]  # fmt: skip


def test_incremental_with_replication_key_over_parquet_files(folder: Path, warehouse: str) -> None:
    stamps = [datetime(2024, 1, d) for d in (1, 2, 3)]
    write_parquet(folder / "p/a.parquet", {"id": [1, 2, 3], "updated": stamps, "v": ["a", "b", "c"]})
    options = {"pattern": "p/**/*.parquet", "format": "parquet"}
    plan = table_plan("p", "incremental", replication_key="updated", primary_key=["id"])
    first = sync(url(folder), warehouse, plan, options)
    assert first.cursor == "2024-01-03T00:00:00+00:00"
    write_parquet(folder / "p/later/b.parquet", {"id": [2, 4], "updated": [datetime(2024, 1, 5), datetime(2024, 1, 9)],
                                                 "v": ["B", "d"]})  # fmt: skip
    second = sync(url(folder), warehouse, plan, options)
    assert (second.write, second.rows, second.cursor) == (
        "merge",
        3,
        "2024-01-09T00:00:00+00:00",
    )  # row 3 at the cursor
    assert [r["v"] for r in rows(warehouse, "p")] == ["a", "B", "c", "d"]


def test_append_only_with_replication_key_skips_boundary_rows(folder: Path, warehouse: str) -> None:
    write_csv(folder / "orders/a.csv", "id,seq\n1,10\n2,20\n")
    plan = table_plan("orders", "append_only", replication_key="seq")
    sync(url(folder), warehouse, plan, CSV)
    write_csv(folder / "orders/b.csv", "id,seq\n3,20\n4,30\n")
    result = sync(url(folder), warehouse, plan, CSV)
    assert (result.rows, result.cursor) == (2, 30)
    assert sorted(r["id"] for r in rows(warehouse, "orders")) == [1, 2, 3, 4]


def test_jsonl_keeps_nested_objects_as_json_text(folder: Path, warehouse: str) -> None:
    lines = [{"id": 1, "meta": {"a": 1, "b": [1, 2]}, "tags": ["x"]}, {"id": 2, "meta": None, "tags": []}]
    (folder / "ev").mkdir(parents=True)
    (folder / "ev/1.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    (folder / "ev/2.jsonl").write_text(json.dumps({"id": 3, "extra": "new column"}) + "\n")
    options = {"pattern": "ev/*.jsonl", "format": "jsonl", "columns": {"id": "BIGINT"}}
    sync(url(folder), warehouse, table_plan("ev"), options)
    found = rows(warehouse, "ev")
    assert json.loads(found[0]["meta"]) == {"a": 1, "b": [1, 2]}
    assert found[0]["tags"] == ["x"]
    assert [(r["id"], r["extra"]) for r in found] == [(1, None), (2, None), (3, "new column")]


def test_delta_table_in_the_bucket_is_read_at_its_latest_version(folder: Path, warehouse: str) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    target = folder / "lake/events"
    write_deltalake(str(target), pa.table({"id": [1, 2], "ts": [10, 20]}))
    write_deltalake(str(target), pa.table({"id": [3], "ts": [30]}), mode="append")
    options = {"pattern": "lake/events", "format": "delta"}
    plan = table_plan("events", "append_only", replication_key="ts")
    sync(url(folder), warehouse, plan, options)
    write_deltalake(str(target), pa.table({"id": [4], "ts": [40]}), mode="append")
    result = sync(url(folder), warehouse, plan, options)
    assert (result.rows, result.cursor) == (1, 40)
    assert [r["id"] for r in rows(warehouse, "events")] == [1, 2, 3, 4]


def test_loaded_file_state_stays_bounded(folder: Path, warehouse: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from deltalake import DeltaTable

    from warehouse_sources.engine import files
    from warehouse_sources.warehouse.delta import read_state

    monkeypatch.setattr(files, "MAX_RECENT", 3)
    monkeypatch.setattr(files.plan_files, "__defaults__", (3,))
    for i in range(5):
        write_csv(folder / f"orders/{i}.csv", f"id\n{i}\n", mtime=1_700_000_000 + i)
    plan = table_plan("orders", "append_only")
    sync(url(folder), warehouse, plan, CSV)
    state = read_state(DeltaTable(f"{warehouse}/orders"))
    assert state is not None
    kept = state.extra["files"]
    assert [row[0] for row in kept["recent"]] == ["orders/2.csv", "orders/3.csv", "orders/4.csv"]
    assert kept["watermark_ns"] == (1_700_000_000 + 1) * 10**9
    write_csv(folder / "orders/5.csv", "id\n5\n", mtime=1_700_000_010)
    assert sync(url(folder), warehouse, plan, CSV).rows == 1  # forgotten files are not read again
    assert sorted(r["id"] for r in rows(warehouse, "orders")) == [0, 1, 2, 3, 4, 5]
    assert version(warehouse, "orders") == 1


def test_new_files_without_a_column_of_older_ones_append_nulls(folder: Path, warehouse: str) -> None:
    write_parquet(folder / "people/1.parquet", {"id": [1], "name": ["ann"], "note": [{"a": 1}]})
    options = {"pattern": "people/*.parquet", "format": "parquet"}
    plan = table_plan("people", "append_only")
    sync(url(folder), warehouse, plan, options)
    write_parquet(folder / "people/2.parquet", {"id": [2], "name": ["bob"]})
    assert sync(url(folder), warehouse, plan, options).rows == 1
    assert rows(warehouse, "people") == [
        {"id": 1, "name": "ann", "note": '{"a":1}'},
        {"id": 2, "name": "bob", "note": None},
    ]


def test_duckdb_draws_no_progress_bar_into_the_task_log(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB draws a bar of carriage returns on stdout for statements over 2 s (a sync's reads from S3
    took 5-7 s in the bench): the reader's connection has it off; progress is the engine's log lines."""
    import duckdb

    from warehouse_sources.sources.bucket.reader import BucketReader

    connect = duckdb.connect

    def as_in_a_task(*args: Any, **kwargs: Any) -> Any:
        conn = connect(*args, **kwargs)
        conn.execute("SET enable_progress_bar = true")  # DuckDB's default outside pytest
        return conn

    monkeypatch.setattr(duckdb, "connect", as_in_a_task)
    write_parquet(folder / "t" / "a.parquet", {"id": [1]})
    with BucketReader(url(folder), {"t": {"pattern": "t/*.parquet", "format": "parquet"}}) as reader:
        assert reader.describe("", "t") is not None
        (enabled,) = reader._conn.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    assert enabled is False
