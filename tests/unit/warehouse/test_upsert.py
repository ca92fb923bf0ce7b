"""The pieces of the bounded MERGE: key spans, their predicate, and membership of changed keys."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from warehouse_sources.warehouse import upsert
from warehouse_sources.warehouse.spool import ChangedKeys, identity


def covered(spans: list[tuple[object, object]], values: list[object]) -> bool:
    return all(any(low <= v <= high for low, high in spans) for v in values)  # type: ignore[operator]


def test_few_keys_become_one_point_each() -> None:
    assert upsert.key_spans(pa.array([7, 3, 3, 9]), limit=4) == [(3, 3), (7, 7), (9, 9)]


def test_integer_keys_are_cut_at_the_widest_gaps_only() -> None:
    values = [*range(100, 200), *range(5000, 5100, 2), 90000, *range(1_000_000, 1_000_050)]
    spans = upsert.key_spans(pa.array(values, pa.int64()), limit=4)
    assert spans == [(100, 199), (5000, 5098), (90000, 90000), (1_000_000, 1_000_049)]


def test_narrow_gaps_are_not_worth_a_cut() -> None:
    every_other = pa.array(range(1, 20_001, 2), pa.int64())
    assert upsert.key_spans(every_other, limit=32) == [(1, 19_999)]
    one_wide_gap = pa.array([*range(1, 5_001, 3), *range(100_000, 100_100)], pa.int64())
    assert upsert.key_spans(one_wide_gap, limit=32) == [(1, 4_999), (100_000, 100_099)]


def test_string_keys_are_cut_into_runs_of_equal_count_and_all_covered() -> None:
    names = [f"k{i:05d}" for i in range(1000)]
    spans = upsert.key_spans(pa.array(names[::-1]), limit=8)
    assert len(spans) == 8 and spans[0] == ("k00000", "k00124") and spans[-1][1] == "k00999"
    assert covered(spans, names)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_the_sql_and_the_pyarrow_predicate_select_the_same_rows() -> None:
    spans = [(1, 1), (10, 20), (40, 41)]
    sql, expression = upsert.span_predicate('we"ird', spans)
    assert sql == '"we""ird" = 1 OR ("we""ird" >= 10 AND "we""ird" <= 20) OR ("we""ird" >= 40 AND "we""ird" <= 41)'
    table = pa.table({'we"ird': pa.array(range(0, 50), pa.int64())})
    assert ds.dataset(table).to_table(filter=expression).column(0).to_pylist() == [1, *range(10, 21), 40, 41]


def test_string_literals_double_their_quotes() -> None:
    sql, _ = upsert.span_predicate("name", [("o'brien", "o'brien")])
    assert sql == "\"name\" = 'o''brien'"


def test_changed_keys_answer_membership_for_a_batch() -> None:
    keys = pa.table({"id": pa.array([50, 3, 17, 1000], pa.int64())})
    batch = pa.record_batch({"id": pa.array([1, 3, 17, 18, 50, 999], pa.int64())})
    assert ChangedKeys.of(keys).contains(batch).to_pylist() == [False, True, True, False, True, False]


def test_changed_composite_keys_answer_membership_for_a_batch() -> None:
    keys = pa.table({"region": ["us", "eu"], "id": pa.array([1, 2], pa.int64())})
    batch = pa.record_batch({"region": ["us", "us", "eu", "eu"], "id": pa.array([1, 2, 1, 2], pa.int64())})
    assert ChangedKeys.of(keys).contains(batch).to_pylist() == [True, False, False, True]


def test_composite_identity_does_not_collide_when_parts_shift() -> None:
    keys = pa.table({"a": ["ab", "a"], "b": ["c", "bc"]})
    assert pc.count_distinct(identity(keys)).as_py() == 2


@pytest.mark.parametrize(
    ("table_columns", "key_type", "allowed"),
    [
        (["id", "v"], pa.int64(), True),
        (["id", "v"], pa.string(), True),
        (["id", "v"], pa.timestamp("us", tz="UTC"), False),
        (["id", "v", "dropped"], pa.int64(), False),
    ],
)
def test_schema_allows_the_replacement_only_where_it_gives_merges_result(
    table_columns: list[str], key_type: pa.DataType, allowed: bool
) -> None:
    table = pa.schema([pa.field(c, key_type if c == "id" else pa.string()) for c in table_columns])
    source = pa.schema([pa.field("id", key_type), pa.field("v", pa.string()), pa.field("new", pa.int32())])
    assert upsert.schema_allows(table, source, ("id",)) is allowed


def test_spools_of_dead_syncs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    dead, recent, live, unnamed = (tmp_path / f"ws-merge-{dead_pid}-a", tmp_path / f"ws-merge-{dead_pid}-b",
                                   tmp_path / f"ws-merge-{os.getpid()}-c", tmp_path / "ws-merge-x7k2")  # fmt: skip
    for folder in (dead, recent, live, unnamed):
        folder.mkdir()
        (folder / "changes.arrows").write_bytes(b"x")
    old = time.time() - upsert.STALE_SPOOL_SECONDS - 60
    for folder in (dead, live, unnamed):
        os.utime(folder, (old, old))
    assert sorted(upsert.remove_stale_spools(tmp_path)) == sorted([dead, unnamed])
    assert not dead.exists() and not unnamed.exists() and recent.exists() and live.exists()
