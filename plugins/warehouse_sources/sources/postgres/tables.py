"""Every table and view a PostgreSQL connection may read, described for the link-a-source form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.tables import MAX_TABLES, ListedTable, Listing, listed_table

if TYPE_CHECKING:
    from warehouse_sources.sources.postgres.reader import PostgresReader

# reltuples is the planner's estimate (-1 before the first ANALYZE on PostgreSQL 14+); views have none.
RELATIONS_SQL = """
SELECT n.nspname, c.relname, c.relkind IN ('v', 'm') AS is_view,
       CASE WHEN c.relkind IN ('r', 'p') THEN c.reltuples::bigint END
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname
LIMIT {limit}
"""


def count_tables(reader: PostgresReader) -> int:
    """How many relations the catalog lists (what the connection test reads)."""
    return len(reader.rows(RELATIONS_SQL.format(limit=MAX_TABLES + 1)))


def list_tables(reader: PostgresReader) -> Listing:
    """Every readable table and view outside the system schemas, in name order (at most MAX_TABLES)."""
    found = reader.rows(RELATIONS_SQL.format(limit=MAX_TABLES + 1))
    tables: list[ListedTable] = []
    for schema, table, is_view, estimate in found[:MAX_TABLES]:
        desc = reader.describe(schema, table)
        if desc is not None:
            relation = "view" if is_view else "table"
            tables.append(listed_table(f"{schema}.{table}", relation, desc, estimate, reader.cursor_type_names))
    return Listing(tuple(tables), len(found) > MAX_TABLES)
