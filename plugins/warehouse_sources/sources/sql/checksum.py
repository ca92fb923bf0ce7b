"""Per-key-range checksums of a SQL table, for the deep verification (engine/verify_deep.py).

Each row becomes one text (its columns rendered by type, joined with '|', NULL as <null>), hashed with
MD5, of which the first 32 bits are summed per key range with the row count. The warehouse side
(DuckDB over the Delta table) renders the same way, so equal rows hash equal: integers and text as
they are, decimals at the warehouse column's scale, timestamps as UTC epoch microseconds, dates as
YYYY-MM-DD, booleans as 1/0. Other types (floats, binary, nested) are left out of the hash, and
the verification says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse_sources.sources.base import TableDescription
    from warehouse_sources.sources.sql.reader import SqlTableReader

# What a column becomes in the row text: the warehouse type's family, and its decimal (p, s).
Rendering = tuple[str, tuple[int, int] | None]

_YEAR_1, _YEAR_10000 = -62135596800, 253402300800  # epoch seconds of 0001-01-01 and 10000-01-01, UTC
_POSTGRES = {
    "int": "CAST({c} AS TEXT)",
    "text": "CAST({c} AS TEXT)",  # as the reader selects a type it does not read natively (inet: '::1/128')
    # char(n) is read natively, padded: CONCAT renders through the type's output as the read does,
    # where a CAST to text drops the padding.
    "padded": "CASE WHEN {c} IS NOT NULL THEN CONCAT({c}) END",
    # What the warehouse stores as NULL renders as NULL: NaN and infinite numerics, infinite
    # timestamps and dates, and years outside 1-9999 (TO_CHAR would drop a BC date's era).
    "decimal": "CASE WHEN {c} IN ('NaN', 'Infinity', '-Infinity') THEN NULL "
    "ELSE CAST(CAST({c} AS NUMERIC({p}, {s})) AS TEXT) END",
    "timestamp": f"CASE WHEN EXTRACT(EPOCH FROM {{c}}) >= {_YEAR_1} AND EXTRACT(EPOCH FROM {{c}}) < {_YEAR_10000} "
    "THEN CAST(CAST(EXTRACT(EPOCH FROM {c}) * 1000000 AS BIGINT) AS TEXT) END",
    "date": "CASE WHEN {c} >= DATE '0001-01-01' AND {c} < DATE '10000-01-01' THEN TO_CHAR({c}, 'YYYY-MM-DD') END",
    "bool": "CASE WHEN {c} THEN '1' WHEN NOT {c} THEN '0' END",
    "row_hash": "CAST(CAST('x' || SUBSTR(MD5({t}), 1, 8) AS BIT(32)) AS BIGINT)",
}
_MYSQL = {
    "int": "CAST({c} + 0 AS CHAR)",  # + 0: a YEAR renders 0 as '0000' and a BIT as its bytes otherwise
    "text": "CAST({c} AS CHAR)",
    "decimal": "CAST(CAST({c} AS DECIMAL({p}, {s})) AS CHAR)",
    # A zero date, a zero month or day, or year 0 (no Delta date holds them, they are stored as
    # NULL): `+ INTERVAL 0 DAY` is NULL for each.
    "timestamp": "CASE WHEN {c} + INTERVAL 0 DAY IS NOT NULL "
    "THEN CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {c}) AS CHAR) END",
    "date": "CASE WHEN {c} + INTERVAL 0 DAY IS NOT NULL THEN DATE_FORMAT({c}, '%Y-%m-%d') END",
    "bool": "CASE WHEN {c} <> 0 THEN '1' WHEN {c} = 0 THEN '0' END",
    "row_hash": "CAST(CONV(SUBSTRING(MD5({t}), 1, 8), 16, 10) AS UNSIGNED)",
}
DUCKDB = {
    "int": "CAST({c} AS VARCHAR)",
    "text": "CAST({c} AS VARCHAR)",
    "decimal": "CAST({c} AS VARCHAR)",
    "timestamp": "CAST(epoch_us({c}) AS VARCHAR)",
    "date": "strftime({c}, '%Y-%m-%d')",
    "bool": "CASE WHEN {c} THEN '1' WHEN NOT {c} THEN '0' END",
    "row_hash": "CAST('0x' || substr(md5({t}), 1, 8) AS BIGINT)",
}
_BY_DIALECT = {"PostgresDialect": _POSTGRES, "MySQLDialect": _MYSQL}  # the kinds whose SQL is checked


def renderings_of(reader: Any) -> dict[str, str] | None:
    """The kind's renderings, or None for a kind the deep verification does not speak yet."""
    return _BY_DIALECT.get(type(getattr(reader, "dialect", None)).__name__)


def row_hash_sql(forms: dict[str, str], columns: Sequence[tuple[str, Rendering]], ident: Any) -> str:
    """The hash of one row's text; `ident` quotes a column name."""
    parts = []
    for name, (family, scale) in columns:
        p, s = scale or (0, 0)
        rendered = forms[family].format(c=ident(name), p=p, s=s)
        parts.append(f"COALESCE({rendered}, '<null>')")
    text = "CONCAT_WS('|', " + ", ".join(parts) + ")" if parts else "''"
    return forms["row_hash"].format(t=text)


def bucket_sql(key: str, bounds: Sequence[str]) -> str:
    """Which of the ranges cut at `bounds` (literals, ascending) key `key` falls in: 0 .. len(bounds)."""
    if not bounds:
        return "0"
    whens = " ".join(f"WHEN {key} < {b} THEN {i}" for i, b in enumerate(bounds))
    return f"CASE {whens} ELSE {len(bounds)} END"


def range_checksums(
    reader: SqlTableReader[Any],
    desc: TableDescription,
    columns: Sequence[tuple[str, Rendering]],
    key: str,
    bounds: Sequence[Any],
    where: str,
) -> dict[int, tuple[int, int]]:
    """{range number: (rows, hash sum)} over the rows matching `where`, cut at the key values `bounds`."""
    forms = renderings_of(reader)
    if forms is None:
        raise NotImplementedError(f"deep verification does not speak {type(reader.dialect).__name__} yet")
    ident = reader.dialect.ident
    padded = {c.name for c in desc.columns if getattr(c, "type_name", "") == "bpchar"} if "padded" in forms else set()
    columns = [(name, ("padded", None) if name in padded else rendering) for name, rendering in columns]
    literals = [reader.dialect.cursor_literal(desc, key, b) for b in bounds]
    bucket = bucket_sql(ident(key), literals)
    hashed = row_hash_sql(forms, columns, ident)
    inner = f"SELECT {bucket} AS b, {hashed} AS h FROM {reader.table_sql(desc)} WHERE {where or 'TRUE'}"
    rows = reader.rows(f"SELECT b, COUNT(*), SUM(h) FROM ({inner}) AS hashed GROUP BY b")
    return {int(b): (int(n), int(h or 0)) for b, n, h in rows}
