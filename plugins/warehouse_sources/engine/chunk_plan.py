"""A chunked full load's first step: whether this run is a full load to split, and its key ranges.

`plan_load` runs in the plan task (airflow/chunk_tasks.py): in one snapshot of the source it
decides whether this run is a full load and, if so, takes the state to commit (the cursor, the
counts the self-check compares) and one `where` per key range (engine/chunk_ranges.py). The
ranges are loaded and committed by engine/chunks.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import checks, chunk_ranges, verify
from warehouse_sources.engine.faults import fatal_cause
from warehouse_sources.engine.progress import Log
from warehouse_sources.engine.reads import Read, cursor_read, previous_state
from warehouse_sources.errors import SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.state import SyncState, as_utc, dump_state

if TYPE_CHECKING:
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
    with fatal_as_ours(reader, request.table):
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


@contextmanager
def fatal_as_ours(reader: SourceReader, plan: TablePlan) -> Iterator[None]:
    """Faults no retry can fix become `SyncFatalError`, as `sync_table` sorts them (engine/faults.py)."""
    try:
        yield
    except Exception as exc:
        classify: Callable[[BaseException], str | None] | None = getattr(reader, "error_sqlstate", None)
        fatal = fatal_cause(exc, plan, classify(exc) if classify else None)
        if fatal is None:
            raise
        raise fatal from exc
