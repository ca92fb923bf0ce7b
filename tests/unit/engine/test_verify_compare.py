"""The per-sync check's comparison against Delta's statistics, where those statistics cannot say everything."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from warehouse_sources.engine.verify import compare
from warehouse_sources.warehouse.state import SyncState

UNSIGNED_MAX = 2**64 - 1  # MySQL's BIGINT UNSIGNED, stored as decimal(20, 0)


def _table(path: Path, keys: list[int]) -> DeltaTable:
    write_deltalake(str(path), pa.table({"key": pa.array([Decimal(k) for k in keys], pa.decimal128(20, 0))}))
    return DeltaTable(str(path))


def _state(rows: int, low: int, high: int) -> SyncState:
    counts = {"rows": rows, "cursor": str(high), "key": "key", "min": str(low), "max": str(high)}
    return SyncState(method="incremental", replication_key="key", key_kind="decimal", source_counts=counts)


def test_keys_beyond_int64_are_not_reported_as_missing_from_the_warehouse(tmp_path: Path) -> None:
    # Delta clamps the statistics of such keys to int64's limits: the warehouse's largest key then
    # reads 9223372036854775807 however far above it the stored key is.
    table = _table(tmp_path / "t", [-(2**63) - 5, 1, UNSIGNED_MAX])
    check = compare(_state(3, -(2**63) - 5, UNSIGNED_MAX), table)
    assert check.ok, check


def test_a_row_missing_below_the_limits_is_still_found(tmp_path: Path) -> None:
    table = _table(tmp_path / "t", [1, 2])
    check = compare(_state(3, 1, 3), table)
    assert not check.ok and "source 3 rows" in check.message, check


def test_a_file_with_tombstones_and_rows_without_a_key_is_not_counted_wrong(tmp_path: Path) -> None:
    # Its null counts cannot say how many rows are both tombstoned and keyless: the check says it
    # cannot tell rather than report a negative count (a soft-deleted row loaded with a NULL key).
    from datetime import UTC, datetime

    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    data = pa.table({"key": pa.array([None, 5], pa.int64()), "_ws_deleted_at": pa.array([stamp, None])})
    write_deltalake(str(tmp_path / "t"), data)
    state = SyncState(method="incremental", replication_key="key", key_kind="int",
                      source_counts={"rows": 1, "cursor": 5, "key": "key", "min": 5, "max": 5})  # fmt: skip
    check = compare(state, DeltaTable(str(tmp_path / "t")))
    assert check.ok and "cannot tell" in check.message, check
    keyed_only = pa.table({"key": pa.array([4, 5], pa.int64()), "_ws_deleted_at": pa.array([stamp, None])})
    write_deltalake(str(tmp_path / "u"), keyed_only)
    assert compare(state, DeltaTable(str(tmp_path / "u"))).ok
    more = replace(state, source_counts={**state.source_counts, "rows": 2})
    assert not compare(more, DeltaTable(str(tmp_path / "u"))).ok
