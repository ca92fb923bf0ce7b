"""The writer's side of a sync (engine/writer.py) over the in-memory reader: one commit with the
state, or none; schema drift followed or refused; values stored as NULL reported."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from tests.plans import plan
from tests.unit.engine.fake_reader import FakeReader, synced
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.engine.writer import SYNCED_AT
from warehouse_sources.errors import SchemaDriftError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta

LOG = logging.getLogger("warehouse_sources.tests.engine")
APPEND = plan("public.items", "append_only", replication_key="n")


def run(reader: FakeReader, table_plan: TablePlan, warehouse: str, hooks: SyncHooks | None = None) -> SyncResult:
    return sync_table(reader, SyncRequest(table=table_plan, warehouse_uri=warehouse, run_id="unit"), LOG, hooks)


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    return str(tmp_path / "warehouse")


def test_every_row_carries_the_sync_time_and_the_commit_the_run_id(warehouse: str) -> None:
    before = datetime.now(UTC)
    run(FakeReader(pa.table({"id": [1, 2], "n": [1, 2]})), APPEND, warehouse)
    table = DeltaTable(f"{warehouse}/items")
    stamps = set(table.to_pyarrow_table().column(SYNCED_AT).to_pylist())
    assert len(stamps) == 1 and before <= stamps.pop() <= datetime.now(UTC)
    found = delta.read_state(table)
    assert found is not None and (found.run_id, found.cursor) == ("unit", 2)


def test_a_failure_before_the_commit_leaves_the_table_and_its_cursor_as_they_were(warehouse: str) -> None:
    reader = FakeReader(pa.table({"id": [1, 2], "n": [1, 2]}))
    run(reader, APPEND, warehouse)
    reader.table = pa.table({"id": [1, 2, 3, 4], "n": [1, 2, 3, 4]})

    def crash() -> None:
        raise RuntimeError("worker lost before the commit")

    with pytest.raises(RuntimeError, match="worker lost"):
        run(reader, APPEND, warehouse, SyncHooks(before_commit=crash))
    table = DeltaTable(f"{warehouse}/items")
    found = delta.read_state(table)
    assert table.version() == 0 and found is not None and found.cursor == 2
    assert run(reader, APPEND, warehouse).rows == 2  # the next run reads the same rows again
    assert synced(warehouse) == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_an_error_from_the_source_stream_surfaces_as_itself(warehouse: str) -> None:
    reader = FakeReader(pa.table({"id": [1, 2, 3, 4], "n": [1, 2, 3, 4]}))

    def drop(rows: int) -> None:
        raise ConnectionResetError(f"source went away after {rows} rows")

    with pytest.raises(ConnectionResetError, match="after 2 rows"):
        run(reader, APPEND, warehouse, SyncHooks(after_batch=drop))
    assert not DeltaTable.is_deltatable(f"{warehouse}/items")  # files may be written; no commit


def test_a_new_source_column_is_added_and_a_widened_one_widened(
    warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    reader = FakeReader(pa.table({"id": pa.array([1], pa.int32()), "n": [1]}))
    run(reader, APPEND, warehouse)
    reader.table = pa.table({"id": pa.array([1, 2], pa.int64()), "n": [1, 2], "note": [None, "new"]})
    with caplog.at_level(logging.INFO):
        assert run(reader, APPEND, warehouse).rows == 1
    schema = DeltaTable(f"{warehouse}/items").schema().to_arrow()
    assert pa.schema(schema).field("id").type == pa.int64()
    assert "widening columns" in caplog.text
    assert synced(warehouse) == [(1, 1, None), (2, 2, "new")]


def test_a_type_change_the_table_cannot_follow_is_drift_with_the_resync_fix(warehouse: str) -> None:
    reader = FakeReader(pa.table({"id": [1], "n": [1], "amount": [1.5]}))
    run(reader, APPEND, warehouse)
    reader.table = pa.table({"id": [1, 2], "n": [1, 2], "amount": ["1.5", "two"]})
    with pytest.raises(SchemaDriftError) as caught:
        run(reader, APPEND, warehouse)
    assert "amount" in str(caught.value) and '{"full_refresh": true}' in str(caught.value)
    assert DeltaTable(f"{warehouse}/items").version() == 0


def test_values_a_reader_stored_as_null_are_reported_per_column(
    warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    class NullingReader(FakeReader):
        def read(self, desc, where="", text_columns=frozenset()):  # type: ignore[no-untyped-def]
            batches = super().read(desc, where, text_columns)
            self.value_notes[("note", "a date past 9999")] += 2
            return batches

    reader = NullingReader(pa.table({"id": [1], "n": [1], "note": [None]}))
    with caplog.at_level(logging.WARNING):
        run(reader, APPEND, warehouse)
    assert "2 values of column 'note' (a date past 9999) cannot be stored in its column type" in caplog.text


def test_the_summary_names_the_method_the_write_and_the_cursor(warehouse: str) -> None:
    result = run(FakeReader(pa.table({"id": [1, 2, 3], "n": [5, 6, 7]})), APPEND, warehouse)
    text = result.summary()
    assert text.startswith("items: append_only (overwrite), 3 rows in ")
    assert text.endswith(", cursor 7, table version 0")
