"""Automatic table maintenance after a sync commit: compaction, clean-up and the Delta log.

Each step runs only when due and is its own atomic commit: compaction bin-packs the small files
(delta-rs OPTIMIZE, target TARGET_FILE_SIZE, rows never change); clean-up deletes the data files
that the `retention` window no longer needs (delta-rs VACUUM in its tombstone mode: only files a
commit removed longer ago than the window, so every version inside it stays readable, and never
an uncommitted file a running sync is writing); a checkpoint bounds how much of the log a reader
replays, log entries older than the window (plus LOG_MARGIN) go, and so do data files no version
lists that are older than that (what a killed sync or compaction left). A step that loses a commit
race to a sync is skipped and runs again after the next sync; it never fails the sync.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from warehouse_sources.warehouse.delta import TARGET_FILE_SIZE, open_table, writer_properties
from warehouse_sources.warehouse.state import STATE_KEY
from warehouse_sources.warehouse.storage import filesystem

if TYPE_CHECKING:
    from deltalake import DeltaTable

    Options = dict[str, str] | None

# A file under a quarter of the target counts as small; compaction runs once this many pile up,
# so an append-only table keeps at most about 2 x MIN_SMALL_FILES live files however many runs.
SMALL_FILE_BYTES = TARGET_FILE_SIZE // 4
MIN_SMALL_FILES = 8
CHECKPOINT_EVERY = 10
# The orphan sweep lists every file of the table (every version the window keeps): at the first
# checkpoint past each multiple of this many versions, not at every checkpoint.
ORPHAN_SWEEP_EVERY = 100
# Log entries outlive the window by as much as the window, up to LOG_MARGIN: `as_of` at the window's
# start still finds its version (retention 0 keeps none). Data files that no version lists
# are swept only past ORPHAN_AGE beyond the window: a long sync's uncommitted files are that young.
LOG_MARGIN = timedelta(hours=1)
ORPHAN_AGE = timedelta(days=1)
MAINTENANCE_KEY = "warehouse_sources.maintenance"
MAINTENANCE_OPERATIONS = ("OPTIMIZE", "VACUUM END", "SET TBLPROPERTIES")


@dataclass(frozen=True)
class Upkeep:
    """What one maintenance pass did (all zero when nothing was due)."""

    compacted: int = 0
    compacted_into: int = 0
    removed: tuple[str, ...] = ()
    checkpoint: int | None = None
    deferred: tuple[str, ...] = ()

    def summary(self) -> str:
        parts = []
        if self.compacted:
            parts.append(f"compacted {self.compacted} small files into {self.compacted_into}")
        if self.removed:
            parts.append(f"removed {len(self.removed)} data files outside the retention window")
        if self.checkpoint is not None:
            parts.append(f"checkpoint at version {self.checkpoint}, old log entries cleaned")
        parts += [f"{step} deferred to the next run (a sync committed meanwhile)" for step in self.deferred]
        return "; ".join(parts) or "nothing due"


def retention_hours(window: timedelta) -> int:
    """delta-rs takes whole hours: a window is rounded up, so no file goes before its time."""
    return math.ceil(window.total_seconds() / 3600)


def maintain(uri: str, retention: timedelta, storage_options: Options = None) -> Upkeep:
    """Run what is due on the table at `uri`. Clean-up runs before the checkpoint: a checkpoint
    forgets tombstones past their retention, and a file whose tombstone is forgotten is no longer
    one that clean-up finds (the orphan sweep at checkpoints takes those a day later).

    The table is opened once and brought up to date after each step (its new commits alone): an
    open replays the log from the checkpoint and lists the log folder, which holds every version of
    the window, so each open costs more the more versions the window keeps (the soak at 1 hour)."""
    from deltalake import DeltaTable

    deferred: list[str] = []
    table = DeltaTable(uri, storage_options=storage_options)
    compacted = _race(deferred, "compaction", compact_if_due, table) or (0, 0)
    _refresh(table, compacted[0] or deferred)
    removed = _race(deferred, "clean-up", clean_up_if_due, table, uri, retention, storage_options) or []
    _refresh(table, removed or deferred)
    # A checkpoint forgets expired tombstones: never before clean-up has deleted their files.
    logged = None if deferred else _race(deferred, "log clean-up", _log_upkeep, table, uri, retention, storage_options)
    checkpoint, orphans = logged or (None, [])
    return Upkeep(compacted[0], compacted[1], tuple(removed + orphans), checkpoint, tuple(deferred))


def _refresh(table: DeltaTable, changed: object) -> None:
    """Read the commits made since `table` was loaded, when a step committed or lost a race (an
    update lists the log folder too, so not after a step that found nothing due)."""
    if changed:
        table.update_incremental()


def _race(deferred: list[str], step: str, action: Any, *args: Any) -> Any:
    """`action(*args)`, or None (the step named in `deferred`) when a concurrent commit won."""
    from deltalake.exceptions import CommitFailedError

    try:
        return action(*args)
    except CommitFailedError:
        deferred.append(step)
        return None


def _maintenance_commit(step: str) -> Any:
    from deltalake import CommitProperties

    return CommitProperties(custom_metadata={MAINTENANCE_KEY: step})


def compact_if_due(table: DeltaTable) -> tuple[int, int] | None:
    """Bin-pack the small files when MIN_SMALL_FILES have piled up: (files removed, files added).
    A table with a merge key is compacted in key order, also as soon as two files share keys."""
    from warehouse_sources.warehouse import layout

    key = layout.sort_key(table)
    files = layout.data_files(table, key) if key is not None else None
    if key is not None and files is not None:
        small = sum(1 for f in files if f.size < SMALL_FILE_BYTES)
        if not layout.overlaps(files) and small < MIN_SMALL_FILES:
            return None
        runs = layout.plan(files, SMALL_FILE_BYTES)
        return layout.rewrite(table, key, runs, _maintenance_commit("compaction")) if runs else None
    sizes = table.get_add_actions(flatten=True).column("size_bytes").to_pylist()
    if sum(1 for size in sizes if size < SMALL_FILE_BYTES) < MIN_SMALL_FILES:
        return None
    metrics = table.optimize.compact(
        target_size=TARGET_FILE_SIZE,
        writer_properties=writer_properties(),
        commit_properties=_maintenance_commit("compaction"),
    )
    return int(metrics["numFilesRemoved"]), int(metrics["numFilesAdded"])


def clean_up_if_due(table: DeltaTable, uri: str, retention: timedelta, storage_options: Options) -> list[str]:
    """Delete the data files that commits removed longer ago than `retention`, when any is still on
    disk (a vacuum adds two log entries, so it runs only when it has something to delete)."""
    hours = retention_hours(retention)
    expired = table.vacuum(retention_hours=hours, dry_run=True, enforce_retention_duration=False)
    if not expired:  # the usual case inside a long window: no listing of the table's folder
        return []
    on_disk = _data_files(uri, storage_options)
    if not any(_name(path) in on_disk for path in expired):
        return []
    return table.vacuum(
        retention_hours=hours,
        dry_run=False,
        enforce_retention_duration=False,
        commit_properties=_maintenance_commit("clean-up"),
    )


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _data_files(uri: str, storage_options: Options) -> set[str]:
    from pyarrow import fs

    store, root = filesystem(uri, storage_options)
    infos = store.get_file_info(fs.FileSelector(root, allow_not_found=True))
    return {info.base_name for info in infos if info.type == fs.FileType.File}


def _log_upkeep(
    table: DeltaTable, uri: str, retention: timedelta, storage_options: Options
) -> tuple[int, list[str]] | None:
    """Match the table's tombstone and log retention to the window; every CHECKPOINT_EVERY versions
    checkpoint at the newest sync commit and drop the log entries before it older than the log's
    window (so the commit that carries the cursor always stays), and every ORPHAN_SWEEP_EVERY
    versions sweep the orphans (it lists every file of the table)."""
    from deltalake import DeltaTable

    _set_retention(table, retention)
    last = last_checkpoint(uri, storage_options)
    if last is not None and table.version() - last < CHECKPOINT_EVERY:
        return None
    synced = _last_sync_commit(table)
    if synced is None or (last is not None and synced <= last):
        return None
    at_sync = table if synced == table.version() else DeltaTable(uri, version=synced, storage_options=storage_options)
    at_sync.create_checkpoint()
    at_sync.cleanup_metadata()
    if last is not None and synced // ORPHAN_SWEEP_EVERY == last // ORPHAN_SWEEP_EVERY:
        return synced, []
    # Opened again: the log clean-up may have deleted the checkpoint `table` was loaded from.
    return synced, sweep_orphans(DeltaTable(uri, storage_options=storage_options), retention)


def sweep_orphans(table: DeltaTable, retention: timedelta) -> list[str]:
    """Delete data files no version lists that are older than the window plus ORPHAN_AGE: what a
    sync or a compaction killed before its commit left, and files whose tombstone a checkpoint
    already forgot. The margin keeps the files of a sync still writing (uncommitted, so listed
    nowhere) safe however small the window."""
    hours = retention_hours(retention + ORPHAN_AGE)
    if not table.vacuum(retention_hours=hours, dry_run=True, enforce_retention_duration=False, full=True):
        return []
    return table.vacuum(
        retention_hours=hours,
        dry_run=False,
        enforce_retention_duration=False,
        full=True,
        commit_properties=_maintenance_commit("orphan sweep"),
    )


def retention_properties(retention: timedelta) -> dict[str, str]:
    """The table's own retention settings, from the window: a maintained table's first write
    carries them (warehouse/delta.py), so its first sync needs no commit of maintenance's own.
    delta-rs would otherwise checkpoint every 100 commits and clean the log there by itself, maybe
    past the newest sync commit."""
    log = f"interval {retention_hours(retention + min(retention, LOG_MARGIN))} hours"
    return {
        "delta.deletedFileRetentionDuration": f"interval {retention_hours(retention)} hours",
        "delta.logRetentionDuration": log,
        "delta.enableExpiredLogCleanup": "false",
        # Checkpoints only here, after clean-up: one delta-rs made by itself at a sync's commit forgot
        # that commit's expired tombstones before clean-up saw them (retention 0: 10 files left on
        # disk in 400 runs, for 1 live), and a forgotten tombstone's file is found by no clean-up.
        "delta.checkpointInterval": str(2**31 - 1),
    }


def _set_retention(table: DeltaTable, retention: timedelta) -> None:
    """Set the window's properties (retention_properties) where they differ: a table made before
    they travelled with the first write, or whose `retention` setting changed."""
    wanted = retention_properties(retention)
    current = table.metadata().configuration
    if any(current.get(key) != value for key, value in wanted.items()):
        table.alter.set_table_properties(wanted, commit_properties=_maintenance_commit("retention"))
        table.update_incremental()


def last_checkpoint(uri: str, storage_options: Options) -> int | None:
    """The version of the table's newest checkpoint, from `_delta_log/_last_checkpoint`."""
    store, root = filesystem(uri, storage_options)
    try:
        with store.open_input_stream(f"{root}/_delta_log/_last_checkpoint") as stream:
            return int(json.loads(stream.read())["version"])
    except (FileNotFoundError, KeyError, ValueError):
        return None
    except OSError as exc:
        if "not found" in str(exc).lower() or "does not exist" in str(exc).lower():
            return None
        raise


def last_sync_version(uri: str, storage_options: Options = None) -> int | None:
    """The version of the newest commit that carries a sync state (maintenance commits carry none)."""
    table = open_table(uri, storage_options)
    return None if table is None else _last_sync_commit(table)


def _last_sync_commit(table: DeltaTable, depths: tuple[int, ...] = (2, 10, 50)) -> int | None:
    """`last_sync_version` of an open table: the newest commits first, since each commit of the
    history is a read of its own log entry and the sync commit is nearly always the newest."""
    for depth in depths:
        commits = table.history(depth)
        for commit in commits:
            if commit.get(STATE_KEY):
                return int(commit["version"])
        if len(commits) < depth:
            break
    return None


def only_maintenance_since(uri: str, version: int, storage_options: Options = None) -> bool:
    """Whether every commit after `version` is maintenance (none carries a sync state)."""
    table = open_table(uri, storage_options)
    if table is None or table.version() <= version:
        return False
    return not any(commit.get(STATE_KEY) for commit in table.history(table.version() - version))
