"""The DuckDB table function that reads a table's pinned files, per format, and the checks that
keep a file which disagrees with the others from loading wrong values.

CSV: the dialect is the YAML's (never sniffed per file), the columns and their types come from
the first file (a sample of `sample_rows` rows) with declared types winning, and every file read
must carry the same header, so a ragged row or a shifted column fails naming the file and line.
Parquet and JSON lines are read by formats.py; here, Parquet files whose columns are of different
kinds (text in one, numbers in another) are refused before a row moves.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.bucket.columns import list_literal, quote_literal
from warehouse_sources.sources.bucket.errors import BucketFileError
from warehouse_sources.sources.bucket.listing import compression_of
from warehouse_sources.sources.bucket.spec import CsvDialect, FileTable
from warehouse_sources.sources.bucket.unify import refuse_twins

if TYPE_CHECKING:
    import pyarrow as pa

    from warehouse_sources.sources.bucket.listing import FileEntry, Location

HEADER_BYTES = 64 * 1024
HEADER_READERS = 16


def csv_options(dialect: CsvDialect) -> str:
    return (
        f"header={str(dialect.header).lower()}, delim={quote_literal(dialect.delimiter)}, "
        f"quote={quote_literal(dialect.quote)}, escape={quote_literal(dialect.escape)}, strict_mode=true"
    )


def csv_sql(spec: FileTable, paths: dict[str, str], csv_columns: list[tuple[str, str]]) -> str:
    """SELECT over the CSV files: one `read_csv` per compression (by suffix, any case), joined by name."""
    columns = "{" + ", ".join(f"{quote_literal(n)}: {quote_literal(t)}" for n, t in csv_columns) + "}"
    groups: dict[str, list[str]] = {}
    for rel, path in paths.items():
        groups.setdefault(compression_of(rel) or "none", []).append(path)
    return " UNION ALL BY NAME ".join(
        f"SELECT * FROM read_csv({list_literal(group)}, {csv_options(spec.csv)}, compression={quote_literal(kind)}, "
        f"auto_detect=false, columns={columns})"
        for kind, group in groups.items()
    )


def sniff_csv_columns(
    conn: Any, location: Location, spec: FileTable, first: FileEntry, where: str
) -> list[tuple[str, str]]:
    """(name, type) of the table's columns from the first file; declared types replace inferred ones."""
    if first.size == 0:
        raise BucketFileError(
            f"{where}: file {first.rel!r} is empty (0 bytes), so it has no header to take the table's columns from; "
            "remove the file or write its header, or narrow the table's pattern"
        )
    if spec.csv.header:
        refuse_twins(read_csv_header(location, spec.csv, first.rel), where, first.rel)
    path = location.duckdb_path(first.rel)
    compression = quote_literal(compression_of(first.rel) or "none")
    sql = (
        f"SELECT Columns FROM sniff_csv({quote_literal(path)}, {csv_options(spec.csv)}, "
        f"sample_size={int(spec.csv.sample_rows)}, compression={compression})"
    )
    try:
        ((columns,),) = conn.sql(sql).fetchall()
    except duckdb_error() as exc:
        cause = " ".join(str(exc).split("\n", 1)[0].split())
        raise BucketFileError(
            f"{where}: the table's columns cannot be taken from file {first.rel!r} (the first file matched): {cause}. "
            "Fix or remove the file, or set csv: header/delimiter/quote to how the files are written"
        ) from None
    return [(c["name"], spec.columns.get(c["name"], c["type"])) for c in columns]


def duckdb_error() -> type[Exception]:
    import duckdb

    return duckdb.Error


def check_csv_headers(location: Location, spec: FileTable, rels: list[str], names: list[str], where: str) -> None:
    """Each file's header must name the table's columns in order (taken from the first file)."""
    if not spec.csv.header:
        return
    with ThreadPoolExecutor(HEADER_READERS) as pool:  # small GETs: latency-bound, so many at once
        headers = list(pool.map(lambda rel: read_csv_header(location, spec.csv, rel), rels))
    for rel, header in zip(rels, headers, strict=True):
        refuse_twins(header, where, rel)
        if header != names:
            raise BucketFileError(
                f"{where}: file {rel!r} has the header {header}, but the table's columns (from the first file "
                f"matched) are {names}; every CSV file of a table must have the same columns in "
                "the same order. Move the file to a table of its own (another pattern), or resync after fixing it"
            )


def read_csv_header(location: Location, dialect: CsvDialect, rel: str) -> list[str]:
    """The first record of a (possibly gzip or zstd compressed) CSV file."""
    with location.fs.open_input_stream(location.path(rel), compression=compression_of(rel)) as stream:
        head = stream.read(HEADER_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff")
    rows = csv.reader(head.splitlines()[:1] or [""], delimiter=dialect.delimiter, quotechar=dialect.quote)
    return next(rows, [])


def check_parquet_schemas(location: Location, rels: list[str], where: str) -> list[tuple[str, pa.Schema]]:
    """Each file's schema; a file whose column is of another kind than another file's (text and a
    number, say) is refused (numbers that disagree are unify.py's to reconcile)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    seen: dict[str, tuple[pa.DataType, str]] = {}
    schemas = []
    for rel in rels:
        try:
            schema = pq.read_schema(location.path(rel), filesystem=location.fs)
        except pa.ArrowInvalid as exc:
            raise BucketFileError(
                f"{where}: file {rel!r} cannot be read as parquet: {' '.join(str(exc).split())}. Fix or remove the "
                "file (it must be a complete Parquet file), or narrow the table's pattern"
            ) from None
        schemas.append((rel, schema))
        for field in schema:
            first = seen.setdefault(field.name, (field.type, rel))
            if not _compatible(first[0], field.type):
                raise BucketFileError(
                    f"{where}: file {rel!r} has column {field.name!r} as {field.type}, but file {first[1]!r} has it "
                    f"as {first[0]}; the table's files must agree on column types. Rewrite or remove the file, or "
                    "point the table's pattern at files of one schema"
                )
    return schemas


def _compatible(a: pa.DataType, b: pa.DataType) -> bool:
    import pyarrow as pa

    if a == b:
        return True
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    if any(check(a) for check in numeric) and any(check(b) for check in numeric):
        return True
    kinds = (pa.types.is_timestamp, pa.types.is_date, pa.types.is_string, pa.types.is_large_string,
             pa.types.is_binary, pa.types.is_large_binary, pa.types.is_list, pa.types.is_large_list)  # fmt: skip
    text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    if any(check(a) for check in text) and any(check(b) for check in text):
        return True
    return any(check(a) and check(b) for check in kinds) and not (pa.types.is_list(a) and a != b)
