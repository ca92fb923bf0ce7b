"""One adapter per source kind, so the conformance checks are written once and run for every kind.

An adapter knows the kind's dialect (types, quoting, the schema a table lives in), runs SQL on
the test database through the kind's own driver, reads rows back the way the warehouse stores
them (timestamps as UTC instants), and opens the kind's `SourceReader`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class Kind:
    name: str
    uri: str
    schema: str  # where the test's tables live: "public", the MySQL database, Snowflake's "ANALYTICS"
    timestamp: str  # a UTC timestamp column type
    text: str
    quote_char: str
    integer: str = "INT"  # a narrow integer column type that `widen_integer` widens to a 64-bit one

    def quote(self, name: str) -> str:
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def table(self, name: str) -> str:
        return f"{self.quote(self.schema)}.{self.quote(name)}"

    def run(self, *statements: str) -> None:
        with self._connect() as conn:
            for statement in statements:
                conn.cursor().execute(statement)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """`rows` into `table` through the driver's parameters (timestamps given as aware UTC)."""
        names = ", ".join(self.quote(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        with self._connect() as conn:
            conn.cursor().executemany(
                f"INSERT INTO {self.table(table)} ({names}) VALUES ({marks})",
                [[self._param(v) for v in row] for row in rows],
            )

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row, as the synced table holds it, in a stable order."""
        with self._connect() as conn:
            cursor = conn.cursor()
            cursor.execute(f"SELECT * FROM {self.table(table)}")
            names = [d[0] for d in cursor.description]
            found = [dict(zip(names, (_as_utc(v) for v in row), strict=True)) for row in cursor.fetchall()]
        return sorted(found, key=lambda r: repr(sorted(r.items())))

    def plan_fields(self, table: str, method: str) -> dict[str, Any]:
        """What a source file of this kind adds to a table's entry (nothing: databases declare their keys)."""
        return {}

    def widen_integer(self, table: str, column: str) -> str:
        """The ALTER TABLE statement that widens an `integer` column to 64 bits, in this dialect."""
        change = "MODIFY {} BIGINT" if self.name == "mysql" else "ALTER COLUMN {} TYPE BIGINT"
        return f"ALTER TABLE {self.table(table)} {change.format(self.quote(column))}"

    def reader(self) -> AbstractContextManager[Any]:
        if self.name == "mysql":
            from warehouse_sources.sources.mysql import MySQLReader

            return MySQLReader(self.uri)
        from warehouse_sources.sources.postgres import PostgresReader

        return PostgresReader(self.uri)

    def _param(self, value: Any) -> Any:
        if self.name == "mysql" and isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None)  # DATETIME holds the UTC wall clock
        return value

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        if self.name == "mysql":
            import pymysql

            from warehouse_sources.sources.mysql import MySQLParams

            p = MySQLParams.from_uri(self.uri)
            conn = pymysql.connect(
                host=p.host, port=p.port, user=p.user, password=p.password, database=p.database, autocommit=True
            )
        else:
            import psycopg

            conn = psycopg.connect(self.uri, autocommit=True)
        try:
            yield conn
        finally:
            conn.close()


def _as_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


@dataclass(frozen=True)
class BucketKind(Kind):
    """Files in a folder (a `kind: s3` source with a file:// url) that mirror a DuckDB database:
    after every statement each table is written anew as one Parquet file, atomically (a rename),
    so the reader sees a table's state as a file export would leave it. Files declare no primary
    key, so incremental tables name theirs, as a YAML file would."""

    @property
    def folder(self) -> Path:
        return Path(self.uri)

    def run(self, *statements: str) -> None:
        with self._duck() as conn:
            for statement in statements:
                conn.execute(statement)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        names = ", ".join(self.quote(c) for c in columns)
        marks = ", ".join(["?"] * len(columns))
        with self._duck() as conn:
            conn.executemany(f"INSERT INTO {self.table(table)} ({names}) VALUES ({marks})", [list(r) for r in rows])

    def rows(self, table: str) -> list[dict[str, Any]]:
        with self._duck(export=False) as conn:
            found = conn.sql(f"SELECT * FROM {self.table(table)}").fetch_arrow_table().to_pylist()
        found = [{k: _as_utc(v) for k, v in r.items()} for r in found]
        return sorted(found, key=lambda r: repr(sorted(r.items())))

    def plan_fields(self, table: str, method: str) -> dict[str, Any]:
        if method != "incremental":
            return {}
        with self._duck(export=False) as conn:
            sql = (
                "SELECT constraint_column_names FROM duckdb_constraints() "
                "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'"
            )
            found = conn.execute(sql, [table]).fetchall()
        return {"primary_key": list(found[0][0])} if found else {}

    def reader(self) -> AbstractContextManager[Any]:
        from warehouse_sources.sources.bucket import BucketReader

        with self._duck(export=False) as conn:
            tables = [name for (name,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        options = {t: {"pattern": f"{t}/*.parquet", "format": "parquet"} for t in tables}
        return BucketReader(f"file://{self.folder / 'files'}/", options, source="conformance")

    @contextmanager
    def _duck(self, export: bool = True) -> Iterator[Any]:
        import duckdb

        conn = duckdb.connect(str(self.folder / "source.duckdb"))
        try:
            conn.execute("SET TimeZone = 'UTC'")
            yield conn
            if export:
                self._export(conn)
        finally:
            conn.close()

    def _export(self, conn: Any) -> None:
        for (name,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            target = self.folder / "files" / name
            target.mkdir(parents=True, exist_ok=True)
            staged = target / ".part.parquet.tmp"
            conn.execute(f"COPY (SELECT * FROM {self.table(name)}) TO '{staged}' (FORMAT parquet)")
            os.replace(staged, target / "part.parquet")


@dataclass(frozen=True)
class SnowflakeKind(Kind):
    """Snowflake as fakesnow serves it (README "Snowflake"): the real connector over HTTP, the SQL
    run on DuckDB. `uri` is the `snowflake://` URI the reader opens, as the operator hands it over.
    Every name is quoted, as stored (lower case here); unquoted names would fold to upper case.

    Snowflake writes INT and BIGINT alike as NUMBER(38,0), stored as decimal(38,0); a widening
    the warehouse sees as an int64 column is NUMBER(9,0) to NUMBER(18,0)."""

    def widen_integer(self, table: str, column: str) -> str:
        return f"ALTER TABLE {self.table(table)} ALTER COLUMN {self.quote(column)} SET DATA TYPE NUMBER(18, 0)"

    def reader(self) -> AbstractContextManager[Any]:
        from warehouse_sources.sources.snowflake import SnowflakeReader

        return SnowflakeReader(self.uri)

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        import snowflake.connector

        from warehouse_sources.sources.snowflake import connect_kwargs_from_uri

        kwargs = connect_kwargs_from_uri(self.uri)
        kwargs["session_parameters"] = {**kwargs.get("session_parameters", {}), "TIMEZONE": "UTC"}
        with snowflake.connector.connect(**kwargs) as conn:
            yield conn


KINDS = ("postgres", "mysql", "bucket", "snowflake")


def make_kind(name: str, request: pytest.FixtureRequest) -> Kind:
    """The adapter for `name` over a fresh database from the suite's fixtures."""
    if name == "bucket":
        folder = request.getfixturevalue("tmp_path") / "bucket"
        folder.mkdir()
        return BucketKind("bucket", str(folder), "main", "TIMESTAMPTZ", "VARCHAR", '"')
    if name == "snowflake":
        from warehouse_sources.sources.snowflake import connect_uri

        kwargs = request.getfixturevalue("sf_db")
        uri = connect_uri(kwargs)
        return SnowflakeKind("snowflake", uri, kwargs["schema"], "TIMESTAMP_TZ", "VARCHAR", '"', "NUMBER(9, 0)")
    if name == "mysql":
        uri = request.getfixturevalue("mysql_db")
        return Kind("mysql", uri, uri.rsplit("/", 1)[1], "DATETIME(6)", "VARCHAR(200)", "`")
    uri = request.getfixturevalue("pg_db")
    return Kind("postgres", uri, "public", "timestamptz", "text", '"')


@dataclass
class ApiKind:
    """An API kind over its local fake server (tests/integration/api_fakes): objects instead of tables.

    The conformance checks of API kinds (test_api_conformance.py) create, change and delete
    objects through the fake's store (which logs the events or modification dates the API shows),
    and compare one value field per id; deletions are kept as rows with `_ws_deleted_at` set.
    """

    name: str
    object: str  # the object the checks sync
    field: str  # the value field the checks change
    keys: dict[str, str]  # method -> replication key
    api: Any = None
    store: Any = None

    def start(self) -> ApiKind:
        from tests.integration.api_fakes.hubspot_fake import start_hubspot
        from tests.integration.api_fakes.stripe_fake import start_stripe

        self.api, self.store = start_stripe() if self.name == "stripe" else start_hubspot()
        return self

    def stop(self) -> None:
        self.api.stop()

    def create(self, at: datetime, value: str) -> str:
        if self.name == "stripe":
            return str(self.store.create(self.object, int(at.timestamp()), **{self.field: value})["id"])
        return str(self.store.create(self.object, at, **{self.field: value})["id"])

    def update(self, obj_id: str, at: datetime, value: str) -> None:
        stamp: Any = int(at.timestamp()) if self.name == "stripe" else at
        self.store.update(self.object, obj_id, stamp, **{self.field: value})

    def delete(self, obj_id: str, at: datetime) -> None:
        if self.name == "stripe":
            self.store.delete(self.object, obj_id, int(at.timestamp()))
        else:
            self.store.archive(self.object, obj_id, at)

    def live(self) -> dict[str, str]:
        """id -> value of every object the API lists now."""
        if self.name == "stripe":
            return {i: o.get(self.field) for i, o in self.store.objects.get(self.object, {}).items()}
        records = self.store.records[self.object].values()
        return {r["id"]: r["properties"].get(self.field) for r in records if not r["archived"]}

    def reader(self) -> AbstractContextManager[Any]:
        if self.name == "stripe":
            from warehouse_sources.sources.stripe import open_stripe

            return open_stripe(self.api.url, self.store.key, source="conformance", budget=5)
        from warehouse_sources.sources.hubspot import open_hubspot

        return open_hubspot(self.api.url, self.store.token, source="conformance", budget=5)


API_KINDS = ("stripe", "hubspot")


def make_api_kind(name: str) -> ApiKind:
    if name == "stripe":
        return ApiKind("stripe", "customers", "name", {"incremental": "changed_at", "append_only": "created"})
    return ApiKind("hubspot", "contacts", "firstname", {"incremental": "lastmodifieddate", "append_only": "createdate"})
