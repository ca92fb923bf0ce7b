"""MySQL/MariaDB SQL text built from names and cursor values: identifiers quoted, literals typed.

Names and text reach SQL only as backtick-quoted identifiers or as hex literals (`X'...'`),
which mean the same bytes under every `sql_mode` (a backslash escape would not survive
NO_BACKSLASH_ESCAPES). Nothing the user wrote is pasted.
"""

from __future__ import annotations

from datetime import date, datetime

from warehouse_sources.warehouse.state import CursorValue, as_utc


def quote_ident(name: str) -> str:
    """`name` wrapped in backticks, any backtick inside doubled (MySQL's own quoting rule)."""
    if "\x00" in name:
        raise ValueError("identifiers cannot contain NUL characters")
    return "`" + name.replace("`", "``") + "`"


def qualified(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def text_literal(value: str) -> str:
    """A utf8mb4 string literal from hex digits: no character of `value` is ever interpreted."""
    if "\x00" in value:
        raise ValueError("text values cannot contain NUL characters")
    return f"CONVERT(X'{value.encode().hex()}' USING utf8mb4)" if value else "''"


def bytes_literal(value: str) -> str:
    """The UTF-8 bytes of `value` as a binary literal, for exact (case-kept) name matches."""
    if "\x00" in value:
        raise ValueError("text values cannot contain NUL characters")
    return f"X'{value.encode().hex()}'"


def cursor_literal(value: CursorValue, data_type: str) -> str:
    """A typed literal for a cursor value; only ints, dates and datetimes ever get here.

    Datetimes are UTC: DATETIME keys hold UTC wall clock (the documented choice) and the
    session's time_zone is '+00:00', so TIMESTAMP keys compare in UTC too.
    """
    if isinstance(value, bool) or not isinstance(value, (int, date)):
        raise TypeError(f"unsupported cursor value {value!r}")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, datetime):
        return f"TIMESTAMP'{as_utc(value).replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'"
    if data_type != "date":
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


def within_cursor_range(ident: str, data_type: str) -> str:
    """The condition a key value must meet to be held by a cursor; TRUE for integers."""
    limits = CURSOR_LIMITS.get(data_type)
    if limits is None:
        return "TRUE"
    condition = f"{ident} BETWEEN {limits[0]} AND {limits[1]}"
    if data_type == "timestamp":  # no partial dates in a TIMESTAMP; its zero value is below the range
        return condition
    # Date arithmetic gives NULL for a date that does not exist, whatever the sql_mode.
    return f"{condition} AND MONTH({ident}) > 0 AND DAYOFMONTH({ident}) > 0 AND {ident} + INTERVAL 0 DAY IS NOT NULL"
