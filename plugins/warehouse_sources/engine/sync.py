"""Sync one table: source reader -> Arrow batches -> one Delta commit that also carries the cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import checks
from warehouse_sources.engine.boundary import skip_synced
from warehouse_sources.engine.progress import Log, ProgressStream, SyncHooks
from warehouse_sources.engine.reads import Read, cursor_read, previous_state
from warehouse_sources.engine.state import SyncState, encode_cursor
from warehouse_sources.errors import SchemaDriftError
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.postgres.reader import PostgresReader
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.schema import cast_reader, plan_schema

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

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


def sync_table(reader: PostgresReader, request: SyncRequest, log: Log, hooks: SyncHooks | None = None) -> SyncResult:
    """Check the source table, read what this run needs and commit it with the new state."""
    plan = request.table
    desc = checks.require_table(reader.describe(plan.schema, plan.table), plan)
    key_kind = checks.replication_key_kind(desc, plan)
    keys = checks.merge_keys(desc, plan) if plan.method == "incremental" else ()
    uri = delta.table_uri(request.warehouse_uri, plan.synced_name)
    table = delta.open_table(uri, request.storage_options)
    previous = previous_state(table, plan, key_kind, request.full_refresh, log)
    synced_at = datetime.now(UTC)
    base = SyncState(method=plan.method, key_kind=key_kind, synced_at=synced_at.isoformat(), run_id=request.run_id)
    write = _Writer(reader, request, uri, desc, table, keys, synced_at, log, hooks or SyncHooks())
    if plan.method == "full_table":
        return write(Read("overwrite", "", base))
    reader.begin_snapshot()
    try:
        read = cursor_read(reader, desc, plan, keys, previous, base, log)
        if read is None:
            cursor = encode_cursor(previous.cursor if previous else None)
            version = table.version() if table is not None else None
            return SyncResult(plan.synced_name, plan.method, "none", 0, 0.0, version, cursor, 0)
        return write(read)
    finally:
        reader.end_snapshot()


@dataclass
class _Writer:
    """Streams one planned read into the Delta table."""

    reader: PostgresReader
    request: SyncRequest
    uri: str
    desc: TableDescription
    table: DeltaTable | None
    keys: tuple[str, ...]
    synced_at: datetime
    log: Log
    hooks: SyncHooks

    def __call__(self, read: Read) -> SyncResult:
        plan = self.request.table
        data = self._source_batches(read)
        if read.write != "overwrite":
            data = self._reconcile_schema(data)
        label = f"{plan.source_name}.{plan.qualified_name} -> {plan.synced_name}"
        scope = f"where {read.where}" if read.where else "of the whole table"
        self.log.info("%s: %s read %s", label, read.write, scope)
        stream = ProgressStream(data, self.log, label, self.hooks)
        try:
            self._commit(read, stream.reader())
        except Exception:
            if stream.error is not None:
                raise stream.error from None
            raise
        committed = delta.open_table(self.uri, self.request.storage_options)
        version = committed.version() if committed else None
        cursor = encode_cursor(read.state.cursor)
        return SyncResult(
            plan.synced_name,
            plan.method,
            read.write,
            stream.rows,
            stream.seconds,
            version,
            cursor,
            read.state.null_keys,
        )

    def _commit(self, read: Read, data: pa.RecordBatchReader) -> None:
        uri = self.uri
        if read.write == "overwrite":
            delta.overwrite(uri, self.table, data, read.state, self.request.storage_options)
            return
        assert self.table is not None
        if read.write == "append":
            delta.append(uri, self.table, data, read.state)
        else:
            delta.merge(uri, self.table, data, self.keys, read.state, read.key_range)

    def _source_batches(self, read: Read) -> pa.RecordBatchReader:
        import pyarrow as pa

        data = self.reader.read(self.desc, read.where)
        if read.skip is not None:
            value, synced, columns = read.skip
            key = self.request.table.replication_key or ""
            data = pa.RecordBatchReader.from_batches(data.schema, skip_synced(data, key, value, synced, columns))
        field = pa.field(SYNCED_AT, pa.timestamp("us", tz="UTC"))
        synced_at = pa.scalar(self.synced_at, type=field.type)
        batches = (b.append_column(field, pa.repeat(synced_at, b.num_rows)) for b in data)
        return pa.RecordBatchReader.from_batches(data.schema.append(field), batches)

    def _reconcile_schema(self, data: pa.RecordBatchReader) -> pa.RecordBatchReader:
        uri = self.uri
        import pyarrow as pa

        assert self.table is not None
        schema_plan = plan_schema(pa.schema(self.table.schema().to_arrow()), data.schema)
        if schema_plan.problems:
            raise SchemaDriftError(
                f"{checks.where(self.request.table)}: the source schema changed in a way the synced table cannot "
                f"follow: {'; '.join(schema_plan.problems)}. Resync the table (trigger with conf "
                '{"full_refresh": true}) to rebuild it with the new types'
            )
        if schema_plan.widen:
            self.log.info("widening columns %s in %s (one rewrite, cursor kept)", schema_plan.widen, uri)
            delta.widen(uri, self.table, schema_plan.widen)
            self.table = delta.open_table(uri, self.request.storage_options)
        return cast_reader(data, schema_plan.incoming)
