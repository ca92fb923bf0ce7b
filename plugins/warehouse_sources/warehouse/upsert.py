"""MERGE on keys in bounded memory: replace the rows of the changed keys' spans in one commit.

delta-rs's MERGE joins the change set to the target with a DataFusion hash join whose build side
is the whole change set; that join cannot spill (a memory pool only makes it fail), so its peak
grows with the change set (bench/: 250k rows of ~2 KB peaked at 1.7-2.1 GB). Here the changed rows
go to a spool file in the system temp dir while only their keys stay in memory; the target rows
that share the changed keys' spans but not their keys join them there; then one
overwrite-with-predicate write streams the spool into the table: the spans' old rows out, the
spool's rows in, one commit. Spans are ranges of the first key column, so file statistics prune
every file outside them; each step holds a batch or a file at a time, never the change set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse_sources.errors import SyncFatalError
from warehouse_sources.warehouse.spool import READ_BATCH_BYTES, ChangedKeys, Spool, spooling

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

# At most this many ranges in the predicate (it is also stored in the commit's log entry): the
# widest gaps between changed keys split them, so rows between spans are neither read nor rewritten.
MAX_SPANS = 32
# A cut between two spans must skip at least this many integer keys: a narrower gap saves a few
# rows' rewrite and costs a predicate term that every row of every touched file is tested against.
MIN_GAP = 1024
READ_BUFFER_BYTES = 1024 * 1024
SPOOL_PREFIX = "ws-merge-"
STALE_SPOOL_SECONDS = 6 * 3600
# A string bound goes into SQL only when it needs no escape beyond doubled quotes.
_PLAIN = frozenset(map(chr, range(0x20, 0x7F))) - {"\\"}


@dataclass(frozen=True)
class Replacement:
    """What one bounded upsert deletes: `predicate` as SQL for delta-rs, `target_filter` for pyarrow."""

    column: str
    spans: list[tuple[Any, Any]]
    predicate: str
    target_filter: ds.Expression


@contextmanager
def spooled(data: pa.RecordBatchReader, keys: tuple[str, ...]) -> Iterator[Spool]:
    """`data` in a spool under the system temp dir (removed on exit), with a copy of its keys."""
    import pyarrow as pa

    remove_stale_spools(Path(tempfile.gettempdir()))
    with spooling(tempfile.gettempdir()):
        temporary = tempfile.TemporaryDirectory(prefix=f"{SPOOL_PREFIX}{os.getpid()}-")
    with temporary as folder:
        spool = Spool(Path(folder), data.schema, keys)
        spool.add_changes(data)
        pa.default_memory_pool().release_unused()
        yield spool


def remove_stale_spools(folder: Path, now: float | None = None, prefix: str = SPOOL_PREFIX) -> list[Path]:
    """Remove the spools of syncs that died (SIGKILL, OOM) before removing their own: named after a
    process that no longer runs, and untouched for STALE_SPOOL_SECONDS (another container's live
    process may share the temp dir without sharing our process ids). Returns what it removed."""
    removed, now = [], time.time() if now is None else now
    for path in folder.glob(f"{prefix}*"):
        pid = path.name[len(prefix) :].split("-", 1)[0]  # not a number in the first releases' names
        try:
            if (pid.isdigit() and _running(int(pid))) or now - path.stat().st_mtime < STALE_SPOOL_SECONDS:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def schema_allows(table_schema: pa.Schema, source: pa.Schema, keys: tuple[str, ...]) -> bool:
    """Whether a replacement gives MERGE's result for this schema pair.

    MERGE keeps the old values of target columns the source no longer has; a replacement would
    null them, so those tables (and first keys other than integers or strings) keep MERGE.
    """
    import pyarrow as pa

    if any(name not in source.names for name in table_schema.names) or keys[0] not in table_schema.names:
        return False
    first = table_schema.field(keys[0]).type
    return bool(pa.types.is_integer(first) or pa.types.is_string(first) or pa.types.is_large_string(first))


def plan(spool: Spool) -> Replacement | None:
    """The replacement for the spooled change set, or None when only a MERGE gives its result
    (no rows, NULL or repeated keys, a string bound that SQL would need escaped)."""
    import pyarrow.compute as pc

    keys = spool.keys
    if spool.rows == 0 or any(keys.column(i).null_count for i in range(keys.num_columns)):
        return None
    if keys.num_columns > 1:
        distinct = keys.group_by(keys.column_names).aggregate([]).num_rows
    else:
        distinct = pc.count_distinct(keys.column(0)).as_py()
    if distinct != spool.rows:
        return None
    spans = key_spans(keys.column(0).combine_chunks())
    if any(isinstance(v, str) and not set(v) <= _PLAIN for span in spans for v in span):
        return None
    column = keys.column_names[0]
    sql, expression = span_predicate(column, spans)
    return Replacement(column, spans, sql, expression)


def key_spans(values: pa.Array, limit: int = MAX_SPANS) -> list[tuple[Any, Any]]:
    """Ranges (low, high) covering every value: one per distinct value when few; otherwise runs
    cut at the widest gaps of at least MIN_GAP (integers) or into runs of equal count (strings,
    whose gaps have no size)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ordered = pc.unique(values).sort()
    count = len(ordered)
    if count <= limit:
        return [(v, v) for v in ordered.to_pylist()]
    if pa.types.is_integer(ordered.type):
        as_float = ordered.cast(pa.float64())
        gaps = pc.subtract(as_float[1:], as_float[:-1])
        widest = pc.array_sort_indices(gaps, order="descending")[: limit - 1]
        ends = sorted(i for i in widest.to_pylist() if gaps[i].as_py() > MIN_GAP)
    else:
        ends = [count * (i + 1) // limit - 1 for i in range(limit - 1)]
    starts = [0, *(end + 1 for end in ends)]
    return [(ordered[s].as_py(), ordered[e].as_py()) for s, e in zip(starts, [*ends, count - 1], strict=True)]


def span_predicate(column: str, spans: list[tuple[Any, Any]]) -> tuple[str, ds.Expression]:
    """The same condition twice: SQL for delta-rs's delete, a pyarrow filter for the rows kept."""
    import pyarrow.dataset as ds

    name = '"' + column.replace('"', '""') + '"'
    field = ds.field(column)
    sql, expression = [], None
    for low, high in spans:
        if low == high:
            sql.append(f"{name} = {_literal(low)}")
            part = field == low
        else:
            sql.append(f"({name} >= {_literal(low)} AND {name} <= {_literal(high)})")
            part = (field >= low) & (field <= high)
        expression = part if expression is None else expression | part
    assert expression is not None
    return " OR ".join(sql), expression


def _literal(value: Any) -> str:
    return str(int(value)) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


def add_kept_rows(table: DeltaTable, spool: Spool, replacement: Replacement) -> None:
    """Spool the target rows inside the spans whose keys did not change: the delete takes them
    out with the changed ones, so the write puts them back. Read before the write starts, so the
    reading and the writing never hold memory at the same time."""
    import pyarrow as pa

    dataset = table.to_pyarrow_dataset()
    changed = ChangedKeys.of(spool.keys.cast(pa.schema([dataset.schema.field(k) for k in spool.keys.column_names])))
    try:
        spool.add_kept(_rows_in_spans(dataset, replacement, spool.batch_rows(READ_BATCH_BYTES)), changed)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        # The change set is spooled already: what fails here is the table's side, never a source value.
        raise SyncFatalError(
            f"{table.table_uri}: reading the synced table's own files for the MERGE failed, in the warehouse and "
            f"not in a source value ({' '.join(str(exc).split())}); nothing was committed. Resync the table "
            '(trigger with conf {"full_refresh": true}) to rewrite its files, and report this as a bug'
        ) from exc
    # What the reading freed goes back to the system before the write allocates its own.
    pa.default_memory_pool().release_unused()


def _rows_in_spans(dataset: ds.Dataset, replacement: Replacement, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The rows inside the spans, from the files whose statistics meet them, a page at a time.

    A buffered stream without pre-buffering reads pages, not whole column chunks: on ~2 KB rows
    that holds a quarter of the memory of a dataset scan (measured). A batch is filtered only by
    the spans its key range meets, and taken whole when one span covers it.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    name = replacement.column
    for fragment in dataset.get_fragments(filter=replacement.target_filter):
        with dataset.filesystem.open_input_file(fragment.path) as source:
            parquet = pq.ParquetFile(source, buffer_size=READ_BUFFER_BYTES, pre_buffer=False)
            if name not in parquet.schema_arrow.names:
                continue  # a file older than the key column: its keys are NULL, in no span
            types = in_table_types(parquet.schema_arrow, dataset.schema)
            for batch in parquet.iter_batches(batch_size=batch_rows, use_threads=False):
                batch = batch if types is None else batch.cast(types)
                keys = batch.column(name)
                bounds = pc.min_max(keys).as_py()
                if bounds["min"] is None:
                    continue
                met = [(lo, hi) for lo, hi in replacement.spans if lo <= bounds["max"] and hi >= bounds["min"]]
                whole = len(met) == 1 and met[0][0] <= bounds["min"] and bounds["max"] <= met[0][1]
                if whole and not keys.null_count:  # a NULL key is in no span: the delete keeps that row
                    yield batch
                elif met:
                    rows = batch.filter(span_predicate(name, met)[1])
                    if rows.num_rows:
                        yield rows


def in_table_types(file_schema: pa.Schema, table_schema: pa.Schema) -> pa.Schema | None:
    """The file's columns in the table's types, or None when they already are.

    A file keeps the Arrow schema of the writer that made it: delta-rs's MERGE (DataFusion) writes
    string_view and binary_view, the other writes string and binary. Read as stored, a view key
    had no min_max kernel and failed every later update (issue 13, case 8); as the table's types,
    every file reads alike whichever path wrote it.
    """
    import pyarrow as pa

    fields = [table_schema.field(f.name) if f.name in table_schema.names else f for f in file_schema]
    wanted = pa.schema(fields, metadata=file_schema.metadata)
    return None if wanted.equals(file_schema) else wanted
