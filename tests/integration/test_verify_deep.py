"""Deep verification (issue 20): drift planted in the warehouse behind the engine's back is found,
located to its key range and repaired in one commit; a correct table never reports drift.
PostgreSQL and MySQL/MariaDB, each with the types the row text renders (integers, text, decimals,
timestamps, dates, booleans) and NULLs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.integration.test_verify_check import LOG, Side
from warehouse_sources.engine.verify_deep import deep_verify
from warehouse_sources.engine.verify_repair import REPAIR_KEY, repair
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse.delta import read_state

pytestmark = pytest.mark.integration

PG_CREATE = (
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, note TEXT, amount NUMERIC(12, 2), paid BOOLEAN, "
    "due DATE, updated_at TIMESTAMP(6), seen_at TIMESTAMPTZ)"
)
PG_FILL = (
    "INSERT INTO orders SELECT n, CASE WHEN n % 11 = 0 THEN NULL ELSE 'order ' || n END, n * 1.25, n % 2 = 0, "
    "DATE '2024-01-01' + (n % 300), TIMESTAMP '2024-01-01' + n * INTERVAL '1 second' + INTERVAL '123 microseconds', "
    "TIMESTAMPTZ '2024-02-01 00:00:00+02' + n * INTERVAL '1 minute' FROM generate_series(1, 5000) AS n"
)
MY_CREATE = (
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, note TEXT, amount DECIMAL(12, 2), paid BOOLEAN, "
    "due DATE, updated_at DATETIME(6), seen_at TIMESTAMP(6) NULL)"
)
MY_FILL = (
    "INSERT INTO orders WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000) "
    "SELECT n, CASE WHEN n % 11 = 0 THEN NULL ELSE CONCAT('order ', n) END, n * 1.25, n % 2 = 0, "
    "DATE '2024-01-01' + INTERVAL (n % 300) DAY, TIMESTAMP '2024-01-01 00:00:00.000123' + INTERVAL n SECOND, "
    "TIMESTAMP '2024-01-31 22:00:00' + INTERVAL n MINUTE FROM g"
)


@pytest.fixture(params=["postgres", "mysql"])
def side(request: pytest.FixtureRequest) -> Side:
    uri = request.getfixturevalue("pg_db" if request.param == "postgres" else "mysql_db")
    found = Side(request.param, uri)
    found.sql(*((MY_CREATE, MY_FILL) if request.param == "mysql" else (PG_CREATE, PG_FILL)))
    return found


def _synced(side: Side, warehouse: str, method: str) -> TablePlan:
    extra = {"replication_key": "updated_at", "primary_key": ["id"]} if method == "incremental" else {}
    table = side.plan(method, **extra)
    side.sync(table, warehouse)
    return table


def _verify(side: Side, table: TablePlan, warehouse: str):  # type: ignore[no-untyped-def]
    with side.reader() as reader:
        return deep_verify(reader, table, warehouse)


@pytest.mark.parametrize("method", ["full_table", "incremental"])
def test_a_correct_table_reports_no_drift(side: Side, warehouse: str, method: str) -> None:
    table = _synced(side, warehouse, method)
    result = _verify(side, table, warehouse)
    assert result.ok, result.line()
    assert result.source_rows == result.warehouse_rows == 5000
    assert result.unchecked_columns == []
    assert result.line().startswith("orders: ok (5,000 rows")


def test_planted_drift_is_located_and_repaired_with_the_cursor_kept(side: Side, warehouse: str) -> None:
    from deltalake import DeltaTable

    table = _synced(side, warehouse, "incremental")
    delta = DeltaTable(f"{warehouse}/orders")
    cursor = read_state(delta).cursor  # type: ignore[union-attr]
    delta.delete("id = 1234")  # a row removed
    delta.update({"note": "'tampered'"}, predicate="id = 4321")  # a value changed
    result = _verify(side, table, warehouse)
    assert not result.ok
    located = {(d.source_rows - d.warehouse_rows, d.low is not None and d.low <= 1234 < d.high) for d in result.drift}
    assert (1, True) in located  # the removed row's range: one row short
    (changed,) = [d for d in result.drift if d.low <= 4321 < d.high]  # type: ignore[operator]
    assert changed.source_rows == changed.warehouse_rows
    assert all(d.high - d.low <= 256 for d in result.drift)  # type: ignore[operator]
    assert "drift in 2 key ranges" in result.line()
    with side.reader() as reader:
        after = repair(reader, table, result, warehouse, None, LOG)
    assert after.ok, after.line()
    repaired = DeltaTable(f"{warehouse}/orders")
    assert REPAIR_KEY in repaired.history(1)[0]
    assert read_state(repaired).cursor == cursor  # type: ignore[union-attr]
    rows = {r["id"]: r["note"] for r in repaired.to_pyarrow_table(columns=["id", "note"]).to_pylist()}
    assert rows[1234] == "order 1234" and rows[4321] == "order 4321" and len(rows) == 5000


def test_verify_every_runs_in_the_sync_when_due_and_strict_fails_on_drift(side: Side, warehouse: str) -> None:
    from datetime import timedelta

    from deltalake import DeltaTable

    from warehouse_sources.engine.verify_run import last_result, store
    from warehouse_sources.errors import SyncFatalError

    table = side.plan("full_table", verify_every=timedelta(hours=24), verify="strict")
    side.sync(table, warehouse)
    first = last_result(warehouse, "orders", None)
    assert first is not None and first["ok"] and first["source_rows"] == 5000
    side.sync(table, warehouse)  # not due again within the day
    assert last_result(warehouse, "orders", None) == first
    DeltaTable(f"{warehouse}/orders").update({"amount": "0"}, predicate="id = 77")
    store(warehouse, "orders", first | {"checked_at": "2000-01-01T00:00:00+00:00"}, None)  # a day has passed
    side.sql("UPDATE orders SET note = 'changed' WHERE id = 5")
    with side.reader() as reader:  # drift planted after the sync's own commit cannot be seen by it: verify alone
        from warehouse_sources.engine.verify_run import scheduled

        drift = r"drift in 1 key ranges: 1 <= id < 158 \(source 157 rows, warehouse 157\)"
        with pytest.raises(SyncFatalError, match=drift):
            scheduled(reader, table, warehouse, None, LOG)
    assert not last_result(warehouse, "orders", None)["ok"]  # type: ignore[index]


def test_a_repair_run_syncs_then_repairs_the_table(side: Side, warehouse: str) -> None:
    """What a run with conf {"repair": true} does in each table's task: sync, verify, repair."""
    from deltalake import DeltaTable

    from warehouse_sources.engine.sync import SyncRequest, sync_table
    from warehouse_sources.engine.verify_run import last_result

    table = _synced(side, warehouse, "incremental")
    DeltaTable(f"{warehouse}/orders").delete("id > 4990")
    with side.reader() as reader:
        sync_table(reader, SyncRequest(table=table, warehouse_uri=warehouse, repair=True), LOG)
    stored = last_result(warehouse, "orders", None)
    assert stored is not None and stored["ok"] and stored["repaired"]["drift"]
    assert DeltaTable(f"{warehouse}/orders").to_pyarrow_table(columns=["id"]).num_rows == 5000


def test_values_stored_as_null_compare_as_null(pg_db: str, warehouse: str) -> None:
    """PostgreSQL's infinite timestamps and dates, years outside 1-9999 and NaN numerics are stored as
    NULL (README type mapping); the checksum renders them as NULL too, instead of failing on
    `cannot convert infinity to bigint` or reading a BC date as its year. Found by the fuzzer."""
    side = Side("postgres", pg_db)
    side.sql(
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, at TIMESTAMPTZ, due DATE, amount NUMERIC(12, 2), n NUMERIC)",
        "INSERT INTO orders VALUES (1, 'infinity', '0044-03-15 BC', 'NaN', 'Infinity'), "
        "(2, '-infinity', 'infinity', 1.5, '-Infinity'), (3, '12000-01-01 00:00:00+00', '12000-01-01', NULL, 'NaN'), "
        "(4, '2026-01-01 00:00:00+00', '2026-01-01', 2.25, 1)",
    )
    table = _synced(side, warehouse, "full_table")
    result = _verify(side, table, warehouse)
    assert result.ok and result.source_rows == 4, result.line()


def test_a_repair_keeps_soft_deleted_rows_marked(side: Side, warehouse: str) -> None:
    """With `deletes: soft` the rows the source deleted stay in the table, marked; a repair of a range
    holding them keeps them so (it used to delete every row of the range the source lacks, marks
    included: found by the fuzzer), marks a live row the source lacks and revives one it has."""
    from deltalake import DeltaTable

    table = replace(_synced(side, warehouse, "incremental"), deletes="soft")
    side.sql("DELETE FROM orders WHERE id IN (10, 11)")
    side.sync(table, warehouse)  # ids 10 and 11 marked
    delta = DeltaTable(f"{warehouse}/orders")
    delta.update({"note": "'tampered'"}, predicate="id = 12")  # a value changed
    delta.update({"_ws_deleted_at": "NULL"}, predicate="id = 11")  # a deleted row made live again
    delta.update({"_ws_deleted_at": "now()"}, predicate="id = 13")  # a live row marked deleted
    result = _verify(side, table, warehouse)
    located = all(any(d.low <= i < d.high for d in result.drift) for i in (11, 12, 13))  # type: ignore[operator]
    assert not result.ok and located, result.line()
    with side.reader() as reader:
        after = repair(reader, table, result, warehouse, None, LOG)
    assert after.ok, after.line()
    rows = DeltaTable(f"{warehouse}/orders").to_pyarrow_table(columns=["id", "note", "_ws_deleted_at"]).to_pylist()
    marked = {r["id"] for r in rows if r["_ws_deleted_at"] is not None}
    assert marked == {10, 11} and len(rows) == 5000
    assert {r["id"]: r["note"] for r in rows}[12] == "order 12"


def test_a_repair_reads_arrays_kept_as_text_as_text(pg_db: str, warehouse: str) -> None:
    """An array column with a value no list holds (another lower bound) is kept as text; the repair
    reads it as text too, as a sync does (it read it as a list, which the table cannot take: found by
    the fuzzer)."""
    from deltalake import DeltaTable

    side = Side("postgres", pg_db)
    side.sql(
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, tags INT[], note TEXT)",
        "INSERT INTO orders SELECT n, CASE WHEN n = 3 THEN '[5:5]={7}'::int[] ELSE ARRAY[n, n] END, 'n' || n "
        "FROM generate_series(1, 2000) AS n",
    )
    table = _synced(side, warehouse, "full_table")
    DeltaTable(f"{warehouse}/orders").update({"note": "'tampered'"}, predicate="id = 1500")
    result = _verify(side, table, warehouse)
    assert not result.ok and result.unchecked_columns == [], result.line()
    with side.reader() as reader:
        after = repair(reader, table, result, warehouse, None, LOG)
    assert after.ok, after.line()
    rows = DeltaTable(f"{warehouse}/orders").to_pyarrow_table(columns=["id", "tags", "note"]).to_pylist()
    assert {r["id"]: (r["tags"], r["note"]) for r in rows}[3] == ("[5:5]={7}", "n3")


def test_mysql_years_bits_and_backtick_names(mysql_db: str, warehouse: str) -> None:
    """MySQL renders YEAR 0 as '0000' and a BIT(n) as its bytes where the warehouse holds the integers
    0 and n, so a correct table reported drift; and a column named with a backtick broke the repair's
    MERGE (delta-rs's update_all leaves it unescaped). Both found by the MySQL fuzzer."""
    from deltalake import DeltaTable

    side = Side("mysql", mysql_db)
    side.sql(
        "CREATE TABLE orders (id INT PRIMARY KEY, y YEAR, b BIT(12), `a``b` INT)",
        "INSERT INTO orders VALUES (1, 0, b'101', 1), (2, 1901, b'111111111111', NULL), (3, 2155, NULL, 3)",
    )
    table = _synced(side, warehouse, "full_table")
    result = _verify(side, table, warehouse)
    assert result.ok and result.unchecked_columns == [], result.line()
    DeltaTable(f"{warehouse}/orders").delete("id = 2")
    result = _verify(side, table, warehouse)
    assert not result.ok, result.line()
    with side.reader() as reader:
        after = repair(reader, table, result, warehouse, None, LOG)
    assert after.ok, after.line()


def test_a_repair_touches_only_the_rows_it_compared(pg_db: str, warehouse: str) -> None:
    """A cursor table is compared at or below its cursor; the repair rewrites the same rows only. A row
    above the cursor is the next sync's and one with a NULL key is left as the sync leaves it (with a
    text key the drift is the whole table, and the repair read every source row and inserted both:
    found by the MySQL fuzzer)."""
    from deltalake import DeltaTable

    side = Side("postgres", pg_db)
    side.sql(
        "CREATE TABLE orders (code TEXT PRIMARY KEY, n INT, updated_at TIMESTAMP)",
        "INSERT INTO orders SELECT 'c' || n, n, TIMESTAMP '2024-01-01' + n * INTERVAL '1 minute' "
        "FROM generate_series(1, 100) AS n",
    )
    table = side.plan("incremental", replication_key="updated_at", primary_key=["code"])
    side.sync(table, warehouse)
    side.sql("INSERT INTO orders VALUES ('newer', 0, TIMESTAMP '2030-01-01'), ('no key', 0, NULL)")
    DeltaTable(f"{warehouse}/orders").delete("code = 'c7'")
    result = _verify(side, table, warehouse)
    assert not result.ok and result.source_rows == 100, result.line()
    with side.reader() as reader:
        after = repair(reader, table, result, warehouse, None, LOG)
    assert after.ok, after.line()
    codes = set(DeltaTable(f"{warehouse}/orders").to_pyarrow_table(columns=["code"]).column("code").to_pylist())
    assert "c7" in codes and not codes & {"newer", "no key"} and len(codes) == 100


def test_mysql_zero_dates_compare_as_null(mysql_db: str, warehouse: str) -> None:
    """MySQL's zero dates, zero months or days and year 0 are stored as NULL (README type mapping);
    the checksum renders them as NULL too instead of '0000-00-00' (found by the MySQL fuzzer)."""
    side = Side("mysql", mysql_db)
    side.sql(
        "SET SESSION sql_mode = ''",
        "CREATE TABLE orders (id INT PRIMARY KEY, d DATE, t DATETIME(6))",
        "INSERT INTO orders VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), (2, '0000-01-01', '2024-05-00 00:00:00'), "
        "(3, '2024-00-10', '0000-03-01 10:00:00'), (4, '2024-01-31', '2024-01-31 10:00:00.5')",
    )
    table = _synced(side, warehouse, "full_table")
    result = _verify(side, table, warehouse)
    assert result.ok and result.source_rows == 4, result.line()


def test_postgres_char_padding_is_compared_as_stored(pg_db: str, warehouse: str) -> None:
    """A char(n) value keeps its padding in the warehouse (the reader selects it as it is); the
    checksum rendered it through a CAST to text, which drops the padding, so a correct table
    reported drift (found by the fuzzer). Types the reader selects as ::text (inet: '::1/128')
    still render through that cast."""
    side = Side("postgres", pg_db)
    side.sql(
        "CREATE TABLE orders (id INT PRIMARY KEY, c CHAR(5), v VARCHAR(5), ip INET)",
        "INSERT INTO orders VALUES (1, '', '', '::1'), (2, 'a', 'a ', '10.1.2.3/8'), (3, NULL, NULL, NULL), "
        "(4, 'abcde', 'abcde', '2001:db8::/32')",
    )
    table = _synced(side, warehouse, "full_table")
    result = _verify(side, table, warehouse)
    assert result.ok and result.source_rows == 4, result.line()


def test_a_repair_matches_unsigned_keys_above_int64(mysql_db: str, warehouse: str) -> None:
    """A BIGINT UNSIGNED key is stored as decimal(20, 0); the repair's MERGE read a range bound above
    int64 as a float and missed the row it should update, inserting a second one (found by the MySQL
    fuzzer)."""
    from deltalake import DeltaTable

    side = Side("mysql", mysql_db)
    side.sql(
        "CREATE TABLE orders (id BIGINT UNSIGNED PRIMARY KEY, n TINYINT)",
        "INSERT INTO orders VALUES (9223372036854775822, 1), (9223372036854775829, 2), (18446744073709551615, 3)",
    )
    table = _synced(side, warehouse, "full_table")
    DeltaTable(f"{warehouse}/orders").update({"n": "NULL"}, predicate="n = 1")
    result = _verify(side, table, warehouse)
    assert not result.ok, result.line()
    with side.reader() as reader:
        after = repair(reader, table, result, warehouse, None, LOG)
    assert after.ok and after.warehouse_rows == 3, after.line()
