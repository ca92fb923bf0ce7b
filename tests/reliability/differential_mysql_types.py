"""The MySQL/MariaDB types the differential fuzzer puts in its tables, and the values it writes.

Every row of README "Type mapping (MySQL -> Delta)" has an entry (`TYPES`), as the same `PgType`
record the PostgreSQL fuzzer uses, so its oracle (differential_oracle.py) compares both kinds:
the column's SQL, how the warehouse stores it, and what a widening makes of it. Values are
hypothesis strategies of SQL literals (None for NULL), edge values included: integer and
unsigned extremes, float32 digits, extremes and denormals, DECIMAL(65,30), BIT(64), YEAR 0,
TIME's +-838 hours, zero dates and days past the month's end, text under case-insensitive,
PAD SPACE and binary collations, latin1, non-ASCII keys.

Tables are written in a lax session (`sql_mode` ALLOW_INVALID_DATES only), so what a server
clamps or truncates is simply what the source holds: the oracle reads it back.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from hypothesis import strategies as st

from tests.reliability.differential_types import PgType, texts
from tests.reliability.differential_values import DAY_US, EPOCH

Off = frozenset[str]
Values = st.SearchStrategy[str | None]
FEATURES = (
    "zero_dates",  # 0000-00-00, zero month or day, year 0, days past the month's end (values and keys)
    "null_keys",  # NULL replication keys
    "yaml_key_faults",  # NULL and duplicate values of a primary key given only in YAML
    "duplicate_rows",  # exact copies of existing rows (ties at the boundary)
    "widenings",  # ALTER TABLE ... MODIFY to a wider type between syncs
    "non_ascii_keys",  # text primary keys with non-ASCII characters, case and trailing-space twins
)
SESSION_SQL = ("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'", "SET SESSION time_zone = '+00:00'")


def _t(key: str, sql: str, storage: str, **kw: object) -> PgType:
    return PgType(key, sql, storage, **kw)  # type: ignore[arg-type]


TYPES = {
    t.key: t
    for t in [
        _t("tinyint", "TINYINT", "int8"),
        _t("tinyint_u", "TINYINT UNSIGNED", "int16"),
        _t("smallint", "SMALLINT", "int16"),
        _t("smallint_u", "SMALLINT UNSIGNED", "int32"),
        _t("mediumint", "MEDIUMINT", "int32"),
        _t("mediumint_u", "MEDIUMINT UNSIGNED", "int32"),
        _t("int", "INT", "int32", widen_to="bigint"),
        _t("int_u", "INT UNSIGNED", "int64"),
        _t("bigint", "BIGINT", "int64"),
        _t("bigint_u", "BIGINT UNSIGNED", "decimal", scale=(20, 0)),
        _t("bool", "TINYINT(1)", "bool"),
        _t("bool_key", "TINYINT(1)", "int8"),  # in the primary key: its values identify rows
        _t("dec10_2", "DECIMAL(10,2)", "decimal", scale=(10, 2), widen_to="dec12_3"),
        _t("dec12_3", "DECIMAL(12,3)", "decimal", scale=(12, 3)),
        _t("dec38_10", "DECIMAL(38,10)", "decimal", scale=(38, 10)),
        _t("dec65_30", "DECIMAL(65,30)", "numeric_text"),
        _t("float", "FLOAT", "float32", widen_to="double"),
        _t("double", "DOUBLE", "float64"),
        _t("bit1", "BIT(1)", "int64"),
        _t("bit10", "BIT(10)", "int64"),
        _t("bit64", "BIT(64)", "decimal", scale=(20, 0)),
        _t("year", "YEAR", "int16"),
        _t("char", "CHAR(5)", "string"),
        _t("varchar_ci", "VARCHAR(12) COLLATE utf8mb4_general_ci", "string"),  # case-insensitive, PAD SPACE
        _t("varchar_bin", "VARCHAR(12) COLLATE utf8mb4_bin", "string"),
        _t("varchar_nopad", "VARCHAR(12) COLLATE utf8mb4_general_nopad_ci", "string"),
        _t("latin1", "VARCHAR(12) CHARACTER SET latin1", "string"),
        _t("text", "TEXT", "string"),
        _t("varbinary", "VARBINARY(8)", "binary"),
        _t("binary4", "BINARY(4)", "binary"),
        _t("blob", "BLOB", "binary"),
        _t("json", "JSON", "text"),
        _t("enum", "ENUM('a', 'B c', 'é', '表')", "text"),
        _t("set", "SET('x', 'Y', 'z z')", "text"),
        _t("time", "TIME(3)", "text"),
        _t("date", "DATE", "date", widen_to="datetime"),
        _t("datetime", "DATETIME(6)", "timestamp"),
        _t("timestamp", "TIMESTAMP(6) NULL", "timestamp"),
    ]
}
KEY_TYPES = ("int", "bigint", "bigint_u", "date", "datetime", "timestamp")  # replication keys
PK_TYPES = ("int", "bigint_u", "varchar_ci", "varchar_bin", "bool_key")  # primary-key columns
VALUE_TYPES = tuple(k for k in TYPES if k not in ("dec12_3", "bool_key"))
TEXT_PK_TYPES = ("varchar_ci", "varchar_bin")
# TIMESTAMP holds 1970-01-01 00:00:01 to 2038-01-19 03:14:07.999999 UTC; DATETIME years 1 to 9999.
TIMESTAMP_US = (1_000_000, 2_147_483_647_999_999)


def _integers(low: int, high: int) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([low, high, 0, -1 if low < 0 else 1]), st.integers(low, high)).map(str)


def _signed(bits: int) -> st.SearchStrategy[str]:
    return _integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def _unsigned(bits: int) -> st.SearchStrategy[str]:
    return _integers(0, 2**bits - 1)


def _scaled(n: int, scale: int) -> str:
    digits = str(abs(n)).rjust(scale + 1, "0")
    return ("-" if n < 0 else "") + (digits if scale == 0 else f"{digits[:-scale]}.{digits[-scale:]}")


def _fixed(precision: int, scale: int) -> st.SearchStrategy[str]:
    top = 10**precision - 1
    edges = st.sampled_from([top, -top, 0, 1, -1])
    return st.one_of(edges, st.integers(-top, top)).map(lambda n: _scaled(n, scale))


# float32 values whose 7th-9th significant digits matter, its extremes and denormals.
FLOAT_EDGES = ["37.774929", "16777217", "0.1", "1.4e-45", "-1.17549435e-38", "3.40282e38", "-3.40282e38", "-0.0"]
DOUBLE_EDGES = ["1.7976931348623157e308", "-2.2250738585072014e-308", "5e-324", "0.1", "9007199254740993"]


def _floats(width: int, edges: list[str]) -> st.SearchStrategy[str]:
    drawn = st.floats(width=width, allow_nan=False, allow_infinity=False).map(repr)  # type: ignore[arg-type]
    return st.one_of(st.sampled_from(edges), drawn)


def _bits(n: int) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([0, 2**n - 1]), st.integers(0, 2**n - 1)).map(lambda v: f"b'{v:b}'")


def text_literal(value: str) -> str:
    """A utf8mb4 string literal from hex digits: no character is interpreted, whatever the sql_mode."""
    return f"CONVERT(X'{value.encode().hex()}' USING utf8mb4)" if value else "''"


# Twins under a case-insensitive or PAD SPACE collation, and other non-ASCII text.
TWINS = ["abc", "ABC", "abc ", "Ärger", "ärger", "é", "e\u0301", "ß", "ss", "İ", "i", " "]


def _texts(off: Off, size: int, extra: list[str] | None = None) -> st.SearchStrategy[str]:
    return st.one_of(texts(off, size), st.sampled_from(extra or TWINS)).map(text_literal)


def _latin1() -> st.SearchStrategy[str]:
    alphabet = st.characters(min_codepoint=1, max_codepoint=255, blacklist_categories=("Cs",))
    return st.text(alphabet, max_size=12).map(text_literal)


def _binary(size: int) -> st.SearchStrategy[str]:
    return st.binary(max_size=size).map(lambda b: f"X'{b.hex()}'")


def _json() -> st.SearchStrategy[str]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                        st.text(max_size=4))  # fmt: skip
    nested = lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3)  # noqa: E731
    tree = st.recursive(scalars, nested, max_leaves=5)
    return tree.map(lambda v: text_literal(json.dumps(v, ensure_ascii=False)))


def _sets() -> st.SearchStrategy[str]:
    members = st.lists(st.sampled_from(["x", "Y", "z z"]), max_size=3, unique=True)
    return members.map(lambda m: text_literal(",".join(m)))


def _times() -> st.SearchStrategy[str]:
    edges = st.sampled_from(["-838:59:59.000", "838:59:59", "00:00:00", "-00:00:01.5", "24:00:00"])
    drawn = st.integers(-838 * 3600_000, 838 * 3600_000 + 3599_999)
    rendered = drawn.map(lambda ms: f"{'-' if ms < 0 else ''}{abs(ms) // 3600_000}:{abs(ms) // 60_000 % 60:02d}:"
                                    f"{abs(ms) // 1000 % 60:02d}.{abs(ms) % 1000:03d}")  # fmt: skip
    return st.one_of(edges, rendered).map(lambda t: f"'{t}'")


NOT_DATES = ["0000-00-00", "2024-02-30", "2023-02-29", "2024-04-31", "2024-00-10", "2024-06-00", "0000-06-15"]


def _dates(off: Off) -> st.SearchStrategy[str]:
    values = [st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat)]
    values.append(st.sampled_from(["0001-01-01", "9999-12-31", "2024-02-29"]))
    values += [] if "zero_dates" in off else [st.sampled_from(NOT_DATES)]
    return st.one_of(values).map(lambda d: f"'{d}'")


def _datetimes(off: Off, low: datetime, high: datetime, edges: list[str], zero: list[str]) -> st.SearchStrategy[str]:
    values = [st.datetimes(low, high).map(lambda d: d.isoformat(sep=" ")), st.sampled_from(edges)]
    values += [] if "zero_dates" in off else [st.sampled_from(zero)]
    return st.one_of(values).map(lambda d: f"'{d}'")


DATETIME_EDGES = ["0001-01-01 00:00:00", "9999-12-31 23:59:59.999999", "2024-02-29 12:00:00.5"]
DATETIME_ZERO = ["0000-00-00 00:00:00", "2024-02-30 12:00:00.5", "2024-00-01 00:00:00", "2023-02-29 23:59:59.999999"]
TIMESTAMP_EDGES = ["1970-01-01 00:00:01", "2038-01-19 03:14:07.999999"]


def _strategy(key: str, off: Off) -> st.SearchStrategy[str]:
    bits = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "bigint": 64}
    if key in bits:
        return _signed(bits[key])
    if key.endswith("_u") and key[:-2] in bits:
        return _unsigned(bits[key[:-2]])
    simple: dict[str, st.SearchStrategy[str]] = {
        "bool": st.sampled_from(["0", "1", "-1", "2", "127", "-128"]),
        "bool_key": _integers(-128, 127),
        "dec10_2": _fixed(10, 2), "dec12_3": _fixed(12, 3), "dec38_10": _fixed(38, 10), "dec65_30": _fixed(65, 30),
        "float": _floats(32, FLOAT_EDGES), "double": _floats(64, DOUBLE_EDGES),
        "bit1": _bits(1), "bit10": _bits(10), "bit64": _bits(64),
        "year": st.one_of(st.sampled_from(["0", "1901", "2155"]), st.integers(1901, 2155).map(str)),
        "char": _texts(off, 5), "varchar_ci": _texts(off, 12), "varchar_bin": _texts(off, 12),
        "varchar_nopad": _texts(off, 12), "latin1": _latin1(), "text": _texts(off, 30),
        "varbinary": _binary(8), "binary4": _binary(4), "blob": _binary(20), "json": _json(),
        "enum": st.sampled_from(["a", "B c", "é", "表"]).map(text_literal), "set": _sets(), "time": _times(),
        "date": _dates(off),
        "datetime": _datetimes(off, datetime(1900, 1, 1), datetime(2100, 12, 31), DATETIME_EDGES, DATETIME_ZERO),
        "timestamp": _datetimes(off, datetime(1970, 1, 2), datetime(2038, 1, 18), TIMESTAMP_EDGES,
                                ["0000-00-00 00:00:00"]),
    }  # fmt: skip
    return simple[key]


def values(type_key: str, off: Off) -> Values:
    """Values of a type as SQL literals, NULL (None) included."""
    strategy = _strategy(type_key, off)
    return st.one_of(st.none(), strategy, strategy)


def widenable(type_key: str, off: Off) -> bool:
    return "widenings" not in off and bool(TYPES[type_key].widen_to)


def render_key(type_key: str, value: int) -> str:
    """A readable replication key (an integer, days or microseconds since 1970) as a literal."""
    if TYPES[type_key].storage not in ("date", "timestamp"):
        return str(value)
    if type_key == "date":
        return f"'{(EPOCH + timedelta(days=value)).date().isoformat()}'"
    return f"'{(EPOCH + timedelta(microseconds=value)).replace(tzinfo=None).isoformat(sep=' ')}'"


def unreadable_keys(type_key: str, off: Off) -> list[str | None]:
    """Replication keys no cursor holds: NULL, and for dates the zero and impossible ones."""
    keys: list[str | None] = [] if "null_keys" in off else [None]
    if "zero_dates" in off or TYPES[type_key].storage not in ("date", "timestamp"):
        return keys
    if type_key == "timestamp":
        return keys + ["'0000-00-00 00:00:00'"]
    suffix = "" if type_key == "date" else " 10:00:00"
    return keys + [f"'{d}{suffix}'" for d in NOT_DATES]


def key_limits(type_key: str) -> tuple[int, int]:
    """The readable range of a replication key, in its kind's unit."""
    days = ((datetime(1, 1, 1) - datetime(1970, 1, 1)).days, (datetime(9999, 12, 31) - datetime(1970, 1, 1)).days)
    limits = {
        "int": (-(2**31), 2**31 - 1),
        "bigint": (-(2**63), 2**63 - 1),
        "bigint_u": (0, 2**64 - 1),
        "date": days,
        "datetime": (days[0] * DAY_US, (days[1] + 1) * DAY_US - 1),
        "timestamp": TIMESTAMP_US,
    }
    return limits[type_key]
