"""Read a bucket table (the files its pattern matches) with DuckDB, as a `SourceReader`.

The first `describe` of a table lists its files once and pins that list: the bounds, the checks
and the rows of one sync all see the same files, however the bucket changes meanwhile. A read
of "the files not loaded yet" narrows the pinned list (`restrict_files`, used by engine/files.py).
S3 objects are reached through pyarrow's S3 client wrapped for DuckDB (its own httpfs extension
is downloaded at run time, which a machine without internet cannot do).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.bucket import formats, scan
from warehouse_sources.sources.bucket.columns import (
    CURSOR_TYPE_NAMES,
    BucketColumn,
    cursor_literal,
    quote_ident,
    storable_select,
)
from warehouse_sources.sources.bucket.errors import NoFilesError, file_error, is_data_error
from warehouse_sources.sources.bucket.listing import FileEntry, Location, list_matching, open_location
from warehouse_sources.sources.bucket.s3files import duckdb_s3
from warehouse_sources.sources.bucket.spec import FileTable
from warehouse_sources.sources.values import storable_batch, storable_type
from warehouse_sources.warehouse.state import CursorValue

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_ROWS = 16 * 1024  # 64k-row batches peaked ~40 MB higher at the same speed
VIEW = "ws_files"
S3_THREADS = 8
# Local files stream to a writer that encodes on a core of its own: one DuckDB thread keeps up with
# it on Parquet (2M bench rows: 0.46 CPU-s of read against 0.75 of delta-rs encoding) and holds one
# row group at a time instead of one per thread plus the chunks kept to preserve the files' row order:
# bench reader alone 350 -> 254 MB (Parquet), 320 -> 247 MB (CSV); whole syncs 450-458 -> 383-427 MB
# and 412-438 -> 354-399 MB. One setting for the connection: this DuckDB refuses a statement while a
# result is open, so the threads cannot be given back between a read and the next table's checks.
LOCAL_THREADS = 1


class BucketReader:
    """The files of one bucket source (url + storage options), used as a context manager."""

    cursor_type_names: tuple[str, ...] = CURSOR_TYPE_NAMES

    def __init__(
        self,
        url: str,
        tables: Mapping[str, Mapping[str, Any]],
        storage_options: dict[str, str] | None = None,
        *,
        source: str = "",
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self._url = url
        self._tables = {name: FileTable.from_options(name, options) for name, options in tables.items()}
        self._storage_options = storage_options
        self._source = source
        self._batch_rows = batch_rows
        self._conn: Any = None
        self._location: Location | None = None
        self._listed: dict[str, list[FileEntry]] = {}
        self._csv_columns: dict[str, list[tuple[str, str]]] = {}
        self._types: dict[str, dict[str, str]] = {}  # per table: column types over every matched file
        self._delta: dict[str, Any] = {}
        self._s3_files: Any = None
        self._viewed: list[str] = []  # the files the view reads now (all pinned ones, or the new ones)
        self.value_notes: ValueNotes = ValueNotes()

    def __enter__(self) -> BucketReader:
        import duckdb

        # DuckDB draws a progress bar on stdout for statements over 2 s: in a task log that is a
        # wall of carriage returns; the sync logs its own progress (engine/progress.py).
        self._conn = duckdb.connect()
        self._conn.execute("SET enable_progress_bar = false")
        self._conn.execute("SET TimeZone = 'UTC'")
        self._location = open_location(self._url, self._storage_options)
        if self._location.is_s3:
            self._s3_files = duckdb_s3(self._location)
            self._conn.register_filesystem(self._s3_files)
            # Reading objects waits on the network, not the CPU: more threads keep more requests in flight.
            self._conn.execute(f"SET threads = {S3_THREADS}")
        else:
            self._conn.execute(f"SET threads = {LOCAL_THREADS}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    # -- catalog --------------------------------------------------------------------------

    def describe(self, schema: str, table: str) -> TableDescription | None:
        """The table's columns: the unified schema of its matched files (or its Delta table)."""
        spec = self._tables.get(table)
        if spec is None:
            return None
        self._pin(spec)
        rows = self._query(spec, f"DESCRIBE SELECT * FROM {VIEW}")
        columns = tuple(BucketColumn(name, type_sql) for name, type_sql, *_ in rows)
        return TableDescription(schema, table, columns, ())

    def similar_tables(self, schema: str, table: str) -> list[str]:
        return sorted(self._tables)

    def listed_files(self, desc: TableDescription) -> list[FileEntry]:
        """The files pinned for this sync (empty for a Delta table, which is read by version)."""
        return list(self._listed.get(desc.table, []))

    def reloads_changed_files(self, desc: TableDescription) -> bool:
        return self._tables[desc.table].on_file_change == "reload"

    def restrict_files(self, desc: TableDescription, rels: list[str]) -> None:
        """Read only these files (a subset of the pinned list) from now on."""
        spec = self._tables[desc.table]
        self._view(spec, rels)

    # -- snapshot -------------------------------------------------------------------------

    def begin_snapshot(self) -> None:
        """The file list was pinned when the table was described; nothing more to hold."""

    def end_snapshot(self) -> None:
        """Nothing to release (DuckDB only reads)."""

    # -- cursor reads ---------------------------------------------------------------------

    def key_condition(self, desc: TableDescription, key: str, op: str, value: CursorValue) -> str:
        column = _column(desc, key)
        return f"{quote_ident(key)} {op} {cursor_literal(value, column)}"

    def key_bounds(self, desc: TableDescription, key: str, lower: CursorValue | None) -> tuple[Any, int]:
        """(max key at or above `lower`, rows whose key no cursor can hold: NULL, or a date outside
        years 1-9999) over the pinned files."""
        ident, in_range = quote_ident(key), _column(desc, key).in_cursor_range_sql()
        above = self.key_condition(desc, key, ">=", lower) if lower is not None else "TRUE"
        sql = (
            f"SELECT max({ident}) FILTER (WHERE {above} AND {in_range}), "
            f"count(*) FILTER (WHERE {ident} IS NULL OR NOT ({in_range})) FROM {VIEW}"
        )
        ((upper, nulls),) = self._query(self._tables[desc.table], sql)
        return upper, int(nulls)

    def key_problems(self, desc: TableDescription, keys: tuple[str, ...], where: str) -> tuple[int, str | None]:
        idents = ", ".join(quote_ident(k) for k in keys)
        condition = where or "TRUE"
        any_null = " OR ".join(f"{quote_ident(k)} IS NULL" for k in keys)
        nulls = f"SELECT count(*) FROM {VIEW} WHERE ({condition}) AND ({any_null})"
        dup = (
            f"SELECT CAST(ROW({idents}) AS VARCHAR) FROM {VIEW} WHERE {condition} GROUP BY {idents} "
            "HAVING count(*) > 1 LIMIT 1"
        )
        ((null_rows, duplicate),) = self._query(self._tables[desc.table], f"SELECT ({nulls}), ({dup})")
        return int(null_rows), duplicate

    def value_range(self, desc: TableDescription, column: str, where: str) -> tuple[Any, Any]:
        ident = quote_ident(column)
        sql = f"SELECT min({ident}), max({ident}) FROM {VIEW} WHERE {where or 'TRUE'}"
        ((low, high),) = self._query(self._tables[desc.table], sql)
        return low, high

    def read(
        self, desc: TableDescription, where: str = "", text_columns: frozenset[str] = frozenset()
    ) -> pa.RecordBatchReader:
        """Stream the pinned files' rows matching `where` in batches of `batch_rows` rows."""
        import duckdb
        import pyarrow as pa

        spec = self._tables[desc.table]
        if spec.format == "csv":  # only the files read now: a run of new files fetches no old header
            names = [name for name, _ in self._csv_columns[spec.name]]
            scan.check_csv_headers(self._require_location(), spec, self._viewed, names, self._where(spec))
        present = {name for name, *_ in self._query(spec, f"DESCRIBE SELECT * FROM {VIEW}")}
        columns = [_column(desc, c.name) for c in desc.columns]
        select = ", ".join(c.select_sql() if c.name in present else c.absent_sql() for c in columns)
        sql = f"SELECT {select} FROM {VIEW}" + (f" WHERE {where}" if where else "")
        try:
            raw = self._conn.sql(sql).to_arrow_reader(self._batch_rows)
        except duckdb.Error as exc:
            raise self._file_error(spec, exc) from None

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for batch in raw:
                    yield storable_batch(batch, self.value_notes)
            except duckdb.Error as exc:
                raise self._file_error(spec, exc) from None
            except OSError as exc:  # an error DuckDB meets mid-stream reaches us through Arrow as an OSError
                if not is_data_error(exc):
                    raise
                raise self._file_error(spec, exc) from None

        schema = pa.schema([f.with_type(storable_type(f.type)) for f in raw.schema], metadata=raw.schema.metadata)
        return pa.RecordBatchReader.from_batches(schema, batches())

    # -- internals ------------------------------------------------------------------------

    def _where(self, spec: FileTable) -> str:
        return f"source {self._source!r}, table {spec.name!r}"

    def _pin(self, spec: FileTable) -> None:
        """List the table's files once (or open its Delta table once) and make the view over them."""
        assert self._location is not None
        if spec.format == "delta":
            return self._pin_delta(spec)
        if spec.name not in self._listed:
            entries = list_matching(self._location, spec.pattern, self._source, spec.name)
            if not entries:
                raise NoFilesError(
                    f"{self._where(spec)}: pattern {spec.pattern!r} matches no file under {self._url}; fix "
                    "tables[].pattern (a glob relative to url: * within a folder, ** across folders) or url, "
                    "or check that the files were written"
                )
            self._listed[spec.name] = entries
            if self._s3_files is not None:
                self._s3_files.remember(self._location, entries)
        self._view(spec, [e.rel for e in self._listed[spec.name]])

    def _pin_delta(self, spec: FileTable) -> None:
        if spec.name not in self._delta:
            uri = self._url.rstrip("/") + "/" + spec.pattern.strip("/")
            self._delta[spec.name] = formats.delta_dataset(uri, self._storage_options, self._where(spec))
            self._conn.register(f"{VIEW}_delta", self._delta[spec.name])
        select = storable_select(self._conn, f"SELECT * FROM {VIEW}_delta")
        self._conn.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW} AS {select}")

    def _view(self, spec: FileTable, rels: list[str]) -> None:
        assert self._location is not None
        location = self._location
        where = self._where(spec)
        try:
            if spec.format == "csv":
                if spec.name not in self._csv_columns:
                    first = next(e for e in self._listed[spec.name] if e.rel == rels[0])
                    self._csv_columns[spec.name] = scan.sniff_csv_columns(self._conn, location, spec, first, where)
                paths = {rel: location.duckdb_path(rel) for rel in rels}
                inner = scan.csv_sql(spec, paths, self._csv_columns[spec.name])
            else:
                known = self._types.get(spec.name)
                inner = formats.files_sql(self._conn, location, spec, rels, where, known)
            self._viewed = rels
            self._conn.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW} AS {storable_select(self._conn, inner)}")
            # The first view covers every matched file: its types stand for a later view of some of them.
            self._types.setdefault(spec.name, {n: t for n, t, *_ in self._conn.sql(f"DESCRIBE {VIEW}").fetchall()})
        except Exception as exc:
            if _is_duckdb_or_arrow(exc):
                raise self._file_error(spec, exc, rels) from None
            raise

    def _query(self, spec: FileTable, sql: str) -> list[tuple[Any, ...]]:
        import duckdb

        try:
            return list(self._conn.sql(sql).fetchall())
        except duckdb.Error as exc:
            raise self._file_error(spec, exc) from None

    def _require_location(self) -> Location:
        assert self._location is not None
        return self._location

    def _file_error(self, spec: FileTable, exc: BaseException, rels: list[str] | None = None) -> Exception:
        assert self._location is not None
        known = rels if rels is not None else [e.rel for e in self._listed.get(spec.name, [])]
        names = {self._location.duckdb_path(rel): rel for rel in known}
        return file_error(self._where(spec), exc, names, spec.format)


def _is_duckdb_or_arrow(exc: BaseException) -> bool:
    import duckdb
    import pyarrow as pa

    return isinstance(exc, (duckdb.Error, pa.ArrowInvalid))


def _column(desc: TableDescription, name: str) -> BucketColumn:
    column = desc.column(name)
    assert isinstance(column, BucketColumn), name
    return column
