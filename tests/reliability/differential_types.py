"""The PostgreSQL types the differential fuzzer puts in its tables, and the values it writes into them.

Every row of README "Type mapping" has an entry here: its SQL, how the warehouse stores it (the
`storage` kinds that differential_values.py compares), what a widening turns it into, and a
hypothesis strategy of values written as PostgreSQL input text (None for NULL), special values
included: +-infinity, NaN, far years and BC dates, odd arrays, control characters.

Special values sit behind named features so a run can switch one class off while the engine does
not handle it yet (`FEATURES`; the test passes the set switched off).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from hypothesis import strategies as st

FEATURES = (
    "infinite_datetimes",  # +-infinity in date, timestamp, timestamptz (values and replication keys)
    "far_datetimes",  # BC dates, year 1 and 9999, years beyond 9999 (values and replication keys)
    "numeric_specials",  # NaN / +-Infinity in numeric columns
    "float_specials",  # NaN / +-Infinity / -0 in real and double columns
    "irregular_arrays",  # multi-dimensional arrays and arrays with another lower bound
    "control_characters",  # control characters in text, names and JSON
    "null_keys",  # NULL replication keys
    "yaml_key_faults",  # NULL and duplicate values of a primary key given only in YAML
    "duplicate_rows",  # exact copies of existing rows (ties at the boundary)
    "case_twins",  # two columns whose names differ only by case
    "widenings",  # ALTER COLUMN ... TYPE to a wider type between syncs
    "append_boundary_deletes",  # deleting append_only rows whose key is the cursor value
    "append_boundary_irregular_arrays",  # irregular arrays in new append_only rows at the cursor value
    "append_boundary_emptied",  # deleting the last append_only row at or above the cursor value
    "non_ascii_keys",  # text primary keys with non-ASCII characters and backslashes (escaped in SQL)
)
Off = frozenset[str]
Values = st.SearchStrategy[str | None]


@dataclass(frozen=True)
class PgType:
    """A column type: its SQL, how the warehouse stores it, and what a widening makes of it."""

    key: str
    sql: str
    storage: str  # int16 int32 int64 decimal numeric_text float32 float64 bool string binary date timestamp text array
    element: str = ""  # storage of a native array's elements
    scale: tuple[int, int] | None = None  # numeric (precision, scale)
    widen_to: str = ""


def _t(key: str, sql: str, storage: str, **kw: object) -> PgType:
    return PgType(key, sql, storage, **kw)  # type: ignore[arg-type]


TYPES = {
    t.key: t
    for t in [
        _t("int2", "smallint", "int16"),
        _t("int4", "integer", "int32", widen_to="int8"),
        _t("int8", "bigint", "int64"),
        _t("num10_2", "numeric(10,2)", "decimal", scale=(10, 2), widen_to="num12_3"),
        _t("num12_3", "numeric(12,3)", "decimal", scale=(12, 3)),
        _t("num38_10", "numeric(38,10)", "decimal", scale=(38, 10)),
        _t("num38_0", "numeric(38,0)", "decimal", scale=(38, 0)),
        _t("num50_5", "numeric(50,5)", "numeric_text", scale=(50, 5)),
        _t("numeric", "numeric", "numeric_text"),
        _t("float4", "real", "float32", widen_to="float8"),
        _t("float8", "double precision", "float64"),
        _t("bool", "boolean", "bool"),
        _t("text", "text", "string"),
        _t("varchar", "varchar(8)", "string"),
        _t("char", "char(5)", "string"),
        _t("name", "name", "string"),
        _t("date", "date", "date", widen_to="timestamp"),
        _t("timestamp", "timestamp", "timestamp"),
        _t("timestamptz", "timestamptz", "timestamp"),
        _t("time", "time", "text"),
        _t("timetz", "timetz", "text"),
        _t("interval", "interval", "text"),
        _t("json", "json", "text"),
        _t("jsonb", "jsonb", "text"),
        _t("uuid", "uuid", "text"),
        _t("bytea", "bytea", "binary"),
        _t("int2[]", "smallint[]", "array", element="int16"),
        _t("int4[]", "integer[]", "array", element="int32"),
        _t("int8[]", "bigint[]", "array", element="int64"),
        _t("float4[]", "real[]", "array", element="float32"),
        _t("float8[]", "double precision[]", "array", element="float64"),
        _t("bool[]", "boolean[]", "array", element="bool"),
        _t("text[]", "text[]", "array", element="string"),
        _t("varchar[]", "varchar[]", "array", element="string"),
        _t("date[]", "date[]", "text"),
        _t("numeric[]", "numeric[]", "text"),
        _t("uuid[]", "uuid[]", "text"),
        _t("enum", "mood", "text"),
        _t("inet", "inet", "text"),
    ]
}
KEY_TYPES = ("int4", "int8", "date", "timestamp", "timestamptz")  # replication keys
PK_TYPES = ("int4", "int8", "text", "uuid")  # primary-key columns
VALUE_TYPES = tuple(k for k in TYPES if k not in ("num12_3",))
ENUM_LABELS = ("happy", "Sad 😢", "it's", 'a"b', "NULL", " spaced ")
CREATE_ENUM = "CREATE TYPE mood AS ENUM (" + ", ".join("'" + v.replace("'", "''") + "'" for v in ENUM_LABELS) + ")"
NASTY_TEXT = ["", " ", "NULL", "\\N", "a'b", 'a"b', "back\\slash", "{1,2}", "é", "表", "🐘", "line\nbreak", "tab\t"]
CONTROL_TEXT = ["\x01", "\x1b[31m", "\r\n", "\x7f", "\x0b\x0c"]
# What follows the number in a fresh text primary key: plain ASCII (quotes the SQL doubles), or
# non-ASCII and backslashes, which merge through delta-rs's MERGE rather than the bounded path.
# None starts with a digit, so each key still names its number once.
PLAIN_KEY_SUFFIXES = ("'\"",)
NON_ASCII_KEY_SUFFIXES = ("é", "表", "🐘", "Ω'", "e\u0301", "back\\slash", "ß-ä")


def text_alphabet(off: Off) -> st.SearchStrategy[str]:
    exclude = ("Cs", "Cc") if "control_characters" in off else ("Cs",)
    return st.characters(blacklist_categories=exclude, blacklist_characters="\x00")


def texts(off: Off, max_size: int = 10) -> st.SearchStrategy[str]:
    nasty = NASTY_TEXT + ([] if "control_characters" in off else CONTROL_TEXT)
    return st.one_of(
        st.sampled_from([t for t in nasty if len(t) <= max_size]), st.text(text_alphabet(off), max_size=max_size)
    )


def _with_specials(base: st.SearchStrategy[str], specials: list[str], feature: str, off: Off) -> st.SearchStrategy[str]:
    if feature in off or not specials:
        return base
    return st.one_of(base, st.sampled_from(specials))


def _integers(bits: int) -> st.SearchStrategy[str]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return st.one_of(st.sampled_from([low, high, 0, -1]), st.integers(low, high)).map(str)


def _fixed(precision: int, scale: int) -> st.SearchStrategy[str]:
    top = 10**precision - 1
    return st.one_of(st.sampled_from([top, -top, 0, 1]), st.integers(-top, top)).map(lambda n: _scaled(n, scale))


def _scaled(n: int, scale: int) -> str:
    digits = str(abs(n)).rjust(scale + 1, "0")
    text = digits if scale == 0 else f"{digits[:-scale]}.{digits[-scale:]}"
    return ("-" if n < 0 else "") + text


def _unconstrained() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(_scaled, st.integers(-(10**60), 10**60), st.integers(0, 30)),
        st.sampled_from(["1e100", "-1e-100", "0.000000000000000000000000000001", "9" * 200]),
    )


def _floats(width: int, off: Off) -> st.SearchStrategy[str]:
    specials = "float_specials" not in off
    return st.floats(width=width, allow_nan=specials, allow_infinity=specials).map(
        lambda f: (
            "NaN" if f != f else "Infinity" if f == float("inf") else "-Infinity" if f == float("-inf") else repr(f)
        )
    )


def _dates(off: Off) -> st.SearchStrategy[str]:
    base = st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat)
    base = _with_specials(base, ["infinity", "-infinity"], "infinite_datetimes", off)
    far = ["0001-01-01", "9999-12-31", "0044-03-15 BC", "4713-01-01 BC", "12000-06-30", "200000-02-29"]
    return _with_specials(base, far, "far_datetimes", off)


def _timestamps(off: Off, zone: bool) -> st.SearchStrategy[str]:
    offsets = st.sampled_from(["+00", "+05:30", "-08", "+14", "-03:30"]) if zone else st.just("")
    moment = st.datetimes(datetime(1900, 1, 1), datetime(2100, 12, 31)).map(lambda d: d.isoformat(sep=" "))
    base = st.builds(lambda m, z: m + z, moment, offsets)
    base = _with_specials(base, ["infinity", "-infinity"], "infinite_datetimes", off)
    utc = "+00" if zone else ""
    far = [f"0001-01-01 00:00:00{utc}", f"9999-12-31 23:59:59.999999{utc}", f"0044-03-15 12:00:00.5{utc} BC"]
    far += [f"4713-01-01 00:00:00{utc} BC", f"12000-01-01 00:00:00{utc}", f"100000-06-01 08:00:00.000001{utc}"]
    return _with_specials(base, far, "far_datetimes", off)


def _times(zone: bool) -> st.SearchStrategy[str]:
    clock = st.one_of(st.times().map(time.isoformat), st.just("24:00:00"))
    return st.builds(lambda c, z: c + z, clock, st.sampled_from(["+05:30", "-08", "+00"]) if zone else st.just(""))


def _intervals() -> st.SearchStrategy[str]:
    units = ["years", "mons", "days", "hours", "mins"]
    parts = st.tuples(*[st.integers(-40, 40) for _ in units], st.integers(-59_999_999, 59_999_999))
    return parts.map(
        lambda p: " ".join(f"{n} {u}" for n, u in zip(p, units, strict=False)) + f" {p[-1] / 1e6:.6f} secs"
    )


def _json(off: Off) -> st.SearchStrategy[str]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), texts(off, 6)
    )
    values = st.recursive(
        scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(texts(off, 4), c, max_size=3), max_leaves=6
    )
    spacing = st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")])
    return st.builds(lambda v, s: json.dumps(v, ensure_ascii=False, separators=s), values, spacing)


def _array(elements: st.SearchStrategy[str], off: Off) -> st.SearchStrategy[str]:
    """PostgreSQL array input: plain lists (empty, NULL elements) and, unless switched off,
    two-dimensional ones and ones with another lower bound (`'[0:1]={7,8}'`)."""
    item = st.one_of(st.none(), elements).map(_array_item)
    plain = st.lists(item, max_size=4).map(lambda items: "{" + ",".join(items) + "}")
    if "irregular_arrays" in off:
        return plain
    square = st.integers(1, 2).flatmap(
        lambda n: st.lists(st.lists(item, min_size=n, max_size=n), min_size=1, max_size=2)
    )
    nested = square.map(lambda rows: "{" + ",".join("{" + ",".join(r) + "}" for r in rows) + "}")
    lower = st.sampled_from([0, -2, 5])
    shifted = st.builds(
        lambda lo, items: f"[{lo}:{lo + len(items) - 1}]=" + "{" + ",".join(items) + "}",
        lower,
        st.lists(item, min_size=1, max_size=3),
    )
    return st.one_of(plain, plain, nested, shifted)


def _array_item(value: str | None) -> str:
    if value is None:
        return "NULL"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bool() -> st.SearchStrategy[str]:
    return st.sampled_from(["true", "false"])


VALUES: dict[str, Callable[[Off], st.SearchStrategy[str]]] = {
    "int2": lambda off: _integers(16),
    "int4": lambda off: _integers(32),
    "int8": lambda off: _integers(64),
    "num10_2": lambda off: _with_specials(_fixed(10, 2), ["NaN"], "numeric_specials", off),
    "num12_3": lambda off: _with_specials(_fixed(12, 3), ["NaN"], "numeric_specials", off),
    "num38_10": lambda off: _with_specials(_fixed(38, 10), ["NaN"], "numeric_specials", off),
    "num38_0": lambda off: _with_specials(_fixed(38, 0), ["NaN"], "numeric_specials", off),
    "num50_5": lambda off: _with_specials(_fixed(50, 5), ["NaN"], "numeric_specials", off),
    "numeric": lambda off: _with_specials(_unconstrained(), ["NaN", "Infinity", "-Infinity"], "numeric_specials", off),
    "float4": lambda off: _floats(32, off),
    "float8": lambda off: _floats(64, off),
    "bool": lambda off: _bool(),
    "text": lambda off: texts(off),
    "varchar": lambda off: texts(off, 8),
    "char": lambda off: texts(off, 5),
    "name": lambda off: texts(off, 20),
    "date": _dates,
    "timestamp": lambda off: _timestamps(off, zone=False),
    "timestamptz": lambda off: _timestamps(off, zone=True),
    "time": lambda off: _times(zone=False),
    "timetz": lambda off: _times(zone=True),
    "interval": lambda off: _intervals(),
    "json": _json,
    "jsonb": _json,
    "uuid": lambda off: st.uuids().map(str),
    "bytea": lambda off: st.binary(max_size=8).map(lambda b: "\\x" + b.hex()),
    "int2[]": lambda off: _array(_integers(16), off),
    "int4[]": lambda off: _array(_integers(32), off),
    "int8[]": lambda off: _array(_integers(64), off),
    "float4[]": lambda off: _array(_floats(32, off), off),
    "float8[]": lambda off: _array(_floats(64, off), off),
    "bool[]": lambda off: _array(_bool(), off),
    "text[]": lambda off: _array(texts(off, 6), off),
    "varchar[]": lambda off: _array(texts(off, 6), off),
    "date[]": lambda off: _array(_dates(off), off),
    "numeric[]": lambda off: _array(_with_specials(_unconstrained(), ["NaN"], "numeric_specials", off), off),
    "uuid[]": lambda off: _array(st.uuids().map(str), off),
    "enum": lambda off: st.sampled_from(ENUM_LABELS),
    "inet": lambda off: st.one_of(st.sampled_from(["::1", "10.1.2.3/8", "2001:db8::/32"]), st.ip_addresses().map(str)),
}


def values(type_key: str, off: Off) -> Values:
    """Values of a type as PostgreSQL input text, NULL (None) included."""
    return st.one_of(st.none(), VALUES[type_key](off), VALUES[type_key](off))


def widenable(type_key: str, off: Off) -> bool:
    return "widenings" not in off and bool(TYPES[type_key].widen_to)
