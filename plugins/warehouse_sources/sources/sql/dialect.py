"""What one SQL kind's text differs in, as one object: the `Dialect` the SQL table reader writes with.

The reader (reader.py) writes each statement once; a dialect gives the pieces that differ between
PostgreSQL, MySQL and Snowflake: how names are quoted, a cursor value as a typed literal, the key
values a cursor can hold, how a merge key is grouped and shown, the catalog queries, the snapshot
statements, and which driver errors no retry can fix (`classify`). Like the `Dialect` Airflow's
common.sql provider gives its hooks, written for what a sync asks of a table.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from warehouse_sources.sources.base import SourceColumn, TableDescription
from warehouse_sources.warehouse.state import CursorValue

Rows = Callable[[str], list[tuple[Any, ...]]]  # runs a small query, answers its rows


class SqlColumn(SourceColumn, Protocol):
    """A column of a SQL table, as its kind's catalog describes it."""

    def select_sql(self) -> str:
        """The column in a SELECT list, as the kind reads it."""
        ...


C = TypeVar("C", bound=SqlColumn)


def refuse_nul(value: str, what: str) -> str:
    """`value`, which reaches SQL text: no dialect can quote a NUL character."""
    if "\x00" in value:
        raise ValueError(f"{what} cannot contain NUL characters")
    return value


def quote_ident(name: str, quote: str = '"') -> str:
    """`name` between `quote`s, each `quote` inside doubled: the quoting rule of PostgreSQL and
    Snowflake (`"`, libpq's PQescapeIdentifier) and of MySQL (a backtick)."""
    return quote + refuse_nul(name, "identifiers").replace(quote, quote * 2) + quote


def qualified(schema: str, table: str, quote: str = '"') -> str:
    return f"{quote_ident(schema, quote)}.{quote_ident(table, quote)}"


def number_or_date(value: CursorValue, *, decimals: bool = False) -> str | date:
    """A number cursor as its SQL text, or the date or datetime, which each dialect types itself.

    Anything else (a bool, a float, text, a Decimal where the kind has no decimal keys, NaN) is
    refused: only these ever reach a cursor, and nothing else may reach SQL text."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, date)):
        raise TypeError(f"unsupported cursor value {value!r}")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, Decimal):
        if not (decimals and value.is_finite()):
            raise TypeError(f"unsupported cursor value {value!r}")
        return format(value, "f")
    return value


def between(ident: str, limits: tuple[str, str] | None) -> str:
    """`ident BETWEEN <first> AND <last>`, or TRUE without limits (a key type whose every value fits)."""
    return f"{ident} BETWEEN {limits[0]} AND {limits[1]}" if limits else "TRUE"


class Dialect(ABC, Generic[C]):
    """The SQL one kind speaks. Stateless: one instance serves every reader of the kind."""

    quote: ClassVar[str] = '"'
    column_class: type[C]  # what the kind's catalog describes columns as
    begin_sql: ClassVar[str] = ""  # starts a read-only snapshot
    end_sql: ClassVar[str] = "ROLLBACK"  # ends it (nothing was written)
    decimal_keys: ClassVar[bool] = False  # whether a cursor may be a Decimal (Snowflake's NUMBER(p,s))
    range_fence: ClassVar[str] = ""  # ends the subquery `value_range` reads (PostgreSQL: OFFSET 0)

    def ident(self, name: str) -> str:
        return quote_ident(name, self.quote)

    def table(self, schema: str, table: str) -> str:
        return qualified(schema, table, self.quote)

    def column(self, desc: TableDescription, name: str) -> C:
        """A column of a table this kind described (so one of its `column_class`)."""
        column = desc.column(name)
        if not isinstance(column, self.column_class):
            raise TypeError(f"column {name!r} of {desc.schema}.{desc.table} was not described by this kind")
        return column

    @abstractmethod
    def key_type(self, column: C) -> str:
        """The column's type as `literal` and `key_range` take it."""

    def literal(self, value: CursorValue, key_type: str) -> str:
        """`value` as a typed literal that compares with a key of `key_type`."""
        typed = number_or_date(value, decimals=self.decimal_keys)
        return typed if isinstance(typed, str) else self.date_literal(typed, key_type)

    @abstractmethod
    def date_literal(self, value: date, key_type: str) -> str:
        """A date or datetime cursor as a literal that compares with a key of `key_type`."""

    @abstractmethod
    def key_range(self, ident: str, key_type: str) -> str:
        """The condition a key's value must meet for a cursor to hold it; TRUE when any can."""

    def cursor_literal(self, desc: TableDescription, key: str, value: CursorValue) -> str:
        return self.literal(value, self.key_type(self.column(desc, key)))

    def cursor_range(self, desc: TableDescription, key: str) -> str:
        return self.key_range(self.ident(key), self.key_type(self.column(desc, key)))

    def group_key(self, desc: TableDescription, key: str) -> str:
        """Column `key` as the warehouse compares it in a merge key (what duplicates group by)."""
        return self.ident(key)

    @abstractmethod
    def key_text(self, desc: TableDescription, keys: Sequence[str]) -> str:
        """One group's key values as text (grouped by `group_key`), for a duplicate key's message."""

    @abstractmethod
    def similar_tables(self, rows: Rows, schema: str, table: str) -> list[str]:
        """Existing tables named like `table` (any case, another schema): what the user may have meant."""

    def classify(self, exc: BaseException) -> str | None:
        """The SQLSTATE of a driver error no retry can fix, for drivers whose errors carry none."""
        return None

    def row_estimate_sql(self, schema: str, table: str) -> str | None:
        """A query answering the catalog's estimate of the table's rows (one row, one number), for
        `parallelism: auto` (engine/chunk_plan.py); None where the kind keeps none."""
        return None
