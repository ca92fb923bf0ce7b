"""What the sync engine needs from a source: the `SourceReader` protocol and a table's description.

The engine (checks, cursor reads, the writer) talks to sources only through these. The SQL kinds
implement them once, in the SQL table reader (`sources/sql/`) over each kind's dialect; the bucket
kind in its own reader. `where` conditions are opaque strings the reader builds (`key_condition`)
and takes back (`read`, `key_bounds`, ...).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from warehouse_sources.warehouse.state import CursorValue, KeyKind

if TYPE_CHECKING:
    import pyarrow as pa

ValueNotes = Counter[tuple[str, str]]  # (column, what was stored as NULL) -> count


class SourceColumn(Protocol):
    """A column as the source's catalog describes it."""

    @property
    def name(self) -> str: ...

    @property
    def type_sql(self) -> str:
        """The type as the source writes it, for messages."""
        ...

    @property
    def cursor_kind(self) -> KeyKind | None:
        """The cursor values this column's type gives, or None when it cannot be a replication key."""
        ...

    @property
    def is_integer(self) -> bool: ...

    @property
    def is_native_array(self) -> bool:
        """Stored as array<...> while its values allow (see `SourceReader.read`)."""
        ...


@dataclass(frozen=True)
class TableDescription:
    schema: str
    table: str
    columns: tuple[SourceColumn, ...]
    primary_key: tuple[str, ...]
    primary_key_enforced: bool = True  # False where the source declares keys it does not check (Snowflake)

    def column(self, name: str) -> SourceColumn | None:
        return next((c for c in self.columns if c.name == name), None)


class SourceReader(Protocol):
    """One open connection to a source, for one table's sync.

    Optional: `error_sqlstate(exc) -> str | None`, the SQLSTATE (PostgreSQL's classes) of a driver
    error a retry cannot fix, for drivers whose errors carry no `.sqlstate` (engine/faults.py).
    """

    value_notes: ValueNotes  # values the last read stored as NULL, by (column, what)
    cursor_type_names: tuple[str, ...]  # the key types this kind allows, for messages

    def describe(self, schema: str, table: str) -> TableDescription | None: ...

    def similar_tables(self, schema: str, table: str) -> list[str]: ...

    def begin_snapshot(self) -> None:
        """Start a consistent read: bounds, checks and rows see one state of the table."""
        ...

    def end_snapshot(self) -> None:
        """End it; never raises (its error must not hide the one that ended the read)."""
        ...

    def key_condition(self, desc: TableDescription, key: str, op: str, value: CursorValue) -> str: ...

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        """(max key at or above `lower`, rows whose key no cursor can hold)."""
        ...

    def key_problems(self, desc: TableDescription, keys: tuple[str, ...], where: str) -> tuple[int, str | None]:
        """(rows matching `where` with a NULL key column, one duplicated key as text or None)."""
        ...

    def value_range(self, desc: TableDescription, column: str, where: str) -> tuple[Any, Any]: ...

    def read(
        self, desc: TableDescription, where: str = "", text_columns: frozenset[str] = frozenset()
    ) -> pa.RecordBatchReader:
        """Stream the rows matching `where` as bounded Arrow batches in the stored types."""
        ...
