"""sync_table end to end over the in-memory reader and a local Delta warehouse: what each method
promises (DESIGN 4.5) on first and later syncs, with no service."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from tests.plans import plan
from tests.unit.engine.fake_reader import FakeReader, items, synced
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.errors import ReplicationKeyTypeError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta

LOG = logging.getLogger("warehouse_sources.tests.engine")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run(reader: FakeReader, table_plan: TablePlan, warehouse: str, full_refresh: bool = False) -> SyncResult:
    request = SyncRequest(table=table_plan, warehouse_uri=warehouse, full_refresh=full_refresh, run_id="unit")
    return sync_table(reader, request, LOG)


def state(warehouse: str) -> delta.SyncState:
    found = delta.read_state(DeltaTable(f"{warehouse}/items"))
    assert found is not None
    return found


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    return str(tmp_path / "warehouse")


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_the_first_sync_copies_every_row_and_commits_the_cursor_with_them(method: str, warehouse: str) -> None:
    rows = [(1, "a", at(1)), (2, "b", at(3)), (3, "c", at(2))]
    reader = FakeReader(items(rows), primary_key=("id",))
    key = None if method == "full_table" else "updated_at"
    result = run(reader, plan("public.items", method, replication_key=key), warehouse)
    assert (result.write, result.rows, result.version) == ("overwrite", 3, 0)
    assert synced(warehouse) == sorted(rows, key=repr)
    assert state(warehouse).cursor == (at(3) if key else None)
    assert state(warehouse).method == method


def test_incremental_rereads_the_cursor_value_and_merges_ties_without_duplicates(warehouse: str) -> None:
    table_plan = plan("public.items", "incremental", replication_key="updated_at")
    reader = FakeReader(items([(1, "a", at(1)), (2, "b", at(5))]), primary_key=("id",))
    run(reader, table_plan, warehouse)
    # A row committed later at the cursor's value, one updated, and one new above it.
    now = [(1, "a2", at(6)), (2, "b", at(5)), (3, "tie", at(5)), (4, "d", at(7))]
    reader.table = items(now)
    result = run(reader, table_plan, warehouse)
    assert reader.reads[-1] == f"updated_at >= {at(5)!r}"  # inclusive: the tie at the cursor is read
    assert (result.write, result.rows, result.cursor) == ("merge", 4, at(7).isoformat())
    assert synced(warehouse) == sorted(now, key=repr)
    assert reader.snapshots == ["begin", "end", "begin", "end"]


def test_incremental_with_nothing_at_or_above_the_cursor_commits_nothing(warehouse: str) -> None:
    table_plan = plan("public.items", "incremental", replication_key="updated_at")
    reader = FakeReader(items([(1, "a", at(1))]), primary_key=("id",))
    run(reader, table_plan, warehouse)
    reader.table = items([])
    result = run(reader, table_plan, warehouse)
    assert (result.write, result.rows, result.version) == ("none", 0, 0)
    assert synced(warehouse) == [(1, "a", at(1))]  # deletions are not synced by incremental


def test_append_only_skips_the_rows_at_the_boundary_it_holds_and_appends_a_late_one(warehouse: str) -> None:
    table_plan = plan("public.items", "append_only", replication_key="updated_at")
    first = [(1, "a", at(1)), (2, "b", at(5)), (3, "c", at(5))]
    reader = FakeReader(items(first))
    run(reader, table_plan, warehouse)
    assert state(warehouse).identity_columns == ("id", "name", "updated_at")  # no key: the whole row
    late = (4, "late", at(5))  # committed after the first read, at the cursor's value
    reader.table = items([*first, late, (5, "e", at(6))])
    result = run(reader, table_plan, warehouse)
    assert (result.write, result.rows) == ("append", 2)
    assert synced(warehouse) == sorted([*first, late, (5, "e", at(6))], key=repr)
    again = run(reader, table_plan, warehouse)
    assert (again.write, again.rows) == ("none", 0)  # the rows at the new cursor are held already
    assert len(synced(warehouse)) == 5


def test_append_only_boundary_identities_are_the_primary_key_when_there_is_one(warehouse: str) -> None:
    table_plan = plan("public.items", "append_only", replication_key="updated_at")
    reader = FakeReader(items([(1, "a", at(5))]), primary_key=("id",))
    run(reader, table_plan, warehouse)
    assert state(warehouse).identity_columns == ("id",)
    # The same id at the boundary with other values is taken as synced; a new id is appended.
    reader.table = items([(1, "renamed", at(5)), (2, "b", at(5))])
    assert run(reader, table_plan, warehouse).rows == 1
    assert synced(warehouse) == [(1, "a", at(5)), (2, "b", at(5))]


def test_full_table_replaces_the_table_and_source_deletions_disappear(warehouse: str) -> None:
    table_plan = plan("public.items", "full_table")
    reader = FakeReader(items([(1, "a", at(1)), (2, "b", at(2)), (3, "c", at(3))]))
    run(reader, table_plan, warehouse)
    reader.table = items([(2, "b2", at(4)), (5, "e", at(5))])
    result = run(reader, table_plan, warehouse)
    assert (result.write, result.rows, result.version) == ("overwrite", 2, 1)
    assert synced(warehouse) == [(2, "b2", at(4)), (5, "e", at(5))]
    assert DeltaTable(f"{warehouse}/items", version=0).to_pyarrow_table().num_rows == 3  # the old version stays


def test_null_replication_keys_are_counted_loaded_first_and_reported(
    warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    table_plan = plan("public.items", "incremental", replication_key="updated_at")
    reader = FakeReader(items([(1, "a", at(1)), (2, "no key", None), (3, "c", at(2))]), primary_key=("id",))
    with caplog.at_level(logging.WARNING):
        result = run(reader, table_plan, warehouse)
    assert result.null_keys == 1 and state(warehouse).null_keys == 1
    assert (2, "no key", None) in synced(warehouse)  # the first load keeps it
    assert "1 rows have NULL updated_at: they are loaded now" in caplog.text
    caplog.clear()
    reader.table = items([(1, "a", at(1)), (2, "no key", None), (3, "c", at(2)), (4, "still none", None)])
    with caplog.at_level(logging.WARNING):
        assert run(reader, table_plan, warehouse).null_keys == 2
    assert "2 rows have NULL updated_at: the first load read them" in caplog.text


def test_a_replication_key_no_cursor_can_hold_is_refused_before_anything_is_written(warehouse: str) -> None:
    reader = FakeReader(items([(1, "a", "2026-01-01")], key_type=pa.string()), primary_key=("id",))
    with pytest.raises(ReplicationKeyTypeError) as caught:
        run(reader, plan("public.items", "incremental", replication_key="updated_at"), warehouse)
    assert (caught.value.column, caught.value.type_name) == ("updated_at", "string")
    assert "allowed types: integer, date, timestamp" in str(caught.value)
    assert not Path(warehouse).exists() and reader.reads == []


def test_integer_keys_with_a_lookback_reread_the_window_below_the_cursor(warehouse: str) -> None:
    table_plan = plan("public.items", "incremental", replication_key="updated_at", lookback=2)
    reader = FakeReader(items([(1, "a", 10), (2, "b", 20)], key_type=pa.int64()), primary_key=("id",))
    run(reader, table_plan, warehouse)
    reader.table = items([(1, "a", 10), (2, "b", 20), (3, "late", 19)], key_type=pa.int64())
    result = run(reader, table_plan, warehouse)
    assert reader.reads[-1] == "updated_at >= 18"
    assert result.write == "merge" and (3, "late", 19) in synced(warehouse)


def test_a_full_refresh_ignores_the_cursor_and_rebuilds(warehouse: str, caplog: pytest.LogCaptureFixture) -> None:
    table_plan = plan("public.items", "incremental", replication_key="updated_at")
    reader = FakeReader(items([(1, "a", at(1)), (2, "b", at(2))]), primary_key=("id",))
    run(reader, table_plan, warehouse)
    reader.table = items([(2, "b", at(2))])
    with caplog.at_level(logging.INFO):
        result = run(reader, table_plan, warehouse, full_refresh=True)
    assert result.write == "overwrite" and synced(warehouse) == [(2, "b", at(2))]
    assert "full refresh requested" in caplog.text
