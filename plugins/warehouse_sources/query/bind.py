"""Hands a contained connection exactly what a checked statement reads, and nothing else.

Each name the statement (or a view it reads, recursively) uses becomes a saved view or a
registered Arrow dataset; each `as_of(table, x)` call becomes a dataset of that Delta version,
registered under a name the `as_of` table macro computes from the same two arguments. A name
that is neither a view, a table nor a WITH name is an error here, before DuckDB guesses.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.query.errors import QueryError
from warehouse_sources.query.statement import AsOf, Statement, check_statement
from warehouse_sources.query.tables import WarehouseTables, local_data_files
from warehouse_sources.query.views import SavedViews

if TYPE_CHECKING:
    from deltalake import DeltaTable

AS_OF_PREFIX = "__as_of__"
DATASET_PREFIX = "__delta_dataset_"
# query_table() reads its argument as a (qualified) name: a digest keeps dots and spaces out of it
AS_OF_KEY = "'{prefix}' || md5({table} || '@' || CAST({version} AS VARCHAR))"
AS_OF_MACRO = "CREATE TEMP MACRO as_of(table_name, version) AS TABLE SELECT * FROM query_table({key})".format(
    key=AS_OF_KEY.format(prefix=AS_OF_PREFIX, table="table_name", version="version")
)


class Binder:
    """Registers, on one connection, the tables and views the statements it is given read."""

    def __init__(self, conn: Any, tables: WarehouseTables, views: SavedViews) -> None:
        self._conn = conn
        self._tables = tables
        self._views = views
        self._bound: set[str] = set()
        self._as_of: set[str] = set()
        self._datasets: list[str] = []
        self.native: dict[str, list[str]] = {}  # name -> the data files DuckDB reads itself
        self.tables_read: set[str] = set()  # warehouse tables read, through views and as_of too

    @property
    def allowed_files(self) -> list[str]:
        """Every data file read natively: the only paths the locked connection may open."""
        return [f for files in self.native.values() for f in files]

    def bind(self, statement: Statement, within: tuple[str, ...] = ()) -> None:
        ctes = {name.lower() for name in statement.ctes}
        for name in sorted(statement.names):
            if name.lower() not in ctes and name.lower() not in self._bound:
                self._bind_name(name, within)
        for call in statement.as_of:
            self._bind_as_of(call)

    def _bind_name(self, name: str, within: tuple[str, ...]) -> None:
        view = self._views.get(name)
        if view is not None:
            if view.name.lower() in within:
                raise QueryError(f"view {view.name!r} ({view.path}) reads itself: {' -> '.join((*within, view.name))}")
            if self._tables.open(name) is not None:
                raise QueryError(
                    f"{name!r} is both a saved view ({view.path}) and a warehouse table; rename the view's file"
                )
            self.bind(check_statement(self._conn, view.sql), (*within, view.name.lower()))
            self._conn.execute(f"CREATE TEMP VIEW {_ident(view.name)} AS {view.sql}")
        else:
            table = self._tables.open(name)
            if table is None:
                where = f" (read by view {within[-1]!r})" if within else ""
                raise QueryError(
                    f"no table or view named {name!r} in the warehouse{where}; tables are named by their synced "
                    "name (table_prefix + table, e.g. billing_charges), views by their file in views_dir"
                )
            self._register(name, table)
            self.tables_read.add(name)
        self._bound.add(name.lower())

    def _bind_as_of(self, call: AsOf) -> None:
        key_sql = AS_OF_KEY.format(prefix=AS_OF_PREFIX, table="$1", version=call.argument)
        ((key, when),) = self._conn.execute(f"SELECT {key_sql}, {call.argument}", [call.table]).fetchall()
        self.tables_read.add(call.table)
        if key in self._as_of:
            return
        if not isinstance(when, (int, datetime, date)):
            raise QueryError(f"as_of({call.table!r}, {call.argument}): give a version number or a TIMESTAMP")
        if not self._as_of:
            self._conn.execute(AS_OF_MACRO)
        self._register(key, self._tables.as_of(call.table, when))
        self._as_of.add(key)

    def _register(self, name: str, table: DeltaTable) -> None:
        """`name` reads `table`: its Parquet files by DuckDB's own reader where that gives the same
        columns and types as the table's Arrow dataset (local tables), else the dataset itself."""
        hidden = f"{DATASET_PREFIX}{len(self._datasets)}"
        self._conn.register(hidden, table.to_pyarrow_dataset())
        self._datasets.append(hidden)
        files = local_data_files(table)
        if files and self._same_columns(name, hidden, files):
            self.native[name] = files
            return
        self._conn.execute(f"CREATE OR REPLACE TEMP VIEW {_ident(name)} AS SELECT * FROM {_ident(hidden)}")

    def _same_columns(self, name: str, hidden: str, files: list[str]) -> bool:
        described = f"SELECT column_name, column_type FROM (DESCRIBE {_ident(hidden)})"
        expected = self._conn.execute(described).fetchall()
        columns = ", ".join(_ident(column) for column, _ in expected)
        paths = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
        try:
            self._conn.execute(
                f"CREATE OR REPLACE TEMP VIEW {_ident(name)} AS "
                f"SELECT {columns} FROM read_parquet({paths}, union_by_name = true)"
            )
            found = self._conn.execute(described.replace(_ident(hidden), _ident(name))).fetchall()
        except duckdb_error():  # a file gone (as_of after vacuum) or unreadable: the dataset says why
            return False
        return bool(found == expected)


def duckdb_error() -> type[Exception]:
    import duckdb

    return duckdb.Error


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
