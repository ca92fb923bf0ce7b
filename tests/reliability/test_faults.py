"""Faults around a sync: the source connection killed mid-read, the server down, the warehouse disk full.

Each must be a clear task error (the message a user reads names the cause), leave the table at
its previous version with its previous rows and cursor, and let a retry succeed once the fault
clears. Files a failed run wrote are in no version; `vacuum_table` (Delta full vacuum) removes them.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from deltalake.exceptions import DeltaError

from tests.integration.helpers import plan, sql, sync
from tests.reliability.faults_support import (
    first_line,
    orphan_files,
    small_filesystem,
    snapshot,
    source_fingerprint,
    table_fingerprint,
)
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.errors import WarehouseDiskFullError, WarehouseSourcesError
from warehouse_sources.warehouse.maintenance import vacuum_table

pytestmark = pytest.mark.integration

COLUMNS = ["id", "payload", "updated_at"]
# ~90 bytes a row in the source's COPY stream: 150k rows are ~13 MB, seven 2 MB batches, well over what
# socket buffers hold, so a kill after the first batch lands while the server is still sending.
KILL_READ_ROWS = 150_000
PLANS = {
    "full_table": plan("public.big", "full_table"),
    "incremental": plan("public.big", "incremental", replication_key="updated_at"),
    "append_only": plan("public.big", "append_only", replication_key="id"),
}
TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE application_name = 'warehouse-sources' AND datname = current_database()"
)
# The server's FATAL when it reaches the reader mid-COPY, else libpq's view of the closed socket.
DROPPED = re.compile(r"terminating connection due to administrator command|server closed the connection unexpectedly")
REFUSED = re.compile(r"Connection refused")
NO_SPACE = re.compile(r"No space left on device")


def seed(uri: str, rows: int) -> None:
    sql(
        uri,
        "CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL)",
        "INSERT INTO big SELECT g, md5(g::text) || md5((g + 1)::text), "
        f"'2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, {rows}) g",
    )


def change(uri: str, method: str, first_id: int, count: int) -> None:
    """`count` new rows for every method; changed rows too where the method picks changes up."""
    statements = []
    if method != "append_only":
        statements.append(
            "UPDATE big SET payload = 'changed ' || payload, updated_at = updated_at + interval '400 days' "
            "WHERE id % 2 = 0"
        )
    last = first_id + count - 1
    statements.append(
        "INSERT INTO big SELECT g, md5(g::text) || md5((g + 1)::text), "
        f"'2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series({first_id}, {last}) g"
    )
    sql(uri, *statements)


def assert_equals_source(uri: str, table_uri: str, columns: list[str] = COLUMNS) -> None:
    rows, keys, digest = table_fingerprint(table_uri, columns)
    assert keys == rows, f"{rows - keys} duplicate keys in the synced table"
    assert (rows, keys, digest) == source_fingerprint(uri, "big", columns)


def vacuum_orphans(table_uri: str, after_fault: list[str], columns: list[str] = COLUMNS) -> str:
    """Orphan files after the retry, removed by the documented vacuum without changing what the table reads.

    `after_fault`: the orphans right after the failed run (files it wrote that no version lists).
    """
    before = table_fingerprint(table_uri, columns)
    orphans = orphan_files(table_uri)
    assert set(after_fault) <= set(orphans)
    removed = vacuum_table(table_uri, retention_hours=0, apply=True)
    assert orphan_files(table_uri) == []
    assert table_fingerprint(table_uri, columns) == before
    replaced = len(orphans) - len(after_fault)
    summary = f"{len(after_fault)} left by the failed run, {replaced} replaced by the retry"
    return summary + (f"; vacuum removes them ({len(removed)} file{'s' * (len(removed) != 1)})" if orphans else "")


@pytest.mark.parametrize("method", list(PLANS))
def test_source_connection_killed_mid_read(pg_db: str, warehouse: str, method: str, reliability) -> None:
    table_plan = PLANS[method]
    table_uri = f"{warehouse}/big"
    seed(pg_db, 10_000)
    sync(pg_db, warehouse, table_plan)
    before = snapshot(table_uri, COLUMNS)
    change(pg_db, method, 10_001, KILL_READ_ROWS)

    batches: list[int] = []

    def terminate_after_first_batch(rows: int) -> None:
        batches.append(rows)
        if len(batches) == 1:
            with psycopg.connect(pg_db, autocommit=True) as conn:
                (killed,) = conn.execute(TERMINATE).fetchone() or (False,)
            assert killed, "no warehouse-sources session to terminate"

    with pytest.raises(Exception) as caught:
        sync(pg_db, warehouse, table_plan, hooks=SyncHooks(after_batch=terminate_after_first_batch))
    error = caught.value
    # The driver's own error, not the Delta writer's wrapper nor a follow-up error that hides it.
    assert not isinstance(error, (DeltaError, WarehouseSourcesError)), repr(error)
    assert DROPPED.search(str(error)), f"the message does not name the dropped connection: {error!r}"
    assert 1 <= len(batches) < 8, f"the read should stop soon after the kill, saw batches {batches}"
    assert snapshot(table_uri, COLUMNS) == before
    left_behind = orphan_files(table_uri)

    sync(pg_db, warehouse, table_plan)
    assert_equals_source(pg_db, table_uri)
    reliability.add(
        "Faults",
        kind="postgres",
        fault="source connection killed mid-read (pg_terminate_backend after the first batch)",
        method=method,
        error=first_line(error),
        **{
            "table after fault": "previous version",
            "retry": "ok",
            "orphan files": vacuum_orphans(table_uri, left_behind),
        },
    )


def test_source_server_stopped_between_runs(warehouse: str, reliability) -> None:
    from include.demo import embedded_pg

    # Not under pytest's tmp folder: as root the server runs as another OS user, who must reach it,
    # and any pytest session starting meanwhile makes that folder's root private again.
    home = Path(tempfile.mkdtemp(prefix="ws-faults-pg-"))
    home.chmod(0o755)
    datadir = home / "pg"
    server = embedded_pg.start(datadir)
    try:
        sql(server, "CREATE DATABASE src")
        uri = server.rsplit("/", 1)[0] + "/src"
        seed(uri, 2000)
        plans = {m: replace(p, synced_name=f"big_{m}") for m, p in PLANS.items()}
        for table_plan in plans.values():
            sync(uri, warehouse, table_plan)
        befores = {m: snapshot(f"{warehouse}/big_{m}", COLUMNS) for m in plans}
        change(uri, "append_only", 2001, 100)
        embedded_pg.stop(datadir)

        errors = {}
        for method, table_plan in plans.items():
            with pytest.raises(Exception) as caught:
                sync(uri, warehouse, table_plan)
            errors[method] = caught.value
            assert REFUSED.search(str(caught.value)), repr(caught.value)
            assert f"port {uri.rsplit(':', 1)[1].split('/')[0]}" in str(caught.value)
            assert snapshot(f"{warehouse}/big_{method}", COLUMNS) == befores[method]
            assert orphan_files(f"{warehouse}/big_{method}") == []  # it failed before writing anything

        # Restarted on the same data directory: the port may differ, so take the new URI.
        server = embedded_pg.start(datadir)
        uri = server.rsplit("/", 1)[0] + "/src"
        for method, table_plan in plans.items():
            sync(uri, warehouse, table_plan)
            assert_equals_source(uri, f"{warehouse}/big_{method}")
            reliability.add(
                "Faults",
                kind="postgres",
                fault="source PostgreSQL stopped between two runs",
                method=method,
                error=first_line(errors[method]),
                **{
                    "table after fault": "previous version",
                    "retry": "ok",
                    "orphan files": vacuum_orphans(f"{warehouse}/big_{method}", []),
                },
            )
    finally:
        embedded_pg.stop(datadir)
        shutil.rmtree(home, ignore_errors=True)


def test_warehouse_disk_full_mid_write(pg_db: str, tmp_path: Path, reliability) -> None:
    """A full_table reload bigger than the free space: a data file or two fit, a later write fails."""
    columns = ["id", "payload"]
    table_plan = PLANS["full_table"]
    with small_filesystem(tmp_path, size_mb=64) as disk:
        warehouse = str(disk.path / "warehouse")
        table_uri = f"{warehouse}/big"
        seed(pg_db, 50_000)
        sync(pg_db, warehouse, table_plan)
        before = snapshot(table_uri, columns)
        # ~21 MB of Parquet for 500k rows; 18 MB free: the first data files (TARGET_FILE_SIZE) fit, not all.
        sql(
            pg_db,
            "INSERT INTO big SELECT g, md5(g::text) || md5((g + 1)::text), now() FROM generate_series(50001, 500000) g",
        )
        disk.fill(leave_free=18 * 1024 * 1024)

        with pytest.raises(WarehouseDiskFullError, match="the warehouse disk is full; nothing was committed") as caught:
            sync(pg_db, warehouse, table_plan)
        error = caught.value
        assert NO_SPACE.search(str(error)), f"the original cause is kept in the message: {error!r}"
        assert snapshot(table_uri, columns) == before
        # Usually a finished data file is left behind by the write that failed after it; when
        # delta-rs aborts its writers first (they run in parallel), nothing is: both are fine.
        left_behind = orphan_files(table_uri)

        disk.drain()
        sync(pg_db, warehouse, table_plan)
        assert table_fingerprint(table_uri, columns)[0] == 500_000
        assert_equals_source(pg_db, table_uri, columns)
        reliability.add(
            "Faults",
            kind="postgres",
            fault=f"warehouse disk full mid-write ({disk.kind}, full_table reload larger than the free space)",
            method="full_table",
            error=first_line(error),
            **{
                "table after fault": "previous version",
                "retry": "ok",
                "orphan files": vacuum_orphans(table_uri, left_behind, columns),
            },
        )
