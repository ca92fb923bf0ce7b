"""A chunked full load: plan the key ranges, load one range, commit every range's files at once.

Three steps, each a task of its own in Airflow (airflow/chunk_tasks.py), none importing Airflow:
`plan_load` decides in one snapshot of the source whether this run is a full load and, if so, the
state to commit (the cursor, the counts the self-check compares) and one `where` per key range;
`load_chunk` reads one range through the kind's bulk path and writes it with the sync's own writer
into the table's staging folder (warehouse/chunk_commit.py); `commit_load` adds every range's files
to the table in one commit with that state. The cursor is the source's largest replication key when
the plan ran, before any chunk read: rows changed while the chunks read have keys at or above it,
and the next incremental run reads them again and merges them.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import checks, chunk_ranges, verify
from warehouse_sources.engine.faults import fatal_cause
from warehouse_sources.engine.progress import Log, SyncHooks
from warehouse_sources.engine.reads import Read, cursor_read, previous_state
from warehouse_sources.engine.writer import SyncResult, Writer
from warehouse_sources.errors import SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import chunk_commit, delta
from warehouse_sources.warehouse.state import SyncState, as_utc, dump_state, encode_cursor, load_state

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from warehouse_sources.engine.sync import SyncRequest
    from warehouse_sources.sources.base import SourceReader, TableDescription
    from warehouse_sources.sources.sql.reader import SqlTableReader

# parallelism: auto splits a table whose catalog estimates this many rows per range, in at most AUTO_MOST.
AUTO_ROWS_PER_CHUNK = 5_000_000
AUTO_MOST = 8
SPLIT_KINDS = ("int", "date", "timestamp")


def may_be_full_load(request: SyncRequest) -> bool:
    """Whether this run may be a full load, from the table's stored state alone: a run that will read
    from a stored cursor plans nothing and leaves the source alone (`plan_load` decides the rest)."""
    plan = request.table
    if plan.method == "full_table" or request.full_refresh:
        return True
    table = delta.open_table(delta.table_uri(request.warehouse_uri, plan.synced_name), request.storage_options)
    state = delta.read_state(table) if table is not None else None
    if state is None or state.cursor is None:
        return True
    return (state.method, state.replication_key) != (plan.method, plan.replication_key)


def plan_load(reader: SourceReader, request: SyncRequest, log: Log) -> list[dict[str, Any]]:
    """One entry per key range when this run is a full load of a table with `parallelism`; none (the
    table's task syncs as usual) for a cursor read, an empty or small table, or a range too narrow."""
    with _fatal_as_ours(reader, request.table):
        return _plan(reader, request, log)


def _plan(reader: SourceReader, request: SyncRequest, log: Log) -> list[dict[str, Any]]:
    plan = request.table
    found = reader.describe(plan.schema, plan.table)
    desc = checks.require_table(found, plan, reader.similar_tables(plan.schema, plan.table) if found is None else [])
    sql = _sql_reader(reader, plan)
    split_key = _split_key(desc, plan)
    key_kind = checks.replication_key_kind(desc, plan, reader.cursor_type_names)
    keys = checks.merge_keys(desc, plan) if plan.method == "incremental" else ()
    table = delta.open_table(delta.table_uri(request.warehouse_uri, plan.synced_name), request.storage_options)
    previous = previous_state(table, plan, key_kind, request.full_refresh, log)
    synced_at = datetime.now(UTC)
    base = SyncState(method=plan.method, key_kind=key_kind, synced_at=synced_at.isoformat(), run_id=request.run_id)
    reader.begin_snapshot()
    try:
        read: Read | None = Read("overwrite", "", base)
        if plan.method != "full_table":
            read = cursor_read(reader, desc, plan, keys, previous, base, log)
        if read is None or read.write != "overwrite":
            log.info("%s: not a full load this run; the table's task syncs it as usual", plan.qualified_name)
            return []
        wheres = _ranges(sql, desc, plan, split_key, _parts(sql, desc, plan, log))
        if len(wheres) < 2:
            return []
        read = verify.counted(reader, desc, plan, read)
        text = tuple(sql.irregular_arrays(desc, "")) if hasattr(sql, "irregular_arrays") else ()
    finally:
        reader.end_snapshot()
    state = dump_state(read.state)
    load_id = uuid.uuid4().hex[:16]
    log.info("%s: full load in %d key ranges of %s (load %s)", plan.qualified_name, len(wheres), split_key, load_id)
    shared = {"load": load_id, "state": state, "synced_at": synced_at.isoformat(), "keys": list(keys),
              "text_columns": list(text), "bound": _append_bound(sql, desc, plan, read)}  # fmt: skip
    return [shared | {"index": i, "where": where} for i, where in enumerate(wheres)]


def _sql_reader(reader: SourceReader, plan: TablePlan) -> SqlTableReader[Any]:
    from warehouse_sources.sources.sql.reader import SqlTableReader

    if not isinstance(reader, SqlTableReader):
        raise SyncFatalError(f"{checks.where(plan)}: parallelism splits database tables only; remove it")
    return reader


def _split_key(desc: TableDescription, plan: TablePlan) -> str:
    """The one primary key column the ranges split, after checking it can be split."""
    keys = plan.primary_key or desc.primary_key
    if len(keys) != 1:
        found = f"its primary key is {list(keys)}" if keys else "it has no primary key"
        raise SyncFatalError(
            f"{checks.where(plan)}: parallelism splits the table on a single-column primary key, but {found}; "
            "set primary_key to one integer, date or timestamp column, or remove parallelism"
        )
    column = desc.column(keys[0])
    if column is None or column.cursor_kind not in SPLIT_KINDS:
        shown = f"{column.type_sql} " if column is not None else "missing "
        raise SyncFatalError(
            f"{checks.where(plan)}: parallelism splits the table on its primary key {keys[0]!r}, a {shown}column; "
            "only integer, date or timestamp keys can be split: remove parallelism or name another primary_key"
        )
    return keys[0]


def _parts(reader: SqlTableReader[Any], desc: TableDescription, plan: TablePlan, log: Log) -> int:
    if isinstance(plan.parallelism, int):
        return plan.parallelism
    statement = reader.dialect.row_estimate_sql(desc.schema, desc.table)
    estimate = reader.rows(statement)[0][0] if statement else None
    parts = chunk_ranges.auto_parts(int(estimate) if estimate is not None else None, AUTO_ROWS_PER_CHUNK, AUTO_MOST)
    log.info("%s: parallelism auto: the catalog estimates %s rows: %d ranges", plan.qualified_name, estimate, parts)
    return parts


def _ranges(reader: SqlTableReader[Any], desc: TableDescription, plan: TablePlan, key: str, parts: int) -> list[str]:
    """One condition per range of `key`, between its smallest and largest value a cursor can hold."""
    if parts < 2:
        return []
    dialect = reader.dialect
    # Not `value_range`, whose subquery fence keeps the planner from the key's index: here the index
    # answers MIN and MAX at once, where a scan of a huge table would cost as much as a range's read.
    bounds = f"SELECT MIN({dialect.ident(key)}), MAX({dialect.ident(key)}) FROM {reader.table_sql(desc)}"
    (low, high), *_ = reader.rows(f"{bounds} WHERE {dialect.cursor_range(desc, key)}")
    if low is None or high is None:
        return []
    low, high = _value(low), _value(high)
    starts = chunk_ranges.boundaries(low, high, parts)
    return chunk_ranges.range_conditions(dialect.ident(key), [dialect.cursor_literal(desc, key, v) for v in starts])


def _value(value: Any) -> Any:
    """A bound as a cursor holds it: timestamps in UTC, integers as int (Snowflake answers Decimals)."""
    if isinstance(value, datetime):
        return as_utc(value)
    return value if isinstance(value, date) else int(value)


def _append_bound(reader: SqlTableReader[Any], desc: TableDescription, plan: TablePlan, read: Read) -> str:
    """append_only: the chunks read no row above the cursor the plan captured, since the next run appends
    every row from the cursor on (an incremental table's next run merges them, so it needs no bound)."""
    key, cursor = plan.replication_key, read.state.cursor
    if plan.method != "append_only" or key is None or cursor is None:
        return ""
    return f"NOT COALESCE(({reader.key_condition(desc, key, '>', cursor)}), FALSE)"


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
    with _fatal_as_ours(reader, request.table):
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
        from warehouse_sources.engine.sync import _maintain  # the same maintenance a sync's commit gets

        _maintain(request, log)
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


@contextmanager
def _fatal_as_ours(reader: SourceReader, plan: TablePlan) -> Iterator[None]:
    """Faults no retry can fix become `SyncFatalError`, as `sync_table` sorts them (engine/faults.py)."""
    try:
        yield
    except Exception as exc:
        classify: Callable[[BaseException], str | None] | None = getattr(reader, "error_sqlstate", None)
        fatal = fatal_cause(exc, plan, classify(exc) if classify else None)
        if fatal is None:
            raise
        raise fatal from exc
