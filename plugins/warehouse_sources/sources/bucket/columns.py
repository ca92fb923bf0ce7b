"""DuckDB column types of the matched files -> what the reader selects and what can be a cursor.

Types Delta cannot hold are turned into ones it can, in the SELECT: unsigned integers into the
next wider signed type (UBIGINT into DECIMAL(20,0)), HUGEINT into DECIMAL(38,0), nested objects
(STRUCT, MAP, and lists of them) and JSON into JSON text, TIME, INTERVAL and UUID into text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from warehouse_sources.warehouse.state import CursorValue, KeyKind

INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"})
CURSOR_KINDS: dict[str, KeyKind] = {
    **{name: "int" for name in INTEGER_TYPES},
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
}
CURSOR_TYPE_NAMES = ("integer types (TINYINT to BIGINT)", "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")
WIDER = {"UTINYINT": "SMALLINT", "USMALLINT": "INTEGER", "UINTEGER": "BIGINT", "UBIGINT": "DECIMAL(20,0)",
         "HUGEINT": "DECIMAL(38,0)", "UHUGEINT": "DECIMAL(38,0)"}  # fmt: skip
AS_TEXT = frozenset({"TIME", "TIME WITH TIME ZONE", "INTERVAL", "UUID", "BIT"})
# Naive timestamps are UTC wall clocks (sources/values.py): cast to TIMESTAMPTZ with the session's
# TimeZone at UTC. TIMESTAMP_NS is cut to the microsecond at or before it (DuckDB's cast rounds).
NAIVE_TIMESTAMPS = frozenset({"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"})
CURSOR_RANGE = {  # the keys a cursor can hold: years 1-9999
    "DATE": ("DATE '0001-01-01'", "DATE '9999-12-31'"),
    "TIMESTAMP WITH TIME ZONE": ("TIMESTAMPTZ '0001-01-01 00:00:00+00'", "TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'"),
}


@dataclass(frozen=True)
class BucketColumn:
    """A column of the matched files, as DuckDB reads it (`type_sql` is DuckDB's type name)."""

    name: str
    type_sql: str

    @property
    def cursor_kind(self) -> KeyKind | None:
        return CURSOR_KINDS.get(self.type_sql)

    @property
    def is_integer(self) -> bool:
        return self.type_sql in INTEGER_TYPES

    @property
    def is_native_array(self) -> bool:
        return False  # lists are stored as the files hold them; nested objects become JSON text

    @property
    def is_timestamptz(self) -> bool:
        return self.type_sql == "TIMESTAMP WITH TIME ZONE"

    def in_cursor_range_sql(self) -> str:
        """The condition that this column's value can be a cursor (dates: years 1-9999)."""
        low_high = CURSOR_RANGE.get(self.type_sql)
        return f"{quote_ident(self.name)} BETWEEN {low_high[0]} AND {low_high[1]}" if low_high else "TRUE"

    def select_sql(self) -> str:
        """The column in the reader's SELECT, in a type the warehouse can store."""
        ident = quote_ident(self.name)
        if self.type_sql in WIDER:
            return f"CAST({ident} AS {WIDER[self.type_sql]}) AS {ident}"
        if self.type_sql == "JSON" or self.type_sql in AS_TEXT:
            return f"CAST({ident} AS VARCHAR) AS {ident}"
        if "STRUCT" in self.type_sql or "MAP" in self.type_sql or "JSON" in self.type_sql:
            return f"CAST(to_json({ident}) AS VARCHAR) AS {ident}"
        return ident

    def absent_sql(self) -> str:
        """The column when none of the files being read has it (they predate it): NULLs of its stored type."""
        if self.type_sql in WIDER:
            stored = WIDER[self.type_sql]
        elif self.type_sql in AS_TEXT or any(mark in self.type_sql for mark in ("JSON", "STRUCT", "MAP")):
            stored = "VARCHAR"
        else:
            stored = self.type_sql
        return f"CAST(NULL AS {stored}) AS {quote_ident(self.name)}"


def storable_select(conn: Any, inner: str) -> str:
    """SELECT over `inner` with its naive timestamps as UTC (one rule for every kind)."""
    described = conn.sql(f"DESCRIBE {inner}").fetchall()
    casts = [
        f"CAST({_microseconds(quote_ident(name), type_sql)} AS TIMESTAMPTZ) AS {quote_ident(name)}"
        for name, type_sql, *_ in described
        if type_sql in NAIVE_TIMESTAMPS
    ]
    return f"SELECT * REPLACE ({', '.join(casts)}) FROM ({inner})" if casts else f"SELECT * FROM ({inner})"


def _microseconds(ident: str, type_sql: str) -> str:
    return f"make_timestamp(epoch_us({ident}))" if type_sql == "TIMESTAMP_NS" else ident


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def list_literal(items: list[str]) -> str:
    return "[" + ", ".join(quote_literal(item) for item in items) + "]"


def cursor_literal(value: CursorValue, column: BucketColumn) -> str:
    """A cursor value as a DuckDB literal of the key's type (naive timestamps are UTC wall clock)."""
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        if column.is_timestamptz:
            return f"TIMESTAMPTZ {quote_literal(utc.isoformat())}"
        return f"TIMESTAMP {quote_literal(utc.replace(tzinfo=None).isoformat())}"
    assert isinstance(value, date)
    return f"DATE {quote_literal(value.isoformat())}"
