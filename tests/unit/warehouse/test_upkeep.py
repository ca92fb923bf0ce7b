"""Automatic maintenance: bounded files, clean-up inside the retention window, races with syncs."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from warehouse_sources.config.durations import parse_retention
from warehouse_sources.errors import ConcurrentSyncError
from warehouse_sources.warehouse import delta, upkeep
from warehouse_sources.warehouse.health import table_health
from warehouse_sources.warehouse.state import SyncState

Where = tuple[str, dict[str, str] | None]


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Where:
    """A table's uri and storage options, on local disk and on moto's S3 server (a service: not in
    the fast tier)."""
    if request.param == "local":
        return str(tmp_path / "t"), None
    root, options = request.getfixturevalue("s3_warehouse")
    return f"{root}/t", options


def state(cursor: int) -> SyncState:
    return SyncState(method="incremental", replication_key="id", key_kind="int", cursor=cursor)


def batch(ids: range, value: str = "a") -> pa.RecordBatchReader:
    table = pa.table({"id": pa.array(list(ids), pa.int64()), "v": pa.array([value] * len(ids))})
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())


def open_(where: Where) -> DeltaTable:
    return DeltaTable(where[0], storage_options=where[1])


def first_sync(where: Where, ids: range) -> None:
    delta.overwrite(where[0], None, batch(ids), state(ids[-1]), where[1])


def ids_of(table: DeltaTable) -> list[int]:
    return sorted(table.to_pyarrow_table()["id"].to_pylist())


def test_retention_is_a_duration_and_a_bad_one_names_the_setting() -> None:
    assert parse_retention("7d") == timedelta(days=7) and parse_retention("0m") == timedelta(0)
    with pytest.raises(ValueError, match=r"\[warehouse_sources\] retention .*'0m' keeps only"):
        parse_retention("a week")
    assert upkeep.retention_hours(timedelta(minutes=30)) == 1  # rounded up: never early


def test_an_append_only_table_keeps_few_live_files_and_every_row(where: Where) -> None:
    first_sync(where, range(0, 10))
    for run in range(1, 41):
        delta.append(where[0], open_(where), batch(range(run * 10, run * 10 + 10)), state(run))
        upkeep.maintain(where[0], timedelta(0), where[1])
        assert len(open_(where).file_uris()) <= 2 * upkeep.MIN_SMALL_FILES
    table = open_(where)
    assert ids_of(table) == list(range(0, 410))
    health = table_health(where[0], where[1])
    assert health.live_files == len(table.file_uris()) <= upkeep.MIN_SMALL_FILES
    # Retention 0: only the current version's data files stay on disk.
    assert health.files_on_disk == health.live_files
    assert health.last_maintenance is not None and health.version == table.version()
    assert health.bytes_on_disk > health.live_bytes > 0 and health.versions_kept >= 1


def test_clean_up_keeps_every_file_a_version_inside_the_window_reads(where: Where) -> None:
    first_sync(where, range(0, 5))
    for run in range(1, 12):  # each merge rewrites the one file: old versions need the old files
        delta.merge(where[0], open_(where), batch(range(run, run + 1), f"v{run}"), ("id",), state(run))
    versions = open_(where).version()
    done = upkeep.maintain(where[0], timedelta(hours=1), where[1])
    assert done.removed == () and done.checkpoint is not None
    for version in range(versions + 1):  # time travel inside the window: every version reads
        old = open_(where)
        old.load_as_version(version)
        assert ids_of(old) == list(range(0, 5)) if version < 5 else len(ids_of(old)) >= 5

    done = upkeep.maintain(where[0], timedelta(0), where[1])
    health = table_health(*where)
    assert done.removed and health.files_on_disk == health.live_files  # only the current version's files
    assert ids_of(open_(where)) == list(range(0, 12))
    old = open_(where)
    old.load_as_version(1)  # outside the window: the log still says what it was, its files are gone
    with pytest.raises(OSError, match=r"(?i)not found|no such file"):
        old.to_pyarrow_table()


def test_a_file_removed_inside_the_window_stays_however_old_it_is(tmp_path: Path) -> None:
    where: Where = (str(tmp_path / "t"), None)
    first_sync(where, range(0, 5))
    old = time.time() - 30 * 86400
    for name in os.listdir(where[0]):  # written a month ago, removed by the next commit just now
        os.utime(Path(where[0]) / name, (old, old))
    delta.merge(where[0], open_(where), batch(range(1, 2), "b"), ("id",), state(1))
    assert upkeep.maintain(where[0], timedelta(hours=1)).removed == ()
    previous = open_(where)
    previous.load_as_version(0)
    assert previous.to_pyarrow_table().num_rows == 5


def test_maintenance_that_loses_to_a_sync_is_deferred_and_the_sync_stands(tmp_path: Path) -> None:
    where: Where = (str(tmp_path / "t"), None)
    first_sync(where, range(0, 1))
    for run in range(1, upkeep.MIN_SMALL_FILES + 1):
        delta.append(where[0], open_(where), batch(range(run, run + 1)), state(run))
    seen = open_(where)  # maintenance's view of the table, before a sync's merge commits
    delta.merge(where[0], open_(where), batch(range(3, 4), "new"), ("id",), state(99))
    deferred: list[str] = []
    assert upkeep._race(deferred, "compaction", upkeep.compact_if_due, seen) is None
    assert deferred == ["compaction"]
    assert ids_of(open_(where)) == list(range(0, 9))
    assert upkeep.maintain(where[0], timedelta(hours=1)).compacted > 0  # the next pass does it
    values = open_(where).to_pyarrow_table().to_pydict()
    assert dict(zip(values["id"], values["v"], strict=True))[3] == "new"


def test_a_sync_that_started_before_a_compaction_commits_after_it(tmp_path: Path) -> None:
    """The other order: a sync reads the table, compaction commits, then the sync commits."""
    where: Where = (str(tmp_path / "t"), None)
    first_sync(where, range(0, 1))
    for run in range(1, upkeep.MIN_SMALL_FILES + 1):
        delta.append(where[0], open_(where), batch(range(run, run + 1)), state(run))
    syncing = open_(where)
    assert upkeep.compact_if_due(open_(where)) is not None
    outcome: Any
    try:
        delta.append(where[0], syncing, batch(range(100, 101)), state(100))
        outcome = "committed"
    except ConcurrentSyncError:
        outcome = "conflict"
    assert outcome == "committed"
    assert ids_of(open_(where)) == [*range(0, 9), 100]


def test_retention_zero_leaves_only_the_current_files_across_checkpoints(where: Where) -> None:
    """Each merge removes the file it rewrites; a checkpoint forgets expired tombstones, so clean-up
    must have deleted their files first (they were left on disk for good when it ran after), and
    the checkpoint delta-rs makes by itself every 100 versions, at a sync's commit before any
    clean-up, must not forget them either."""
    first_sync(where, range(0, 5))
    for run in range(1, 40):  # 3 versions a run: past delta-rs's own checkpoint at version 100
        delta.merge(where[0], open_(where), batch(range(run % 5, run % 5 + 1), f"v{run}"), ("id",), state(run))
        upkeep.maintain(where[0], timedelta(0), where[1])
        health = table_health(*where)
        assert health.files_on_disk == health.live_files, f"run {run}"
    assert upkeep.last_checkpoint(*where) is not None


def test_a_maintained_table_reads_alike_everywhere_and_as_of_says_when_a_version_is_gone(tmp_path: Path) -> None:
    """After compaction, checkpoint and clean-up: pyarrow's dataset, DuckDB (the query engine) and
    polars read the same rows; as_of reads a version inside the window, and names the retention
    for one whose files clean-up removed."""
    import polars as pl

    from warehouse_sources.query.engine import QueryEngine
    from warehouse_sources.query.errors import TimeTravelError

    warehouse = tmp_path / "wh"
    where: Where = (str(warehouse / "t"), None)
    first_sync(where, range(0, 10))
    for run in range(1, 2 * upkeep.MIN_SMALL_FILES):
        delta.append(where[0], open_(where), batch(range(run * 10, run * 10 + 10)), state(run))
    done = upkeep.maintain(where[0], timedelta(hours=1))
    assert done.compacted and done.checkpoint is not None and not done.removed
    engine = QueryEngine(str(warehouse), views_dir=tmp_path / "no-views")
    expected = list(range(0, 160))
    assert ids_of(open_(where)) == expected
    assert [r[0] for r in engine.run("SELECT id FROM t ORDER BY id").rows] == expected
    assert sorted(pl.read_delta(where[0])["id"].to_list()) == expected
    assert [r[0] for r in engine.run("SELECT count(*) FROM as_of('t', 3)").rows] == [40]  # inside the window

    upkeep.maintain(where[0], timedelta(0))  # the window shrinks to the current version
    assert [r[0] for r in engine.run("SELECT count(*) FROM t").rows] == [160]
    with pytest.raises(TimeTravelError, match="retention period"):
        engine.run("SELECT count(*) FROM as_of('t', 3)")


def test_files_no_version_lists_go_a_day_past_the_window_at_a_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a killed sync left (files no version lists) goes at the first checkpoint once older than
    the window plus ORPHAN_AGE, and afterwards at the first checkpoint past each ORPHAN_SWEEP_EVERY
    versions (the sweep lists every file of the table); a young one stays: a sync may be writing it."""
    monkeypatch.setattr(upkeep, "CHECKPOINT_EVERY", 2)  # the same rules, in fewer versions
    monkeypatch.setattr(upkeep, "ORPHAN_SWEEP_EVERY", 6)
    where: Where = (str(tmp_path / "t"), None)
    first_sync(where, range(0, 5))
    folder, old = Path(where[0]), time.time() - 2 * 86400

    def orphan(name: str, mtime: float) -> Path:
        path = folder / name
        path.write_bytes(b"PAR1")
        os.utime(path, (mtime, mtime))
        return path

    stale, young = orphan("part-killed-1.parquet", old), orphan("part-writing.parquet", time.time())
    done = upkeep.maintain(where[0], timedelta(hours=1))
    assert done.checkpoint == 0 and [p.rsplit("/", 1)[-1] for p in done.removed] == [stale.name]
    assert not stale.exists() and young.exists()
    later = orphan("part-killed-2.parquet", old)
    swept_at = None
    for run in range(1, 10):
        delta.overwrite(where[0], open_(where), batch(range(0, 5), f"v{run}"), state(run))
        done = upkeep.maintain(where[0], timedelta(hours=1))
        if done.removed:
            swept_at = done.checkpoint
            break
        assert later.exists()
    assert swept_at == 6 and not later.exists() and young.exists()  # checkpoints at 2 and 4 did not list
    assert ids_of(open_(where)) == list(range(0, 5))
