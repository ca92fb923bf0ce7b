"""One adapter per source kind, so the conformance checks are written once and run for every kind.

An adapter knows the kind's dialect (types, quoting, the schema a table lives in), runs SQL on
the test database through the kind's own driver, reads rows back the way the warehouse stores
them (timestamps as UTC instants), and opens the kind's `SourceReader`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest


@dataclass(frozen=True)
class Kind:
    name: str
    uri: str
    schema: str  # where the test's tables live: "public", or the MySQL database
    timestamp: str  # a UTC timestamp column type
    text: str
    quote_char: str

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


KINDS = ("postgres", "mysql")


def make_kind(name: str, request: pytest.FixtureRequest) -> Kind:
    """The adapter for `name` over a fresh database from the suite's fixtures."""
    if name == "mysql":
        uri = request.getfixturevalue("mysql_db")
        return Kind("mysql", uri, uri.rsplit("/", 1)[1], "DATETIME(6)", "VARCHAR(200)", "`")
    uri = request.getfixturevalue("pg_db")
    return Kind("postgres", uri, "public", "timestamptz", "text", '"')
