"""Catalog lookups: a table's columns (base types) and primary key, matched by exact name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from warehouse_sources.sources.base import TableDescription
from warehouse_sources.sources.postgres.sql import quote_literal
from warehouse_sources.sources.postgres.types import PgColumn

COLUMNS_SQL = """
SELECT a.attname, bt.typname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END, et.typname
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
WHERE n.nspname = {schema} AND c.relname = {table} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

RELATION_SQL = """
SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = {schema} AND c.relname = {table} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
"""

# Same name in another schema, or the same words in another case: what the user may have meant.
SIMILAR_SQL = """
SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE lower(c.relname) = lower({table}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname = {schema} DESC, n.nspname, c.relname
LIMIT 5
"""

PRIMARY_KEY_SQL = """
SELECT a.attname
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE n.nspname = {schema} AND c.relname = {table} AND i.indisprimary
ORDER BY array_position(i.indkey::int2[], a.attnum)
"""


def describe_table(rows: Callable[[str], list[tuple[Any, ...]]], schema: str, table: str) -> TableDescription | None:
    """The table's columns and primary key, or None when no such table or view exists.

    `rows(sql)` runs a query and returns its rows; names reach SQL only as quoted literals.
    """
    names = {"schema": quote_literal(schema), "table": quote_literal(table)}
    found = rows(COLUMNS_SQL.format(**names))
    if not found and not rows(RELATION_SQL.format(**names)):
        return None
    columns = tuple(
        PgColumn(name=r[0], type_name=r[1], type_sql=r[2], typmod=int(r[3]), element_type=r[4]) for r in found
    )
    primary_key = tuple(r[0] for r in rows(PRIMARY_KEY_SQL.format(**names)))
    return TableDescription(schema, table, columns, primary_key)


def similar_tables(rows: Callable[[str], list[tuple[Any, ...]]], schema: str, table: str) -> list[str]:
    """Existing relations named like `table` (any case, any schema), as `schema.table`."""
    names = {"schema": quote_literal(schema), "table": quote_literal(table)}
    return [f"{s}.{t}" for s, t in rows(SIMILAR_SQL.format(**names)) if (s, t) != (schema, table)]
