"""Rows at the cursor's boundary value: their identities, and skipping the ones already synced.

Append only reads `key >= cursor`, so rows sharing the cursor value come back every run.
Their identities (primary key, else the whole row, hashed) are kept with the cursor, and
on the next read exactly those rows are dropped: none lost, none appended twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from warehouse_sources.engine.state import CursorValue, row_identity

if TYPE_CHECKING:
    import pyarrow as pa


def identities(table: pa.Table | pa.RecordBatch, columns: list[str]) -> list[str]:
    """One identity per row from the values of `columns` (per-row Python: boundary rows only)."""
    data = table.select(columns).to_pydict()
    return [row_identity(list(values)) for values in zip(*(data[c] for c in columns), strict=True)]


def _at_value(batch: pa.RecordBatch, key: str, value: CursorValue) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    column = batch.column(key)
    return pc.fill_null(pc.equal(column, pa.scalar(value, type=column.type)), False)


def skip_synced(
    batches: Iterable[pa.RecordBatch], key: str, value: CursorValue, synced: frozenset[str], columns: list[str]
) -> Iterator[pa.RecordBatch]:
    """Drop rows whose key equals `value` and whose identity is in `synced`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for batch in batches:
        at_value = _at_value(batch, key, value)
        if not synced or not pc.any(at_value).as_py():
            yield batch
            continue
        fresh = [i not in synced for i in identities(batch.filter(at_value), columns)]
        # Spread the per-boundary-row verdicts back over the batch, keeping row order.
        fresh_at_value = pc.replace_with_mask(at_value, at_value, pa.array(fresh, pa.bool_()))
        yield batch.filter(pc.or_(pc.invert(at_value), fresh_at_value))
