"""Snowflake SQL text from names and cursor values: quoted identifiers, escaped text, typed cursors,
and every statement the reader sends parsing as Snowflake SQL (sqlglot's Snowflake dialect)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from warehouse_sources.sources.base import TableDescription
from warehouse_sources.sources.snowflake import SnowflakeReader, connect_kwargs_from_uri, connect_uri
from warehouse_sources.sources.snowflake.dialect import SnowflakeDialect, text_literal, time_travel, within_cursor_range
from warehouse_sources.sources.snowflake.types import SnowflakeColumn
from warehouse_sources.sources.sql.dialect import qualified, quote_ident

cursor_literal = SnowflakeDialect().literal
PLUS_TWO = timezone(timedelta(hours=2))


def parse(statement: str) -> exp.Expression:
    return sqlglot.parse_one(statement, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("ID", '"ID"'),
        ("id", '"id"'),
        ("Mixed Case", '"Mixed Case"'),
        ("select", '"select"'),
        ('a"b', '"a""b"'),
        ('x"; DROP TABLE y; --', '"x""; DROP TABLE y; --"'),
        ("it's", '"it\'s"'),
    ],
)
def test_quote_ident_keeps_case_and_doubles_quotes(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted
    column = parse(f"SELECT {quoted} FROM t").find(exp.Column)
    assert column is not None and column.name == name


def test_qualified_quotes_both_parts() -> None:
    assert qualified("Sales", "Order.Lines") == '"Sales"."Order.Lines"'


@pytest.mark.parametrize("quote", [quote_ident, text_literal])
def test_nul_is_refused(quote: Any) -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote("a\x00b")


@pytest.mark.parametrize("value", ["o'brien", "back\\slash", "x'; DROP TABLE y; --", "\\'", "Ünï"])
def test_text_literal_means_exactly_the_text(value: str) -> None:
    literal = parse(f"SELECT {text_literal(value)}").find(exp.Literal)
    assert literal is not None and literal.this == value


@pytest.mark.parametrize(
    ("value", "data_type", "literal"),
    [
        (42, "NUMBER", "42"),
        (-(2**70), "NUMBER", str(-(2**70))),
        (date(2024, 2, 29), "DATE", "TO_DATE('2024-02-29', 'YYYY-MM-DD')"),
        (
            datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=PLUS_TWO),
            "TIMESTAMP_NTZ",
            "TO_TIMESTAMP_NTZ('2024-01-02 01:04:05.000006', 'YYYY-MM-DD HH24:MI:SS.FF6')",
        ),
        (
            datetime(2024, 1, 2, 3, 4, 5),
            "TIMESTAMP_LTZ",
            "TO_TIMESTAMP_TZ('2024-01-02 03:04:05.000000 +00:00', 'YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM')",
        ),
        (
            datetime(2024, 1, 2, tzinfo=UTC),
            "TIMESTAMP_TZ",
            "TO_TIMESTAMP_TZ('2024-01-02 00:00:00.000000 +00:00', 'YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM')",
        ),
    ],
)
def test_cursor_literals_are_typed_and_name_their_format(value: Any, data_type: str, literal: str) -> None:
    assert cursor_literal(value, data_type) == literal
    parse(f"SELECT {literal}")


def test_decimal_cursors_are_plain_exact_numbers() -> None:
    assert cursor_literal(Decimal("12.50"), "NUMBER") == "12.50"
    assert cursor_literal(Decimal("1E+3"), "NUMBER") == "1000"
    parse("SELECT 12.50")


@pytest.mark.parametrize("value", [True, 1.5, "2024-01-01", None, Decimal("NaN")])
def test_other_cursor_values_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        cursor_literal(value, "NUMBER")


def test_cursor_range_limits_dates_and_timestamps_only() -> None:
    assert within_cursor_range('"K"', "NUMBER") == "TRUE"
    for data_type in ("DATE", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"):
        condition = within_cursor_range('"K"', data_type)
        assert condition.startswith('"K" BETWEEN ')
        parse(f"SELECT 1 FROM t WHERE {condition}")


def test_time_travel_clause_is_snowflake_syntax() -> None:
    clause = time_travel("01b2c3d4-0000-1111-0000-000000000abc")
    assert clause == "AT(STATEMENT => '01b2c3d4-0000-1111-0000-000000000abc')"
    table = parse(f'SELECT 1 FROM "S"."T" {clause}').find(exp.Table)
    assert table is not None and table.args.get("when") is not None


# --- every statement a pinned cursor read sends --------------------------------------------


class RecordingCursor:
    """Stands in for the connector's cursor: records statements, answers what the reader asks."""

    def __init__(self, sent: list[str]) -> None:
        self.sent = sent
        self.sfqid = "01b2c3d4-0000-1111-0000-000000000abc"
        self.description: list[Any] = []

    def __enter__(self) -> RecordingCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def execute(self, statement: str) -> None:
        self.sent.append(statement)

    def fetchall(self) -> list[tuple[Any, ...]]:
        last = self.sent[-1]
        answers = {"SELECT (SELECT MAX": [(10, 0)], "SELECT COUNT(*)": [(0,)], "SELECT MIN": [(1, 2)]}
        return next((rows for start, rows in answers.items() if last.startswith(start)), [])

    def fetch_arrow_batches(self, force_microsecond_precision: bool = False) -> list[Any]:
        assert force_microsecond_precision
        return []

    def close(self) -> None:
        pass


class RecordingConnection:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self.sent)


def test_a_pinned_read_sends_only_snowflake_sql_and_pins_every_table_reference() -> None:
    columns = (
        SnowflakeColumn("Id", "NUMBER", 38, 0),
        SnowflakeColumn("Updated At", "TIMESTAMP_LTZ"),
        SnowflakeColumn("Doc", "VARIANT"),
        SnowflakeColumn("Where", "GEOGRAPHY"),
    )
    desc = TableDescription("Sales", "Order Lines", columns, ("Id",))
    reader = SnowflakeReader(account="a")
    connection = RecordingConnection()
    reader._conn = connection
    reader._pinned[("Sales", "Order Lines")] = True
    reader.begin_snapshot()
    where = reader.key_condition(desc, "Updated At", ">=", datetime(2024, 1, 1, tzinfo=UTC))
    reader.key_bounds(desc, "Updated At", datetime(2024, 1, 1, tzinfo=UTC))
    reader.key_problems(desc, ("Id", "Doc"), where)
    reader.value_range(desc, "Id", where)
    list(reader.read(desc, where))
    reader.end_snapshot()
    assert connection.sent[0] == "BEGIN TRANSACTION" and connection.sent[-1] == "ROLLBACK"
    reads = [s for s in connection.sent if '"Order Lines"' in s]
    assert len(reads) == 5  # bounds, NULL keys, duplicates, range, rows
    for statement in connection.sent:
        parse(statement)
    for statement in reads:
        tables = list(parse(statement).find_all(exp.Table))
        assert tables and all(t.args.get("when") is not None for t in tables), statement
    assert 'TO_JSON("Doc") AS "Doc"' in reads[-1] and 'TO_VARCHAR("Where") AS "Where"' in reads[-1]


# --- the URI the Airflow side hands the reader ----------------------------------------------


def test_connect_arguments_survive_the_uri() -> None:
    kwargs = {
        "account": "xy12345.eu-west-1",
        "user": "loader",
        "password": "p@ss w/rd&x=1",
        "database": "ANALYTICS",
        "warehouse": "LOAD_WH",
        "role": "LOADER",
        "port": 8443,
        "insecure_mode": False,
        "session_parameters": {"QUERY_TAG": "x&y"},
        "schema": "",
    }
    uri = connect_uri(kwargs)
    assert uri.startswith("snowflake:///?") and "p@ss" not in uri
    back = connect_kwargs_from_uri(uri)
    assert back == {k: v for k, v in kwargs.items() if v != ""}


def test_a_private_key_travels_as_base64_der() -> None:
    import base64

    back = connect_kwargs_from_uri(connect_uri({"account": "a", "private_key": b"\x00\x01der+/="}))
    assert base64.b64decode(back["private_key"]) == b"\x00\x01der+/="


@pytest.mark.parametrize(
    "call",
    [
        lambda: connect_uri({"account": "a", "proxy_host": "p"}),
        lambda: connect_kwargs_from_uri("snowflake:///?account=a&colour=red"),
        lambda: connect_kwargs_from_uri("mysql://a"),
    ],
)
def test_unknown_arguments_and_schemes_are_refused(call: Any) -> None:
    with pytest.raises(ValueError):
        call()
