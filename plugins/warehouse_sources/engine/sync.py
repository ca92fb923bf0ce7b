"""Sync one table: source reader -> Arrow batches -> one Delta commit that also carries the cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import checks, deletions, verify, verify_run
from warehouse_sources.engine.faults import fatal_cause
from warehouse_sources.engine.progress import Log, SyncHooks
from warehouse_sources.engine.reads import Read, cursor_read, previous_state
from warehouse_sources.engine.writer import SyncResult, Writer
from warehouse_sources.errors import ConcurrentSyncError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.state import SyncState, encode_cursor

if TYPE_CHECKING:
    from warehouse_sources.sources.base import SourceReader

__all__ = ["SyncRequest", "SyncResult", "sync_table"]


@dataclass(frozen=True)
class SyncRequest:
    table: TablePlan
    warehouse_uri: str
    storage_options: dict[str, str] | None = None
    full_refresh: bool = False
    run_id: str = ""
    # Time travel window kept by the maintenance that follows a committed sync; None skips it.
    retention: timedelta | None = None
    repair: bool = False  # verify the table after the sync and repair its drift (run conf "repair")


def sync_table(reader: SourceReader, request: SyncRequest, log: Log, hooks: SyncHooks | None = None) -> SyncResult:
    """Check the source table, read what this run needs and commit it with the new state.

    Faults no retry can fix (a value no column type holds, a schema the table cannot take, a
    statement the source refuses) come out as `SyncFatalError`; the rest stay as raised.
    """
    try:
        result = _sync_past_maintenance(reader, request, log, hooks or SyncHooks())
    except Exception as exc:
        classify = getattr(reader, "error_sqlstate", None)  # optional: a kind whose driver errors lack .sqlstate
        fatal = fatal_cause(exc, request.table, classify(exc) if classify else None)
        if fatal is None:
            raise
        raise fatal from exc
    if result.write != "none" and request.retention is not None:
        maintain(request, log)
    if request.repair or request.table.verify_every is not None:  # the deep verification (engine/verify_run.py)
        verify_run.scheduled(reader, request.table, request.warehouse_uri, request.storage_options, log, request.repair)
    return result


def _sync_past_maintenance(reader: SourceReader, request: SyncRequest, log: Log, hooks: SyncHooks) -> SyncResult:
    """`_sync`, run once more when its commit lost to maintenance commits alone (a compaction
    removed files its MERGE read; no other sync committed): maintenance never fails a sync."""
    from warehouse_sources.warehouse.upkeep import only_maintenance_since

    started: list[int] = []  # the table's version the sync read, when the table exists
    try:
        return _sync(reader, request, log, hooks, started)
    except ConcurrentSyncError:
        uri = delta.table_uri(request.warehouse_uri, request.table.synced_name)
        if not started or not only_maintenance_since(uri, started[0], request.storage_options):
            raise
        log.info("%s: table maintenance committed while this sync ran; syncing again", request.table.synced_name)
        return _sync(reader, request, log, hooks, [])


def maintain(request: SyncRequest, log: Log) -> None:
    """The table's maintenance when due, after its sync committed: logged, never failing the sync
    (what it could not do now, the next run's maintenance does)."""
    from warehouse_sources.warehouse.upkeep import maintain, retention_hours

    uri = delta.table_uri(request.warehouse_uri, request.table.synced_name)
    assert request.retention is not None
    try:
        done = maintain(uri, request.retention, request.storage_options)
    except Exception as exc:  # the sync's commit stands; maintenance is retried after the next one
        log.warning("%s: table maintenance failed and runs again after the next sync: %s", uri, exc)
        return
    hours = retention_hours(request.retention)
    log.info("%s: maintenance (retention %d h): %s", request.table.synced_name, hours, done.summary())


def _sync(reader: SourceReader, request: SyncRequest, log: Log, hooks: SyncHooks, started: list[int]) -> SyncResult:
    plan = request.table
    found = reader.describe(plan.schema, plan.table)
    similar = reader.similar_tables(plan.schema, plan.table) if found is None else []
    desc = checks.require_table(found, plan, similar)
    key_kind = checks.replication_key_kind(desc, plan, reader.cursor_type_names)
    keys = checks.merge_keys(desc, plan) if plan.method == "incremental" else ()
    uri = delta.table_uri(request.warehouse_uri, plan.synced_name)
    table = delta.open_table(uri, request.storage_options)
    started += [table.version()] if table is not None else []
    previous = previous_state(table, plan, key_kind, request.full_refresh, log)
    synced_at = datetime.now(UTC)
    base = SyncState(method=plan.method, key_kind=key_kind, synced_at=synced_at.isoformat(), run_id=request.run_id)
    write = Writer(
        reader, plan, request.storage_options, uri, desc, table, keys, synced_at, log, hooks, request.retention
    )
    if plan.method == "full_table" and plan.verify == "off":
        return write(Read("overwrite", "", base))
    reopen = partial(delta.open_table, uri, request.storage_options)
    reader.begin_snapshot()  # the read and the counts its self-check compares (engine/verify.py) see one snapshot
    try:
        if plan.method == "full_table":
            return verify.write_checked(write, reader, desc, plan, Read("overwrite", "", base), log, reopen)
        read = cursor_read(reader, desc, plan, keys, previous, base, log)
        read = deletions.with_check(reader, desc, plan, previous, base, read, table)
        if read is None:
            return _unchanged(plan, table, previous)
        return verify.write_checked(write, reader, desc, plan, read, log, reopen)
    finally:
        reader.end_snapshot()


def _unchanged(plan: TablePlan, table: Any, previous: SyncState | None) -> SyncResult:
    cursor = encode_cursor(previous.cursor if previous else None)
    version = table.version() if table is not None else None
    return SyncResult(plan.synced_name, plan.method, "none", 0, 0.0, version, cursor, 0)
