"""Delta writes on a local table: every write mode commits data and sync state together."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from warehouse_sources.engine.state import STATE_KEY, SyncState, load_state
from warehouse_sources.errors import ConcurrentSyncError
from warehouse_sources.warehouse import delta


def reader(table: pa.Table) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())


def rows(ids: list[int], values: list[str], key: str = "id") -> pa.Table:
    return pa.table({key: pa.array(ids, pa.int64()), "v": pa.array(values, pa.string())})


def state(cursor: int, method: str = "incremental", **extra: object) -> SyncState:
    return SyncState(method=method, replication_key="id", key_kind="int", cursor=cursor, **extra)  # type: ignore[arg-type]


def contents(uri: str, key: str = "id") -> dict[str, list[object]]:
    return DeltaTable(uri).to_pyarrow_table().sort_by(key).to_pydict()


def committed_states(uri: str) -> list[SyncState | None]:
    """The state each commit carries, newest first."""
    return [load_state(c[STATE_KEY]) if c.get(STATE_KEY) else None for c in DeltaTable(uri).history()]


def append(uri: str, data: pa.RecordBatchReader, sync_state: SyncState) -> None:
    """Append, creating the table on the first call as the engine's first (overwrite) sync would."""
    table = delta.open_table(uri)
    if table is None:
        delta.overwrite(uri, None, data, sync_state)
    else:
        delta.append(uri, table, data, sync_state)


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return str(tmp_path / "warehouse" / "orders")


def test_table_uri() -> None:
    assert delta.table_uri("s3://bucket/wh/", "billing_Charges") == "s3://bucket/wh/billing_Charges"
    assert delta.table_uri("/srv/wh", "t") == "/srv/wh/t"


def test_open_table_is_none_before_the_first_commit(uri: str) -> None:
    assert delta.open_table(uri) is None


def test_overwrite_commits_data_and_state(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1, 2], ["a", "b"])), state(2, "full_table"))
    table = delta.open_table(uri)
    assert table is not None
    assert contents(uri) == {"id": [1, 2], "v": ["a", "b"]}
    assert delta.read_state(table) == state(2, "full_table")


def test_overwrite_replaces_rows_and_schema_in_one_commit(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1, 2, 3], ["a", "b", "c"])), state(3, "full_table"))
    replacement = pa.table({"id": pa.array([7], pa.int64()), "w": pa.array([1.5], pa.float64())})
    delta.overwrite(uri, delta.open_table(uri), reader(replacement), state(7, "full_table"))
    table = DeltaTable(uri)
    assert table.version() == 1
    assert table.to_pyarrow_table().to_pydict() == {"id": [7], "w": [1.5]}
    assert committed_states(uri) == [state(7, "full_table"), state(3, "full_table")]


def test_append_commits_data_and_state(uri: str) -> None:
    append(uri, reader(rows([1, 2], ["a", "b"])), state(2, "append_only", identity_columns=("x",)))
    append(uri, reader(rows([3], ["c"])), state(3, "append_only", identity_columns=("y",)))
    assert contents(uri) == {"id": [1, 2, 3], "v": ["a", "b", "c"]}
    assert committed_states(uri) == [
        state(3, "append_only", identity_columns=("y",)),
        state(2, "append_only", identity_columns=("x",)),
    ]
    table = delta.open_table(uri)
    assert table is not None
    assert delta.read_state(table) == state(3, "append_only", identity_columns=("y",))


def test_append_adds_new_source_columns(uri: str) -> None:
    append(uri, reader(rows([1], ["a"])), state(1, "append_only"))
    wider = pa.table({"id": pa.array([2], pa.int64()), "v": ["b"], "extra": pa.array([True])})
    append(uri, reader(wider), state(2, "append_only"))
    assert contents(uri) == {"id": [1, 2], "v": ["a", "b"], "extra": [None, True]}


def test_merge_upserts_by_key_and_commits_state(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1, 2, 3], ["a", "b", "c"])), state(3))
    table = DeltaTable(uri)
    metrics = delta.merge(uri, table, reader(rows([2, 4], ["B", "d"])), ("id",), state(4))
    assert metrics["num_target_rows_updated"] == 1
    assert metrics["num_target_rows_inserted"] == 1
    assert contents(uri) == {"id": [1, 2, 3, 4], "v": ["a", "B", "c", "d"]}
    assert committed_states(uri)[0] == state(4)
    assert delta.read_state(DeltaTable(uri)) == state(4)


def test_merge_on_a_mixed_case_reserved_word_key(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1, 2], ["a", "b"], key="Order")), state(2))
    delta.merge(uri, DeltaTable(uri), reader(rows([2, 3], ["B", "c"], key="Order")), ("Order",), state(3))
    assert contents(uri, key="Order") == {"Order": [1, 2, 3], "v": ["a", "B", "c"]}


def test_merge_on_a_composite_key(uri: str) -> None:
    initial = pa.table({"region": ["eu", "us", "eu"], "id": pa.array([1, 1, 2], pa.int64()), "v": ["a", "b", "c"]})
    delta.overwrite(uri, delta.open_table(uri), reader(initial), state(2))
    change = pa.table({"region": ["us", "us"], "id": pa.array([1, 2], pa.int64()), "v": ["B", "new"]})
    delta.merge(uri, DeltaTable(uri), reader(change), ("region", "id"), state(3))
    result = DeltaTable(uri).to_pyarrow_table().sort_by([("region", "ascending"), ("id", "ascending")]).to_pydict()
    assert result == {"region": ["eu", "eu", "us", "us"], "id": [1, 2, 1, 2], "v": ["a", "c", "B", "new"]}


def test_merge_adds_new_source_columns(uri: str) -> None:
    delta.overwrite(uri, delta.open_table(uri), reader(rows([1], ["a"])), state(1))
    wider = pa.table({"id": pa.array([2], pa.int64()), "v": ["b"], "n": pa.array([5], pa.int32())})
    delta.merge(uri, DeltaTable(uri), reader(wider), ("id",), state(2))
    assert contents(uri) == {"id": [1, 2], "v": ["a", "b"], "n": [None, 5]}


def test_read_state_skips_commits_without_state(uri: str) -> None:
    append(uri, reader(rows([1], ["a"])), state(1, "append_only"))
    append(uri, reader(rows([2], ["b"])), state(2, "append_only"))
    write_deltalake(uri, rows([3], ["c"]), mode="append")  # e.g. a maintenance or manual commit
    DeltaTable(uri).optimize.compact()
    states = committed_states(uri)
    assert states[0] is None and states[1] is None
    assert delta.read_state(DeltaTable(uri)) == state(2, "append_only")


def test_read_state_is_none_when_no_commit_has_one(uri: str) -> None:
    write_deltalake(uri, rows([1], ["a"]))
    assert delta.read_state(DeltaTable(uri)) is None


def test_timestamp_cursor_survives_the_commit(uri: str) -> None:
    at = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    sync_state = SyncState(method="incremental", replication_key="at", key_kind="timestamp", cursor=at)
    data = pa.table({"at": pa.array([at], pa.timestamp("us", tz="UTC"))})
    delta.overwrite(uri, delta.open_table(uri), reader(data), sync_state)
    assert delta.read_state(DeltaTable(uri)) == sync_state


def test_widen_rewrites_types_and_keeps_the_state(uri: str) -> None:
    initial = pa.table({"id": pa.array([1, 2], pa.int32()), "amount": pa.array([1.5, 2.5], pa.float32())})
    append(uri, reader(initial), state(2, "append_only", identity_columns=("keep-me",)))
    delta.widen(uri, DeltaTable(uri), {"id": pa.int64(), "amount": pa.float64()})
    table = DeltaTable(uri)
    data = table.to_pyarrow_table()
    assert data.schema.field("id").type == pa.int64()
    assert data.schema.field("amount").type == pa.float64()
    assert data.sort_by("id").to_pydict() == {"id": [1, 2], "amount": [1.5, 2.5]}
    assert delta.read_state(table) == state(2, "append_only", identity_columns=("keep-me",))
    assert committed_states(uri)[0] == state(2, "append_only", identity_columns=("keep-me",))


def test_widen_refuses_a_table_without_state(uri: str) -> None:
    write_deltalake(uri, pa.table({"id": pa.array([1], pa.int32())}))
    with pytest.raises(ValueError, match="no sync state"):
        delta.widen(uri, DeltaTable(uri), {"id": pa.int64()})
    assert DeltaTable(uri).version() == 0


@pytest.mark.parametrize("mode", ["append", "merge", "overwrite"])
def test_a_commit_based_on_a_stale_version_conflicts_instead_of_adding_rows_twice(uri: str, mode: str) -> None:
    delta.overwrite(uri, None, reader(rows([1, 2], ["a", "b"])), state(2))
    first, second = DeltaTable(uri), DeltaTable(uri)  # two syncs that read the same version
    delta.append(uri, first, reader(rows([3], ["c"])), state(3))
    with pytest.raises(ConcurrentSyncError, match="another sync of this table committed"):
        if mode == "append":
            delta.append(uri, second, reader(rows([3], ["c"])), state(3))
        elif mode == "merge":
            delta.merge(uri, second, reader(rows([3], ["c"])), ("id",), state(3))
        else:
            delta.overwrite(uri, second, reader(rows([1, 2, 3], ["a", "b", "c"])), state(3))
    assert contents(uri) == {"id": [1, 2, 3], "v": ["a", "b", "c"]}
