"""The SQL table reader's statements, written once, in each kind's dialect: every statement a
cursor read sends parses as that kind's SQL (sqlglot), names stay quoted as the kind quotes them,
and the answers come back as the engine expects them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from warehouse_sources.sources.base import TableDescription, ValueNotes
from warehouse_sources.sources.mysql.dialect import MySQLDialect
from warehouse_sources.sources.mysql.types import MySQLColumn
from warehouse_sources.sources.postgres.dialect import PostgresDialect
from warehouse_sources.sources.postgres.types import PgColumn
from warehouse_sources.sources.snowflake.dialect import SnowflakeDialect
from warehouse_sources.sources.snowflake.types import SnowflakeColumn
from warehouse_sources.sources.sql.dialect import Dialect, SqlColumn
from warehouse_sources.sources.sql.reader import SqlTableReader


class ScriptedReader(SqlTableReader[Any]):
    """The SQL table reader over a dialect, with a driver that records each statement and answers
    the first row of `answers` whose prefix the statement starts with."""

    def __init__(self, dialect: Dialect[Any], answers: dict[str, list[tuple[Any, ...]]]) -> None:
        self.dialect = dialect
        self.cursor_type_names = ()
        self.value_notes = ValueNotes()
        self.answers = answers
        self.sent: list[str] = []

    def execute(self, sql: str) -> None:
        self.sent.append(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        self.sent.append(sql)
        return next((rows for start, rows in self.answers.items() if sql.startswith(start)), [])

    def describe(self, schema: str, table: str) -> TableDescription | None:
        return None

    def stream(self, statement: str, columns: Sequence[Any]) -> pa.RecordBatchReader:
        self.sent.append(statement)
        return pa.RecordBatchReader.from_batches(pa.schema([]), iter(()))


ANSWERS: dict[str, list[tuple[Any, ...]]] = {
    "SELECT (SELECT MAX": [(Decimal(10), 2)],
    "SELECT COUNT(*)": [(3,)],
    "SELECT MIN": [(1, 10)],
}
PG = (PgColumn("Id", "int8", "bigint", -1), PgColumn("Updated At", "timestamptz", "timestamp with time zone", -1))
MY = (MySQLColumn("Id", "bigint", "bigint"), MySQLColumn("Updated At", "datetime", "datetime(6)"))
SF = (SnowflakeColumn("Id", "NUMBER", 38, 0), SnowflakeColumn("Updated At", "TIMESTAMP_LTZ"))
KINDS = [
    pytest.param(PostgresDialect(), PG, "postgres", '"Order Lines"', id="postgres"),
    pytest.param(MySQLDialect(), MY, "mysql", "`Order Lines`", id="mysql"),
    pytest.param(SnowflakeDialect(), SF, "snowflake", '"Order Lines"', id="snowflake"),
]


@pytest.mark.parametrize(("dialect", "columns", "sqlglot_dialect", "quoted"), KINDS)
def test_a_cursor_read_sends_the_kinds_sql_with_every_name_quoted(
    dialect: Dialect[Any], columns: tuple[SqlColumn, ...], sqlglot_dialect: str, quoted: str
) -> None:
    desc = TableDescription("Sales", "Order Lines", columns, ("Id",))
    reader = ScriptedReader(dialect, ANSWERS)
    since = datetime(2024, 1, 1, tzinfo=UTC)
    reader.begin_snapshot()
    where = reader.key_condition(desc, "Updated At", ">=", since)
    assert reader.key_bounds(desc, "Updated At", since) == (Decimal(10), 2)
    assert reader.key_bounds(desc, "Id", None) == (10, 2) and isinstance(reader.key_bounds(desc, "Id", 5)[0], int)
    assert reader.key_problems(desc, ("Id", "Updated At"), where) == (3, None)
    assert reader.value_range(desc, "Id", where) == (1, 10)
    reader.read(desc, where)
    reader.end_snapshot()
    assert reader.sent[0] == dialect.begin_sql and reader.sent[-1] == "ROLLBACK"
    reads = [s for s in reader.sent if quoted in s]
    assert len(reads) == 7  # three bounds, NULL keys, duplicates, range, rows
    for statement in reads:
        tree = sqlglot.parse_one(statement, read=sqlglot_dialect, error_level=sqlglot.ErrorLevel.RAISE)
        assert {t.name for t in tree.find_all(exp.Table)} == {"Order Lines"}, statement


@pytest.mark.parametrize(("dialect", "columns", "sqlglot_dialect", "quoted"), KINDS)
def test_a_duplicated_key_comes_back_as_text(
    dialect: Dialect[Any], columns: tuple[SqlColumn, ...], sqlglot_dialect: str, quoted: str
) -> None:
    desc = TableDescription("Sales", "Order Lines", columns, ("Id",))
    reader = ScriptedReader(dialect, {"SELECT COUNT(*)": [(0,)], "SELECT ": [("(7)",)]})
    assert reader.key_problems(desc, ("Id",), "") == (0, "(7)")
    nulls, duplicate = reader.sent
    assert nulls.endswith(f"{dialect.ident('Id')} IS NULL") and "HAVING COUNT(*) > 1 LIMIT 1" in duplicate


@pytest.mark.parametrize(("dialect", "columns", "sqlglot_dialect", "quoted"), KINDS)
def test_a_key_condition_keeps_the_key_within_what_a_cursor_holds(
    dialect: Dialect[Any], columns: tuple[SqlColumn, ...], sqlglot_dialect: str, quoted: str
) -> None:
    desc = TableDescription("Sales", "Order Lines", columns, ("Id",))
    reader = ScriptedReader(dialect, {})
    assert reader.key_condition(desc, "Id", ">", 5) == f"{dialect.ident('Id')} > 5"
    condition = reader.key_condition(desc, "Updated At", ">=", date(2024, 1, 1))
    assert " AND " in condition and "BETWEEN" in condition and "9999" in condition


def test_a_column_another_kind_described_is_refused_by_name() -> None:
    desc = TableDescription("s", "t", PG, ("Id",))
    with pytest.raises(TypeError, match="'Id'"):
        MySQLDialect().column(desc, "Id")
