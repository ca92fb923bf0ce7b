"""Catalog lookups in information_schema: a table's columns and primary key, matched exactly.

information_schema compares names case-insensitively; each lookup adds a byte comparison so
`Orders` never matches `orders`. The plain equality stays too: it lets the server open only
the one table's metadata instead of every database's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from warehouse_sources.sources.base import TableDescription
from warehouse_sources.sources.mysql.sql import bytes_literal, text_literal
from warehouse_sources.sources.mysql.types import MySQLColumn

SAME_TABLE = """TABLE_SCHEMA = {schema} AND TABLE_NAME = {table}
  AND CAST(TABLE_SCHEMA AS BINARY) = {schema_bytes} AND CAST(TABLE_NAME AS BINARY) = {table_bytes}"""

COLUMNS_SQL = """
SELECT COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, GENERATION_EXPRESSION
FROM information_schema.COLUMNS WHERE {same_table}
ORDER BY ORDINAL_POSITION
"""
# MariaDB's system-versioned tables: the period's columns, which MariaDB adds to the primary key
# (and hides, unless declared). Only current rows are read, so the key without them is unique.
PERIOD_COLUMNS = ("ROW START", "ROW END")

UNIQUE_SQL = """
SELECT DISTINCT COLUMN_NAME FROM information_schema.STATISTICS WHERE {same_table} AND NON_UNIQUE = 0
"""

PRIMARY_KEY_SQL = """
SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE {same_table} AND CONSTRAINT_NAME = 'PRIMARY'
ORDER BY ORDINAL_POSITION
"""

# Same name in another database, or the same words in another case: what the user may have meant.
SIMILAR_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
WHERE LOWER(TABLE_NAME) = LOWER({table})
  AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY CAST(TABLE_SCHEMA AS BINARY) = {schema_bytes} DESC, TABLE_SCHEMA, TABLE_NAME
LIMIT 6
"""

Rows = Callable[[str], list[tuple[Any, ...]]]


def _names(schema: str, table: str) -> dict[str, str]:
    return {
        "schema": text_literal(schema),
        "table": text_literal(table),
        "schema_bytes": bytes_literal(schema),
        "table_bytes": bytes_literal(table),
    }


def describe_table(rows: Rows, schema: str, table: str) -> TableDescription | None:
    """The table's columns and primary key, or None when no such table or view exists.

    `rows(sql)` runs a query and returns its rows; names reach SQL only as hex literals.
    """
    same_table = SAME_TABLE.format(**_names(schema, table))
    found = rows(COLUMNS_SQL.format(same_table=same_table))
    if not found:  # every MySQL table and view has at least one column
        return None
    unique = {_text(r[0]) for r in rows(UNIQUE_SQL.format(same_table=same_table))}
    columns = tuple(
        MySQLColumn(
            name=_text(r[0]),
            data_type=_text(r[1]),
            column_type=_text(r[2]),
            precision=None if r[3] is None else int(r[3]),
            scale=None if r[4] is None else int(r[4]),
            unique_key=_text(r[0]) in unique,
        )
        for r in found
    )
    return TableDescription(schema, table, columns, _primary_key(rows, same_table, found))


def _primary_key(rows: Rows, same_table: str, found: list[tuple[Any, ...]]) -> tuple[str, ...]:
    """The primary key's columns, less a system-versioned table's period (hidden or declared)."""
    keyable = {_text(r[0]) for r in found if _text(r[5] or "").upper() not in PERIOD_COLUMNS}
    named = (_text(r[0]) for r in rows(PRIMARY_KEY_SQL.format(same_table=same_table)))
    return tuple(name for name in named if name in keyable)


def similar_tables(rows: Rows, schema: str, table: str) -> list[str]:
    """Existing tables named like `table` (any case, any database), as `database.table`."""
    found = [(_text(s), _text(t)) for s, t in rows(SIMILAR_SQL.format(**_names(schema, table)))]
    return [f"{s}.{t}" for s, t in found if (s, t) != (schema, table)][:5]


def _text(value: Any) -> str:
    """information_schema text (MySQL 8 hands some of it over as bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)
