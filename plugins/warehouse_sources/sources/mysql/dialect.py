"""MySQL/MariaDB's SQL: typed cursor literals, the keys a cursor can hold, and the catalog queries.

Names and text reach SQL only as backtick-quoted identifiers or as hex literals (`X'...'`),
which mean the same bytes under every `sql_mode` (a backslash escape would not survive
NO_BACKSLASH_ESCAPES). Nothing the user wrote is pasted.

information_schema compares names case-insensitively; each catalog lookup adds a byte comparison
so `Orders` never matches `orders`. The plain equality stays too: it lets the server open only
the one table's metadata instead of every database's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from warehouse_sources.sources.base import TableDescription
from warehouse_sources.sources.mysql.errors import error_sqlstate
from warehouse_sources.sources.mysql.types import BACKTICK, MySQLColumn
from warehouse_sources.sources.sql.dialect import Dialect, Rows, between, refuse_nul
from warehouse_sources.warehouse.state import as_utc


def text_literal(value: str) -> str:
    """A utf8mb4 string literal from hex digits: no character of `value` is ever interpreted."""
    return f"CONVERT({bytes_literal(value)} USING utf8mb4)" if value else "''"


def bytes_literal(value: str) -> str:
    """The UTF-8 bytes of `value` as a binary literal, for exact (case-kept) name matches."""
    return f"X'{refuse_nul(value, 'text values').encode().hex()}'"


def date_literal(value: date, key_type: str) -> str:
    """A date or datetime cursor as a typed literal.

    Datetimes are UTC: DATETIME keys hold UTC wall clock (the documented choice) and the
    session's time_zone is '+00:00', so TIMESTAMP keys compare in UTC too.
    """
    if isinstance(value, datetime):
        return f"TIMESTAMP'{as_utc(value).replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'"
    if key_type != "date":
        return f"TIMESTAMP'{value.isoformat()} 00:00:00'"
    return f"DATE'{value.isoformat()}'"


# Cursor values are Python dates and datetimes: years 1 to 9999. Zero dates ('0000-00-00'),
# dates with a zero month or day (allowed by lax sql_modes), year 0 and days past the month's end
# ('2024-02-30', allowed by ALLOW_INVALID_DATES) are left to the first full load, like NULL keys,
# and counted.
CURSOR_LIMITS = {
    "date": ("DATE'0001-01-01'", "DATE'9999-12-31'"),
    "datetime": ("TIMESTAMP'0001-01-01 00:00:00'", "TIMESTAMP'9999-12-31 23:59:59.999999'"),
    "timestamp": ("TIMESTAMP'0001-01-01 00:00:00'", "TIMESTAMP'9999-12-31 23:59:59.999999'"),
}


def within_cursor_range(ident: str, key_type: str) -> str:
    """The condition a key value must meet to be held by a cursor; TRUE for integers."""
    condition = between(ident, CURSOR_LIMITS.get(key_type))
    if key_type not in ("date", "datetime"):  # integers; a TIMESTAMP has no partial dates (its zero is below)
        return condition
    # Date arithmetic gives NULL for a date that does not exist, whatever the sql_mode.
    return f"{condition} AND MONTH({ident}) > 0 AND DAYOFMONTH({ident}) > 0 AND {ident} + INTERVAL 0 DAY IS NOT NULL"


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


def _names(schema: str, table: str) -> dict[str, str]:
    return {
        "schema": text_literal(schema),
        "table": text_literal(table),
        "schema_bytes": bytes_literal(schema),
        "table_bytes": bytes_literal(table),
    }


def _text(value: Any) -> str:
    """information_schema text (MySQL 8 hands some of it over as bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


class MySQLDialect(Dialect[MySQLColumn]):
    quote = BACKTICK
    column_class = MySQLColumn
    begin_sql = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"

    date_literal = staticmethod(date_literal)
    key_range = staticmethod(within_cursor_range)

    def key_type(self, column: MySQLColumn) -> str:
        return column.data_type

    def group_key(self, desc: TableDescription, key: str) -> str:
        return self.column(desc, key).key_sql()

    def key_text(self, desc: TableDescription, keys: Sequence[str]) -> str:
        shown = ", ".join(self.column(desc, k).shown_sql() for k in keys)
        return f"CONCAT('(', CONCAT_WS(', ', {shown}), ')')"

    def classify(self, exc: BaseException) -> str | None:
        return error_sqlstate(exc)

    def row_estimate_sql(self, schema: str, table: str) -> str | None:
        """information_schema.TABLES.TABLE_ROWS: InnoDB's estimate, from its index statistics."""
        names = _names(schema, table)
        return (
            "SELECT MAX(TABLE_ROWS) FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = {names['schema']} AND TABLE_NAME = {names['table']}"
        )

    def describe(self, rows: Rows, schema: str, table: str) -> TableDescription | None:
        """The table's columns and primary key, or None when no such table or view exists."""
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
        return TableDescription(schema, table, columns, self._primary_key(rows, same_table, found))

    def _primary_key(self, rows: Rows, same_table: str, found: list[tuple[Any, ...]]) -> tuple[str, ...]:
        """The primary key's columns, less a system-versioned table's period (hidden or declared)."""
        keyable = {_text(r[0]) for r in found if _text(r[5] or "").upper() not in PERIOD_COLUMNS}
        named = (_text(r[0]) for r in rows(PRIMARY_KEY_SQL.format(same_table=same_table)))
        return tuple(name for name in named if name in keyable)

    def similar_tables(self, rows: Rows, schema: str, table: str) -> list[str]:
        found = [(_text(s), _text(t)) for s, t in rows(SIMILAR_SQL.format(**_names(schema, table)))]
        return [f"{s}.{t}" for s, t in found if (s, t) != (schema, table)][:5]
