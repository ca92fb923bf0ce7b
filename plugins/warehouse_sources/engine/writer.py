"""Stream one planned read into the synced Delta table, in one commit that carries the state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import checks, deletes, deletions
from warehouse_sources.engine.boundary import present_at_value, seen_at_boundary, skip_synced, synced_at_value
from warehouse_sources.engine.progress import Log, ProgressStream, SyncHooks
from warehouse_sources.engine.reads import Read
from warehouse_sources.errors import SchemaDriftError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta, ordered
from warehouse_sources.warehouse.merge import merge_deleting
from warehouse_sources.warehouse.schema import SchemaPlan, cast_reader, plan_schema
from warehouse_sources.warehouse.state import encode_cursor

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

    from warehouse_sources.sources.base import SourceReader, TableDescription

SYNCED_AT = "_ws_synced_at"


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
    deleted: int = 0  # rows found deleted in the source (deletes: soft or hard) and removed or marked
    checks: dict[str, Any] = field(default_factory=dict)  # this run's checks, committed or not (engine/verify.py)

    def summary(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        cursor = f", cursor {self.cursor}" if self.cursor is not None else ""
        return (
            f"{self.synced_name}: {self.method} ({self.write}), {self.rows:,} rows in {self.seconds:.2f} s "
            f"({rate:,.0f} rows/s){cursor}, table version {self.version}"
            + (f", {self.deleted:,} rows deleted in the source" if self.deleted else "")
        )


def text_arrays(desc: TableDescription, table: DeltaTable) -> frozenset[str]:
    """Array columns the synced table already keeps as text: they stay text."""
    import pyarrow as pa

    stored = pa.schema(table.schema().to_arrow())
    arrays = {c.name for c in desc.columns if c.is_native_array}
    return frozenset(f.name for f in stored if f.name in arrays and pa.types.is_string(f.type))


@dataclass
class Writer:
    """Streams one planned read into the Delta table."""

    reader: SourceReader
    plan: TablePlan
    storage_options: dict[str, str] | None
    uri: str
    desc: TableDescription
    table: DeltaTable | None
    keys: tuple[str, ...]
    synced_at: datetime
    log: Log
    hooks: SyncHooks
    # The maintained table's time travel window: its first write carries the window's properties.
    retention: timedelta | None = None

    def __call__(self, read: Read) -> SyncResult:
        if read.deletes is None:
            return self._write(read)
        return deletions.write_with(self, read, self._write)

    def _write(self, read: Read) -> SyncResult:
        import pyarrow as pa

        plan = self.plan
        present = self._present_at_boundary(read)
        self.reader.value_notes.clear()
        data = self.reader.read(self.desc, read.where, self._text_columns(read))
        if read.write != "overwrite":
            data = self._reconcile_schema(data)
        if read.skip is not None:
            data, read = self._skip_synced(data, read, present)
        label = f"{plan.source_name}.{plan.qualified_name} -> {plan.synced_name}"
        scope = f"where {read.where}" if read.where else "of the whole table"
        self.log.info("%s: %s read %s", label, read.write, scope)
        stream = ProgressStream(with_synced_at(data, self.synced_at), self.log, label, self.hooks)
        batches = stream.reader()
        if read.deletes is not None:
            batches = deletes.change_stream(read.deletes, batches)
        if read.write != "overwrite":
            schema = batches.schema
            batches = _unless_empty(batches)
            if batches is None and read.state.boundary_deleted != read.deleted:
                # No new row, but the source deleted rows at the cursor value: the state must say so.
                batches = pa.RecordBatchReader.from_batches(schema, [])
        if batches is None:
            self.log.info("%s: nothing new to %s; no commit", label, read.write)
        elif not self._commit(read, stream, batches):
            self.log.info("%s: the %d rows re-read at or below the cursor are all stored as they are; no commit",
                          label, stream.rows)  # fmt: skip
            batches = None
        self._warn_nulled_values()
        committed = delta.open_table(self.uri, self.storage_options) if batches is not None else self.table
        version = committed.version() if committed else None
        return SyncResult(
            plan.synced_name,
            plan.method,
            read.write if batches is not None else "none",
            stream.rows if batches is not None else 0,  # rows new or changed: none when nothing was committed
            stream.seconds,
            version,
            encode_cursor(read.state.cursor),
            read.state.null_keys,
        )

    def _commit(self, read: Read, stream: ProgressStream, data: pa.RecordBatchReader) -> bool:
        """Write `data` with the new state; False when a merge found every row stored already
        (possible only when the cursor did not move) and committed nothing."""
        try:
            key = self.keys[0] if self.keys and ordered.sortable(data.schema.field(self.keys[0]).type) else None
            if key is not None:  # the merge key orders the table's files (warehouse/layout.py)
                read = replace(read, state=replace(read.state, sort_key=key))
            if read.write == "overwrite" and key is not None:
                with ordered.sorted_stream(data, key) as rows:
                    delta.overwrite(self.uri, self.table, rows, read.state, self.storage_options, self._properties())
            elif read.write == "overwrite":
                delta.overwrite(self.uri, self.table, data, read.state, self.storage_options, self._properties())
            elif read.write == "append":
                assert self.table is not None
                delta.append(self.uri, self.table, data, read.state)
            else:
                assert self.table is not None
                if read.deletes is not None and read.deletes.tombstones:
                    merge_deleting(self.uri, self.table, data, self.keys, read.state, soft=read.deletes.soft)
                    return True
                skip = not read.cursor_moved
                metrics = delta.merge(self.uri, self.table, data, self.keys, read.state, read.key_range,
                                      skip_if_stored=skip)  # fmt: skip
                return metrics.get("method") != "none"
            return True
        except Exception:
            if stream.error is not None:
                raise stream.error from None
            raise

    def _properties(self) -> dict[str, str] | None:
        """A maintained table's retention settings, set by the write that creates it."""
        from warehouse_sources.warehouse.upkeep import retention_properties

        return retention_properties(self.retention) if self.retention is not None and self.table is None else None

    def _text_columns(self, read: Read) -> frozenset[str]:
        if self.table is None or read.write == "overwrite":
            return frozenset()
        return text_arrays(self.desc, self.table)

    def _skip_synced(
        self, data: pa.RecordBatchReader, read: Read, present: Counter[str] | None
    ) -> tuple[pa.RecordBatchReader, Read]:
        """Drop the rows at the old cursor value the table already holds, and record with the new
        state which of the table's rows there the source no longer has (engine/boundary.py)."""
        import pyarrow as pa

        assert self.table is not None and read.skip is not None
        value, columns = read.skip
        key = self.plan.replication_key or ""
        held = synced_at_value(self.table, key, value, columns)
        seen, deleted = seen_at_boundary(held, Counter(read.deleted), present)
        read = replace(read, state=replace(read.state, boundary_deleted=dict(deleted)))
        if seen:
            self.log.info("%d rows at the cursor value %s are already synced; skipped", seen.total(),
                          encode_cursor(value))  # fmt: skip
        skipped = skip_synced(data, key, value, seen, columns)
        return pa.RecordBatchReader.from_batches(data.schema, skipped), read

    def _present_at_boundary(self, read: Read) -> Counter[str] | None:
        """When the cursor stays where it was, the identities the source holds at that value, read
        in a first pass (the read holds just those rows); None when the cursor moves on."""

        if read.skip is None or read.cursor_moved or self.table is None:
            return None
        value, columns = read.skip
        data = self.reader.read(self.desc, read.where, self._text_columns(read))
        stored = self._schema_plan(data.schema).incoming
        return present_at_value(cast_reader(data, stored), self.plan.replication_key or "", value, columns)

    def _schema_plan(self, source: pa.Schema) -> SchemaPlan:
        """How the source's batches meet the table; a change the table cannot follow is drift."""
        import pyarrow as pa

        assert self.table is not None
        schema_plan = plan_schema(pa.schema(self.table.schema().to_arrow()), source)
        if schema_plan.problems:
            raise SchemaDriftError(
                f"{checks.where(self.plan)}: the source schema changed in a way the synced table cannot "
                f"follow: {'; '.join(schema_plan.problems)}. Resync the table (trigger with conf "
                '{"full_refresh": true}) to rebuild it with the new types'
            )
        return schema_plan

    def _reconcile_schema(self, data: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """Widen the table where the source grew, and cast the source to the table's types."""

        schema_plan = self._schema_plan(data.schema)
        if schema_plan.widen and self.table is not None:
            self.log.info("widening columns %s in %s (one rewrite, cursor kept)", schema_plan.widen, self.uri)
            delta.widen(self.uri, self.table, schema_plan.widen)
            self.table = delta.open_table(self.uri, self.storage_options)
        return cast_reader(data, schema_plan.incoming)

    def _warn_nulled_values(self) -> None:
        for (column, what), count in sorted(self.reader.value_notes.items()):
            self.log.warning(
                "%s: %d values of column %r (%s) cannot be stored in its column type and were stored as NULL",
                self.plan.qualified_name,
                count,
                column,
                what,
            )


def with_synced_at(data: pa.RecordBatchReader, synced_at: datetime) -> pa.RecordBatchReader:
    import pyarrow as pa

    field = pa.field(SYNCED_AT, pa.timestamp("us", tz="UTC"))
    value = pa.scalar(synced_at, type=field.type)
    batches = (b.append_column(field, pa.repeat(value, b.num_rows)) for b in data)
    return pa.RecordBatchReader.from_batches(data.schema.append(field), batches)


def _unless_empty(data: pa.RecordBatchReader) -> pa.RecordBatchReader | None:
    """`data` unchanged, or None when it holds no row (an append or merge of nothing commits nothing)."""
    import pyarrow as pa

    batches = iter(data)
    for batch in batches:
        if batch.num_rows:
            return pa.RecordBatchReader.from_batches(data.schema, chain([batch], batches))
    return None
