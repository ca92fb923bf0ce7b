"""Key-bounded data files: compaction that rewrites neighbours in key order.

A MERGE rewrites every file whose key range meets a changed key, so a table whose files each hold
one disjoint range of the first primary key rewrites only the files of the changed keys. delta-rs
cannot keep that by itself: its writer deals a stream's batches round-robin to parallel file
writers, so files written together overlap (a sorted 2M-row load: 5 of 8 neighbours overlapped),
and its OPTIMIZE bin-packs in log order. Here compaction lists the live files in key order (from
the add actions' statistics), takes each run of files whose ranges overlap, and each run of small
neighbours, merges their rows in key order (warehouse/ordered.py, bounded memory) and writes them
with pyarrow as files of TARGET_FILE_SIZE cut only between keys, committed with the removal of the
old ones in one transaction (data unchanged). The table's key is the one its syncs merge on,
recorded in their state (`SyncState.sort_key`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from warehouse_sources.warehouse import ordered
from warehouse_sources.warehouse.delta import DICTIONARY_PAGE_BYTES, MAX_ROW_GROUP_SIZE, TARGET_FILE_SIZE, read_state
from warehouse_sources.warehouse.storage import filesystem
from warehouse_sources.warehouse.upsert import in_table_types

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import CommitProperties, DeltaTable
    from deltalake.transaction import AddAction

# The most bytes of data files one pass rewrites: a longer run of overlapping files is taken a
# prefix at a time, and the next pass goes on from there.
PASS_BYTES = 32 * TARGET_FILE_SIZE
MAX_TEXT_STAT = 64  # longer strings get no min/max (a prefix would be wrong as a maximum)


@dataclass(frozen=True)
class DataFile:
    path: str
    size: int
    low: Any
    high: Any
    rows: int = 0


def sort_key(table: DeltaTable) -> str | None:
    """The column the table's syncs merge on first (None: no key, or a table synced before it was recorded)."""
    state = read_state(table)
    return state.sort_key if state is not None else None


def data_files(table: DeltaTable, key: str) -> list[DataFile] | None:
    """The live files in key order, or None when some file's key range is unknown or holds NULLs, or
    the key is one whose statistics cannot tell neighbours apart."""
    import pyarrow as pa

    schema = pa.schema(table.schema().to_arrow())
    if key not in schema.names or not ordered.sortable(schema.field(key).type):
        return None
    if pa.types.is_timestamp(schema.field(key).type):
        return None  # statistics in milliseconds: neighbours inside one millisecond would look overlapping forever
    actions = pa.table(table.get_add_actions(flatten=True))
    names = actions.column_names
    if f"min.{key}" not in names or f"null_count.{key}" not in names:
        return None
    columns = ["path", "size_bytes", "num_records", f"min.{key}", f"max.{key}", f"null_count.{key}"]
    rows = actions.select(columns).to_pylist()
    files = [DataFile(r["path"], r["size_bytes"], r[f"min.{key}"], r[f"max.{key}"], r["num_records"]) for r in rows]
    if any(f.low is None or f.high is None for f in files) or any(r[f"null_count.{key}"] for r in rows):
        return None
    return sorted(files, key=lambda f: (f.low, f.high))


def overlaps(files: list[DataFile]) -> int:
    """How many neighbours in key order share keys (0: every file holds its own range)."""
    return sum(1 for a, b in zip(files, files[1:], strict=False) if b.low <= a.high)


def plan(files: list[DataFile], small: int, budget: int = PASS_BYTES) -> list[list[DataFile]]:
    """Runs of neighbours to rewrite, in key order, up to `budget` bytes: files whose ranges overlap
    join one run; a small file joins a run of small files while it stays under the target size."""
    runs: list[list[DataFile]] = []
    current: list[DataFile] = []
    high: Any = None
    for f in files:
        size = sum(x.size for x in current)
        packs = current and f.size < small and current[-1].size < small and size + f.size <= TARGET_FILE_SIZE
        if current and (f.low <= high or packs):
            current.append(f)
            high = max(high, f.high)
            continue
        runs.append(current)
        current, high = [f], f.high
    runs.append(current)
    chosen: list[list[DataFile]] = []
    spent = 0
    for run in (r for r in runs if len(r) > 1):
        taken: list[DataFile] = []
        for f in run:
            if spent + f.size > budget and len(taken) > 1:
                break
            taken.append(f)
            spent += f.size
        if len(taken) > 1:
            chosen.append(taken)
        if spent >= budget:
            break
    return chosen


def rewrite(table: DeltaTable, key: str, runs: list[list[DataFile]], commit: CommitProperties) -> tuple[int, int]:
    """Each run's rows in key order into new files, and the old files out, in one commit:
    (files removed, files added)."""
    import pyarrow as pa
    from deltalake.transaction import RemoveAction

    schema = pa.schema(table.schema().to_arrow())
    adds: list[AddAction] = []
    for run in runs:
        with ordered.sort_folder() as folder:
            paths = [ordered.write_run(_read(table, f, schema), key, folder / f"{i}.arrows") for i, f in enumerate(run)]
            rows = ordered.merge_runs([ordered.read_run(p) for p in paths], key, schema)
            adds += write_files(table, rows, schema, key)
    now = int(time.time() * 1000)
    removes = [RemoveAction(f.path, False, now, f.size) for run in runs for f in run]
    table.create_write_transaction([*adds, *removes], "append", schema, commit_properties=commit)
    table.update_incremental()
    return len(removes), len(adds)


def _read(table: DeltaTable, f: DataFile, schema: pa.Schema) -> pa.Table:
    """One data file's rows in the table's current columns and types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from warehouse_sources.warehouse.spool import _column

    store, root = filesystem(table.table_uri, table._storage_options)
    rows = pq.read_table(f"{root}/{f.path}", filesystem=store)
    types = in_table_types(rows.schema, schema)
    rows = rows if types is None else rows.cast(types)
    return pa.Table.from_batches(
        [pa.record_batch([_column(b, field) for field in schema], schema=schema) for b in rows.to_batches()], schema
    )


def write_files(table: DeltaTable, rows: Iterator[pa.RecordBatch], schema: pa.Schema, key: str) -> list[AddAction]:
    """`rows` (in key order) as Parquet files of about TARGET_FILE_SIZE under the table's root,
    each closed only between two keys, with the add actions that commit them."""
    import pyarrow.parquet as pq

    store, root = filesystem(table.table_uri, table._storage_options)
    adds: list[AddAction] = []
    writer, name, stats = None, "", _Stats(schema)
    last: Any = None
    for batch in rows:
        first = batch.column(key)[0].as_py()
        if writer is not None and _written(writer) >= TARGET_FILE_SIZE and first != last:
            writer.close()
            adds.append(_add(store, root, name, stats))
            writer = None
        if writer is None:
            name, stats = f"part-00000-{uuid.uuid4()}-c000.snappy.parquet", _Stats(schema)
            writer = pq.ParquetWriter(f"{root}/{name}", schema, filesystem=store, compression="snappy",
                                      dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)  # fmt: skip
        writer.write_batch(batch, row_group_size=MAX_ROW_GROUP_SIZE)
        stats.add(batch)
        last = batch.column(key)[-1].as_py()
    if writer is not None:
        writer.close()
        adds.append(_add(store, root, name, stats))
    return adds


def _written(writer: Any) -> int:
    """Bytes the Parquet writer has flushed so far (row groups written)."""
    sink = writer.file_handle if getattr(writer, "file_handle", None) is not None else None
    return int(sink.tell()) if sink is not None else 0


def _add(store: Any, root: str, name: str, stats: _Stats) -> AddAction:
    from deltalake.transaction import AddAction

    size = store.get_file_info(f"{root}/{name}").size
    return AddAction(name, size, {}, int(time.time() * 1000), False, stats.json())


class _Stats:
    """Delta file statistics of the rows written: numRecords, and min, max and null count of the
    columns whose values Delta's JSON states exactly (integers, short strings, dates, timestamps
    widened to whole milliseconds)."""

    def __init__(self, schema: pa.Schema) -> None:
        import pyarrow as pa

        self.schema, self.rows = schema, 0
        self.low: dict[str, Any] = {}
        self.high: dict[str, Any] = {}
        # Nested columns get no statistics: Delta states theirs per leaf field.
        self.nulls: dict[str, int] = {f.name: 0 for f in schema if not pa.types.is_nested(f.type)}

    def add(self, batch: pa.RecordBatch) -> None:
        import pyarrow.compute as pc

        self.rows += batch.num_rows
        for field in self.schema:
            if field.name not in self.nulls:
                continue
            column = batch.column(field.name)
            self.nulls[field.name] += column.null_count
            if _kind(field.type) is None or column.null_count == len(column):
                continue
            bounds = pc.min_max(column).as_py()
            low, high = bounds["min"], bounds["max"]
            self.low[field.name] = low if field.name not in self.low else min(self.low[field.name], low)
            self.high[field.name] = high if field.name not in self.high else max(self.high[field.name], high)

    def json(self) -> str:
        low, high = {}, {}
        for name in self.low:
            kind = _kind(self.schema.field(name).type)
            a, b = _stat(self.low[name], kind, up=False), _stat(self.high[name], kind, up=True)
            if a is not None and b is not None:
                low[name], high[name] = a, b
        return json.dumps({"numRecords": self.rows, "minValues": low, "maxValues": high, "nullCount": self.nulls})


def _kind(type_: pa.DataType) -> str | None:
    import pyarrow as pa

    if pa.types.is_integer(type_):
        return "int"
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "text"
    if pa.types.is_date32(type_):
        return "date"
    if pa.types.is_timestamp(type_):
        return "timestamp" if type_.tz else "timestamp_ntz"
    return None


def _stat(value: Any, kind: str | None, up: bool) -> Any:
    """A bound as Delta's JSON states it; a timestamp's is widened to the millisecond outward."""
    if kind == "text":
        return value if len(value) <= MAX_TEXT_STAT else None
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind in ("timestamp", "timestamp_ntz") and isinstance(value, datetime):
        if kind == "timestamp":
            value = value.astimezone(UTC).replace(tzinfo=None)
        ms = value.replace(microsecond=value.microsecond // 1000 * 1000)
        if up and ms < value:
            ms += timedelta(milliseconds=1)
        text = ms.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms.microsecond // 1000:03d}"
        return text + "Z" if kind == "timestamp" else text
    return value
