"""Upsert a change set on its keys in one commit: from memory when it is small, spooled when not.

A change set under changeset.IN_MEMORY_ROWS / IN_MEMORY_BYTES goes to delta-rs's MERGE with the
source materialised (no streaming), which lets it bound the target by the source's keys; its
hash join holds the change set, which the limit keeps small. A larger one is spooled to disk and
replaces the rows of its key spans (warehouse/upsert.py), in memory flat in its size; the tables
whose result only MERGE gives keep MERGE there too. bench/README.md has both sides measured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warehouse_sources.warehouse import changeset
from warehouse_sources.warehouse.delta import TARGET_FILE_SIZE, commit_with_state, guarded, writer_properties

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

    from warehouse_sources.warehouse.spool import Spool
    from warehouse_sources.warehouse.state import SyncState
    from warehouse_sources.warehouse.upsert import Replacement

KeyRange = tuple[str, int, int]
SYNCED_AT, DELETED_AT = "_ws_synced_at", "_ws_deleted_at"  # the engine's metadata columns a tombstone uses


def merge(
    uri: str,
    table: DeltaTable,
    data: pa.RecordBatchReader,
    keys: tuple[str, ...],
    state: SyncState,
    key_range: KeyRange | None = None,
    *,
    skip_if_stored: bool = False,
) -> dict[str, Any]:
    """Upsert on `keys` in one commit: matched rows take the new values, others are inserted.

    `skip_if_stored` (the cursor did not move, so the read holds only rows re-read at or below it):
    when every row read equals the stored row of its key, commit nothing and return method "none".
    """
    import pyarrow as pa

    from warehouse_sources.warehouse import upsert

    small, data = changeset.take_small(data)
    if small is not None:
        if skip_if_stored and changeset.all_stored(table, small, keys):
            return {"method": "none", "num_source_rows": small.num_rows, "num_target_rows_unchanged": small.num_rows}
        return _delta_merge(uri, table, small, keys, state, key_range or _range_of(small, keys[0]),
                            streamed=not _exact_statistics(small.schema, keys))  # fmt: skip
    with upsert.spooled(data, keys) as spool:
        key_range = key_range or _range_of(spool.keys, keys[0])
        allowed = upsert.schema_allows(pa.schema(table.schema().to_arrow()), data.schema, keys)
        replacement = upsert.plan(spool) if allowed else None
        if replacement is None:
            return _delta_merge(uri, table, spool.reader(), keys, state, key_range)
        return _replace(uri, table, spool, replacement, state)


def _exact_statistics(schema: pa.Schema, keys: tuple[str, ...]) -> bool:
    """Whether delta-rs may bound the target by the source's key statistics on its own (a MERGE not
    streamed): only integer keys, whose file statistics are exact. Decimal(p, 0) statistics are
    clamped to int64 and timestamps rounded to milliseconds (delta-rs 1.6); a bound drawn from them
    skipped matching rows, which the MERGE then inserted a second time (seen on unsigned bigint keys)."""
    import pyarrow as pa

    return all(pa.types.is_integer(schema.field(k).type) for k in keys)


def _range_of(changes: pa.Table, column: str) -> KeyRange | None:
    """The span of an integer first key over the change set (or its keys): the target side is bounded
    by it. Taken from the rows read, it costs the source no second scan."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = changes.column(column)
    if not pa.types.is_integer(values.type) or values.null_count == len(values):
        return None
    bounds = pc.min_max(values).as_py()
    return (column, int(bounds["min"]), int(bounds["max"]))


def _replace(uri: str, table: DeltaTable, spool: Spool, replacement: Replacement, state: SyncState) -> dict[str, Any]:
    """The bounded upsert's one commit: the spans' rows out, the changed and the kept rows in."""
    from deltalake import write_deltalake

    from warehouse_sources.warehouse import upsert

    upsert.add_kept_rows(table, spool, replacement)
    guarded(
        uri,
        write_deltalake,
        table,
        spool.reader(),
        mode="overwrite",
        predicate=replacement.predicate,
        schema_mode="merge",
        target_file_size=TARGET_FILE_SIZE,
        writer_properties=writer_properties(),
        commit_properties=commit_with_state(state, table),
    )
    updated = spool.scanned - spool.kept
    return {
        "method": "replace",
        "num_source_rows": spool.rows,
        "num_target_rows_updated": updated,
        "num_target_rows_inserted": spool.rows - updated,
        "num_target_rows_kept": spool.kept,
        "spans": len(replacement.spans),
    }


def _delta_merge(
    uri: str,
    table: DeltaTable,
    data: pa.RecordBatchReader | pa.Table,
    keys: tuple[str, ...],
    state: SyncState,
    key_range: KeyRange | None,
    streamed: bool = True,
) -> dict[str, Any]:
    """delta-rs's MERGE. `key_range` (column, low, high) bounds the source's keys: the target side
    of the predicate gets it too, so files whose statistics lie outside it are neither read nor
    rewritten. `streamed=False` (a table in memory) lets delta-rs bound the target by the source too.
    """
    conditions = [f"target.{ident(k)} = source.{ident(k)}" for k in keys]
    if key_range is not None:
        column, low, high = key_range
        conditions[:0] = [f"target.{ident(column)} >= {int(low)}", f"target.{ident(column)} <= {int(high)}"]
    merger = table.merge(
        data,
        predicate=" AND ".join(conditions),
        source_alias="source",
        target_alias="target",
        merge_schema=True,
        streamed_exec=streamed,
        writer_properties=writer_properties(),
        commit_properties=commit_with_state(state, table),
    )
    # Explicit column maps: delta-rs's *_all() variants quote names with backticks without escaping.
    columns = {_column(name): f"source.{_column(name)}" for name in data.schema.names}
    metrics = guarded(uri, merger.when_matched_update(columns).when_not_matched_insert(columns).execute)
    return {**metrics, "method": "merge"}


def merge_deleting(
    uri: str, table: DeltaTable, data: pa.RecordBatchReader, keys: tuple[str, ...], state: SyncState, *, soft: bool
) -> dict[str, Any]:
    """An upsert whose stream also holds tombstones (rows with `_ws_synced_at` NULL, engine/deletes.py):
    in the same commit their stored rows are deleted, or with `soft` get `_ws_deleted_at` set.
    Tombstones may hit any key, so the target is not bounded by the changed rows' key range."""
    merger = table.merge(
        data,
        predicate=" AND ".join(f"target.{ident(k)} = source.{ident(k)}" for k in keys),
        source_alias="source",
        target_alias="target",
        merge_schema=True,
        streamed_exec=True,
        writer_properties=writer_properties(),
        commit_properties=commit_with_state(state, table),
    )
    merger = with_tombstones(merger, data.schema.names, "source", soft=soft)
    return {**guarded(uri, merger.execute), "method": "merge"}


def with_tombstones(merger: Any, names: list[str], alias: str, *, soft: bool) -> Any:
    """The clauses of a MERGE whose source `alias` holds tombstones (`_ws_synced_at` NULL): their
    stored rows deleted, or with `soft` given the tombstone's `_ws_deleted_at`; the live rows
    update or insert every column in `names` (each named: delta-rs's update_all and insert_all
    leave a backtick in a name unescaped)."""
    live, gone = f"{alias}.{ident(SYNCED_AT)} IS NOT NULL", f"{alias}.{ident(SYNCED_AT)} IS NULL"
    if soft:
        merger = merger.when_matched_update({_column(DELETED_AT): f"{alias}.{_column(DELETED_AT)}"}, predicate=gone)
    else:
        merger = merger.when_matched_delete(predicate=gone)
    columns = {_column(name): f"{alias}.{_column(name)}" for name in names}
    return merger.when_matched_update(columns, predicate=live).when_not_matched_insert(columns, predicate=live)


def _column(name: str) -> str:
    """A column name quoted for delta-rs's update and insert maps (backticks, doubled inside)."""
    return "`" + name.replace("`", "``") + "`"


def ident(name: str) -> str:
    """A column name quoted for delta-rs (DataFusion) SQL predicates."""
    return '"' + name.replace('"', '""') + '"'
