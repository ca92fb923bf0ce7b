"""Key-bounded data files: a full load in key order, merges, then compaction in key order leave
files whose first-key ranges (from Delta's add statistics) do not overlap, every row kept."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from warehouse_sources.warehouse import delta, layout, ordered, upkeep
from warehouse_sources.warehouse.state import SyncState

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def state(cursor: int) -> SyncState:
    return SyncState(method="incremental", replication_key="id", key_kind="int", cursor=cursor, sort_key="id")


def rows(ids: list[int], version: str = "v0") -> pa.Table:
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "payload": pa.array([f"{version} payload of row {i:08d}" * 3 for i in ids]),
        "at": pa.array([T0 + timedelta(seconds=i, microseconds=7) for i in ids], pa.timestamp("us", tz="UTC")),
    })  # fmt: skip


def reader(table: pa.Table, chunk: int = 997) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=chunk))


Where = tuple[str, dict[str, str] | None]


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Where:
    """A table's uri and storage options, on local disk and on moto's S3 server."""
    if request.param == "local":
        return str(tmp_path / "t"), None
    root, options = request.getfixturevalue("s3_warehouse")
    return f"{root}/t", options


def ranges(uri: str, options: dict[str, str] | None = None) -> list[tuple[int, int]]:
    files = layout.data_files(DeltaTable(uri, storage_options=options), "id")
    assert files is not None
    return [(f.low, f.high) for f in files]


def disjoint(spans: list[tuple[int, int]]) -> bool:
    return all(b[0] > a[1] for a, b in zip(spans, spans[1:], strict=False))


@pytest.fixture
def small_files(monkeypatch: pytest.MonkeyPatch) -> int:
    """Files of ~64 KB, so a few thousand rows make many files (the real target is 8 MB)."""
    size = 64 * 1024
    for module in (delta, layout):
        monkeypatch.setattr(module, "TARGET_FILE_SIZE", size)
    monkeypatch.setattr(layout, "PASS_BYTES", 1024 * size)
    monkeypatch.setattr(upkeep, "SMALL_FILE_BYTES", size // 4)
    return size


def test_sorted_stream_orders_every_row_through_spooled_runs_nulls_last() -> None:
    rng = random.Random(4)
    keys = [rng.randrange(5000) if rng.random() > 0.02 else None for _ in range(30_000)]
    table = pa.table({"k": pa.array(keys, pa.int64()), "n": pa.array(range(30_000))})
    with ordered.sorted_stream(reader(table), "k", run_bytes=40_000) as stream:  # ~20 runs on disk
        out = stream.read_all()
    values = out.column("k").to_pylist()
    present = [v for v in values if v is not None]
    assert present == sorted(present) and values[len(present) :] == [None] * (len(values) - len(present))
    assert sorted(out.column("n").to_pylist()) == list(range(30_000))


def test_a_full_load_merges_and_a_compaction_leave_key_bounded_files(where: Where, small_files: int) -> None:
    uri, options = where
    ids = list(range(20_000))
    random.Random(1).shuffle(ids)  # a source read with no ORDER BY
    with ordered.sorted_stream(reader(rows(ids)), "id", run_bytes=256 * 1024) as stream:
        delta.overwrite(uri, None, stream, state(0), options)
    expected = {i: "v0" for i in ids}
    rng = random.Random(2)
    for run in range(1, 6):
        changed = sorted(rng.sample(range(20_000), 40)) + list(range(20_000 + run * 10, 20_010 + run * 10))
        table = DeltaTable(uri, storage_options=options)
        delta.merge(uri, table, reader(rows(changed, f"v{run}")), ("id",), state(run))
        expected |= dict.fromkeys(changed, f"v{run}")
    before = ranges(uri, options)
    upkeep.maintain(uri, timedelta(hours=1), options)
    after = ranges(uri, options)
    assert not disjoint(before), "the writers overlapped nothing: this test would prove nothing"
    assert len(after) >= 3 and disjoint(after), after
    table = DeltaTable(uri, storage_options=options).to_pyarrow_table()
    versions = (p[:3].strip() for p in table["payload"].to_pylist())
    assert dict(zip(table["id"].to_pylist(), versions, strict=True)) == expected
    assert upkeep.compact_if_due(DeltaTable(uri, storage_options=options)) is None  # nothing left to do


def test_compacted_files_statistics_prune_without_losing_a_row(tmp_path: Path, small_files: int) -> None:
    """The add statistics compaction writes bound every value (timestamps widened to the
    millisecond): filters on the key and on a timestamp read exactly the matching rows."""
    from warehouse_sources.query.engine import QueryEngine

    uri = str(tmp_path / "wh" / "t")
    delta.overwrite(uri, None, reader(rows(list(range(6000)))), state(0))
    assert upkeep.compact_if_due(DeltaTable(uri)) is not None
    at = T0 + timedelta(seconds=4321, microseconds=7)
    dataset = DeltaTable(uri).to_pyarrow_dataset()
    assert dataset.to_table(filter=pc.field("at") == pa.scalar(at, pa.timestamp("us", tz="UTC")))["id"].to_pylist() == [
        4321
    ]
    assert dataset.to_table(filter=pc.field("id") >= 5990).num_rows == 10
    engine = QueryEngine(str(tmp_path / "wh"), views_dir=tmp_path / "no-views")
    assert engine.run("SELECT count(*) FROM t WHERE id BETWEEN 100 AND 199").rows == [[100]]


def test_small_neighbours_are_packed_in_key_order_and_overlaps_joined() -> None:
    mb = 1024 * 1024
    files = [
        layout.DataFile("a", 8 * mb, 0, 99),
        layout.DataFile("b", mb, 100, 199),
        layout.DataFile("c", mb, 200, 299),
        layout.DataFile("d", 8 * mb, 300, 399),
        layout.DataFile("e", 8 * mb, 350, 450),
        layout.DataFile("f", mb, 500, 599),
    ]
    runs = layout.plan(files, small=2 * mb)
    assert [[f.path for f in run] for run in runs] == [["b", "c"], ["d", "e"]]
    assert layout.overlaps(files) == 1


def test_compaction_that_loses_to_a_merge_is_refused_and_loses_no_change(tmp_path: Path, small_files: int) -> None:
    uri = str(tmp_path / "t")
    delta.overwrite(uri, None, reader(rows(list(range(3000)))), state(0))
    seen = DeltaTable(uri)  # compaction's view, before a sync's merge commits
    delta.merge(uri, DeltaTable(uri), reader(rows([5], "new")), ("id",), state(1))
    deferred: list[str] = []
    assert upkeep._race(deferred, "compaction", upkeep.compact_if_due, seen) is None and deferred
    upkeep.maintain(uri, timedelta(hours=1))
    table = DeltaTable(uri).to_pyarrow_table()
    assert table.num_rows == 3000 and disjoint(ranges(uri))
    assert table.filter(pc.field("id") == 5)["payload"][0].as_py().startswith("new")


def test_a_sort_leaves_no_spool_and_removes_those_of_killed_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import subprocess
    import sys
    import tempfile
    import time

    from warehouse_sources.warehouse import upsert

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"{ordered.SORT_PREFIX}{int(gone.stdout)}-a"  # a sync SIGKILLed while sorting
    dead.mkdir()
    (dead / "run-0.arrows").write_bytes(b"x")
    old = time.time() - upsert.STALE_SPOOL_SECONDS - 60
    os.utime(dead, (old, old))
    with ordered.sorted_stream(reader(rows(list(range(3000, 0, -1)))), "id", run_bytes=50_000) as stream:
        assert [p.name for p in tmp_path.iterdir()] != [] and not dead.exists()
        assert stream.read_all().column("id").to_pylist() == list(range(1, 3001))
    assert list(tmp_path.iterdir()) == []


def test_only_keys_arrow_can_order_totally_are_sorted_on() -> None:
    assert all(ordered.sortable(t) for t in (pa.int64(), pa.string(), pa.decimal128(20, 2), pa.timestamp("us")))
    # No sort kernel (uuid, json, views), or NaN compares false both ways (floats): rows stay as they came.
    assert not any(ordered.sortable(t) for t in (pa.uuid(), pa.string_view(), pa.float64()))
