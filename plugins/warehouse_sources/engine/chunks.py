"""A chunked full load: plan the key ranges, load one range, commit every range's files at once.

Three steps, each a task of its own in Airflow (airflow/chunk_tasks.py), none importing Airflow:
`plan_load` (engine/chunk_plan.py) decides in one snapshot of the source whether this run is a
full load and, if so, the state to commit (the cursor, the counts the self-check compares) and one
`where` per key range; `load_chunk` here reads one range through the kind's bulk path and writes it
with the sync's own writer into the table's staging folder (warehouse/chunk_commit.py);
`commit_load` adds every range's files to the table in one commit with that state. The cursor is
the source's largest replication key when the plan ran, before any chunk read: rows changed while
the chunks read have keys at or above it, and the next incremental run reads them again and merges
them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import checks, verify
from warehouse_sources.engine.chunk_plan import fatal_as_ours
from warehouse_sources.engine.progress import Log, SyncHooks
from warehouse_sources.engine.reads import Read
from warehouse_sources.engine.writer import SyncResult, Writer
from warehouse_sources.errors import SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import chunk_commit, delta
from warehouse_sources.warehouse.state import SyncState, encode_cursor, load_state

if TYPE_CHECKING:
    from warehouse_sources.engine.sync import SyncRequest
    from warehouse_sources.sources.base import SourceReader


@dataclass
class _ChunkWriter(Writer):
    """The sync's writer, with the array columns kept as text decided once for every range."""

    text_columns: frozenset[str] = frozenset()

    def _text_columns(self, read: Read) -> frozenset[str]:
        return self.text_columns


def load_chunk(
    reader: SourceReader, request: SyncRequest, chunk: dict[str, Any], log: Log, hooks: SyncHooks | None = None
) -> dict[str, Any]:
    """Read one key range and stage its files; what the table's commit adds for it (path, size, stats)."""
    with fatal_as_ours(reader, request.table):
        return _load(reader, request, chunk, log, hooks or SyncHooks())


def _load(
    reader: SourceReader, request: SyncRequest, chunk: dict[str, Any], log: Log, hooks: SyncHooks
) -> dict[str, Any]:
    plan = request.table
    desc = checks.require_table(reader.describe(plan.schema, plan.table), plan)
    folder = chunk_commit.staging_folder(chunk["load"], chunk["index"])
    uri = f"{delta.table_uri(request.warehouse_uri, plan.synced_name)}/{folder}"
    chunk_commit.clear(uri, request.storage_options)
    synced_at = datetime.fromisoformat(chunk["synced_at"])
    write = _ChunkWriter(reader, plan, request.storage_options, uri, desc, None, tuple(chunk["keys"]), synced_at,
                         log, hooks, None, frozenset(chunk["text_columns"]))  # fmt: skip
    where = " AND ".join(f"({w})" for w in (chunk["where"], chunk["bound"]) if w)
    reader.begin_snapshot()
    try:
        result = write(Read("overwrite", where, load_state(chunk["state"])))
    finally:
        reader.end_snapshot()
    staged = chunk_commit.staged(uri, folder, request.storage_options)
    log.info("%s: range %d staged: %d rows in %d files", plan.qualified_name, chunk["index"], result.rows,
             len(staged["adds"]))  # fmt: skip
    return staged | {"index": chunk["index"], "load": chunk["load"], "seconds": round(result.seconds, 3)}


def commit_load(
    request: SyncRequest, planned: list[dict[str, Any]], loaded: list[dict[str, Any]], log: Log
) -> SyncResult:
    """Add every range's staged files to the table in one commit that carries the planned state."""
    plan = request.table
    _require_every_range(plan, planned, loaded)
    state = replace(load_state(planned[0]["state"]), sort_key=loaded[0]["sort_key"])  # the writer's choice
    uri = delta.table_uri(request.warehouse_uri, plan.synced_name)
    table = delta.open_table(uri, request.storage_options)
    if chunk_commit.committed_by(table, state, loaded):
        log.info("%s: this load was committed already (a retry of this task)", plan.qualified_name)
    else:
        properties = _retention_properties(request) if table is None else None
        chunk_commit.commit(uri, table, loaded, state, request.storage_options, properties)
    committed = delta.open_table(uri, request.storage_options)
    assert committed is not None
    rows = sum(int(chunk["rows"]) for chunk in loaded)
    _check(state, committed, plan, log)
    if request.retention is not None:
        from warehouse_sources.engine.sync import maintain  # the same maintenance a sync's commit gets

        maintain(request, log)
    seconds = max((float(chunk.get("seconds", 0.0)) for chunk in loaded), default=0.0)
    return SyncResult(plan.synced_name, plan.method, "overwrite", rows, seconds, committed.version(),
                      encode_cursor(state.cursor), state.null_keys)  # fmt: skip


def _require_every_range(plan: TablePlan, planned: list[dict[str, Any]], loaded: list[dict[str, Any]]) -> None:
    load = planned[0]["load"]
    got = sorted(int(c["index"]) for c in loaded if c.get("load") == load)
    if got != list(range(len(planned))):
        raise SyncFatalError(
            f"{checks.where(plan)}: the load planned {len(planned)} key ranges but ranges {got} were staged; "
            "nothing was committed, and the next run loads the table again"
        )


def _retention_properties(request: SyncRequest) -> dict[str, str] | None:
    from warehouse_sources.warehouse.upkeep import retention_properties

    return retention_properties(request.retention) if request.retention is not None else None


def _check(state: SyncState, table: Any, plan: TablePlan, log: Log) -> None:
    """The sync's self-check (engine/verify.py) on the commit: the counts the plan took against the
    table's statistics; logged, and failing the task under `verify: strict` (the commit stands)."""
    if not state.source_counts:
        return
    check = verify.compare(state, table, verify.deletions_synced(plan))
    where = checks.where(plan)
    if check.ok:
        log.info("%s: verified: %s%s", where, check.message, f" ({check.note})" if check.note else "")
        return
    log.warning("%s: verification failed: %s", where, check.message)
    if plan.verify == "strict":
        raise SyncFatalError(f"{where}: verification failed after commit version {table.version()}: {check.message} "
                             "(verify: strict; rows changed while the ranges were read count too)")  # fmt: skip
