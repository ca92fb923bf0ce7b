"""Catalog lookups in the connection's database: columns from INFORMATION_SCHEMA, the primary key
from `SHOW PRIMARY KEYS`, names matched exactly (string `=` in Snowflake is case-sensitive).

Snowflake does not enforce a primary key's uniqueness (only its NOT NULL): the key is what the
table declares, used as the merge key when the source file names none (README).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from warehouse_sources.sources.base import TableDescription
from warehouse_sources.sources.snowflake.sql import qualified, text_literal
from warehouse_sources.sources.snowflake.types import SnowflakeColumn

COLUMNS_SQL = """
SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE
FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = {schema} AND TABLE_NAME = {table}
ORDER BY ORDINAL_POSITION
"""

# Same name in another schema, or the same words in another case: what the user may have meant.
SIMILAR_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME FROM INFORMATION_SCHEMA.TABLES
WHERE UPPER(TABLE_NAME) = UPPER({table}) AND TABLE_SCHEMA <> 'INFORMATION_SCHEMA'
ORDER BY UPPER(TABLE_SCHEMA) = UPPER({schema}) DESC, TABLE_SCHEMA, TABLE_NAME
LIMIT 6
"""

Rows = Callable[[str], list[tuple[Any, ...]]]
Records = Callable[[str], list[dict[str, Any]]]


def describe_table(rows: Rows, records: Records, schema: str, table: str) -> TableDescription | None:
    """The table's columns and primary key, or None when no such table or view exists.

    `rows(sql)` returns tuples and `records(sql)` dicts keyed by lower-case column name (what
    SHOW commands answer); names reach SQL only quoted.
    """
    names = {"schema": text_literal(schema), "table": text_literal(table)}
    found = rows(COLUMNS_SQL.format(**names))
    if not found:  # every table and view has at least one column
        return None
    columns = tuple(
        SnowflakeColumn(
            name=str(r[0]),
            data_type=str(r[1]).upper(),
            precision=None if r[2] is None else int(r[2]),
            scale=None if r[3] is None else int(r[3]),
        )
        for r in found
    )
    # Snowflake records primary keys but never enforces them: the engine checks them on each read.
    return TableDescription(schema, table, columns, primary_key(records, schema, table), primary_key_enforced=False)


def primary_key(records: Records, schema: str, table: str) -> tuple[str, ...]:
    """The declared primary key's columns in key order; none for a view (SHOW answers an error)."""
    try:
        found = records(f"SHOW PRIMARY KEYS IN TABLE {qualified(schema, table)}")
    except Exception:  # a view, or a database where SHOW is not allowed: no key is known
        return ()
    ordered = sorted(found, key=lambda r: int(r.get("key_sequence") or 0))
    return tuple(str(r["column_name"]) for r in ordered)


def similar_tables(rows: Rows, schema: str, table: str) -> list[str]:
    """Existing tables named like `table` (any case, any schema), as `SCHEMA.TABLE`."""
    found = rows(SIMILAR_SQL.format(schema=text_literal(schema), table=text_literal(table)))
    return [f"{s}.{t}" for s, t in found if (s, t) != (schema, table)][:5]
