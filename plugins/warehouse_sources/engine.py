"""Sync one table: source reader -> Arrow batches -> Delta commit that also carries the cursor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources import checks
from warehouse_sources.boundary import identities, skip_synced
from warehouse_sources.errors import SchemaDriftError, SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.progress import Log, ProgressStream
from warehouse_sources.sources.postgres.reader import PostgresReader, key_condition
from warehouse_sources.state import CursorValue, SyncState, as_utc, encode_cursor, lower_bound
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.schema import cast_reader, plan_schema

if TYPE_CHECKING:
    import pyarrow as pa

    from warehouse_sources.sources.postgres.catalog import TableDescription

SYNCED_AT = "_ws_synced_at"


@dataclass(frozen=True)
class SyncRequest:
    table: TablePlan
    warehouse_uri: str
    storage_options: dict[str, str] | None = None
    full_refresh: bool = False
    run_id: str = ""


@dataclass(frozen=True)
class SyncResult:
    synced_name: str
    method: str
    write: str
    rows: int
    seconds: float
    version: int | None
    cursor: Any
    null_keys: int

    def summary(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        cursor = f", cursor {self.cursor}" if self.cursor is not None else ""
        return (
            f"{self.synced_name}: {self.method} ({self.write}), {self.rows:,} rows in {self.seconds:.2f} s "
            f"({rate:,.0f} rows/s){cursor}, table version {self.version}"
        )


@dataclass
class _Read:
    """What one run reads and how it writes it."""

    write: str
    where: str
    state: SyncState
    skip: tuple[CursorValue, frozenset[str], list[str]] | None = None


def sync_table(
    reader: PostgresReader, request: SyncRequest, log: Log, at_end: Callable[[], None] | None = None
) -> SyncResult:
    plan = request.table
    desc = checks.require_table(reader.describe(plan.schema, plan.table), plan)
    key_kind = checks.replication_key_kind(desc, plan)
    keys = checks.merge_keys(desc, plan) if plan.method == "incremental" else None
    uri = delta.table_uri(request.warehouse_uri, plan.synced_name)
    table = delta.open_table(uri, request.storage_options)
    previous = _previous_state(table, plan, key_kind, request.full_refresh, log)
    synced_at = datetime.now(UTC)
    base = SyncState(method=plan.method, synced_at=synced_at.isoformat(), run_id=request.run_id)
    if plan.method == "full_table":
        return _write(reader, request, desc, _Read("overwrite", "", base), table, keys, synced_at, log, at_end)
    reader.begin_snapshot()
    try:
        read = _plan_cursor_read(reader, desc, plan, previous, base, key_kind, log)
        if read is None:
            return SyncResult(
                plan.synced_name,
                plan.method,
                "none",
                0,
                0.0,
                table.version() if table else None,
                encode_cursor(previous.cursor if previous else None),
                0,
            )
        return _write(reader, request, desc, read, table, keys, synced_at, log, at_end)
    finally:
        reader.end_snapshot()


def _previous_state(
    table: Any, plan: TablePlan, key_kind: str | None, full_refresh: bool, log: Log
) -> SyncState | None:
    if table is None:
        return None
    if full_refresh:
        log.info("full refresh requested: the stored cursor is ignored and the table rebuilt")
        return None
    state = delta.read_state(table)
    if state is None:
        return None
    if (state.method, state.replication_key) != (plan.method, plan.replication_key):
        log.warning(
            "sync method or replication key changed (%s on %s -> %s on %s): rebuilding the table",
            state.method,
            state.replication_key,
            plan.method,
            plan.replication_key,
        )
        return None
    if state.key_kind and state.key_kind != key_kind:
        raise SyncFatalError(
            f"{checks.where(plan)}: replication key {plan.replication_key!r} changed from a {state.key_kind} "
            f"to a {key_kind} column, so the stored cursor no longer applies; resync the table "
            '(trigger with conf {"full_refresh": true})'
        )
    return state


def _plan_cursor_read(
    reader: PostgresReader,
    desc: TableDescription,
    plan: TablePlan,
    previous: SyncState | None,
    base: SyncState,
    key_kind: Any,
    log: Log,
) -> _Read | None:
    key = plan.replication_key
    assert key is not None
    cursor = previous.cursor if previous else None
    lower = cursor
    if cursor is not None and plan.method == "incremental":
        try:
            lower = lower_bound(cursor, plan.lookback)
        except ValueError as exc:
            raise SyncFatalError(f"{checks.where(plan)}: {exc}; fix lookback in the source YAML") from exc
    upper, nulls = reader.key_bounds(desc, key, lower)
    upper = as_utc(upper) if isinstance(upper, datetime) else upper
    if nulls:
        seen = "the first load read them" if cursor is not None else "they are loaded now"
        log.warning(
            "%s: %d rows have NULL %s: %s, but reads from the cursor cannot see new or changed ones; "
            "use full_table to keep them current",
            plan.qualified_name,
            nulls,
            key,
            seen,
        )
    if cursor is not None and upper is None:
        log.info("%s: no rows at or above the cursor %s", plan.qualified_name, encode_cursor(cursor))
        return None
    new_cursor = _advance(cursor, upper)
    state = replace(base, replication_key=key, key_kind=key_kind, cursor=new_cursor, null_keys=nulls)
    if plan.method == "append_only" and new_cursor is not None:
        id_columns = list(plan.primary_key or desc.primary_key or [c.name for c in desc.columns])
        rows = reader.read(desc, key_condition(desc, key, "=", new_cursor), id_columns).read_all()
        state = replace(state, boundary=tuple(identities(rows, id_columns)), identity_columns=tuple(id_columns))
    if cursor is None or lower is None:
        return _Read("overwrite", "", state)
    where = key_condition(desc, key, ">=", lower)
    if plan.method == "incremental":
        return _Read("merge", where, state)
    assert previous is not None
    skip = (cursor, frozenset(previous.boundary), list(previous.identity_columns))
    return _Read("append", where, state, skip if previous.boundary else None)


def _advance(cursor: CursorValue | None, upper: CursorValue | None) -> CursorValue | None:
    """The cursor never moves back, even when the newest rows were deleted or keys went down."""
    if cursor is None or upper is None:
        return upper if cursor is None else cursor
    return upper if upper > cursor else cursor  # type: ignore[operator]


def _with_synced_at(data: pa.RecordBatchReader, synced_at: datetime) -> pa.RecordBatchReader:
    import pyarrow as pa

    field = pa.field(SYNCED_AT, pa.timestamp("us", tz="UTC"))
    value = pa.scalar(synced_at, type=field.type)
    schema = data.schema.append(field)
    batches = (b.append_column(field, pa.repeat(value, b.num_rows)) for b in data)
    return pa.RecordBatchReader.from_batches(schema, batches)


def _write(
    reader: PostgresReader,
    request: SyncRequest,
    desc: TableDescription,
    read: _Read,
    table: Any,
    keys: tuple[str, ...] | None,
    synced_at: datetime,
    log: Log,
    at_end: Callable[[], None] | None,
) -> SyncResult:
    import pyarrow as pa

    plan = request.table
    data = reader.read(desc, read.where)
    if read.skip is not None:
        value, synced, columns = read.skip
        data = pa.RecordBatchReader.from_batches(
            data.schema, skip_synced(data, plan.replication_key or "", value, synced, columns)
        )
    data = _with_synced_at(data, synced_at)
    uri = delta.table_uri(request.warehouse_uri, plan.synced_name)
    if read.write != "overwrite":
        table, data = _reconcile_schema(uri, table, data, request, log)
    label = f"{plan.source_name}.{plan.qualified_name} -> {plan.synced_name}"
    log.info("%s: %s read%s", label, read.write, f" where {read.where}" if read.where else " of the whole table")
    stream = ProgressStream(data, log, label, at_end)
    try:
        if read.write == "overwrite":
            delta.overwrite(uri, stream.reader(), read.state, request.storage_options)
        elif read.write == "append":
            delta.append(uri, stream.reader(), read.state, request.storage_options)
        else:
            assert keys is not None
            delta.merge(table, stream.reader(), keys, read.state)
    except Exception:
        if stream.error is not None:
            raise stream.error from None
        raise
    committed = delta.open_table(uri, request.storage_options)
    return SyncResult(
        plan.synced_name,
        plan.method,
        read.write,
        stream.rows,
        stream.seconds,
        committed.version() if committed else None,
        encode_cursor(read.state.cursor),
        read.state.null_keys,
    )


def _reconcile_schema(
    uri: str, table: Any, data: pa.RecordBatchReader, request: SyncRequest, log: Log
) -> tuple[Any, pa.RecordBatchReader]:
    import pyarrow as pa

    current = pa.schema(table.schema().to_arrow())
    schema_plan = plan_schema(current, data.schema)
    if schema_plan.problems:
        raise SchemaDriftError(
            f"{checks.where(request.table)}: the source schema changed in a way the synced table cannot follow: "
            f'{"; ".join(schema_plan.problems)}. Resync the table (trigger with conf {{"full_refresh": true}}) '
            "to rebuild it with the new types"
        )
    if schema_plan.widen:
        log.info("widening columns %s in %s (one rewrite, cursor kept)", schema_plan.widen, uri)
        delta.widen(uri, table, schema_plan.widen, request.storage_options)
        table = delta.open_table(uri, request.storage_options)
    return table, cast_reader(data, schema_plan.incoming)
