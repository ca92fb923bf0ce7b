"""Rows in key order in bounded memory: sorted runs spooled to disk, merged back a batch at a time.

A data file holds a range of the table's first key only if the rows reach the writer in key order;
a source's full read (no ORDER BY: PostgreSQL returns rows as they lie on disk) and a MERGE's
output are in no particular order. Each run (up to RUN_BYTES of rows, or one data file) is sorted
in memory and spooled as Arrow IPC; the merge then holds one batch per run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse_sources.warehouse.spool import spooling

if TYPE_CHECKING:
    import pyarrow as pa

# Rows sorted in memory at a time: a run of the stream. Peak memory is about twice this (the run
# and its sorted copy), then one batch per run while merging.
RUN_BYTES = 16 * 1024 * 1024
BATCH_ROWS = 32 * 1024
SORT_PREFIX = "ws-sort-"


def sortable(type_: pa.DataType) -> bool:
    """Whether rows can be ordered on a column of this type here: Arrow has no sort for extension
    (uuid, json) or view types, and a float's NaN compares false both ways, which the merge of runs
    needs to be total. Other keys leave the rows in the order they came."""
    import pyarrow as pa

    checks = (pa.types.is_integer, pa.types.is_decimal, pa.types.is_string, pa.types.is_large_string,
              pa.types.is_binary, pa.types.is_large_binary, pa.types.is_fixed_size_binary, pa.types.is_date,
              pa.types.is_timestamp, pa.types.is_time, pa.types.is_boolean)  # fmt: skip
    return not isinstance(type_, pa.ExtensionType) and any(check(type_) for check in checks)


@contextmanager
def sort_folder() -> Iterator[Path]:
    """A folder for sorted runs under the system temp dir, removed on exit (and those of killed
    syncs, as the MERGE spools are: warehouse/upsert.py)."""
    from warehouse_sources.warehouse.upsert import remove_stale_spools

    remove_stale_spools(Path(tempfile.gettempdir()), prefix=SORT_PREFIX)
    with spooling(tempfile.gettempdir()):
        temporary = tempfile.TemporaryDirectory(prefix=f"{SORT_PREFIX}{os.getpid()}-")
    with temporary as folder:
        yield Path(folder)


def write_run(rows: pa.Table, key: str, path: Path) -> Path:
    """`rows` sorted on `key`, spooled to `path` in batches of BATCH_ROWS."""
    import pyarrow as pa

    ordered = rows if in_order(rows.column(key)) else rows.sort_by(key)
    with spooling(path), pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, ordered.schema) as writer:
        writer.write_table(ordered, max_chunksize=BATCH_ROWS)
    return path


def in_order(values: pa.ChunkedArray) -> bool:
    """Whether `values` are ascending already (a source that returns rows in key order), NULLs last."""
    import pyarrow.compute as pc

    values = values.combine_chunks()
    present = len(values) - values.null_count
    if values.null_count and values.slice(present).null_count != values.null_count:
        return False
    values = values.slice(0, present)
    return len(values) < 2 or bool(pc.all(pc.greater_equal(values.slice(1), values.slice(0, len(values) - 1))).as_py())


def read_run(path: Path) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    with pa.OSFile(str(path), "rb") as source:
        for batch in pa.ipc.open_stream(source):
            if batch.num_rows:
                yield batch


def merge_runs(runs: list[Iterator[pa.RecordBatch]], key: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The runs' rows in one order: each step takes from every run the rows up to the smallest of
    their current batches' last keys (so no later row is smaller), sorts those and yields them.
    Rows whose key is NULL (last in each sorted run) come last."""
    import pyarrow as pa
    import pyarrow.compute as pc

    nulls: list[pa.RecordBatch] = []
    heads = {i: b for i, run in enumerate(runs) if (b := _next(run, key, nulls)) is not None}
    while heads:
        bound = min(batch.column(key)[-1].as_py() for batch in heads.values())
        parts = []
        for i, batch in list(heads.items()):
            taken = int(pc.sum(pc.less_equal(batch.column(key), bound)).as_py() or 0)
            parts.append(batch.slice(0, taken))
            rest = batch.slice(taken) if taken < batch.num_rows else _next(runs[i], key, nulls)
            if rest is None:
                del heads[i]
            else:
                heads[i] = rest
        parts = [part for part in parts if part.num_rows]
        if len(parts) == 1:  # runs that do not interleave here (a source read in key order): no sort
            yield parts[0]
            continue
        step = pa.Table.from_batches(parts, schema=schema).sort_by(key)
        yield from step.to_batches(max_chunksize=BATCH_ROWS)
    yield from nulls


def _next(run: Iterator[pa.RecordBatch], key: str, nulls: list[pa.RecordBatch]) -> pa.RecordBatch | None:
    """The run's next batch of non-NULL keys; its NULL-key rows (a sorted run's tail) go to `nulls`."""
    for batch in run:
        missing = batch.column(key).null_count
        if missing:
            nulls.append(batch.slice(batch.num_rows - missing))
            batch = batch.slice(0, batch.num_rows - missing)
        if batch.num_rows:
            return batch
    return None


def runs_of(data: Iterable[pa.RecordBatch], schema: pa.Schema, run_bytes: int) -> Iterator[pa.Table]:
    """The stream cut into tables of about `run_bytes` each."""
    import pyarrow as pa

    parts: list[pa.RecordBatch] = []
    held = 0
    for batch in data:
        parts.append(batch)
        held += batch.nbytes
        if held >= run_bytes:
            yield pa.Table.from_batches(parts, schema=schema)
            parts, held = [], 0
    if parts:
        yield pa.Table.from_batches(parts, schema=schema)


@contextmanager
def sorted_stream(data: pa.RecordBatchReader, key: str, run_bytes: int = RUN_BYTES) -> Iterator[pa.RecordBatchReader]:
    """`data` in `key` order, as a reader: a stream of one run is sorted in memory; a longer one is
    spooled in sorted runs first (the folder goes when the context exits)."""
    import pyarrow as pa

    schema = data.schema
    runs = runs_of(data, schema, run_bytes)
    first = next(runs, None)
    second = next(runs, None) if first is not None else None
    if second is None:
        single = first if first is None or in_order(first.column(key)) else first.sort_by(key)
        ordered = [] if single is None else single.to_batches(max_chunksize=BATCH_ROWS)
        yield pa.RecordBatchReader.from_batches(schema, ordered)
        return
    with sort_folder() as folder:
        paths = [write_run(first, key, folder / "run-0.arrows"), write_run(second, key, folder / "run-1.arrows")]
        del first, second
        for number, run in enumerate(runs, start=2):
            paths.append(write_run(run, key, folder / f"run-{number}.arrows"))
        yield pa.RecordBatchReader.from_batches(schema, merge_runs([read_run(p) for p in paths], key, schema))
