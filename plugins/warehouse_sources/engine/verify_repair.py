"""Repair what a deep verification found: the drifted key ranges rewritten from the source in one commit.

The commit merges the source's rows of those ranges on the primary key, inserts the missing ones
and deletes the table's rows there that the source does not have (with `deletes: soft`: marks
them), among the rows the verification compares (a cursor table's rows at or below its cursor).
It carries no sync state, so the cursor stays where the last sync left it; its commit metadata
says what was repaired.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import checks
from warehouse_sources.engine.progress import Log
from warehouse_sources.engine.verify_deep import DeepResult, Drift, deep_verify
from warehouse_sources.engine.verify_sides import cursor_filters, warehouse_view
from warehouse_sources.engine.writer import text_arrays, with_synced_at
from warehouse_sources.errors import SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.merge import ident, with_tombstones
from warehouse_sources.warehouse.schema import cast_reader, plan_schema

if TYPE_CHECKING:
    import pyarrow as pa

    from warehouse_sources.sources.base import SourceReader

REPAIR_KEY = "warehouse_sources_repair"
DELETED_AT = "_ws_deleted_at"


def repair(
    reader: SourceReader,
    plan: TablePlan,
    found: DeepResult,
    warehouse_uri: str,
    storage_options: dict[str, str] | None,
    log: Log,
) -> DeepResult:
    """Rewrite `found`'s drifted ranges from the source, then verify again; the second result."""
    import pyarrow as pa

    if found.ok or found.problem:
        return found
    if plan.method == "append_only":
        raise SyncFatalError(
            f"{checks.where(plan)}: an append-only table keeps rows the source changed or deleted, so its drift "
            'is not repaired range by range; resync it (trigger with conf {"full_refresh": true})'
        )
    uri = delta.table_uri(warehouse_uri, plan.synced_name)
    table = delta.open_table(uri, storage_options)
    assert table is not None
    desc = checks.require_table(reader.describe(plan.schema, plan.table), plan, [])
    keys = plan.primary_key or desc.primary_key
    reader.begin_snapshot()
    try:
        dialect: Any = getattr(reader, "dialect", None)  # a SQL reader: its checksums found the drift
        ident = dialect.ident
        # Only the rows the verification compared (at or below a cursor table's cursor): the others
        # are the next sync's, or rows no cursor reads, which the sync leaves as they are.
        source_where, warehouse_where = cursor_filters(reader, desc, plan, delta.read_state(table))
        where = f"({_spans(found.drift, ident(found.key))})" + (f" AND {source_where}" if source_where else "")
        data = reader.read(desc, where, text_arrays(desc, table))
        soft = plan.deletes == "soft" and DELETED_AT in _column_names(table)
        now = datetime.now(UTC)
        incoming = _as_stored(data, table, now).read_all()
        compared = f"({_spans(found.drift, ident(found.key))})" + (f" AND {warehouse_where}" if warehouse_where else "")
        gone = _gone(table, incoming, keys, compared, plan.replication_key, soft, now)
        predicate = " AND ".join(f"t.{ident(k)} = s.{ident(k)}" for k in keys)
        metadata = {"at": now.isoformat(), "ranges": [[d.low, d.high] for d in found.drift]}
        target = _spans(found.drift, f"t.{ident(found.key)}") if _prunable(table, found.key) else "TRUE"
        _merge(table, pa.concat_tables([incoming, gone]), predicate, target, metadata, soft)
    finally:
        reader.end_snapshot()
    log.info("%s: repaired %d key ranges from the source in one commit", plan.synced_name, len(found.drift))
    return deep_verify(reader, plan, warehouse_uri, storage_options)


def _gone(
    table: Any, incoming: pa.Table, keys: tuple[str, ...], where: str, cursor: str | None, soft: bool, now: datetime
) -> pa.Table:
    """Tombstones (engine/deletes.py's form: keys set, `_ws_synced_at` NULL) for the table's live keys
    matching `where` (the ranges, as compared) that the source lacks; with `soft` they carry the mark.
    Found by an anti-join of the ranges' keys, so the MERGE needs no "not matched by source" clause,
    which reads and rewrites every file of the table (650 MB more on the bench's 2M rows)."""
    import pyarrow as pa

    con = warehouse_view(table, {*keys, DELETED_AT, cursor or ""})
    con.register("src", incoming.select(list(keys)))
    cols = ", ".join(ident(k) for k in keys)
    live = f"{ident(DELETED_AT)} IS NULL" if DELETED_AT in _column_names(table) else "TRUE"
    found = con.sql(f"SELECT {cols} FROM wh WHERE ({where}) AND {live} EXCEPT SELECT {cols} FROM src").to_arrow_table()
    n = found.num_rows
    columns = []
    for f in incoming.schema:
        if f.name in keys:
            columns.append(found.column(f.name).cast(f.type))
        elif f.name == DELETED_AT and soft:
            columns.append(pa.repeat(pa.scalar(now, f.type), n))
        else:
            columns.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(columns, schema=incoming.schema)


def _merge(table: Any, data: pa.Table, on: str, target_range: str, metadata: dict[str, Any], soft: bool) -> None:
    """One MERGE of the ranges: the source's rows in (a marked one the source has is live again), the
    tombstoned keys out, or with `deletes: soft` marked; rows already marked are left as they are."""
    from deltalake import CommitProperties

    properties = CommitProperties(custom_metadata={REPAIR_KEY: json.dumps(metadata)})
    # The ranges in the match condition too, so the MERGE reads only the files whose key statistics reach them.
    on = f"({target_range}) AND {on}"
    merger = table.merge(data, on, source_alias="s", target_alias="t", commit_properties=properties)
    with_tombstones(merger, data.schema.names, "s", soft=soft).execute()


def _column_names(table: Any) -> list[str]:
    import pyarrow as pa

    return list(pa.schema(table.schema().to_arrow()).names)


def _as_stored(data: pa.RecordBatchReader, table: Any, now: datetime) -> pa.RecordBatchReader:
    """The source's rows in the table's column types, with the engine's columns the table has."""
    import pyarrow as pa

    stored = pa.schema(table.schema().to_arrow())
    rows = with_synced_at(cast_reader(data, plan_schema(stored, data.schema).incoming), now)
    if DELETED_AT not in stored.names:
        return rows
    field = stored.field(DELETED_AT)
    batches = (b.append_column(field, pa.nulls(b.num_rows, field.type)) for b in rows)
    return pa.RecordBatchReader.from_batches(rows.schema.append(field), batches)


def _spans(drift: list[Drift], key: str) -> str:
    """The drifted ranges as one condition on `key` (already quoted)."""
    parts = []
    for d in drift:
        sides = ([f"{key} >= {d.low}"] if d.low is not None else []) + (
            [f"{key} < {d.high}"] if d.high is not None else []
        )
        parts.append("(" + (" AND ".join(sides) or "TRUE") + ")")
    return " OR ".join(parts)


def _prunable(table: Any, key: str) -> bool:
    """Whether the MERGE may name the ranges: not on a decimal key (a MySQL BIGINT UNSIGNED), where
    delta-rs matches no row under a range bound beyond int64, a literal or a cast one alike, and
    inserted a second copy; the key equality alone matches (every file is read then)."""
    import pyarrow as pa

    return not pa.types.is_decimal(pa.schema(table.schema().to_arrow()).field(key).type)
