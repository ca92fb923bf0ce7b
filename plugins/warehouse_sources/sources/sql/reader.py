"""The SQL table reader: cursor bounds, key checks, value ranges and the SELECT, written once.

Every SQL kind reads a table the same way; what differs is its SQL's pieces (its `Dialect`) and
how it connects, streams rows and holds one snapshot, which each kind's reader keeps. `where`
conditions are built here (`key_condition`) and taken back by the other reads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.sql.dialect import C, Dialect
from warehouse_sources.warehouse.state import CursorValue

if TYPE_CHECKING:
    import pyarrow as pa


class SqlTableReader(ABC, Generic[C]):
    """A `SourceReader` for a SQL table; a kind adds connect, `stream` and its snapshot."""

    dialect: Dialect[C]
    value_notes: ValueNotes
    cursor_type_names: tuple[str, ...]  # the replication key types the kind allows, for messages

    @abstractmethod
    def execute(self, sql: str) -> object:
        """Run a statement that returns no rows."""

    @abstractmethod
    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a small query and return its rows as tuples of Python values."""

    @abstractmethod
    def describe(self, schema: str, table: str) -> TableDescription | None: ...

    @abstractmethod
    def stream(self, statement: str, columns: Sequence[C]) -> pa.RecordBatchReader:
        """Run `statement` (it selects `columns`) through the kind's bulk path, as bounded batches
        in the stored types."""

    def similar_tables(self, schema: str, table: str) -> list[str]:
        return self.dialect.similar_tables(self.rows, schema, table)

    def error_sqlstate(self, exc: BaseException) -> str | None:
        """How the engine sorts this driver's errors (`SourceReader`'s optional hook)."""
        return self.dialect.classify(exc)

    def begin_snapshot(self) -> None:
        self.execute(self.dialect.begin_sql)

    def end_snapshot(self) -> None:
        """End the read-only snapshot. Never raises: after a dropped connection the ROLLBACK
        fails too, and its error must not hide the one that explains the failure."""
        try:
            self.close_snapshot()
        except Exception:  # nothing was written in a read-only snapshot
            pass

    def close_snapshot(self) -> None:
        self.execute(self.dialect.end_sql)

    def table_sql(self, desc: TableDescription) -> str:
        """The table as FROM names it."""
        return self.dialect.table(desc.schema, desc.table)

    def key_condition(self, desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
        """`key <op> <typed literal>`, the key also kept within what a cursor can hold (PostgreSQL's
        `infinity` would match every run; MySQL's zero date would sit below every cursor)."""
        condition = f"{self.dialect.ident(key)} {op} {self.dialect.cursor_literal(desc, key, value)}"
        limits = self.dialect.cursor_range(desc, key)
        return condition if limits == "TRUE" else f"{condition} AND {limits}"

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        """(max key at or above `lower`, rows whose key no cursor can hold) in the current snapshot.

        A cursor can't hold NULL or what the dialect's `cursor_range` leaves out (infinity, a zero
        date, a date outside years 1-9999); those rows are counted.
        """
        ident, table = self.dialect.ident(key), self.table_sql(desc)
        in_range = self.dialect.cursor_range(desc, key)
        where = self.key_condition(desc, key, ">=", lower) if lower is not None else in_range
        outside = f"{ident} IS NULL OR NOT ({in_range})"
        sql = f"SELECT (SELECT MAX({ident}) FROM {table} WHERE {where}), (SELECT COUNT(*) FROM {table} WHERE {outside})"
        (upper, nulls), *_ = self.rows(sql)
        if upper is not None and self.dialect.column(desc, key).cursor_kind == "int":
            upper = int(upper)  # Snowflake answers NUMBER(p,0) as a Decimal
        return upper, int(nulls)

    def key_problems(self, desc: TableDescription, keys: tuple[str, ...], where: str) -> tuple[int, str | None]:
        """(rows matching `where` with a NULL in a key column, one duplicated key's text or None).

        Keys are grouped as the warehouse will compare them (`group_key`), not by the source's collation.
        """
        table = self.table_sql(desc)
        any_null = " OR ".join(f"{self.dialect.ident(k)} IS NULL" for k in keys)
        condition = f"({where}) AND ({any_null})" if where else any_null
        (null_rows,), *_ = self.rows(f"SELECT COUNT(*) FROM {table} WHERE {condition}")
        grouped = ", ".join(self.dialect.group_key(desc, k) for k in keys)
        shown = self.dialect.key_text(desc, keys)
        dup = f"SELECT {shown} FROM {table} WHERE {where or 'TRUE'} GROUP BY {grouped} HAVING COUNT(*) > 1 LIMIT 1"
        found = self.rows(dup)
        return int(null_rows), (str(found[0][0]) if found else None)

    def value_range(self, desc: TableDescription, column: str, where: str) -> tuple[Any, Any]:
        """(min, max) of `column` over the rows matching `where`, in the current snapshot."""
        inner = f"SELECT {self.dialect.ident(column)} AS v FROM {self.table_sql(desc)} WHERE {where or 'TRUE'}"
        (low, high), *_ = self.rows(f"SELECT MIN(v), MAX(v) FROM ({inner}{self.dialect.range_fence}) AS changed")
        return low, high

    def table_counts(self, desc: TableDescription, key: str | None, upper: CursorValue | None) -> tuple[int, Any, Any]:
        """(rows, min key, max key) for a sync's self-check (sql/counts.py)."""
        from warehouse_sources.sources.sql.counts import table_counts

        return table_counts(self, desc, key, upper)

    def range_checksums(
        self, desc: TableDescription, columns: Sequence[Any], key: str, bounds: Sequence[Any], where: str
    ) -> dict[int, tuple[int, int]]:
        """{range: (rows, hash sum)} for a deep verification (sql/checksum.py)."""
        from warehouse_sources.sources.sql.checksum import range_checksums

        return range_checksums(self, desc, columns, key, bounds, where)

    def read_columns(self, desc: TableDescription, where: str, text_columns: frozenset[str]) -> list[C]:
        """The columns `read` selects, as they are read (`text_columns`: array columns kept as text,
        which only a kind with arrays has)."""
        return [self.dialect.column(desc, c.name) for c in desc.columns]

    def read(
        self, desc: TableDescription, where: str = "", text_columns: frozenset[str] = frozenset()
    ) -> pa.RecordBatchReader:
        """Stream `SELECT ... FROM table [WHERE ...]` as batches in the stored types."""
        columns = self.read_columns(desc, where, text_columns)
        select = ", ".join(c.select_sql() for c in columns)
        statement = f"SELECT {select} FROM {self.table_sql(desc)}" + (f" WHERE {where}" if where else "")
        return self.stream(statement, columns)

    def read_keys(self, desc: TableDescription, keys: tuple[str, ...], ordered: bool = False) -> pa.RecordBatchReader:
        """Only the `keys` columns of every row, through the same bulk path as `read` (a deletion
        check's key set: engine/missing_keys.py); inside the current snapshot when one is open.
        `ordered`: in key order (ORDER BY the keys, which a primary key's index serves). Where NULL
        keys sort differs by dialect (first in MySQL, last in PostgreSQL); the check drops them."""
        from dataclasses import replace

        columns = self.read_columns(replace(desc, columns=tuple(c for c in desc.columns if c.name in keys)), "",
                                    frozenset())  # fmt: skip
        select = ", ".join(c.select_sql() for c in columns)
        order = f" ORDER BY {', '.join(self.dialect.ident(k) for k in keys)}" if ordered else ""
        return self.stream(f"SELECT {select} FROM {self.table_sql(desc)}{order}", columns)
