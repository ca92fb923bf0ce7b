"""Snowflake's SQL: typed cursor literals, the keys a cursor can hold, Time Travel and the catalog.

Names are matched exactly as written in the source file: every identifier is double-quoted, so
Snowflake never folds it to upper case (`ANALYTICS.ORDERS` finds a table created unquoted as
`analytics.orders`; `Sales."Mixed Case"` needs the name written as stored). Text reaches SQL only
as a single-quoted literal with backslashes and quotes escaped (Snowflake reads backslash escapes
in single-quoted strings). Nothing the user wrote is pasted.

The catalog is the connection's database: columns from INFORMATION_SCHEMA, the primary key from
`SHOW PRIMARY KEYS`, names matched exactly (string `=` in Snowflake is case-sensitive). Snowflake
does not enforce a primary key's uniqueness (only its NOT NULL): the key is what the table
declares, used as the merge key when the source file names none (README).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from warehouse_sources.sources.base import TableDescription
from warehouse_sources.sources.snowflake.types import TIMESTAMP_TYPES, SnowflakeColumn
from warehouse_sources.sources.sql.dialect import Dialect, Rows, between, qualified, refuse_nul
from warehouse_sources.warehouse.state import as_utc

Records = Callable[[str], list[dict[str, Any]]]  # runs a SHOW command, answers rows keyed by column


def text_literal(value: str) -> str:
    """A single-quoted string literal: backslashes and quotes escaped, nothing else interpreted."""
    return "'" + refuse_nul(value, "text values").replace("\\", "\\\\").replace("'", "''") + "'"


NTZ_FORMAT = "YYYY-MM-DD HH24:MI:SS.FF6"
TZ_FORMAT = "YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM"


def date_literal(value: date, key_type: str) -> str:
    """A date or datetime cursor as a typed literal.

    Conversions name their format, so no session's TIMESTAMP_INPUT_FORMAT or DATE_INPUT_FORMAT
    changes what a literal means. TIMESTAMP_NTZ keys hold UTC wall clock (the documented choice);
    LTZ and TZ keys are instants, compared with a TIMESTAMP_TZ at offset +00:00.
    """
    if not isinstance(value, datetime) and key_type in TIMESTAMP_TYPES:
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, datetime):
        text = as_utc(value).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return timestamp_literal(text, key_type)
    return f"TO_DATE('{value.isoformat()}', 'YYYY-MM-DD')"


def timestamp_literal(text: str, data_type: str) -> str:
    """`text` (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC) as the timestamp that compares with a `data_type` key."""
    if data_type == "TIMESTAMP_NTZ":
        return f"TO_TIMESTAMP_NTZ('{text}', '{NTZ_FORMAT}')"
    return f"TO_TIMESTAMP_TZ('{text} +00:00', '{TZ_FORMAT}')"


# Cursor values are Python dates and datetimes: years 1 to 9999. Snowflake stores dates outside
# that range too; those rows are left to the first full load, like NULL keys, and counted.
CURSOR_LIMITS = {
    "DATE": ("TO_DATE('0001-01-01', 'YYYY-MM-DD')", "TO_DATE('9999-12-31', 'YYYY-MM-DD')"),
    "TIMESTAMP_NTZ": (
        timestamp_literal("0001-01-01 00:00:00.000000", "TIMESTAMP_NTZ"),
        timestamp_literal("9999-12-31 23:59:59.999999", "TIMESTAMP_NTZ"),
    ),
    # An instant whose UTC date is at the edge could fall outside years 1-9999 in another offset.
    "TIMESTAMP_LTZ": (
        timestamp_literal("0001-01-02 00:00:00.000000", "TIMESTAMP_TZ"),
        timestamp_literal("9999-12-30 23:59:59.999999", "TIMESTAMP_TZ"),
    ),
}
CURSOR_LIMITS["TIMESTAMP_TZ"] = CURSOR_LIMITS["TIMESTAMP_LTZ"]


def within_cursor_range(ident: str, key_type: str) -> str:
    """The condition a key value must meet to be held by a cursor; TRUE for numbers."""
    return between(ident, CURSOR_LIMITS.get(key_type))


def time_travel(statement_id: str) -> str:
    """`AT(STATEMENT => '<query id>')`: the table as it was when that statement ran."""
    return f"AT(STATEMENT => {text_literal(statement_id)})"


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


class SnowflakeDialect(Dialect[SnowflakeColumn]):
    column_class = SnowflakeColumn
    begin_sql = "BEGIN TRANSACTION"

    date_literal = staticmethod(date_literal)
    decimal_keys = True
    key_range = staticmethod(within_cursor_range)

    def key_type(self, column: SnowflakeColumn) -> str:
        return column.data_type

    def key_text(self, desc: TableDescription, keys: Sequence[str]) -> str:
        return "'(' || CONCAT_WS(', ', " + ", ".join(f"{self.ident(k)}::VARCHAR" for k in keys) + ") || ')'"

    def describe(self, rows: Rows, records: Records, schema: str, table: str) -> TableDescription | None:
        """The table's columns and primary key, or None when no such table or view exists.

        `records(sql)` answers rows as dicts keyed by lower-case column name (what SHOW commands answer).
        """
        found = rows(COLUMNS_SQL.format(schema=text_literal(schema), table=text_literal(table)))
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
        key = self.primary_key(records, schema, table)
        return TableDescription(schema, table, columns, key, primary_key_enforced=False)

    def primary_key(self, records: Records, schema: str, table: str) -> tuple[str, ...]:
        """The declared primary key's columns in key order; none for a view (SHOW answers an error)."""
        try:
            found = records(f"SHOW PRIMARY KEYS IN TABLE {qualified(schema, table)}")
        except Exception:  # a view, or a database where SHOW is not allowed: no key is known
            return ()
        ordered = sorted(found, key=lambda r: int(r.get("key_sequence") or 0))
        return tuple(str(r["column_name"]) for r in ordered)

    def similar_tables(self, rows: Rows, schema: str, table: str) -> list[str]:
        found = rows(SIMILAR_SQL.format(schema=text_literal(schema), table=text_literal(table)))
        return [f"{s}.{t}" for s, t in found if (s, t) != (schema, table)][:5]
