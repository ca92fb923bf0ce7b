"""The cheap aggregates a sync's self-check asks a SQL source for, in the read's snapshot.

A full table's row count; for a cursor read, the count and the min and max of the replication key
over the rows at or below the new cursor (the rows the warehouse table must hold by then).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.warehouse.state import CursorValue, as_utc

if TYPE_CHECKING:
    from warehouse_sources.sources.base import TableDescription
    from warehouse_sources.sources.sql.reader import SqlTableReader


def table_counts(
    reader: SqlTableReader[Any], desc: TableDescription, key: str | None, upper: CursorValue | None
) -> tuple[int, Any, Any]:
    """(rows, min key, max key): every row when `key` is None, else those with a key a cursor can
    hold at or below `upper` (none when `upper` is None: the source had no keyed row)."""
    table = reader.table_sql(desc)
    if key is None:
        (count,), *_ = reader.rows(f"SELECT COUNT(*) FROM {table}")
        return int(count), None, None
    if upper is None:
        return 0, None, None
    ident = reader.dialect.ident(key)
    where = reader.key_condition(desc, key, "<=", upper)
    (count, low, high), *_ = reader.rows(f"SELECT COUNT(*), MIN({ident}), MAX({ident}) FROM {table} WHERE {where}")
    return int(count), _plain(desc, key, reader, low), _plain(desc, key, reader, high)


def _plain(desc: TableDescription, key: str, reader: SqlTableReader[Any], value: Any) -> Any:
    """A key value as a cursor holds it: ints as int (Snowflake answers a Decimal), timestamps in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if reader.dialect.column(desc, key).cursor_kind == "int":
        return int(value)
    return value
