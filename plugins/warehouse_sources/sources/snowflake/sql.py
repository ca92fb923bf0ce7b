"""Snowflake SQL text built from names and cursor values: identifiers always quoted, literals typed.

Names are matched exactly as written in the source file: every identifier is double-quoted, so
Snowflake never folds it to upper case (`ANALYTICS.ORDERS` finds a table created unquoted as
`analytics.orders`; `Sales."Mixed Case"` needs the name written as stored). Text reaches SQL only
as a single-quoted literal with backslashes and quotes escaped (Snowflake reads backslash escapes
in single-quoted strings). Nothing the user wrote is pasted.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from warehouse_sources.warehouse.state import CursorValue, as_utc

TIMESTAMP_TYPES = frozenset({"TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"})


def quote_ident(name: str) -> str:
    """`name` in double quotes, any double quote inside doubled (Snowflake's quoting rule)."""
    if "\x00" in name:
        raise ValueError("identifiers cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    """`"SCHEMA"."TABLE"` in the connection's database."""
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def text_literal(value: str) -> str:
    """A single-quoted string literal: backslashes and quotes escaped, nothing else interpreted."""
    if "\x00" in value:
        raise ValueError("text values cannot contain NUL characters")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


NTZ_FORMAT = "YYYY-MM-DD HH24:MI:SS.FF6"
TZ_FORMAT = "YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM"


def cursor_literal(value: CursorValue, data_type: str) -> str:
    """A typed literal for a cursor value: an int, a decimal, a date or a datetime.

    Conversions name their format, so no session's TIMESTAMP_INPUT_FORMAT or DATE_INPUT_FORMAT
    changes what a literal means. TIMESTAMP_NTZ keys hold UTC wall clock (the documented choice);
    LTZ and TZ keys are instants, compared with a TIMESTAMP_TZ at offset +00:00.
    """
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, date)):
        raise TypeError(f"unsupported cursor value {value!r}")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"unsupported cursor value {value!r}")
        return format(value, "f")
    if not isinstance(value, datetime) and data_type in TIMESTAMP_TYPES:
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, datetime):
        text = as_utc(value).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return timestamp_literal(text, data_type)
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


def within_cursor_range(ident: str, data_type: str) -> str:
    """The condition a key value must meet to be held by a cursor; TRUE for numbers."""
    limits = CURSOR_LIMITS.get(data_type)
    return f"{ident} BETWEEN {limits[0]} AND {limits[1]}" if limits else "TRUE"


def time_travel(statement_id: str) -> str:
    """`AT(STATEMENT => '<query id>')`: the table as it was when that statement ran."""
    return f"AT(STATEMENT => {text_literal(statement_id)})"
