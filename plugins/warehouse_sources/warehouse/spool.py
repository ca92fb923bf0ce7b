"""A MERGE's rows on local disk, read back one batch at a time, and its keys in memory."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

COMPRESSION = "lz4"
# Batches handed to the writer hold about BATCH_BYTES: on ~2 KB rows delta-rs's writer peaked
# 150-200 MB lower fed 1 MB slices than 2 MB source batches. The target is read in batches of
# READ_BATCH_BYTES: fewer, larger batches cost less per row, and only one is held at a time.
BATCH_BYTES = 1024 * 1024
READ_BATCH_BYTES = 4 * 1024 * 1024
MIN_BATCH_ROWS, MAX_BATCH_ROWS = 64, 65536


@dataclass
class Spool:
    """Arrow IPC files in `folder`: the changed rows first, then the target rows kept."""

    folder: Path
    schema: pa.Schema
    key_names: tuple[str, ...]
    changed_keys: pa.Table | None = None
    rows: int = 0
    nbytes: int = 0
    scanned: int = 0
    kept: int = 0
    files: list[Path] = field(default_factory=list)

    def add_changes(self, data: Iterable[pa.RecordBatch]) -> None:
        """Spool the changed rows, keeping a copy of their keys."""
        import pyarrow as pa

        parts: list[pa.RecordBatch] = []

        def counted() -> Iterator[pa.RecordBatch]:
            for batch in data:
                # Copies: a column sliced from the batch would keep the whole batch alive.
                parts.append(pa.record_batch([pa.concat_arrays([batch.column(k)]) for k in self.key_names],
                                             names=list(self.key_names)))  # fmt: skip
                self.nbytes += batch.nbytes
                yield batch

        self.rows = self._write("changes", counted())
        key_schema = pa.schema([self.schema.field(k) for k in self.key_names])
        self.changed_keys = pa.Table.from_batches(parts, schema=key_schema).combine_chunks()

    @property
    def keys(self) -> pa.Table:
        """The changed rows' keys (one row per changed row)."""
        assert self.changed_keys is not None, "add_changes() first"
        return self.changed_keys

    def add_kept(self, target: Iterable[pa.RecordBatch], changed: ChangedKeys) -> None:
        """Spool the rows of `target` whose keys are not among the changed ones."""
        import pyarrow as pa
        import pyarrow.compute as pc

        def kept() -> Iterator[pa.RecordBatch]:
            for batch in target:
                self.scanned += batch.num_rows
                keys = pa.record_batch([_column(batch, f) for f in changed.schema], schema=changed.schema)
                rest = batch.filter(pc.invert(changed.contains(keys)))
                if rest.num_rows:
                    yield pa.record_batch([_column(rest, f) for f in self.schema], schema=self.schema)

        self.kept = self._write("kept", kept())

    def batch_rows(self, nbytes: int = BATCH_BYTES) -> int:
        """Rows per batch for about `nbytes`, from the changed rows' average width."""
        width = self.nbytes / self.rows if self.rows else 0
        return int(min(MAX_BATCH_ROWS, max(MIN_BATCH_ROWS, nbytes / width if width else MAX_BATCH_ROWS)))

    def reader(self) -> pa.RecordBatchReader:
        """Every spooled row, in order, read back a file batch at a time and handed over in
        slices of about BATCH_BYTES (zero-copy)."""
        import pyarrow as pa

        return pa.RecordBatchReader.from_batches(self.schema, self._batches())

    def _batches(self) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        step = self.batch_rows()
        for path in self.files:
            with pa.OSFile(str(path), "rb") as source:
                for batch in pa.ipc.open_stream(source):
                    yield from (batch.slice(start, step) for start in range(0, batch.num_rows, step))

    def _write(self, name: str, batches: Iterable[pa.RecordBatch]) -> int:
        import pyarrow as pa

        path, rows = self.folder / f"{name}.arrows", 0
        options = pa.ipc.IpcWriteOptions(compression=COMPRESSION)
        with spooling(path):
            sink = pa.OSFile(str(path), "wb")
            writer = pa.ipc.new_stream(sink, self.schema, options=options)
        with sink, writer:
            for batch in batches:  # a source or target read error passes through as it is
                with spooling(path):
                    writer.write_batch(batch)
                rows += batch.num_rows
        self.files.append(path)
        return rows


@dataclass(frozen=True)
class ChangedKeys:
    """The changed keys sorted by the first key column, for membership tests of target batches.

    Each test hashes only the changed keys within the batch's span of the first column, found by
    binary search: one hash set of every changed key per batch costs far more memory and time
    (measured with pc.is_in).
    """

    schema: pa.Schema
    first: pa.Array
    identity: pa.Array

    @classmethod
    def of(cls, keys: pa.Table) -> ChangedKeys:
        ordered = keys.sort_by(keys.column_names[0])
        return cls(keys.schema, ordered.column(0).combine_chunks(), identity(ordered))

    def contains(self, keys: pa.RecordBatch) -> pa.Array:
        import pyarrow.compute as pc

        bounds = pc.min_max(keys.column(0)).as_py()
        if bounds["min"] is None:
            return pc.is_in(identity(keys), value_set=self.identity.slice(0, 0))
        start = self._position(bounds["min"], bisect.bisect_left)
        stop = self._position(bounds["max"], bisect.bisect_right)
        return pc.is_in(identity(keys), value_set=self.identity.slice(start, stop - start))

    def _position(self, value: Any, search: Callable[..., int]) -> int:
        # Python orders ints as Arrow does, and str by code point, which is UTF-8's byte order.
        return search(range(len(self.first)), value, key=lambda i: self.first[i].as_py())


def identity(keys: pa.Table | pa.RecordBatch) -> pa.Array:
    """One comparable value per row: the key itself, or for composite keys an injective string
    (each part's length, then the part), so membership is one hash lookup either way."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if keys.num_columns == 1:
        column = keys.column(0)
        return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    parts: list[Any] = []
    for i in range(keys.num_columns):
        text = pc.cast(keys.column(i), pa.string())
        parts += [pc.utf8_lpad(pc.cast(pc.utf8_length(text), pa.string()), 10, "0"), text]
    joined = pc.binary_join_element_wise(*parts, "")
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


@contextmanager
def spooling(path: Path | str) -> Iterator[None]:
    """A failed spool write says where the spool is and how to give it room (a retry can work)."""
    try:
        yield
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"writing the MERGE spool {path} failed ({exc}): it needs about as much free space as the "
            "changed rows take; free space there or point TMPDIR at a larger disk. Nothing was committed",
        ) from exc


def _column(batch: pa.RecordBatch, field: pa.Field) -> pa.Array:
    """`field` of `batch` in its type; NULLs where the batch (a file older than the column) lacks it."""
    import pyarrow as pa

    if field.name in batch.schema.names:
        return batch.column(field.name).cast(field.type)
    return pa.nulls(batch.num_rows, field.type)
