"""PostgreSQL's SQL: typed cursor literals, the keys a cursor can hold, and the catalog queries.

Names reach SQL only as quoted identifiers or quoted literals (the session sets
standard_conforming_strings, so only ' needs doubling); nothing the user wrote is pasted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from warehouse_sources.sources.base import TableDescription
from warehouse_sources.sources.postgres.types import PgColumn
from warehouse_sources.sources.sql.dialect import Dialect, Rows, between, refuse_nul
from warehouse_sources.warehouse.state import as_utc


def quote_literal(value: str) -> str:
    """A string literal (the session sets standard_conforming_strings, so only ' needs doubling)."""
    return "'" + refuse_nul(value, "text values").replace("'", "''") + "'"


def date_literal(value: date, key_type: str) -> str:
    """A date or datetime cursor as a typed literal; datetimes in UTC."""
    if isinstance(value, datetime):
        utc = as_utc(value)
        if key_type == "timestamptz":
            return f"'{utc.isoformat()}'::timestamptz"
        return f"'{utc.replace(tzinfo=None).isoformat()}'::timestamp"
    return f"'{value.isoformat()}'::date"


# Cursor values are Python dates and datetimes: years 1 to 9999. Keys outside (infinity, BC,
# far future) are left to the first full load, like NULL keys, and counted.
CURSOR_LIMITS = {
    "date": ("'0001-01-01'::date", "'9999-12-31'::date"),
    "timestamp": ("'0001-01-01 00:00:00'::timestamp", "'9999-12-31 23:59:59.999999'::timestamp"),
    "timestamptz": ("'0001-01-01 00:00:00+00'::timestamptz", "'9999-12-31 23:59:59.999999+00'::timestamptz"),
}


def within_cursor_range(ident: str, key_type: str) -> str:
    """`ident BETWEEN <first> AND <last>` for date and timestamp keys; TRUE for integers."""
    return between(ident, CURSOR_LIMITS.get(key_type))


RELATION_KINDS = "c.relkind IN ('r', 'p', 'v', 'm', 'f')"  # tables, partitioned, views, materialized, foreign

COLUMNS_SQL = f"""
SELECT a.attname, bt.typname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END, et.typname
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
WHERE n.nspname = {{schema}} AND c.relname = {{table}} AND {RELATION_KINDS}
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

RELATION_SQL = f"""
SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = {{schema}} AND c.relname = {{table}} AND {RELATION_KINDS}
"""

# Same name in another schema, or the same words in another case: what the user may have meant.
SIMILAR_SQL = f"""
SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE lower(c.relname) = lower({{table}}) AND {RELATION_KINDS}
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname = {{schema}} DESC, n.nspname, c.relname
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


ROW_ESTIMATE_SQL = """
SELECT max(c.reltuples)::bigint FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = {schema} AND c.relname = {table}
"""


class PostgresDialect(Dialect[PgColumn]):
    column_class = PgColumn
    begin_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
    # OFFSET 0 keeps the planner from answering min/max by walking the column's index and
    # filtering row by row (slow when `where` picks the newest rows of a big table).
    range_fence = " OFFSET 0"

    date_literal = staticmethod(date_literal)
    key_range = staticmethod(within_cursor_range)

    def key_type(self, column: PgColumn) -> str:
        return column.type_name

    def key_text(self, desc: TableDescription, keys: Sequence[str]) -> str:
        return f"ROW({', '.join(self.ident(k) for k in keys)})::text"

    def describe(self, rows: Rows, schema: str, table: str) -> TableDescription | None:
        """The table's columns and primary key, or None when no such table or view exists."""
        names = {"schema": quote_literal(schema), "table": quote_literal(table)}
        found = rows(COLUMNS_SQL.format(**names))
        if not found and not rows(RELATION_SQL.format(**names)):
            return None
        columns = tuple(
            PgColumn(name=r[0], type_name=r[1], type_sql=r[2], typmod=int(r[3]), element_type=r[4]) for r in found
        )
        primary_key = tuple(r[0] for r in rows(PRIMARY_KEY_SQL.format(**names)))
        return TableDescription(schema, table, columns, primary_key)

    def similar_tables(self, rows: Rows, schema: str, table: str) -> list[str]:
        names = {"schema": quote_literal(schema), "table": quote_literal(table)}
        return [f"{s}.{t}" for s, t in rows(SIMILAR_SQL.format(**names)) if (s, t) != (schema, table)]

    def row_estimate_sql(self, schema: str, table: str) -> str | None:
        """pg_class.reltuples, which ANALYZE and autovacuum keep (-1: never analyzed)."""
        names = {"schema": quote_literal(schema), "table": quote_literal(table)}
        return ROW_ESTIMATE_SQL.format(**names)

    def irregular_arrays_sql(self, desc: TableDescription, arrays: Sequence[str], where: str) -> str:
        """One flag per array column: whether a row matching `where` holds a value Arrow's list
        cannot keep as is (several dimensions, or a lower bound other than 1)."""
        checks = ", ".join(
            f"coalesce(bool_or(coalesce(array_ndims({self.ident(n)}), 1) > 1 "
            f"OR coalesce(array_lower({self.ident(n)}, 1), 1) <> 1), false)"
            for n in arrays
        )
        return f"SELECT {checks} FROM {self.table(desc.schema, desc.table)}" + (f" WHERE {where}" if where else "")
