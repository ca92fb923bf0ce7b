"""One type per column across a table's files, chosen so that no file's value changes.

DuckDB unifies files by name on its own, case-insensitively and loosely: `v` and `V` merged (or
renamed `V_1`), a BIGINT file next to a DOUBLE file read as DOUBLE (9007199254740993 became
...992). Here each column's type is chosen from every file's type by exact rules instead:
integers widen to the narrowest integer type that holds them all; integers meet decimals as a
decimal that holds both (up to 38 digits); floats meet floats as DOUBLE; integers meet floats as
DOUBLE, each integer checked on read (a value beyond 2**53 fails the run, `exact_cast_sql`).
Anything else (a decimal next to a float) is refused naming both files, the column and both
types, unless the YAML declares the column's type. Non-numeric types are left to DuckDB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from warehouse_sources.sources.bucket.columns import quote_ident, quote_literal
from warehouse_sources.sources.bucket.errors import BucketFileError

INT_RANGES = {
    "TINYINT": (-(2**7), 2**7 - 1), "UTINYINT": (0, 2**8 - 1), "SMALLINT": (-(2**15), 2**15 - 1),
    "USMALLINT": (0, 2**16 - 1), "INTEGER": (-(2**31), 2**31 - 1), "UINTEGER": (0, 2**32 - 1),
    "BIGINT": (-(2**63), 2**63 - 1), "UBIGINT": (0, 2**64 - 1), "HUGEINT": (-(2**127), 2**127 - 1),
}  # fmt: skip
FLOATS = ("FLOAT", "DOUBLE")
DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
EXACT_IN_DOUBLE = 2**53  # every integer up to this magnitude is a double exactly


@dataclass(frozen=True)
class Seen:
    """A column's type in one file."""

    type_sql: str
    rel: str


def is_numeric(type_sql: str) -> bool:
    return type_sql in INT_RANGES or type_sql in FLOATS or bool(DECIMAL.match(type_sql))


def widest(a: str, b: str) -> str | None:
    """The numeric type that holds every value of `a` and of `b` (DOUBLE for an integer meeting a
    float: exact for the values checked on read), or None when none does."""
    if a == b:
        return a
    if a in FLOATS and b in FLOATS:
        return "DOUBLE"
    if (a in FLOATS) != (b in FLOATS):
        other = b if a in FLOATS else a
        return "DOUBLE" if other in INT_RANGES else None
    if a in INT_RANGES and b in INT_RANGES:
        low, high = min(INT_RANGES[a][0], INT_RANGES[b][0]), max(INT_RANGES[a][1], INT_RANGES[b][1])
        return next((t for t, (lo, hi) in INT_RANGES.items() if lo <= low and high <= hi), None)
    (pa, sa), (pb, sb) = _digits(a), _digits(b)
    scale = max(sa, sb)
    precision = max(pa - sa, pb - sb) + scale
    return f"DECIMAL({precision},{scale})" if precision <= 38 else None


def _digits(type_sql: str) -> tuple[int, int]:
    """(precision, scale) of a decimal, or of the decimal that holds an integer type."""
    match = DECIMAL.match(type_sql)
    if match:
        return int(match.group(1)), int(match.group(2))
    return len(str(max(abs(v) for v in INT_RANGES[type_sql]))), 0


def table_types(files: list[tuple[str, list[tuple[str, str]]]], declared: dict[str, str], where: str) -> dict[str, str]:
    """Column -> the type every file is cast to, for the numeric columns whose files disagree (and the
    declared ones). Refuses case twins (in a file or across files) and numbers no type holds exactly."""
    first: dict[str, tuple[str, Seen]] = {}  # casefolded name -> (name, its first file's type)
    chosen: dict[str, str] = {}
    for rel, columns in files:
        refuse_twins([name for name, _ in columns], where, rel)
        for name, type_sql in columns:
            known, seen = first.setdefault(name.casefold(), (name, Seen(type_sql, rel)))
            if known != name:
                raise twins_error(where, known, name, f"file {seen.rel!r} has {known!r} and file {rel!r} has {name!r}")
            if (
                name in declared
                or type_sql == seen.type_sql
                or not (is_numeric(type_sql) and is_numeric(seen.type_sql))
            ):
                continue
            wider = widest(chosen.get(name, seen.type_sql), type_sql)
            if wider is None:
                raise BucketFileError(
                    f"{where}: column {name!r} is {seen.type_sql} in file {seen.rel!r} but {type_sql} in file {rel!r}, "
                    "and no type holds every value of both exactly. Declare the column's type under columns: in the "
                    "source YAML (DOUBLE accepts rounding, DECIMAL(38,s) or VARCHAR keep more), or rewrite the files "
                    "with one type"
                )
            chosen[name] = wider
    return chosen | {name: type_sql for name, type_sql in declared.items() if name.casefold() in first}


def refuse_twins(names: list[str], where: str, rel: str) -> None:
    """Columns of one file whose names are equal but for case (or equal outright)."""
    seen: dict[str, str] = {}
    for name in names:
        if name.casefold() in seen:
            raise twins_error(where, seen[name.casefold()], name, f"file {rel!r} has both")
        seen[name.casefold()] = name


def twins_error(where: str, a: str, b: str, detail: str) -> BucketFileError:
    same = "are the same name" if a == b else "differ only by case"
    return BucketFileError(
        f"{where}: columns {a!r} and {b!r} {same} ({detail}), and warehouse column names are case-insensitive; "
        "rename one of them in the files (or point the table's pattern at files that use one spelling)"
    )


def exact_cast_sql(name: str, source: str, target: str, files: list[str]) -> str:
    """`name` cast from `source` to `target`; an integer that the target (a float, or a narrower
    integer) would change fails the read naming the column, the value and the files."""
    ident = quote_ident(name)
    cast = f"CAST({ident} AS {target})"
    if source not in INT_RANGES or not (target in FLOATS or target in INT_RANGES):
        return f"{cast} AS {ident}"
    if target in FLOATS:
        low, high = (-EXACT_IN_DOUBLE, EXACT_IN_DOUBLE) if target == "DOUBLE" else (-(2**24), 2**24)
    else:
        low, high = INT_RANGES[target]
    if low <= INT_RANGES[source][0] and INT_RANGES[source][1] <= high:
        return f"{cast} AS {ident}"
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    before = f"column {name!r} holds the integer "
    after = (
        f", and its type across the files is {target}, which cannot hold it exactly (files: {shown}). Declare the "
        "column's type under columns: in the source YAML (DECIMAL(38,s) or VARCHAR keep it; DOUBLE accepts rounding)"
    )
    message = f"{quote_literal(before)} || CAST({ident} AS VARCHAR) || {quote_literal(after)}"
    return (
        f"CASE WHEN {ident} IS NULL OR {ident} BETWEEN {low} AND {high} THEN {cast} "
        f"ELSE error({message}) END AS {ident}"
    )
