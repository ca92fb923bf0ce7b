"""Every table and view a MySQL/MariaDB connection may read, described for the link-a-source form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.tables import MAX_TABLES, ListedTable, Listing, listed_table

if TYPE_CHECKING:
    from warehouse_sources.sources.mysql.reader import MySQLReader

# TABLE_ROWS is InnoDB's estimate (exact for MyISAM); NULL for views. The connection's own database
# when it names one, else every database the user may see outside the server's own.
RELATIONS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE = 'VIEW', TABLE_ROWS FROM information_schema.TABLES
WHERE TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')
  AND (DATABASE() IS NULL OR TABLE_SCHEMA = DATABASE())
  AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY CAST(TABLE_SCHEMA AS BINARY), CAST(TABLE_NAME AS BINARY)
LIMIT {limit}
"""


def _text(value: Any) -> str:
    """information_schema text (MySQL 8 hands some of it over as bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def count_tables(reader: MySQLReader) -> int:
    """How many relations the catalog lists (what the connection test reads)."""
    return len(reader.rows(RELATIONS_SQL.format(limit=MAX_TABLES + 1)))


def list_tables(reader: MySQLReader) -> Listing:
    """Every table and view of the connection's database (or all of them), as `database.table`."""
    found = reader.rows(RELATIONS_SQL.format(limit=MAX_TABLES + 1))
    tables: list[ListedTable] = []
    for schema, table, is_view, estimate in found[:MAX_TABLES]:
        schema, table = _text(schema), _text(table)
        desc = reader.describe(schema, table)
        if desc is not None:
            rows = None if is_view or estimate is None else int(estimate)
            relation = "view" if is_view else "table"
            tables.append(listed_table(f"{schema}.{table}", relation, desc, rows, reader.cursor_type_names))
    return Listing(tuple(tables), len(found) > MAX_TABLES)
