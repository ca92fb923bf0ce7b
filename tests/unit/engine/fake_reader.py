"""An in-memory source for the engine's unit tests: the `SourceReader` protocol over a pyarrow table.

It answers what a SQL reader answers (a catalog description, key bounds, key checks, ranges, rows
from a condition in bounded batches, a snapshot) from a table held in memory, so the engine's
checks, cursor reads and Delta writes run for real on a local warehouse with no service. Tests
change the source by assigning `reader.table` between syncs; a snapshot keeps the rows a sync
began with, as a database's would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.warehouse.state import CursorValue, KeyKind

if TYPE_CHECKING:
    from warehouse_sources.sources.base import SourceReader

Row = dict[str, Any]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "=": lambda a, b: a == b,
}


@dataclass(frozen=True)
class FakeColumn:
    """A column as the fake's catalog describes it, from its Arrow type."""

    name: str
    type_sql: str
    cursor_kind: KeyKind | None
    is_integer: bool
    is_native_array: bool = False


def cursor_kind(arrow_type: pa.DataType) -> KeyKind | None:
    """The cursor kind an Arrow type gives, as the SQL kinds map integer, date and timestamp keys."""
    if pa.types.is_integer(arrow_type):
        return "int"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    return None


@dataclass
class FakeReader:
    """One table `schema.name` held as `table`; conditions are the fake's own opaque strings."""

    table: pa.Table
    name: str = "public.items"
    primary_key: tuple[str, ...] = ()
    batch_rows: int = 2  # small: a sync streams several batches
    value_notes: ValueNotes = field(default_factory=Counter)
    cursor_type_names: tuple[str, ...] = ("integer", "date", "timestamp")
    snapshots: list[str] = field(default_factory=list)  # "begin"/"end", in the order called
    reads: list[str] = field(default_factory=list)  # the `where` of every read
    _conditions: dict[str, tuple[str, str, CursorValue]] = field(default_factory=dict)
    _snapshot: pa.Table | None = None

    def describe(self, schema: str, table: str) -> TableDescription | None:
        if f"{schema}.{table}" != self.name:
            return None
        columns = tuple(
            FakeColumn(f.name, str(f.type), cursor_kind(f.type), pa.types.is_integer(f.type),
                       pa.types.is_list(f.type))
            for f in self.table.schema
        )  # fmt: skip
        return TableDescription(schema, table, columns, self.primary_key)

    def similar_tables(self, schema: str, table: str) -> list[str]:
        return [self.name] if self.name.casefold() == f"{schema}.{table}".casefold() else []

    def begin_snapshot(self) -> None:
        self.snapshots.append("begin")
        self._snapshot = self.table

    def end_snapshot(self) -> None:
        self.snapshots.append("end")
        self._snapshot = None

    def key_condition(self, desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
        text = f"{key} {op} {value!r}"
        self._conditions[text] = (key, op, value)
        return text

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        rows = self._rows("")
        keys = [r[key] for r in rows if r[key] is not None and (lower is None or r[key] >= lower)]
        return (max(keys) if keys else None), sum(1 for r in rows if r[key] is None)

    def key_problems(self, desc: TableDescription, keys: tuple[str, ...], where: str) -> tuple[int, str | None]:
        rows = self._rows(where)
        nulls = sum(1 for r in rows if any(r[k] is None for k in keys))
        counts = Counter(tuple(r[k] for k in keys) for r in rows)
        duplicate = next((values for values, n in counts.items() if n > 1), None)
        return nulls, (", ".join(map(str, duplicate)) if duplicate else None)

    def value_range(self, desc: TableDescription, column: str, where: str) -> tuple[Any, Any]:
        values = [r[column] for r in self._rows(where) if r[column] is not None]
        return (min(values), max(values)) if values else (None, None)

    def read(
        self, desc: TableDescription, where: str = "", text_columns: frozenset[str] = frozenset()
    ) -> pa.RecordBatchReader:
        self.reads.append(where)
        source = self._current()
        rows = pa.Table.from_pylist(self._rows(where), schema=source.schema)
        return pa.RecordBatchReader.from_batches(source.schema, rows.to_batches(max_chunksize=self.batch_rows))

    def _current(self) -> pa.Table:
        return self._snapshot if self._snapshot is not None else self.table

    def _rows(self, where: str) -> list[Row]:
        rows: list[Row] = self._current().to_pylist()
        if not where:
            return rows
        if where not in self._conditions:
            raise AssertionError(f"condition {where!r} was not made by this reader's key_condition")
        key, op, value = self._conditions[where]
        return [r for r in rows if r[key] is not None and _OPS[op](r[key], value)]


def _conforms(reader: FakeReader) -> SourceReader:
    """mypy checks here that the fake keeps the protocol's shape."""
    return reader


def items(rows: Sequence[tuple[int, str | None, Any]], key_type: pa.DataType | None = None) -> pa.Table:
    """A source table `(id, name, updated_at)` from tuples; `key_type` types updated_at (default
    timestamp[us, UTC])."""
    schema = pa.schema(
        [("id", pa.int64()), ("name", pa.string()), ("updated_at", key_type or pa.timestamp("us", tz="UTC"))]
    )
    return pa.Table.from_pylist([dict(zip(schema.names, r, strict=True)) for r in rows], schema=schema)


def synced(warehouse: str, name: str = "items") -> list[tuple[Any, ...]]:
    """The synced table's source columns as sorted tuples (the `_ws_` columns left out)."""
    from deltalake import DeltaTable

    table = DeltaTable(f"{warehouse}/{name}").to_pyarrow_table()
    names = [n for n in table.column_names if not n.startswith("_ws_")]
    return sorted(zip(*(table.column(n).to_pylist() for n in names), strict=True), key=repr)
