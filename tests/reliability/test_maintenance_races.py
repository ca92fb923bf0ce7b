"""Table maintenance alongside a real sync (PostgreSQL -> Delta): in each order the sync's rows
all land, and maintenance that ran in between neither fails the sync nor loses a row."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from deltalake import DeltaTable

from tests.integration.helpers import plan, source_rows, sql, synced_rows
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest, sync_table
from warehouse_sources.sources.postgres.reader import PostgresReader
from warehouse_sources.warehouse import upkeep

pytestmark = pytest.mark.integration

LOG = logging.getLogger("test")
SEED = """
CREATE TABLE t (id bigint PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL);
INSERT INTO t SELECT g, 'v1 ' || g, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 50) g;
"""
INCREMENTAL = plan("public.t", "incremental", replication_key="updated_at")


def change(pg_db: str, run: int, update: bool = True) -> None:
    """One run's changes: a new row, and an update of an old row (a MERGE of new rows only adds a file)."""
    at = f"'2025-01-01'::timestamptz + {run} * interval '1 hour'"
    updates = [f"UPDATE t SET payload = 'run {run}', updated_at = {at} WHERE id = {run}"] if update else []
    sql(pg_db, *updates, f"INSERT INTO t VALUES ({1000 + run}, 'new', {at})")


def run_sync(pg_db: str, warehouse: str, hooks: SyncHooks | None = None) -> None:
    request = SyncRequest(table=INCREMENTAL, warehouse_uri=warehouse, run_id="t", retention=timedelta(0))
    with PostgresReader(pg_db) as reader:
        sync_table(reader, request, LOG, hooks)


def test_a_maintenance_commit_between_a_syncs_read_and_its_commit_does_not_fail_it(pg_db: str, warehouse: str) -> None:
    """Maintenance commits while the sync reads (its first pass sets the table's retention
    properties, a metadata change that any concurrent MERGE conflicts with): the sync runs again."""
    sql(pg_db, SEED)
    run_sync(pg_db, warehouse)
    table_uri = f"{warehouse}/t"
    change(pg_db, 40)
    commits: list[int] = []

    def maintain_once(rows: int) -> None:
        if not commits:
            upkeep._set_retention(DeltaTable(table_uri), timedelta(hours=5))
            commits.append(DeltaTable(table_uri).version())

    run_sync(pg_db, warehouse, SyncHooks(after_batch=maintain_once))
    assert synced_rows(warehouse, "t") == source_rows(pg_db, "t")
    merged = [c["version"] for c in DeltaTable(table_uri).history() if c.get("operation") == "MERGE"]
    assert commits and merged and merged[0] > commits[0]  # the sync committed after the maintenance commit


def test_maintenance_after_each_sync_keeps_every_row_and_few_files(pg_db: str, warehouse: str) -> None:
    sql(pg_db, SEED)
    run_sync(pg_db, warehouse)
    for run in range(1, 25):
        change(pg_db, run)
        run_sync(pg_db, warehouse)
    table = DeltaTable(f"{warehouse}/t")
    assert synced_rows(warehouse, "t") == source_rows(pg_db, "t")
    assert len(table.file_uris()) <= 2 * upkeep.MIN_SMALL_FILES


def test_a_first_sync_carries_the_retention_settings_and_maintenance_adds_no_commit(pg_db: str, warehouse: str) -> None:
    """The retention window's table properties travel with the first write: a first sync and its
    maintenance leave the table at version 0, and the next sync's commit is version 1."""
    sql(pg_db, SEED)
    run_sync(pg_db, warehouse)
    table = DeltaTable(f"{warehouse}/t")
    assert table.version() == 0
    assert table.metadata().configuration.items() >= upkeep.retention_properties(timedelta(0)).items()
    change(pg_db, 1)
    run_sync(pg_db, warehouse)
    operations = [c["operation"] for c in sorted(DeltaTable(f"{warehouse}/t").history(), key=lambda c: c["version"])]
    # At retention 0 the merge's replaced file goes at once (clean-up); no properties commit anywhere.
    assert operations[:2] == ["WRITE", "MERGE"] and set(operations[2:]) <= {"VACUUM START", "VACUUM END"}


def test_an_incremental_tables_files_stay_key_bounded_through_syncs_and_maintenance(
    pg_db: str, warehouse: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows stored out of key order (no ORDER BY in the full read), small target files so the
    table has many: after the first sync and after each later one (with its maintenance) the
    files' key ranges, from Delta's add statistics, are disjoint, and every row is there."""
    from warehouse_sources.warehouse import delta, layout

    for module in (delta, layout):
        monkeypatch.setattr(module, "TARGET_FILE_SIZE", 32 * 1024)
    monkeypatch.setattr(upkeep, "SMALL_FILE_BYTES", 8 * 1024)
    sql(
        pg_db,
        "CREATE TABLE t (id bigint PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL)",
        "INSERT INTO t SELECT g, repeat(md5(g::text), 4), '2024-01-01'::timestamptz + g * interval '1 minute' "
        "FROM generate_series(1, 6000) g ORDER BY random()",
    )
    for run in range(0, 6):
        if run:
            at = f"'2025-01-01'::timestamptz + {run} * interval '1 hour'"
            new = f"generate_series({6000 + run * 20}, {6019 + run * 20})"
            sql(pg_db, f"UPDATE t SET payload = 'run {run}', updated_at = {at} WHERE id % 997 = {run}",
                f"INSERT INTO t SELECT g, 'new', {at} FROM {new} g")  # fmt: skip
        run_sync(pg_db, warehouse)
        files = layout.data_files(DeltaTable(f"{warehouse}/t"), "id")
        assert files is not None and len(files) > 3
        assert layout.overlaps(files) == 0, [(f.low, f.high) for f in files]
    assert synced_rows(warehouse, "t") == source_rows(pg_db, "t")
