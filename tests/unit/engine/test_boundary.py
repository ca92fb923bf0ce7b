"""Rows at the cursor's boundary value: identities, and skipping exactly the ones already synced."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from warehouse_sources.engine.boundary import identities, skip_synced, synced_at_value
from warehouse_sources.warehouse.state import CursorValue

SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("seq", pa.int64()), pa.field("note", pa.string())])


def batch(rows: list[tuple[int, int | None, str]]) -> pa.RecordBatch:
    ids, seqs, notes = zip(*rows, strict=True) if rows else ((), (), ())
    return pa.record_batch(
        [pa.array(ids, pa.int64()), pa.array(seqs, pa.int64()), pa.array(notes, pa.string())], schema=SCHEMA
    )


def rows_of(batches: Iterable[pa.RecordBatch]) -> list[tuple[int, int | None, str]]:
    table = pa.Table.from_batches(list(batches), schema=SCHEMA)
    data = table.to_pydict()
    return list(zip(data["id"], data["seq"], data["note"], strict=True))


def test_identities_are_stable_across_calls() -> None:
    data = batch([(1, 10, "a"), (2, 10, "b")])
    assert identities(data, ["id"]) == identities(data, ["id"])
    assert identities(data, ["id", "seq", "note"]) == identities(data, ["id", "seq", "note"])


def test_identities_equal_for_equal_values_across_batches_and_tables() -> None:
    first = batch([(1, 10, "a"), (2, 10, "b")])
    second = batch([(2, 99, "changed"), (1, 5, "other")])
    assert identities(first, ["id"]) == list(reversed(identities(second, ["id"])))
    table = pa.Table.from_batches([first])
    assert identities(table, ["id", "note"]) == identities(first, ["id", "note"])


def test_identities_differ_for_different_values() -> None:
    ids = identities(batch([(1, 10, "a"), (2, 10, "a"), (1, 10, "b")]), ["id", "note"])
    assert len(set(ids)) == 3


def test_identities_depend_on_column_order_and_choice() -> None:
    data = batch([(1, 10, "a")])
    assert identities(data, ["id"]) != identities(data, ["seq"])
    assert identities(data, ["id", "seq"]) != identities(data, ["seq", "id"])


def test_identities_handle_nulls_and_time_types() -> None:
    data = pa.record_batch(
        {
            "at": pa.array([datetime(2024, 1, 1, 12, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")),
            "day": pa.array([date(2024, 1, 1), date(2024, 1, 2)], pa.date32()),
        }
    )
    first = identities(data, ["at", "day"])
    assert len(set(first)) == 2
    assert first == identities(data, ["at", "day"])


def test_skip_synced_drops_exactly_the_synced_rows_at_the_boundary() -> None:
    # Last run ended at seq 10 having synced ids 1 and 2 there. Id 3 committed later with seq 10.
    synced = Counter(identities(batch([(1, 10, "a"), (2, 10, "b")]), ["id"]))
    incoming = batch([(1, 10, "a"), (2, 10, "b"), (3, 10, "late"), (4, 11, "new"), (5, 12, "newer")])
    kept = rows_of(skip_synced([incoming], "seq", 10, synced, ["id"]))
    assert kept == [(3, 10, "late"), (4, 11, "new"), (5, 12, "newer")]


def test_synced_identities_above_the_boundary_are_not_dropped() -> None:
    # An identity is only skipped at the boundary value; above it the row is new data.
    synced = Counter(identities(batch([(4, 10, "x")]), ["id"]))
    incoming = batch([(4, 11, "moved up"), (4, 10, "x")])
    assert rows_of(skip_synced([incoming], "seq", 10, synced, ["id"])) == [(4, 11, "moved up")]


def test_rows_below_the_boundary_are_kept() -> None:
    # Lookback windows read below the cursor; those rows are never filtered here.
    synced = Counter(identities(batch([(1, 10, "a")]), ["id"]))
    incoming = batch([(1, 9, "a"), (1, 10, "a")])
    assert rows_of(skip_synced([incoming], "seq", 10, synced, ["id"])) == [(1, 9, "a")]


def test_null_keys_are_kept() -> None:
    synced = Counter(identities(batch([(1, 10, "a")]), ["id"]))
    incoming = batch([(1, None, "a"), (1, 10, "a")])
    assert rows_of(skip_synced([incoming], "seq", 10, synced, ["id"])) == [(1, None, "a")]


def test_empty_synced_set_passes_everything_through_unchanged() -> None:
    batches = [batch([(1, 10, "a"), (2, 10, "b")]), batch([(3, 11, "c")])]
    result = list(skip_synced(batches, "seq", 10, Counter(), ["id"]))
    assert len(result) == 2
    assert all(a.equals(b) for a, b in zip(result, batches, strict=True))


def test_batches_without_boundary_rows_pass_through() -> None:
    synced = Counter(identities(batch([(1, 10, "a")]), ["id"]))
    incoming = [batch([(7, 11, "x"), (8, 12, "y")]), batch([])]
    result = list(skip_synced(incoming, "seq", 10, synced, ["id"]))
    assert [b.num_rows for b in result] == [2, 0]
    assert result[0].equals(incoming[0])


def test_skip_works_across_several_batches() -> None:
    synced = Counter(identities(batch([(1, 10, "a"), (2, 10, "b")]), ["id"]))
    incoming = [batch([(1, 10, "a"), (9, 10, "late")]), batch([(2, 10, "b"), (3, 11, "c")])]
    assert rows_of(skip_synced(incoming, "seq", 10, synced, ["id"])) == [(9, 10, "late"), (3, 11, "c")]


def test_whole_row_identity_when_there_is_no_key() -> None:
    columns = ["id", "seq", "note"]
    synced = Counter(identities(batch([(1, 10, "a")]), columns))
    incoming = batch([(1, 10, "a"), (1, 10, "a changed")])
    assert rows_of(skip_synced([incoming], "seq", 10, synced, columns)) == [(1, 10, "a changed")]


@pytest.mark.parametrize(
    ("key_type", "boundary", "above"),
    [
        (
            pa.timestamp("us", tz="UTC"),
            datetime(2024, 5, 1, 12, tzinfo=UTC),
            datetime(2024, 5, 1, 12, 0, 0, 1, tzinfo=UTC),
        ),
        (pa.date32(), date(2024, 5, 1), date(2024, 5, 2)),
    ],
)
def test_time_keys(key_type: pa.DataType, boundary: CursorValue, above: CursorValue) -> None:
    data = pa.record_batch(
        {"id": pa.array([1, 2, 3], pa.int64()), "k": pa.array([boundary, boundary, above], key_type)}
    )
    synced = Counter(identities(data.slice(0, 1), ["id"]))
    kept = pa.Table.from_batches(list(skip_synced([data], "k", boundary, synced, ["id"])))
    assert kept.column("id").to_pylist() == [2, 3]


def test_aware_boundary_value_matches_the_same_instant_in_another_zone() -> None:
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    data = pa.record_batch({"id": pa.array([1, 2], pa.int64()), "k": pa.array([at, at], pa.timestamp("us", tz="UTC"))})
    synced = Counter(identities(data.slice(0, 1), ["id"]))
    same_instant = at.astimezone(timezone(timedelta(hours=-5)))
    kept = pa.Table.from_batches(list(skip_synced([data], "k", same_instant, synced, ["id"])))
    assert kept.column("id").to_pylist() == [2]


def test_identical_rows_are_counted_not_collapsed() -> None:
    # Two identical rows were synced at seq 10; a third identical one committed later is new.
    columns = ["id", "seq", "note"]
    synced = Counter(identities(batch([(1, 10, "click"), (1, 10, "click")]), columns))
    assert synced.total() == 2
    incoming = batch([(1, 10, "click"), (1, 10, "click"), (1, 10, "click")])
    assert rows_of(skip_synced([incoming], "seq", 10, synced, columns)) == [(1, 10, "click")]


def test_the_synced_counter_is_not_used_up_for_the_caller() -> None:
    synced = Counter(identities(batch([(1, 10, "a")]), ["id"]))
    list(skip_synced([batch([(1, 10, "a")])], "seq", 10, synced, ["id"]))
    assert synced.total() == 1


def test_synced_at_value_reads_the_boundary_rows_back_from_the_table(tmp_path: Path) -> None:
    at = datetime(2024, 1, 1, 10, 0, 0, 500, tzinfo=UTC)  # sub-millisecond: file statistics round it
    data = pa.table(
        {
            "event": pa.array(["click", "click", "view", "click"]),
            "at": pa.array([at, at, at, at + timedelta(microseconds=1)], pa.timestamp("us", tz="UTC")),
        }
    )
    write_deltalake(str(tmp_path / "t"), data)
    synced = synced_at_value(DeltaTable(str(tmp_path / "t")), "at", at, ["event", "at"])
    assert sorted(synced.values()) == [1, 2]
    assert synced == Counter(identities(data.slice(0, 3), ["event", "at"]))


def test_rows_the_source_deleted_at_the_boundary_are_not_skipped_again() -> None:
    from warehouse_sources.engine.boundary import seen_at_boundary

    # Three identical rows synced; the source deleted one: skip the two it has, remember one deleted.
    seen, deleted = seen_at_boundary(Counter(x=3), Counter(), Counter(x=2))
    assert (seen, deleted) == (Counter(x=3), Counter(x=1))
    # An identical row committed later: only two of the table's three still count as seen.
    seen, deleted = seen_at_boundary(Counter(x=3), deleted, Counter(x=3))
    assert (seen, deleted) == (Counter(x=2), Counter(x=1))
    # The cursor moves on: what was deleted at the old value no longer matters after this read.
    seen, deleted = seen_at_boundary(Counter(x=4), deleted, None)
    assert (seen, deleted) == (Counter(x=3), Counter())
