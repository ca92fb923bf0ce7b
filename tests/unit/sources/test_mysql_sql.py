"""MySQL SQL text from names and cursor values: backtick-quoted identifiers, hex literals, typed cursors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from warehouse_sources.sources.mysql import MySQLParams
from warehouse_sources.sources.mysql.dialect import (
    MySQLDialect,
    bytes_literal,
    text_literal,
    within_cursor_range,
)

quote_ident, qualified, cursor_literal = MySQLDialect().ident, MySQLDialect().table, MySQLDialect().literal

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("id", "`id`"),
        ("Order", "`Order`"),
        ("select", "`select`"),
        ("has space", "`has space`"),
        ("a`b", "`a``b`"),
        ("`", "````"),
        ("x`; drop table y; --", "`x``; drop table y; --`"),
        ('a"b', '`a"b`'),
        ("ünï", "`ünï`"),
    ],
)
def test_quote_ident(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_qualified_quotes_both_parts() -> None:
    assert qualified("shop`db", "Order.Lines") == "`shop``db`.`Order.Lines`"


@pytest.mark.parametrize("quote", [quote_ident, text_literal, bytes_literal])
def test_nul_is_refused(quote: object) -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote("a\x00b")  # type: ignore[operator]


@pytest.mark.parametrize("value", ["o'brien", "back\\slash", "x'; DROP TABLE y; --", "Ünï`code"])
def test_text_reaches_sql_only_as_hex(value: str) -> None:
    literal = text_literal(value)
    assert literal == f"CONVERT(X'{value.encode().hex()}' USING utf8mb4)"
    assert bytes.fromhex(literal.split("'")[1]).decode() == value
    assert bytes_literal(value) == f"X'{value.encode().hex()}'"


def test_empty_text_literal() -> None:
    assert text_literal("") == "''"


@pytest.mark.parametrize(
    ("value", "data_type", "literal"),
    [
        (42, "bigint", "42"),
        (-(2**63), "bigint", str(-(2**63))),
        (2**64 - 1, "bigint", "18446744073709551615"),
        (date(2024, 2, 29), "date", "DATE'2024-02-29'"),
        (datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "datetime", "TIMESTAMP'2024-01-02 03:04:05.000006'"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=PLUS_TWO), "timestamp", "TIMESTAMP'2024-01-02 01:04:05.000000'"),
        (datetime(2024, 1, 2), "datetime", "TIMESTAMP'2024-01-02 00:00:00.000000'"),
        (date(2024, 1, 2), "datetime", "TIMESTAMP'2024-01-02 00:00:00'"),
    ],
)
def test_cursor_literal_is_typed_and_utc(value: object, data_type: str, literal: str) -> None:
    assert cursor_literal(value, data_type) == literal  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, "1; DROP TABLE t", 1.5, None])
def test_cursor_literal_refuses_anything_else(value: object) -> None:
    with pytest.raises(TypeError):
        cursor_literal(value, "bigint")  # type: ignore[arg-type]


def test_cursor_range_keeps_dates_within_years_1_to_9999_and_drops_zero_parts() -> None:
    assert within_cursor_range("`k`", "bigint") == "TRUE"
    datetime_range = within_cursor_range("`k`", "datetime")
    assert "BETWEEN TIMESTAMP'0001-01-01 00:00:00' AND TIMESTAMP'9999-12-31 23:59:59.999999'" in datetime_range
    assert "MONTH(`k`) > 0 AND DAYOFMONTH(`k`) > 0" in datetime_range
    assert within_cursor_range("`k`", "date").startswith("`k` BETWEEN DATE'0001-01-01' AND DATE'9999-12-31'")
    assert "MONTH" not in within_cursor_range("`k`", "timestamp")


def test_params_from_uri_decode_credentials() -> None:
    params = MySQLParams.from_uri("mysql://app%40x:p%2Fw%3A@db.example:3307/shop%20db?connect_timeout=5")
    assert params == MySQLParams("db.example", 3307, "app@x", "p/w:", "shop db", 5)
    assert MySQLParams.from_uri("mariadb://h/") == MySQLParams(host="h")
    tls = MySQLParams.from_uri("mysql://u@h/d?ssl_ca=%2Fetc%2Fca.pem&ssl_cert=c.pem&ssl_key=k.pem")
    assert (tls.ssl_ca, tls.ssl_cert, tls.ssl_key) == ("/etc/ca.pem", "c.pem", "k.pem")


def test_params_refuse_other_schemes() -> None:
    with pytest.raises(ValueError, match="mysql://"):
        MySQLParams.from_uri("postgresql://h/db")
