"""`GET /api/tables`' listing: each table's columns are read once per Delta version."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from warehouse_sources.web.warehouse_catalog import list_tables


def test_a_table_is_opened_again_only_after_a_new_commit(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    write_deltalake(str(warehouse / "items"), pa.table({"id": [1, 2]}))
    first = list_tables(str(warehouse), {"items": "shop"}, {"items": object()})
    assert [(t.name, t.source, t.version) for t in first.tables] == [("items", "shop", 0)]

    # The same commit file (size and mtime kept) made unreadable: the listing answers from what it read.
    log = warehouse / "items" / "_delta_log" / "00000000000000000000.json"
    stat = log.stat()
    log.write_bytes(b"x" * stat.st_size)
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = list_tables(str(warehouse), {"items": "shop"}, {"items": object()})
    assert again == first

    shutil.rmtree(warehouse / "items")  # dropped and written again: version 0 once more, other columns
    write_deltalake(str(warehouse / "items"), pa.table({"id": [3], "name": ["c"]}))
    (table,) = list_tables(str(warehouse), {"items": "shop"}, {"items": object()}).tables
    assert table.version == 0 and [c.name for c in table.columns] == ["id", "name"]


def test_a_new_commit_is_seen_at_once(tmp_path: Path) -> None:
    uri = str(tmp_path / "orders")
    write_deltalake(uri, pa.table({"id": [1]}))
    assert list_tables(str(tmp_path), {}, {}, ownerless=True).tables[0].version == 0
    write_deltalake(uri, pa.table({"id": [2], "amount": [1.5]}), mode="append", schema_mode="merge")
    (table,) = list_tables(str(tmp_path), {}, {}, ownerless=True).tables
    assert table.version == 1 and [c.name for c in table.columns] == ["id", "amount"]


def test_column_types_are_arrow_type_names(tmp_path: Path) -> None:
    from datetime import UTC, date, datetime
    from decimal import Decimal

    data = pa.table(
        {
            "id": pa.array([1], pa.int64()),
            "amount": pa.array([Decimal("1.50")], pa.decimal128(12, 2)),
            "at": pa.array([datetime(2026, 1, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
            "day": pa.array([date(2026, 1, 1)], pa.date32()),
            "name": pa.array(["a"], pa.string()),
            "ok": pa.array([True], pa.bool_()),
            "tags": pa.array([["x"]], pa.list_(pa.string())),
        }
    )
    write_deltalake(str(tmp_path / "typed"), data)
    (table,) = list_tables(str(tmp_path), {}, {}, ownerless=True).tables
    assert {c.name: c.type for c in table.columns} == {
        "id": "int64",
        "amount": "decimal(12,2)",
        "at": "timestamp[us, tz=UTC]",
        "day": "date32[day]",
        "name": "string",
        "ok": "bool",
        "tags": "list<string>",
    }
