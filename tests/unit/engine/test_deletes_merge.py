"""The deletion check's comparison (engine/missing_keys.py): the sorted merge of key streams, which
tables it takes, and that it finds what DuckDB's anti-join finds."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from warehouse_sources.engine import missing_keys
from warehouse_sources.engine.missing_keys import absent, anti_join, find_deleted, key_groups, missing


def chunks(values: list[int], sizes: list[int]) -> Iterator[np.ndarray]:
    at = 0
    for size in sizes:
        yield np.array(values[at : at + size], np.int64)
        at += size
    if at < len(values):
        yield np.array(values[at:], np.int64)


def gone(warehouse: Iterator[np.ndarray], source: Iterator[np.ndarray]) -> list[int]:
    return [int(k) for part in missing(warehouse, source) for k in part]


def test_absent_keeps_the_keys_not_present() -> None:
    keys = np.array([1, 3, 5, 7, 9], np.int64)
    assert absent(keys, np.array([3, 4, 9], np.int64)).tolist() == [1, 5, 7]
    assert absent(keys, np.array([], np.int64)).tolist() == [1, 3, 5, 7, 9]
    assert absent(keys, np.array([100], np.int64)).tolist() == [1, 3, 5, 7, 9]
    assert absent(np.array([], np.int64), np.array([1], np.int64)).tolist() == []


def test_missing_across_uneven_chunks() -> None:
    warehouse = [1, 2, 3, 10, 11, 12, 20, 30, 31]
    source = [2, 3, 4, 5, 11, 20, 25, 31, 40, 41]
    for w_sizes in ([9], [1, 1, 1], [3, 3, 3], [4, 5]):
        for s_sizes in ([10], [1] * 10, [2, 7], [0, 3, 0, 7]):
            assert gone(chunks(warehouse, w_sizes), chunks(source, s_sizes)) == [1, 10, 12, 30], (w_sizes, s_sizes)


def test_missing_when_one_side_ends_first() -> None:
    assert gone(chunks([5, 6, 7], [1]), chunks([], [])) == [5, 6, 7]
    assert gone(chunks([5, 6, 7], [2]), chunks([1, 5], [1])) == [6, 7]
    assert gone(chunks([], []), chunks([1, 2, 3], [1])) == []


def test_missing_reads_the_source_to_its_end() -> None:
    read: list[int] = []

    def source() -> Iterator[np.ndarray]:
        for k in range(10):
            read.append(k)
            yield np.array([k], np.int64)

    assert gone(chunks([0], [1]), source()) == []
    assert read == list(range(10))


@pytest.mark.parametrize("seed", range(20))
def test_missing_matches_a_set_difference(seed: int) -> None:
    rng = random.Random(seed)
    warehouse = sorted(rng.sample(range(2_000), rng.randrange(0, 600)))
    source = sorted(rng.sample(range(2_000), rng.randrange(0, 600)))
    w_sizes = [rng.randrange(0, 50) for _ in range(30)]
    s_sizes = [rng.randrange(0, 50) for _ in range(30)]
    assert gone(chunks(warehouse, w_sizes), chunks(source, s_sizes)) == sorted(set(warehouse) - set(source))


def test_source_keys_out_of_order_are_refused() -> None:
    batches = [pa.record_batch({"id": [1, 5]}), pa.record_batch({"id": [4, 6]})]
    with pytest.raises(RuntimeError, match="did not come in order"):
        list(missing_keys.source_arrays(pa.RecordBatchReader.from_batches(batches[0].schema, batches), "id"))


def test_source_nulls_are_dropped() -> None:
    batch = pa.record_batch({"id": pa.array([None, None, 2, 3], pa.int32())})
    arrays = list(missing_keys.source_arrays(pa.RecordBatchReader.from_batches(batch.schema, [batch]), "id"))
    assert [a.tolist() for a in arrays] == [[2, 3]]


def table_of(path: Path, parts: list[list[int]], soft: bool = False) -> DeltaTable:
    """A Delta table written one file per part (`id`, and `_ws_deleted_at` set on ids divisible by 4 when soft)."""
    for part in parts:
        columns: dict[str, pa.Array] = {"id": pa.array(part, pa.int64()), "v": pa.array([str(k) for k in part])}
        if soft:
            marks = [None if k % 4 else 1_700_000_000_000_000 for k in part]
            columns["_ws_deleted_at"] = pa.array(marks, pa.timestamp("us", tz="UTC"))
        write_deltalake(str(path), pa.table(columns), mode="append")
    return DeltaTable(str(path))


def source_of(keys: list[int], ordered: bool = True) -> pa.RecordBatchReader:
    values = sorted(keys) if ordered else keys
    batches = [pa.record_batch({"id": pa.array(values[i : i + 7], pa.int64())}) for i in range(0, len(values), 7)]
    return pa.RecordBatchReader.from_batches(pa.schema([("id", pa.int64())]), batches)


def spooled(path: Path) -> list[int]:
    return sorted(pq.read_table(path).column("id").to_pylist())


def test_groups_of_overlapping_files_in_key_order(tmp_path: Path) -> None:
    table = table_of(tmp_path / "t", [[50, 60], [1, 2, 3], [10, 40], [30, 35], [70]])
    groups = key_groups(table, ("id",))
    assert groups is not None
    assert [[(f.low, f.high) for f in g] for g in groups] == [[(1, 3)], [(10, 40), (30, 35)], [(50, 60)], [(70, 70)]]


def test_groups_refused_for_keys_the_merge_cannot_take(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = table_of(tmp_path / "t", [[1, 2], [3, 4]])
    assert key_groups(table, ("id", "v")) is None  # composite
    assert key_groups(table, ("v",)) is None  # text
    monkeypatch.setattr(missing_keys, "GROUP_ROWS", 3)
    assert key_groups(table, ("id",)) is not None  # files of 2 rows each, apart
    overlapping = table_of(tmp_path / "o", [[1, 5], [2, 6]])
    assert key_groups(overlapping, ("id",)) is None  # one group of 4 rows


@pytest.mark.parametrize("soft", [False, True])
def test_sorted_merge_finds_what_the_anti_join_finds(tmp_path: Path, soft: bool) -> None:
    rng = random.Random(7)
    stored = rng.sample(range(10_000), 3_000)
    parts = [sorted(stored[i : i + 400]) for i in range(0, 2_400, 400)] + [stored[2_400:]]  # overlapping files
    table = table_of(tmp_path / "t", parts, soft)
    source = set(rng.sample(stored, 2_500)) | set(rng.sample(range(10_000, 12_000), 100))
    calls: list[bool] = []

    def keys(ordered: bool) -> pa.RecordBatchReader:
        calls.append(ordered)
        return source_of(list(source), ordered)

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    merged = spooled(find_deleted(keys, table, ("id",), tmp_path / "a"))
    joined = spooled(anti_join(source_of(list(source), False), table, ("id",), tmp_path / "b"))
    live = {k for k in stored if not (soft and k % 4 == 0)}
    assert calls == [True] and merged == joined == sorted(live - source)
    assert pq.read_schema(tmp_path / "a" / missing_keys.SPOOL_NAME).field("id").type == pa.int64()


def test_a_table_the_merge_cannot_take_goes_through_the_anti_join(tmp_path: Path) -> None:
    table = table_of(tmp_path / "t", [[1, 2, 3]])
    calls: list[bool] = []

    def keys(ordered: bool) -> pa.RecordBatchReader:
        calls.append(ordered)
        return pa.RecordBatchReader.from_batches(
            pa.schema([("id", pa.int64()), ("v", pa.string())]), [pa.record_batch({"id": [1, 3], "v": ["1", "3"]})]
        )

    assert spooled(find_deleted(keys, table, ("id", "v"), tmp_path)) == [2]
    assert calls == [False]


def test_read_ahead_keeps_the_order_and_passes_errors_on() -> None:
    assert list(missing_keys.read_ahead(iter(range(5)))) == [0, 1, 2, 3, 4]
    assert list(missing_keys.read_ahead(iter([]))) == []

    def failing() -> Iterator[int]:
        yield 1
        raise OSError("file gone")

    with pytest.raises(OSError, match="file gone"):
        list(missing_keys.read_ahead(failing()))


def test_the_spool_gathers_missing_keys_into_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = table_of(tmp_path / "t", [list(range(0, 1_000)), list(range(1_000, 2_000))])
    monkeypatch.setattr(missing_keys, "SPOOL_ROWS", 300)
    kept = [k for k in range(2_000) if k % 3]  # a third of the keys left the source, one in every step
    spool = find_deleted(lambda ordered: source_of(kept, ordered), table, ("id",), tmp_path)
    assert spooled(spool) == [k for k in range(2_000) if k % 3 == 0]
    assert pq.ParquetFile(spool).metadata.num_row_groups == 3  # 667 keys in groups of at least 300
