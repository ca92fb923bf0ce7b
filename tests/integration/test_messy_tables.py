"""Tables a real production database has, each once lost, changed or duplicated data, or crashed.

Each test is one case of the "messy tables" catalogue (issue 6), reproduced against a real
PostgreSQL and asserting the documented behaviour (README "Type mapping" and "Sync methods").
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from deltalake import DeltaTable

from tests.integration.helpers import plan, sql, sync, synced_rows, table_version
from warehouse_sources.errors import PrimaryKeyError, SchemaDriftError, SyncFatalError, TableNotFoundError

pytestmark = pytest.mark.integration


def test_a_third_identical_row_at_the_boundary_is_appended(pg_db: str, warehouse: str) -> None:
    sql(
        pg_db,
        "CREATE TABLE clicks (kind text, at timestamp)",
        "INSERT INTO clicks VALUES ('click', '2024-01-01 10:00'), ('click', '2024-01-01 10:00')",
    )
    events = plan("public.clicks", "append_only", replication_key="at")
    sync(pg_db, warehouse, events)
    sql(pg_db, "INSERT INTO clicks VALUES ('click', '2024-01-01 10:00')")
    second = sync(pg_db, warehouse, events)
    assert second.rows == 1
    assert len(synced_rows(warehouse, "clicks")) == 3
    assert sync(pg_db, warehouse, events).rows == 0
    assert len(synced_rows(warehouse, "clicks")) == 3


def test_an_append_that_reads_nothing_new_commits_nothing(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE TABLE log (id int, at date)", "INSERT INTO log VALUES (1, '2024-01-01'), (2, '2024-01-01')")
    events = plan("public.log", "append_only", replication_key="at")
    sync(pg_db, warehouse, events)
    version = table_version(warehouse, "log")
    again = sync(pg_db, warehouse, events)
    assert (again.rows, again.write, again.version) == (0, "none", version)
    assert table_version(warehouse, "log") == version


def test_boundary_state_does_not_grow_with_the_rows_at_the_cursor(pg_db: str, warehouse: str) -> None:
    sql(
        pg_db,
        "CREATE TABLE daily (id int, day date)",
        "INSERT INTO daily SELECT g, '2024-01-01' FROM generate_series(1, 5000) g",
    )
    events = plan("public.daily", "append_only", replication_key="day")
    sync(pg_db, warehouse, events)
    sql(pg_db, "INSERT INTO daily SELECT g, '2024-01-01' FROM generate_series(5001, 5010) g")
    assert sync(pg_db, warehouse, events).rows == 10
    commit = DeltaTable(f"{warehouse}/daily").history(1)[0]
    assert len(commit["warehouse_sources"]) < 600
    assert len(synced_rows(warehouse, "daily")) == 5010


INFINITIES = """
CREATE TABLE times (id int PRIMARY KEY, ts timestamp, tz timestamptz, d date, seen timestamptz);
INSERT INTO times VALUES
  (1, 'infinity', 'infinity', 'infinity', '2024-01-01'),
  (2, '-infinity', '-infinity', '-infinity', '2024-01-02'),
  (3, '2024-01-01 10:00', '2024-01-01 10:00+00', '2024-01-01', 'infinity'),
  (4, '0001-01-01 00:00', '0001-01-01 00:00+00', '9999-12-31', '2024-01-03');
"""


@pytest.mark.parametrize("method", ["full_table", "incremental", "append_only"])
def test_infinite_timestamps_and_dates_are_stored_as_null_and_counted(
    pg_db: str, warehouse: str, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    sql(pg_db, INFINITIES)
    key = {"replication_key": "seen"} if method != "full_table" else {}
    table = plan("public.times", method, **key)
    with caplog.at_level(logging.WARNING):
        sync(pg_db, warehouse, table)
    rows = {r["id"]: r for r in synced_rows(warehouse, "times")}
    assert [rows[1]["ts"], rows[1]["tz"], rows[1]["d"]] == [None, None, None]
    assert [rows[2]["ts"], rows[2]["tz"], rows[2]["d"]] == [None, None, None]
    assert rows[3]["ts"] == datetime(2024, 1, 1, 10, tzinfo=UTC) and rows[3]["d"] == date(2024, 1, 1)
    assert rows[3]["seen"] is None
    assert "2 values of column 'ts'" in caplog.text and "2 values of column 'd'" in caplog.text
    if method != "full_table":
        # The key 'infinity' is counted like a NULL key and never read again by the cursor.
        sql(pg_db, "INSERT INTO times VALUES (5, NULL, NULL, NULL, '2024-01-04')")
        second = sync(pg_db, warehouse, table)
        assert second.null_keys == 1 and second.cursor == "2024-01-04T00:00:00+00:00"
        assert sorted(r["id"] for r in synced_rows(warehouse, "times")) == [1, 2, 3, 4, 5]


def test_dates_and_timestamps_outside_years_1_to_9999_are_stored_as_null_and_counted(
    pg_db: str, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    sql(
        pg_db,
        "CREATE TABLE far (id int, d date, ts timestamp)",
        "INSERT INTO far VALUES (1, '200000-01-01', '99999-01-01'), (2, '4713-01-01 BC', '0001-01-01 00:00 BC'),"
        " (3, '5874897-12-31', '9999-12-31 23:59:59.999999'), (4, '0001-01-01', '0001-01-01')",
    )
    with caplog.at_level(logging.WARNING):
        sync(pg_db, warehouse, plan("public.far"))
    rows = sorted(synced_rows(warehouse, "far"), key=lambda r: r["id"])  # readable: no year outside 1-9999
    assert [r["d"] for r in rows] == [None, None, None, date(1, 1, 1)]
    assert [r["ts"] for r in rows] == [
        None,
        None,
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
    ]
    assert "3 values of column 'd' (infinity, or outside years 1-9999)" in caplog.text
    assert "2 values of column 'ts'" in caplog.text


def test_nan_in_a_numeric_column_is_stored_as_null_and_counted(
    pg_db: str, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    sql(
        pg_db,
        "CREATE TABLE prices (id int, amount numeric(10, 2), exact numeric)",
        "INSERT INTO prices VALUES (1, 'NaN', 'NaN'), (2, 2.5, 'Infinity')",
    )
    with caplog.at_level(logging.WARNING):
        sync(pg_db, warehouse, plan("public.prices"))
    rows = sorted(synced_rows(warehouse, "prices"), key=lambda r: r["id"])
    assert rows == [
        {"id": 1, "amount": None, "exact": "NaN"},
        {"id": 2, "amount": Decimal("2.50"), "exact": "Infinity"},
    ]
    assert "1 values of column 'amount' (NaN)" in caplog.text


def test_null_in_a_yaml_primary_key_is_refused_naming_the_key(pg_db: str, warehouse: str) -> None:
    sql(
        pg_db,
        "CREATE TABLE t (code text, v int, at int)",
        "INSERT INTO t VALUES ('a', 1, 1), (NULL, 2, 2)",
        "CREATE VIEW v AS SELECT * FROM t",
    )
    merged = plan("public.v", "incremental", replication_key="at", primary_key=["code"])
    with pytest.raises(PrimaryKeyError, match=r"1 rows to sync have NULL in primary_key \['code'\]"):
        sync(pg_db, warehouse, merged)
    sql(pg_db, "DELETE FROM t WHERE code IS NULL")
    sync(pg_db, warehouse, merged)
    sql(pg_db, "INSERT INTO t VALUES (NULL, 3, 3)")
    with pytest.raises(PrimaryKeyError, match="NULL in primary_key"):
        sync(pg_db, warehouse, merged)
    assert synced_rows(warehouse, "v") == [{"code": "a", "v": 1, "at": 1}]


def test_a_primary_key_that_is_not_unique_is_refused_with_an_example(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE TABLE t (id int, at int)", "INSERT INTO t VALUES (1, 1), (2, 2), (2, 3)")
    merged = plan("public.t", "incremental", replication_key="at", primary_key=["id"])
    with pytest.raises(PrimaryKeyError, match=r"not unique in the source: \(2\) appears more than once"):
        sync(pg_db, warehouse, merged)
    assert DeltaTable.is_deltatable(f"{warehouse}/t") is False


def test_widening_on_append_only_without_a_key_does_not_re_append_the_boundary(pg_db: str, warehouse: str) -> None:
    sql(
        pg_db,
        "CREATE TABLE pay (amount numeric(10, 2), day date, at int)",
        "INSERT INTO pay VALUES (2.50, '2024-01-01', 1), (3.10, '2024-01-02', 2), (3.10, '2024-01-02', 2)",
    )
    events = plan("public.pay", "append_only", replication_key="at")
    sync(pg_db, warehouse, events)
    sql(pg_db, "ALTER TABLE pay ALTER COLUMN amount TYPE numeric(12, 3), ALTER COLUMN day TYPE timestamp")
    assert sync(pg_db, warehouse, events).rows == 0
    sql(pg_db, "INSERT INTO pay VALUES (3.1, '2024-01-02', 2)")
    assert sync(pg_db, warehouse, events).rows == 1
    assert len(synced_rows(warehouse, "pay")) == 4


def test_multi_dimensional_and_offset_arrays_are_kept_as_postgres_text(pg_db: str, warehouse: str) -> None:
    sql(
        pg_db,
        "CREATE TABLE arr (id int PRIMARY KEY, a int[], plain int[])",
        "INSERT INTO arr VALUES (1, '{{1,2},{3,4}}', '{1,2}'), (2, '[0:1]={7,8}', '{}'), (3, '{5,NULL}', NULL)",
    )
    table = plan("public.arr", "incremental", replication_key="id")
    sync(pg_db, warehouse, table)
    rows = sorted(synced_rows(warehouse, "arr"), key=lambda r: r["id"])
    assert [r["a"] for r in rows] == ["{{1,2},{3,4}}", "[0:1]={7,8}", "{5,NULL}"]
    assert [r["plain"] for r in rows] == [[1, 2], [], None]
    # Text once, text from then on, even when the new rows are plain one-dimensional arrays.
    sql(pg_db, "INSERT INTO arr VALUES (4, '{9}', '{{1}}')")
    with pytest.raises(SchemaDriftError, match="column 'plain' now holds arrays a list cannot keep"):
        sync(pg_db, warehouse, table)
    sync(pg_db, warehouse, table, full_refresh=True)
    rows = sorted(synced_rows(warehouse, "arr"), key=lambda r: r["id"])
    assert [r["a"] for r in rows][-1] == "{9}" and [r["plain"] for r in rows] == ["{1,2}", "{}", None, "{{1}}"]


def test_columns_differing_only_by_case_are_refused_before_data_moves(pg_db: str, warehouse: str) -> None:
    sql(pg_db, 'CREATE TABLE people (id int, "Email" text, email text)', "INSERT INTO people VALUES (1, 'A', 'a')")
    with pytest.raises(SyncFatalError, match="columns 'Email' and 'email' differ only by case.*view"):
        sync(pg_db, warehouse, plan("public.people"))
    assert DeltaTable.is_deltatable(f"{warehouse}/people") is False


def test_a_lookback_past_the_first_key_reads_from_the_beginning(pg_db: str, warehouse: str) -> None:
    from datetime import timedelta

    sql(pg_db, "CREATE TABLE t (id int PRIMARY KEY, at date)", "INSERT INTO t VALUES (1, '0002-01-01')")
    merged = plan("public.t", "incremental", replication_key="at", lookback=timedelta(days=999_999))
    sync(pg_db, warehouse, merged)
    sql(pg_db, "UPDATE t SET at = '0001-06-01' WHERE id = 1", "INSERT INTO t VALUES (2, '0002-01-01')")
    second = sync(pg_db, warehouse, merged)
    assert (second.write, second.rows) == ("merge", 2)
    assert {r["id"]: r["at"] for r in synced_rows(warehouse, "t")} == {1: date(1, 6, 1), 2: date(2, 1, 1)}


def test_a_table_in_another_schema_is_suggested(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE SCHEMA sales", "CREATE TABLE sales.orders (id int)")
    with pytest.raises(TableNotFoundError, match="did you mean 'sales.orders'"):
        sync(pg_db, warehouse, plan("public.orders"))
    with pytest.raises(TableNotFoundError, match="did you mean 'sales.orders'"):
        sync(pg_db, warehouse, plan("sales.Orders"))


def test_a_table_without_columns_is_not_reported_missing(pg_db: str, warehouse: str) -> None:
    sql(pg_db, "CREATE TABLE empty_shape ()")
    with pytest.raises(SyncFatalError, match="has no columns") as caught:
        sync(pg_db, warehouse, plan("public.empty_shape"))
    assert not isinstance(caught.value, TableNotFoundError)


def test_permission_denied_fails_for_good_with_what_to_grant(pg_db: str, warehouse: str) -> None:
    import uuid

    role = f"ws_reader_{uuid.uuid4().hex[:8]}"
    sql(pg_db, f"CREATE ROLE {role} LOGIN", "CREATE TABLE secret (id int)", "INSERT INTO secret VALUES (1)")
    try:
        uri = pg_db.replace("postgres@", f"{role}@")
        with pytest.raises(SyncFatalError, match="permission denied.*grant SELECT"):
            sync(uri, warehouse, plan("public.secret"))
    finally:
        sql(pg_db, "DROP TABLE secret", f"DROP OWNED BY {role}", f"DROP ROLE {role}")
