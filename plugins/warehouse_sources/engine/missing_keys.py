"""Which of the warehouse's live keys left the source: the deletion check's comparison (engine/deletes.py).

Where it can, a sorted merge: the source's keys stream in key order (ORDER BY the primary key, which
walks its index), the warehouse's come from its data files in key order (each file's key range from
its statistics, only the key column read), and numpy compares the two a chunk at a time. That holds
one group of overlapping files' keys and one source batch, so memory stays bounded whatever the
table's size. It takes a single integer key whose every file states its range and no group of
overlapping files holds more than GROUP_ROWS keys (compaction keeps files to their own ranges:
warehouse/layout.py). Other tables (composite or text keys, files with no statistics) go through
DuckDB's anti-join, which spills to disk past MEMORY_LIMIT.

Either way the missing keys are written to a Parquet spool, which the sync's MERGE reads as tombstones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from warehouse_sources.engine.deletes import DELETED_AT
from warehouse_sources.warehouse import layout

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    from deltalake import DeltaTable

GROUP_ROWS = 2_000_000  # keys held at once by the sorted merge (16 MB as int64, twice that while sorting)
MEMORY_LIMIT = "32MB"  # DuckDB's for the anti-join; past it the join spills to the spool's folder
SPOOL_NAME = "deleted_keys.parquet"
SPOOL_ROWS = 65_536  # missing keys per row group of the spool

T = TypeVar("T")
KeyStream = Callable[[bool], "pa.RecordBatchReader"]  # the source's keys; True: in key order


def find_deleted(source_keys: KeyStream, table: DeltaTable, keys: tuple[str, ...], work: Path) -> Path:
    """Write the warehouse's live keys missing from the source's key set to Parquet in `work`."""
    groups = key_groups(table, keys)
    if groups is None:
        return anti_join(source_keys(False), table, keys, work)
    return merged(source_keys(True), table, keys[0], groups, work)


def key_groups(table: DeltaTable, keys: tuple[str, ...]) -> list[list[layout.DataFile]] | None:
    """The table's data files as groups of overlapping key ranges, in key order; None when the
    sorted merge cannot take the table (not one integer key, a file without its range, a group
    larger than GROUP_ROWS)."""
    import pyarrow as pa

    if len(keys) != 1 or not pa.types.is_integer(pa.schema(table.schema().to_arrow()).field(keys[0]).type):
        return None
    files = layout.data_files(table, keys[0])
    if files is None:
        return None
    groups: list[list[layout.DataFile]] = []
    high = None
    for f in files:
        if groups and f.low <= high:
            groups[-1].append(f)
            high = max(high, f.high)
        else:
            groups.append([f])
            high = f.high
    return None if any(sum(f.rows for f in g) > GROUP_ROWS for g in groups) else groups


def merged(source: pa.RecordBatchReader, table: DeltaTable, key: str, groups: list[list[layout.DataFile]],
           work: Path) -> Path:  # fmt: skip
    """The sorted merge: the warehouse's live keys (per group of files) against the source's ordered keys."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    key_type = pa.schema(table.schema().to_arrow()).field(key).type
    schema = pa.schema([pa.field(key, key_type)])
    path = work / SPOOL_NAME
    held: list[np.ndarray] = []  # missing keys gathered into row groups of SPOOL_ROWS, not one per step

    def flush(writer: pq.ParquetWriter) -> None:
        if held:
            writer.write_table(pa.table([pa.array(np.concatenate(held)).cast(key_type)], schema=schema))
            held.clear()

    with pq.ParquetWriter(str(path), schema) as writer:
        for gone in missing(read_ahead(live_keys(table, key, groups)), source_arrays(source, key)):
            held.append(gone)
            if sum(part.size for part in held) >= SPOOL_ROWS:
                flush(writer)
        flush(writer)
    pa.default_memory_pool().release_unused()
    return path


def live_keys(table: DeltaTable, key: str, groups: list[list[layout.DataFile]]) -> Iterator[np.ndarray]:
    """Each group's live keys, sorted, as int64: only the key column (and the soft-delete mark) of
    its files, read on one thread (pyarrow's pooled reads cost 40 MB more for nothing here)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from warehouse_sources.warehouse.storage import filesystem

    store, root = filesystem(table.table_uri, table._storage_options)
    for group in groups:
        parts = []
        for f in group:
            with store.open_input_file(f"{root}/{f.path}") as handle:
                data = pq.ParquetFile(handle)
                marked = DELETED_AT in data.schema_arrow.names
                rows = data.read(columns=[key, DELETED_AT] if marked else [key], use_threads=False)
            values = rows.column(key)
            if marked:
                values = values.filter(pc.is_null(rows.column(DELETED_AT)))
            parts.append(values.cast(pa.int64()).to_numpy())
        keys = np.concatenate(parts) if parts else np.empty(0, np.int64)
        keys.sort()  # in place: no second copy of the group
        yield keys


def read_ahead(chunks: Iterator[T]) -> Iterator[T]:
    """`chunks`, the next one read on a second thread while the caller works on the current one (the
    warehouse's files are read while the source's server scans its keys): two chunks held at most."""
    from concurrent.futures import ThreadPoolExecutor

    end = object()
    with ThreadPoolExecutor(1, thread_name_prefix="ws-deletes") as pool:
        coming = pool.submit(next, chunks, end)
        while (chunk := coming.result()) is not end:
            coming = pool.submit(next, chunks, end)
            yield chunk  # type: ignore[misc]


def source_arrays(source: pa.RecordBatchReader, key: str) -> Iterator[np.ndarray]:
    """The source's keys as int64 arrays, checked to come in ascending order (NULLs dropped: a
    NULL key is in no warehouse row)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    last = None
    for batch in source:
        values = pc.drop_null(batch.column(key)).cast(pa.int64()).to_numpy()
        if not values.size:
            continue
        if (last is not None and values[0] < last) or bool(np.any(values[1:] < values[:-1])):
            raise RuntimeError(f"the source's keys for the deletion check did not come in order of {key!r}")
        last = values[-1]
        yield values


def missing(warehouse: Iterable[np.ndarray], source: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """The keys of `warehouse` not in `source`, both ascending streams of ascending chunks. Each step
    compares the two current chunks up to the smaller of their last keys and moves past it, so one
    chunk of each is held. The source is read to its end (a driver's stream must be)."""
    import numpy as np

    chunks = iter(source)
    s: np.ndarray | None = np.empty(0, np.int64)  # None: the source has ended
    for w in warehouse:
        while w.size:
            while s is not None and not s.size:
                s = next(chunks, None)
            if s is None:
                yield w
                break
            bound = min(w[-1], s[-1])
            wi, si = int(np.searchsorted(w, bound, "right")), int(np.searchsorted(s, bound, "right"))
            yield absent(w[:wi], s[:si])
            w, s = w[wi:], s[si:]
    for _ in chunks:
        pass


def absent(keys: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The values of `keys` not in `present` (both ascending)."""
    import numpy as np

    if not present.size:
        return keys
    at = np.minimum(np.searchsorted(present, keys), present.size - 1)
    return keys[present[at] != keys]


def anti_join(source_keys: pa.RecordBatchReader, table: DeltaTable, keys: tuple[str, ...], work: Path) -> Path:
    """DuckDB's anti-join of the warehouse's live keys against the source's key stream (any keys:
    composite, text). DuckDB reads each side once and spills its hash join past MEMORY_LIMIT."""
    import duckdb
    import pyarrow as pa

    stored = pa.schema(table.schema().to_arrow())
    key_schema = pa.schema([stored.field(k).with_nullable(True) for k in keys])
    source = pa.RecordBatchReader.from_batches(key_schema, (
        pa.RecordBatch.from_arrays([b.column(k).cast(key_schema.field(k).type) for k in keys], schema=key_schema)
        for b in source_keys))  # fmt: skip
    deleted_file = work / SPOOL_NAME
    live = f"{_q(DELETED_AT)} IS NULL" if DELETED_AT in stored.names else "TRUE"
    warehouse = table.to_pyarrow_dataset()
    columns = ", ".join(f"w.{_q(k)}" for k in keys)
    joined = " AND ".join(f"w.{_q(k)} = s.{_q(k)}" for k in keys)
    con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "threads": 1, "temp_directory": str(work),
                                 "preserve_insertion_order": False})  # fmt: skip
    try:
        con.register("warehouse", warehouse)
        con.register("source_keys", source)
        con.execute(
            f"COPY (SELECT {columns} FROM (SELECT * FROM warehouse WHERE {live}) AS w "
            f"ANTI JOIN source_keys AS s ON {joined}) TO '{_literal(deleted_file)}' (FORMAT parquet)"
        )
    finally:
        con.close()
        pa.default_memory_pool().release_unused()  # the key batches' memory, back before the MERGE runs
    return deleted_file


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")
