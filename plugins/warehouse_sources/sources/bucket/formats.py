"""The SQL that reads a table's Parquet or JSON lines files with one type per column (unify.py).

Each file's columns are read first (a Parquet footer; a whole JSON lines file, so a field first
seen after DuckDB's 20,480-row sample is not dropped). Files are then grouped by the types of the
columns that need a cast, each group read by one `read_parquet`/`read_json` and cast, and the
groups joined by name. Compression is chosen by the file name's suffix in any case (`.GZ` too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.bucket import scan, unify
from warehouse_sources.sources.bucket.columns import list_literal, quote_ident, quote_literal
from warehouse_sources.sources.bucket.errors import NoFilesError
from warehouse_sources.sources.bucket.listing import compression_of
from warehouse_sources.sources.bucket.spec import FileTable
from warehouse_sources.sources.bucket.unify import exact_cast_sql, is_numeric, refuse_twins

if TYPE_CHECKING:
    import pyarrow as pa

    from warehouse_sources.sources.bucket.listing import Location


@dataclass(frozen=True)
class Reading:
    """What the reads take from the YAML and the files: declared types; JSON lines' read types."""

    declared: dict[str, str]
    types: dict[str, str]


ARROW_NUMERIC = {"int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT",
                 "uint8": "UTINYINT", "uint16": "USMALLINT", "uint32": "UINTEGER", "uint64": "UBIGINT",
                 "halffloat": "FLOAT", "float": "FLOAT", "double": "DOUBLE"}  # fmt: skip
NESTED = ("STRUCT", "MAP", "JSON")
# DuckDB infers HUGEINT for a JSON column holding 0 and -1 (UBIGINT and BIGINT joined); integers
# in JSON lines are stored as BIGINT unless declared.
WIDE_JSON_INTEGERS = ("HUGEINT", "UBIGINT")
RENAMED_TWIN = re.compile(r"^(.+)_\d+$")  # DuckDB's name for a second column spelled like the first
NULL = '"NULL"'  # DuckDB's type for a JSON field that is null on every line
FileColumns = list[tuple[str, list[tuple[str, str]]]]  # per file (its rel): (column, DuckDB type)


def files_sql(
    conn: Any, location: Location, spec: FileTable, rels: list[str], where: str, known: dict[str, str] | None = None
) -> str:
    """SELECT over the table's Parquet or JSON lines files `rels`, one exact type per column. `known`:
    the types every matched file gave (when `rels` are only the new ones), for columns null in all of `rels`."""
    paths = {rel: location.duckdb_path(rel) for rel in rels}
    if spec.format == "parquet":
        files = [(rel, parquet_columns(schema)) for rel, schema in scan.check_parquet_schemas(location, rels, where)]
    else:
        files = [(rel, jsonl_columns(conn, paths[rel], rel, where)) for rel in rels]
    declared = dict(spec.columns)
    casts = unify.table_types(files, declared, where)
    if spec.format == "parquet":
        return grouped_sql("parquet", files, paths, casts, Reading(declared, {}))
    # JSON lines read a declared column as its type straight from the JSON text: no cast after.
    undeclared = {name: type_sql for name, type_sql in casts.items() if name not in declared}
    for name in {n for _, columns in files for n, t in columns if t in WIDE_JSON_INTEGERS} - set(declared):
        if undeclared.get(name, "HUGEINT") in WIDE_JSON_INTEGERS:
            undeclared[name] = "BIGINT"  # checked as read: a value beyond int64 fails, naming the fix
    types = (known or {}) | jsonl_table_types(files, declared, known or {})
    return grouped_sql("jsonl", files, paths, undeclared, Reading(declared, types))


def delta_dataset(uri: str, storage_options: dict[str, str] | None, where: str) -> Any:
    """The Delta table at `uri` (read at its latest version) as an Arrow dataset DuckDB can scan."""
    from deltalake import DeltaTable

    try:
        table = DeltaTable(uri.removeprefix("file://"), storage_options=storage_options)
    except Exception as exc:
        raise NoFilesError(
            f"{where}: no Delta table at {uri} ({' '.join(str(exc).split())[:300]}); fix tables[].pattern (the Delta "
            "table's folder, relative to url)"
        ) from None
    return table.to_pyarrow_dataset()


def parquet_columns(schema: pa.Schema) -> list[tuple[str, str]]:
    """A Parquet schema's columns with DuckDB's names for numeric types (others only need their name)."""
    import pyarrow as pa

    def name(type_: pa.DataType) -> str:
        if pa.types.is_decimal(type_):
            return f"DECIMAL({type_.precision},{type_.scale})"
        return ARROW_NUMERIC.get(str(type_), f"arrow {type_}")

    return [(field.name, name(field.type)) for field in schema]


def jsonl_columns(conn: Any, path: str, rel: str, where: str) -> list[tuple[str, str]]:
    """One JSON lines file's columns as DuckDB infers them from every line (not a sample)."""
    compression = quote_literal(compression_of(rel) or "none")
    sql = (
        f"DESCRIBE SELECT * FROM read_json({quote_literal(path)}, format='newline_delimited', sample_size=-1, "
        f"compression={compression})"
    )
    columns = [(name, type_sql) for name, type_sql, *_ in conn.sql(sql).fetchall()]
    if columns == [("json", "JSON")]:  # what DuckDB describes for a file without a line
        lines = f"SELECT count(*) FROM read_json_objects({quote_literal(path)}, compression={compression})"
        if conn.sql(lines).fetchall() == [(0,)]:
            return []
    folded = {name.casefold() for name, _ in columns}
    if any((m := RENAMED_TWIN.match(name)) and m.group(1).casefold() in folded for name, _ in columns):
        keys = (
            f"SELECT DISTINCT unnest(json_keys(json)) FROM read_json_objects({quote_literal(path)}, "
            f"format='newline_delimited', compression={compression})"
        )
        refuse_twins([key for (key,) in conn.sql(keys).fetchall()], where, rel)
    return columns


def jsonl_table_types(files: FileColumns, declared: dict[str, str], known: dict[str, str]) -> dict[str, str]:
    """Column -> the type read for it: declared; nested values as JSON text (the file's own); a
    column whose files disagree on a non-numeric type as VARCHAR (the file's text); one null on
    every line as its `known` type (what the other files give it), else VARCHAR. Numeric
    disagreements are unify.py's (each group reads its own type, then casts)."""
    types: dict[str, str] = {}
    for _, columns in files:
        for name, type_sql in columns:
            type_sql = "JSON" if any(mark in type_sql for mark in NESTED) else type_sql
            seen = types.get(name)
            if type_sql == NULL:
                types.setdefault(name, NULL)
            elif seen in (None, NULL, type_sql):
                types[name] = type_sql
            elif "JSON" in (seen, type_sql):
                types[name] = "JSON"
            elif not (is_numeric(seen or "") and is_numeric(type_sql)):
                types[name] = "VARCHAR"
    return {name: declared.get(name, known.get(name, "VARCHAR") if t == NULL else t) for name, t in types.items()}


def grouped_sql(fmt: str, files: FileColumns, paths: dict[str, str], casts: dict[str, str], read: Reading) -> str:
    """SELECT over every file: files grouped by their types of the cast columns (and compression),
    each group cast to the table's type (checked, unless declared), joined by name."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = {}
    for rel, columns in files:
        own = dict(columns)
        signature = tuple((name, own[name]) for name in casts if name in own)
        groups.setdefault((compression_of(rel) or "none", signature), []).append(rel)
    parts = []
    for (compression, signature), rels in groups.items():
        function = _function(fmt, [paths[r] for r in rels], compression, read.types | casts | dict(signature))
        replaced = [_cast(name, source, casts[name], rels, read.declared) for name, source in signature]
        kept = [sql for sql in replaced if sql]
        parts.append(f"SELECT * REPLACE ({', '.join(kept)}) FROM {function}" if kept else f"SELECT * FROM {function}")
    return " UNION ALL BY NAME ".join(parts)


def _cast(name: str, source: str, target: str, rels: list[str], declared: dict[str, str]) -> str:
    if source == target:
        return ""
    if name in declared:
        return f"CAST({quote_ident(name)} AS {target}) AS {quote_ident(name)}"
    return exact_cast_sql(name, source, target, rels)


def _function(fmt: str, paths: list[str], compression: str, types: dict[str, str]) -> str:
    if fmt == "parquet":
        return f"read_parquet({list_literal(paths)}, union_by_name=true)"
    columns = "{" + ", ".join(f"{quote_literal(n)}: {quote_literal(_read_type(t))}" for n, t in types.items()) + "}"
    return (
        f"read_json({list_literal(paths)}, format='newline_delimited', compression={quote_literal(compression)}, "
        f"columns={columns})"
    )


def _read_type(type_sql: str) -> str:
    return "JSON" if any(mark in type_sql for mark in NESTED) else type_sql
