"""Deletions in incremental tables (DESIGN §4.1 `deletes`): which warehouse rows left the source.

Key-set check: inside the read's snapshot, the source's primary-key columns stream through the
kind's bulk path and are compared with the warehouse's live keys in bounded memory
(engine/missing_keys.py: a sorted merge, or DuckDB's spilling anti-join), and the missing keys go
to a Parquet spool. Their rows then ride in the sync's own MERGE as tombstones: rows whose
`_ws_synced_at` is NULL, which the MERGE deletes (`hard`) or marks with `_ws_deleted_at` (`soft`),
in the same commit as the changed rows and the cursor.

`deletes_column` instead reads the source's own soft-delete column from the changed rows. The API
kinds name their reader's `_ws_deleted_at` (set when the API reported the deletion): soft keeps
those marks as read, hard makes the marked rows tombstones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse_sources.engine import checks
from warehouse_sources.errors import SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse.state import SyncState

if TYPE_CHECKING:
    import pyarrow as pa

DELETED_AT = "_ws_deleted_at"  # the API kinds' soft-delete column (sources/rest/spec.py): same name, same meaning
SYNCED_AT = "_ws_synced_at"
CHECKED_AT = "deletes_checked_at"  # SyncState.extra: when the last deletion check ran (ISO, UTC)
FOUND = "deletes_found"  # SyncState.extra: how many rows that check found deleted
BATCH_ROWS = 65_536


@dataclass
class DeleteCheck:
    """One run's deletion handling: what the MERGE must remove or mark, and how many rows that is."""

    plan: TablePlan
    synced_at: datetime
    spool: Path | None = None  # Parquet of the keys that left the source (key-set check)
    found: int = 0
    flagged: list[int] = field(default_factory=lambda: [0])  # deletes_column: rows seen with the column set

    @property
    def soft(self) -> bool:
        return self.plan.deletes == "soft"

    @property
    def tombstones(self) -> bool:
        """Whether the MERGE carries rows to delete or mark (not a plain upsert)."""
        return self.spool is not None or (not self.soft and self.plan.deletes_column is not None)

    @property
    def deleted(self) -> int:
        return self.found + self.flagged[0]

    def summary(self) -> str:
        done = "marked with _ws_deleted_at" if self.soft else "removed"
        how = f"by {self.plan.deletes_column}" if self.plan.deletes_column else "by key-set comparison"
        how = "as the API reported" if self.plan.deletes_column == DELETED_AT else how
        return f"{self.deleted:,} rows deleted in the source ({how}): {done}"


def due(plan: TablePlan, previous: SyncState | None, now: datetime) -> bool:
    """Whether this run checks deletions: the table asks for it and `deletes_every` has passed."""
    if plan.deletes == "none" or plan.method != "incremental":
        return False
    if plan.deletes_every is None or plan.deletes_column or previous is None:
        return True
    last = previous.extra.get(CHECKED_AT)
    return not isinstance(last, str) or now - datetime.fromisoformat(last) >= plan.deletes_every


def carried(previous: SyncState | None) -> dict[str, object]:
    """The last check's record, kept in every commit until the next check replaces it."""
    extra = previous.extra if previous else {}
    return {k: extra[k] for k in (CHECKED_AT, FOUND) if k in extra}


def recorded(state: SyncState, check: DeleteCheck) -> SyncState:
    """`state` with this run's check recorded beside the cursor."""
    from dataclasses import replace

    extra = {**state.extra, CHECKED_AT: check.synced_at.isoformat(), FOUND: check.found}
    return replace(state, extra=extra)


def count_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def tombstones(path: Path, schema: pa.Schema, synced_at: datetime, soft: bool) -> Iterator[pa.RecordBatch]:
    """The deleted keys as rows of the change stream's schema: key columns set, `_ws_synced_at`
    NULL (what the MERGE tells them by), `_ws_deleted_at` the sync's time when soft."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for keys in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        n = keys.num_rows
        columns = []
        for f in schema:
            if f.name in keys.schema.names:
                columns.append(keys.column(f.name).cast(f.type))
            elif f.name == DELETED_AT and soft:
                columns.append(pa.repeat(pa.scalar(synced_at, type=f.type), n))
            else:
                columns.append(pa.nulls(n, type=f.type))
        yield pa.RecordBatch.from_arrays(columns, schema=schema)


def nullable(schema: pa.Schema) -> pa.Schema:
    """`schema` with every field nullable: tombstones hold NULL in the columns a key does not fill."""
    import pyarrow as pa

    return pa.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)


def flag_column(plan: TablePlan, schema: pa.Schema) -> str:
    """The `deletes_column`, checked against what the source holds: a timestamp, date, boolean or
    integer (0/1) column, so "set" has one meaning."""
    import pyarrow as pa

    column = plan.deletes_column
    assert column is not None
    if column not in schema.names:
        raise SyncFatalError(
            f"{checks.where(plan)}: deletes_column {column!r} is not a column of the table (columns: "
            f"{', '.join(schema.names)}); fix deletes_column in the source YAML"
        )
    kind = schema.field(column).type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_boolean(kind)
            or pa.types.is_integer(kind)):  # fmt: skip
        raise SyncFatalError(
            f"{checks.where(plan)}: deletes_column {column!r} is {kind}; it must be a timestamp, date, boolean "
            "or 0/1 integer column that is set on deleted rows"
        )
    return column


def is_set(values: pa.Array) -> pa.Array:
    """Where a soft-delete column says the row is deleted: non-NULL, and true/non-zero if boolean or integer."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(values.type):
        return pc.fill_null(values, False)
    if pa.types.is_integer(values.type):
        return pc.fill_null(pc.not_equal(values, 0), False)
    return pc.is_valid(values)


def change_stream(check: DeleteCheck, data: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """The changed rows (with `_ws_synced_at`) as the MERGE takes them: soft deletes carry
    `_ws_deleted_at` (NULL: the row is live, again if it was marked), rows flagged by
    `deletes_column` are marked or made tombstones, and the key set's tombstones follow."""
    import pyarrow as pa

    schema = nullable(data.schema)
    column = flag_column(check.plan, data.schema) if check.plan.deletes_column else None
    own = column == DELETED_AT  # the API kinds: the reader's own marks, set when the API reported the deletion
    if check.soft and not own:
        schema = schema.append(pa.field(DELETED_AT, pa.timestamp("us", tz="UTC")))
    at = pa.scalar(check.synced_at, type=pa.timestamp("us", tz="UTC"))

    def rows() -> Iterator[pa.RecordBatch]:
        for batch in data:
            flags = is_set(batch.column(column)) if column else None
            if flags is not None:
                check.flagged[0] += int(pa.compute.sum(flags).as_py() or 0)
            arrays = list(batch.columns)
            if check.soft and not own:
                marks = pa.nulls(batch.num_rows, at.type)
                arrays.append(marks if flags is None else pa.compute.if_else(flags, at, marks))
            elif flags is not None:
                i = batch.schema.get_field_index(SYNCED_AT)
                arrays[i] = pa.compute.if_else(flags, pa.scalar(None, arrays[i].type), arrays[i])
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        if check.spool is not None:
            yield from tombstones(check.spool, schema, check.synced_at, check.soft)

    return pa.RecordBatchReader.from_batches(schema, rows())
