"""A MERGE's change set: held in memory when it is small, and the rows of it the table already holds.

Spooling every change set to disk (warehouse/upsert.py) keeps memory flat however many rows
changed, but costs an Arrow IPC round trip and a page-at-a-time read of the kept rows even when
the change set is a few thousand rows: the bench's 20k updates + 20k inserts took 0.74 s that
way against 0.28 s for delta-rs's MERGE alone. A change set under IN_MEMORY_ROWS and
IN_MEMORY_BYTES is merged from memory; only a larger one is spooled (bench/README.md has both
sides of the threshold measured).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING

from warehouse_sources.warehouse.schema import METADATA_PREFIX
from warehouse_sources.warehouse.spool import identity

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

# At 100k rows of the bench's shape both paths cost the same CPU and memory (bench/README.md);
# below, memory is faster. delta-rs's MERGE peaks at about 3.5x its change set's Arrow size (bench/: 250k rows of ~2 KB,
# ~500 MB, peaked near 1.7 GB): 64 MB of changes stays under the full sync's own peak (~260 MB).
# 100k rows of the bench's `charges` shape are ~20 MB.
IN_MEMORY_ROWS = 100_000
IN_MEMORY_BYTES = 64 * 1024 * 1024


def take_small(data: pa.RecordBatchReader) -> tuple[pa.Table | None, pa.RecordBatchReader]:
    """The whole stream as a table when it ends within IN_MEMORY_ROWS and IN_MEMORY_BYTES (and an
    empty reader), else None and a reader of every row, the ones already taken first."""
    import pyarrow as pa

    taken: list[pa.RecordBatch] = []
    rows = nbytes = 0
    batches = iter(data)
    for batch in batches:
        taken.append(batch)
        rows, nbytes = rows + batch.num_rows, nbytes + batch.nbytes
        if rows > IN_MEMORY_ROWS or nbytes > IN_MEMORY_BYTES:
            return None, pa.RecordBatchReader.from_batches(data.schema, chain(taken, batches))
    empty: Iterator[pa.RecordBatch] = iter(())
    return pa.Table.from_batches(taken, schema=data.schema), pa.RecordBatchReader.from_batches(data.schema, empty)


def all_stored(table: DeltaTable, changes: pa.Table, keys: tuple[str, ...]) -> bool:
    """Whether the table holds every row of `changes` as it is (metadata columns aside), one per key.

    The inclusive cursor re-reads the rows at its value every run (and a lookback a window below
    it): when nothing changed, they are all stored already, and merging them would only add a
    table version. Compared as Arrow columns in the table's types; a NaN never equals itself, so
    such a row counts as changed and is merged again, as before.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    columns = [c for c in changes.column_names if not c.startswith(METADATA_PREFIX)]
    names = set(pa.schema(table.schema().to_arrow()).names)
    mine = changes.select(columns)
    if not mine.num_rows or not set(columns) <= names or any(mine.column(k).null_count for k in keys):
        return False
    dataset = table.to_pyarrow_dataset()
    first = mine.column(keys[0]).cast(dataset.schema.field(keys[0]).type).unique()
    low, high = pc.min_max(first).values()
    # The range lets file and row-group statistics skip what is outside it; is_in alone scans every row.
    near = (ds.field(keys[0]) >= low) & (ds.field(keys[0]) <= high)
    try:
        stored = dataset.to_table(columns=columns, filter=near & ds.field(keys[0]).isin(first))
    except pa.ArrowNotImplementedError:
        stored = _stored_without_pushdown(dataset, columns, keys[0], first, near)
    if len(keys) > 1:
        held = pc.is_in(identity(stored.select(list(keys))), value_set=identity(mine.select(list(keys))))
        stored = stored.filter(held)
    if stored.num_rows != mine.num_rows:
        return False  # a new key, or one held twice
    order = [(k, "ascending") for k in keys]
    try:
        stored = stored.cast(mine.schema).sort_by(order)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    mine = mine.sort_by(order)
    return all(mine.column(c).equals(stored.column(c)) for c in columns)


def _stored_without_pushdown(dataset: ds.Dataset, columns: list[str], key: str, first: pa.Array,
                             near: ds.Expression) -> pa.Table:  # fmt: skip
    """The rows whose `key` is in `first`, from the files whose statistics reach its range, filtered in memory.

    A file delta-rs's MERGE wrote holds string keys as string_view, which pyarrow 26 cannot compare
    with the table's string type in a scan filter (nor test with is_in): those files are read a batch
    at a time in the table's types instead, so a re-read of unchanged text keys still commits nothing.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = pa.schema([dataset.schema.field(c) for c in columns])
    kept = []
    for fragment in dataset.get_fragments(filter=near):  # pruned by the files' statistics, in the table's types
        for batch in fragment.to_batches(columns=columns):
            batch = batch.cast(schema)
            kept.append(batch.filter(pc.is_in(batch.column(key), value_set=first)))
    return pa.Table.from_batches(kept, schema=schema)
