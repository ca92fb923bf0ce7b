"""SQL text from names and cursor values: identifiers quoted, literals typed, nothing pasted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from warehouse_sources.sources.postgres.dialect import PostgresDialect
from warehouse_sources.sources.sql.dialect import qualified, quote_ident

cursor_literal = PostgresDialect().literal
PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("id", '"id"'),
        ("Order", '"Order"'),
        ("select", '"select"'),
        ("has space", '"has space"'),
        ('a"b', '"a""b"'),
        ('"', '""""'),
        ('x"; drop table y; --', '"x""; drop table y; --"'),
        ("", '""'),
        ("ünï", '"ünï"'),
    ],
)
def test_quote_ident(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_quoted_identifier_unquotes_to_the_original() -> None:
    name = 'we"ird""name'
    quoted = quote_ident(name)
    assert quoted[0] == quoted[-1] == '"'
    assert quoted[1:-1].replace('""', '"') == name


@pytest.mark.parametrize("name", ["a\x00b", "\x00"])
def test_quote_ident_refuses_nul(name: str) -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote_ident(name)


def test_qualified() -> None:
    assert qualified("Sales", 'Odd "Table"') == '"Sales"."Odd ""Table"""'


@pytest.mark.parametrize(("value", "literal"), [(0, "0"), (42, "42"), (-7, "-7"), (2**63 - 1, str(2**63 - 1))])
def test_int_literal(value: int, literal: str) -> None:
    assert cursor_literal(value, "int8") == literal


def test_date_literal() -> None:
    assert cursor_literal(date(2024, 2, 29), "date") == "'2024-02-29'::date"


def test_naive_datetime_is_utc_for_both_timestamp_types() -> None:
    value = datetime(2024, 5, 1, 12, 30, 0, 123456)
    assert cursor_literal(value, "timestamp") == "'2024-05-01T12:30:00.123456'::timestamp"
    assert cursor_literal(value, "timestamptz") == "'2024-05-01T12:30:00.123456+00:00'::timestamptz"


def test_aware_datetime_is_converted_to_utc_for_both_timestamp_types() -> None:
    value = datetime(2024, 5, 1, 12, 30, tzinfo=PLUS_TWO)
    assert cursor_literal(value, "timestamptz") == "'2024-05-01T10:30:00+00:00'::timestamptz"
    assert cursor_literal(value, "timestamp") == "'2024-05-01T10:30:00'::timestamp"


def test_microseconds_are_kept() -> None:
    value = datetime(2024, 5, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert ".000001" in cursor_literal(value, "timestamptz")


@pytest.mark.parametrize("value", [True, False])
def test_bools_are_refused(value: bool) -> None:
    with pytest.raises(TypeError, match="unsupported cursor value"):
        cursor_literal(value, "int4")


@pytest.mark.parametrize("value", ["2024-01-01", 1.5, None, b"1", "1; drop table x"])
def test_other_values_are_refused(value: object) -> None:
    with pytest.raises(TypeError, match="unsupported cursor value"):
        cursor_literal(value, "text")  # type: ignore[arg-type]
