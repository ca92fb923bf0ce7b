"""Rows at the cursor's boundary value: which of them the synced table already holds.

Append only reads `key >= cursor`, so rows sharing the cursor value come back every run. The
synced table, at the version whose commit holds the cursor, already has the ones synced: their
identities (primary key, else the whole row, hashed) are counted there, and exactly that many
occurrences of each are dropped from the read. Identical rows are counted, not collapsed, so a
third identical row committed later is appended; nothing is kept in the state, so it does not
grow with the boundary. Both sides are compared in the table's column types (after widening).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from warehouse_sources.warehouse.state import CursorValue, row_identity

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

# Delta file statistics round timestamps to milliseconds, and clamp decimal(p, 0) values to the
# int64 range (delta-rs 1.6): the pruning filter is widened by as much, then matched exactly.
STATS_SLACK = timedelta(milliseconds=1)
INT64_MAX = 2**63 - 1


def identities(table: pa.Table | pa.RecordBatch, columns: list[str]) -> list[str]:
    """One identity per row from the values of `columns` (per-row Python: boundary rows only)."""
    data = table.select(columns).to_pydict()
    return [row_identity(list(values)) for values in zip(*(data[c] for c in columns), strict=True)]


def _at_value(data: pa.RecordBatch | pa.Table, key: str, value: CursorValue) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    column = data.column(key)
    return pc.fill_null(pc.equal(column, pa.scalar(value, type=column.type)), False)


def synced_at_value(table: DeltaTable, key: str, value: CursorValue, columns: list[str]) -> Counter[str]:
    """Identities, with their counts, of the rows `table` holds whose `key` equals `value`."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    dataset = table.to_pyarrow_dataset()
    key_type = dataset.schema.field(key).type
    low, high = _slack(value)
    if pa.types.is_decimal(key_type) and not isinstance(low, (date, datetime)):
        # Statistics clamped to int64 in unscaled units: as a number, +-(2**63-1) / 10**scale.
        limit = Decimal(INT64_MAX).scaleb(-key_type.scale)
        low, high = min(low, limit), max(high, -limit)
    near = (ds.field(key) >= pa.scalar(low, key_type)) & (ds.field(key) <= pa.scalar(high, key_type))
    rows = dataset.to_table(columns=list(dict.fromkeys([*columns, key])), filter=near)
    return Counter(identities(rows.filter(_at_value(rows, key, value)), columns))


def present_at_value(
    batches: Iterable[pa.RecordBatch], key: str, value: CursorValue, columns: list[str]
) -> Counter[str]:
    """Identities, with their counts, of the rows in `batches` whose `key` equals `value`."""
    present: Counter[str] = Counter()
    for batch in batches:
        present.update(identities(batch.filter(_at_value(batch, key, value)), columns))
    return present


def seen_at_boundary(
    held: Counter[str], deleted: Counter[str], present: Counter[str] | None
) -> tuple[Counter[str], Counter[str]]:
    """(occurrences to skip, the new deleted counts) at the cursor value.

    `held`: what the table holds there; `deleted`: what of it the source no longer had at the last
    read; `present`: what the source holds now (None when the cursor moves on: a new value starts
    with nothing deleted). A row the source deleted is not skipped again, so an identical row
    committed later is appended: skip `held - deleted`, and remember `max(deleted, held - present)`.
    """
    seen = held - deleted
    if present is None:
        return seen, Counter()
    return seen, Counter({i: n for i in held if (n := max(deleted[i], held[i] - present[i])) > 0})


def _slack(value: CursorValue) -> tuple[CursorValue, CursorValue]:
    if not isinstance(value, datetime):
        return value, value
    low = value - STATS_SLACK if value - datetime.min.replace(tzinfo=value.tzinfo) >= STATS_SLACK else value
    high = value + STATS_SLACK if datetime.max.replace(tzinfo=value.tzinfo) - value >= STATS_SLACK else value
    return low, high


def skip_synced(
    batches: Iterable[pa.RecordBatch], key: str, value: CursorValue, synced: Counter[str], columns: list[str]
) -> Iterator[pa.RecordBatch]:
    """Drop, from rows whose key equals `value`, as many occurrences of each identity as `synced` counts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    left = Counter(synced)
    for batch in batches:
        at_value = _at_value(batch, key, value)
        if not left or not pc.any(at_value).as_py():
            yield batch
            continue
        fresh = [not _take(left, identity) for identity in identities(batch.filter(at_value), columns)]
        # Spread the per-boundary-row verdicts back over the batch, keeping row order.
        fresh_at_value = pc.replace_with_mask(at_value, at_value, pa.array(fresh, pa.bool_()))
        yield batch.filter(pc.or_(pc.invert(at_value), fresh_at_value))


def _take(left: Counter[str], identity: str) -> bool:
    """Use up one synced occurrence of `identity`; False when none is left."""
    if left[identity] <= 0:
        return False
    left[identity] -= 1
    if not left[identity]:
        del left[identity]
    return True
