"""Every table and view of a Snowflake connection's database, described for the link-a-source form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.tables import MAX_TABLES, ListedTable, Listing, listed_table

if TYPE_CHECKING:
    from warehouse_sources.sources.snowflake.reader import SnowflakeReader

# ROW_COUNT is Snowflake's own count for tables (NULL for views).
RELATIONS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE = 'VIEW', ROW_COUNT FROM INFORMATION_SCHEMA.TABLES
WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA'
ORDER BY TABLE_SCHEMA, TABLE_NAME
LIMIT {limit}
"""


def count_tables(reader: SnowflakeReader) -> int:
    """How many relations the catalog lists (what the connection test reads)."""
    return len(reader.rows(RELATIONS_SQL.format(limit=MAX_TABLES + 1)))


def list_tables(reader: SnowflakeReader) -> Listing:
    """Every table and view outside INFORMATION_SCHEMA, as `SCHEMA.TABLE` (at most MAX_TABLES)."""
    found = reader.rows(RELATIONS_SQL.format(limit=MAX_TABLES + 1))
    tables: list[ListedTable] = []
    for schema, table, is_view, estimate in found[:MAX_TABLES]:
        desc = reader.describe(str(schema), str(table))
        if desc is not None:
            rows = None if estimate is None else int(estimate)
            relation = "view" if is_view else "table"
            tables.append(listed_table(f"{schema}.{table}", relation, desc, rows, reader.cursor_type_names))
    return Listing(tuple(tables), len(found) > MAX_TABLES)
