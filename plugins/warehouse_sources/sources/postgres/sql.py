"""SQL text built from names and cursor values: identifiers quoted, literals typed, nothing pasted."""

from __future__ import annotations

from datetime import date, datetime

from warehouse_sources.warehouse.state import CursorValue, as_utc


def quote_ident(name: str) -> str:
    """Quote an identifier the way libpq's PQescapeIdentifier does: wrap in "" and double any "."""
    if "\x00" in name:
        raise ValueError("identifiers cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A string literal (the session sets standard_conforming_strings, so only ' needs doubling)."""
    if "\x00" in value:
        raise ValueError("text values cannot contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def qualified(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def cursor_literal(value: CursorValue, pg_type: str) -> str:
    """A typed SQL literal for a cursor value; only ints, dates and datetimes ever get here."""
    if isinstance(value, bool) or not isinstance(value, (int, date)):
        raise TypeError(f"unsupported cursor value {value!r}")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, datetime):
        utc = as_utc(value)
        if pg_type == "timestamptz":
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


def within_cursor_range(ident: str, pg_type: str) -> str:
    """`ident BETWEEN <first> AND <last>` for date and timestamp keys; TRUE for integers."""
    limits = CURSOR_LIMITS.get(pg_type)
    return f"{ident} BETWEEN {limits[0]} AND {limits[1]}" if limits else "TRUE"
