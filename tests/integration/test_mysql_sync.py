"""Each sync method against a real MySQL/MariaDB server (127.0.0.1:3306, or WS_TEST_MYSQL_URI)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import plan, synced_rows, table_version
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.errors import PrimaryKeyError, ReplicationKeyTypeError, SourceDataError, TableNotFoundError
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.mysql import MySQLParams, MySQLReader
from warehouse_sources.sources.mysql.types import ZERO_DATE_NOTE

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.mysql")

ORDERS = """
CREATE TABLE orders (
    id BIGINT PRIMARY KEY, customer_id INT, amount DECIMAL(12, 2), status VARCHAR(20),
    created_at DATETIME(6) NOT NULL, updated_at DATETIME(6)
) ENGINE=InnoDB
"""
FILL_ORDERS = """
INSERT INTO orders
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 500)
SELECT n, n % 7, n * 1.25, 'paid', TIMESTAMP'2024-01-01 00:00:00' + INTERVAL n MINUTE,
       TIMESTAMP'2024-01-01 00:00:00' + INTERVAL n MINUTE
FROM g
"""


def connect(uri: str, **kwargs: Any) -> Any:
    import pymysql

    p = MySQLParams.from_uri(uri)
    return pymysql.connect(
        host=p.host, port=p.port, user=p.user, password=p.password, database=p.database, autocommit=True, **kwargs
    )


def run(uri: str, *statements: str) -> None:
    conn = connect(uri)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET SESSION max_recursive_iterations = 100000")
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


def source_rows(uri: str, table: str, columns: str = "*") -> list[dict[str, Any]]:
    """Rows as the synced table holds them: naive DATETIMEs read as UTC."""
    import pymysql.cursors

    conn = connect(uri, cursorclass=pymysql.cursors.DictCursor)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {table}")
            found = cursor.fetchall()
    finally:
        conn.close()
    rows = [{k: v.replace(tzinfo=UTC) if isinstance(v, datetime) else v for k, v in r.items()} for r in found]
    return sorted(rows, key=lambda r: repr(sorted(r.items(), key=lambda kv: kv[0])))


def database(uri: str) -> str:
    name = MySQLParams.from_uri(uri).database
    assert name
    return name


def mplan(uri: str, table: str, method: str = "full_table", **kwargs: Any) -> TablePlan:
    return plan(f"{database(uri)}.{table}", method, **kwargs)


def sync(uri: str, warehouse: str, table_plan: TablePlan, *, full_refresh: bool = False) -> SyncResult:
    with MySQLReader(uri) as reader:
        request = SyncRequest(table=table_plan, warehouse_uri=warehouse, full_refresh=full_refresh, run_id="test")
        return sync_table(reader, request, LOG)


def change_orders(uri: str) -> None:
    run(
        uri,
        "UPDATE orders SET amount = amount + 1, status = 'refunded', updated_at = '2025-01-01' WHERE id % 50 = 0",
        "INSERT INTO orders SELECT id + 500, 1, 9.99, 'new', '2025-01-02', '2025-01-02' FROM orders WHERE id <= 20",
        "DELETE FROM orders WHERE id IN (3, 4)",
    )


# --- the three methods ----------------------------------------------------------------------


def test_full_table_equals_source_and_drops_deleted_rows(mysql_db: str, warehouse: str) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS)
    full = mplan(mysql_db, "orders")
    first = sync(mysql_db, warehouse, full)
    assert first.rows == 500 and first.write == "overwrite"
    assert synced_rows(warehouse, "orders") == source_rows(mysql_db, "orders")
    change_orders(mysql_db)
    sync(mysql_db, warehouse, full)
    assert synced_rows(warehouse, "orders") == source_rows(mysql_db, "orders")
    assert table_version(warehouse, "orders") == 1


def test_incremental_merges_updates_and_inserts_and_keeps_deleted_rows(mysql_db: str, warehouse: str) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS)
    incremental = mplan(mysql_db, "orders", "incremental", replication_key="updated_at")
    sync(mysql_db, warehouse, incremental)
    change_orders(mysql_db)
    second = sync(mysql_db, warehouse, incremental)
    assert second.write == "merge" and second.rows == 30  # 10 updated + 20 inserted
    rows = synced_rows(warehouse, "orders")
    assert [r for r in rows if r["id"] not in (3, 4)] == source_rows(mysql_db, "orders")
    assert len({r["id"] for r in rows}) == len(rows) == 520  # deletions are not synced (documented)
    assert sync(mysql_db, warehouse, incremental).rows == 0  # the 20 boundary rows re-read, all stored: no commit
    assert len(synced_rows(warehouse, "orders")) == 520


def test_append_only_appends_each_new_row_once(mysql_db: str, warehouse: str) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS)
    append = mplan(mysql_db, "orders", "append_only", replication_key="id")
    sync(mysql_db, warehouse, append)
    run(mysql_db, "INSERT INTO orders SELECT id + 500, 1, 1, 'new', NOW(), NOW() FROM orders WHERE id <= 30")
    second = sync(mysql_db, warehouse, append)
    assert second.write == "append" and second.rows == 30
    assert sync(mysql_db, warehouse, append).rows == 0
    assert sorted(r["id"] for r in synced_rows(warehouse, "orders")) == list(range(1, 531))


@pytest.mark.parametrize("with_primary_key", [True, False], ids=["primary-key", "row-hash"])
def test_append_only_boundary_ties_are_neither_lost_nor_duplicated(
    mysql_db: str, warehouse: str, with_primary_key: bool
) -> None:
    pk = "PRIMARY KEY" if with_primary_key else ""
    run(
        mysql_db,
        f"CREATE TABLE events (id BIGINT {pk}, kind VARCHAR(10), at DATE NOT NULL)",
        "INSERT INTO events VALUES (1, 'a', '2024-01-01'), (2, 'a', '2024-01-02'), (3, 'a', '2024-01-02')",
    )
    events = mplan(mysql_db, "events", "append_only", replication_key="at")
    sync(mysql_db, warehouse, events)
    run(mysql_db, "INSERT INTO events VALUES (4, 'late', '2024-01-02'), (5, 'b', '2024-01-03')")
    assert sync(mysql_db, warehouse, events).rows == 2
    assert sync(mysql_db, warehouse, events).rows == 0
    assert synced_rows(warehouse, "events") == source_rows(mysql_db, "events")


def test_a_third_identical_row_at_the_boundary_is_appended(mysql_db: str, warehouse: str) -> None:
    run(
        mysql_db,
        "CREATE TABLE hits (page VARCHAR(10), at DATETIME NOT NULL)",
        "INSERT INTO hits VALUES ('a', '2024-01-01 10:00:00'), ('a', '2024-01-01 10:00:00')",
    )
    hits = mplan(mysql_db, "hits", "append_only", replication_key="at")
    sync(mysql_db, warehouse, hits)
    run(mysql_db, "INSERT INTO hits VALUES ('a', '2024-01-01 10:00:00')")
    assert sync(mysql_db, warehouse, hits).rows == 1
    assert sync(mysql_db, warehouse, hits).rows == 0
    assert len(synced_rows(warehouse, "hits")) == 3


def test_incremental_rows_sharing_the_cursor_value_are_picked_up_once(mysql_db: str, warehouse: str) -> None:
    run(
        mysql_db,
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40), updated_at TIMESTAMP(6) NOT NULL)",
        "INSERT INTO t VALUES (1, 'x', '2024-05-01 10:00:00'), (2, 'x', '2024-05-01 10:00:00')",
    )
    t = mplan(mysql_db, "t", "incremental", replication_key="updated_at")
    sync(mysql_db, warehouse, t)
    run(mysql_db, "INSERT INTO t VALUES (3, 'same instant, committed later', '2024-05-01 10:00:00')")
    sync(mysql_db, warehouse, t)
    assert [r["id"] for r in synced_rows(warehouse, "t")] == [1, 2, 3]


def test_lookback_catches_a_row_committed_late_with_an_old_timestamp(mysql_db: str, warehouse: str) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS)
    plain = mplan(mysql_db, "orders", "incremental", replication_key="updated_at", synced_name="plain")
    windowed = mplan(
        mysql_db,
        "orders",
        "incremental",
        replication_key="updated_at",
        synced_name="windowed",
        lookback=timedelta(minutes=10),
    )
    sync(mysql_db, warehouse, plain)
    sync(mysql_db, warehouse, windowed)
    run(mysql_db, "INSERT INTO orders VALUES (999, 1, 1, 'late', NOW(), TIMESTAMP'2024-01-01 08:15:00')")
    sync(mysql_db, warehouse, plain)
    sync(mysql_db, warehouse, windowed)
    assert 999 not in {r["id"] for r in synced_rows(warehouse, "plain")}
    assert synced_rows(warehouse, "windowed") == source_rows(mysql_db, "orders")


def test_integer_lookback_rereads_the_last_ids(mysql_db: str, warehouse: str) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS)
    t = mplan(mysql_db, "orders", "incremental", replication_key="id", lookback=50)
    sync(mysql_db, warehouse, t)
    assert sync(mysql_db, warehouse, t).rows == 0  # ids 450..500 re-read, all stored as they are: no commit
    assert len(synced_rows(warehouse, "orders")) == 500


def test_null_replication_keys_are_counted_and_loaded_once(
    mysql_db: str, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS, "UPDATE orders SET updated_at = NULL WHERE id <= 3")
    incremental = mplan(mysql_db, "orders", "incremental", replication_key="updated_at")
    with caplog.at_level(logging.INFO):
        first = sync(mysql_db, warehouse, incremental)
    assert first.null_keys == 3 and first.rows == 500
    assert "3 rows have NULL updated_at" in caplog.text
    assert sync(mysql_db, warehouse, incremental).null_keys == 3
    assert len(synced_rows(warehouse, "orders")) == 500


# --- refusals before data moves ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "type_sql"),
    [
        ("label", "varchar(20)"),
        ("flag", "tinyint(1)"),
        ("price", "decimal(10,2)"),
        ("at_time", "time"),
        ("yr", "year(4)"),
    ],
)
def test_replication_keys_of_other_types_are_refused_before_data_moves(
    mysql_db: str, warehouse: str, column: str, type_sql: str
) -> None:
    run(
        mysql_db,
        "CREATE TABLE t (id INT PRIMARY KEY, label VARCHAR(20), flag TINYINT(1), price DECIMAL(10,2), "
        "at_time TIME, yr YEAR)",
        "INSERT INTO t VALUES (1, 'a', 1, 1.5, '10:00', 2024)",
    )
    with pytest.raises(ReplicationKeyTypeError) as exc:
        sync(mysql_db, warehouse, mplan(mysql_db, "t", "append_only", replication_key=column))
    message = str(exc.value)
    assert "'src'" in message and f"{database(mysql_db)}.t" in message and repr(column) in message
    assert type_sql in message
    assert not Path(warehouse, "t").exists()


def test_a_yaml_primary_key_with_nulls_or_duplicates_is_refused_with_an_example(mysql_db: str, warehouse: str) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS)
    by_customer = mplan(mysql_db, "orders", "incremental", replication_key="id", primary_key=["customer_id", "status"])
    with pytest.raises(PrimaryKeyError, match=r"\('0', 'paid'\) appears more than once"):
        sync(mysql_db, warehouse, by_customer)
    run(mysql_db, "UPDATE orders SET customer_id = NULL WHERE id <= 2")
    with pytest.raises(PrimaryKeyError, match="2 rows to sync have NULL"):
        sync(mysql_db, warehouse, by_customer)
    assert not Path(warehouse, "orders").exists()


def test_a_name_in_another_case_is_not_matched_and_the_real_one_is_suggested(mysql_db: str, warehouse: str) -> None:
    run(mysql_db, "CREATE TABLE `Orders` (id INT PRIMARY KEY)")
    with pytest.raises(TableNotFoundError) as exc:
        sync(mysql_db, warehouse, mplan(mysql_db, "orders"))
    assert f"'{database(mysql_db)}.Orders'" in str(exc.value)


# --- names and values -----------------------------------------------------------------------


def test_identifiers_with_backticks_mixed_case_and_reserved_words(mysql_db: str, warehouse: str) -> None:
    run(
        mysql_db,
        "CREATE TABLE `Order``s Table` (`select` BIGINT PRIMARY KEY, `Group` VARCHAR(10), `a``b` INT, "
        "`From` DATETIME NOT NULL)",
        "INSERT INTO `Order``s Table` VALUES (1, 'x', 10, '2024-01-01'), (2, 'y', 20, '2024-01-02')",
    )
    t = mplan(mysql_db, "Order`s Table", "incremental", replication_key="From", synced_name="odd")
    assert sync(mysql_db, warehouse, t).rows == 2
    run(mysql_db, "INSERT INTO `Order``s Table` VALUES (3, 'z', 30, '2024-01-03')")
    assert sync(mysql_db, warehouse, t).rows == 2  # the boundary row and the new one
    assert synced_rows(warehouse, "odd") == source_rows(mysql_db, "`Order``s Table`")
    assert list(synced_rows(warehouse, "odd")[0]) == ["select", "Group", "a`b", "From"]


def test_zero_dates_are_stored_as_null_and_counted(
    mysql_db: str, warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    run(
        mysql_db,
        "SET SESSION sql_mode = ''",
        "CREATE TABLE d (id INT PRIMARY KEY, day DATE, at DATETIME)",
        "INSERT INTO d VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), (2, '2024-00-10', '2024-02-29 12:00:00'), "
        "(3, '2024-03-01', '2024-03-01 00:00:00')",
    )
    t = mplan(mysql_db, "d", "append_only", replication_key="at")
    with caplog.at_level(logging.INFO):
        first = sync(mysql_db, warehouse, t)
    assert first.null_keys == 1  # the zero datetime cannot be a cursor; it is loaded by the first read
    assert f"2 values of column 'day' ({ZERO_DATE_NOTE})" in caplog.text
    assert f"1 values of column 'at' ({ZERO_DATE_NOTE})" in caplog.text
    assert synced_rows(warehouse, "d") == [
        {"id": 1, "day": None, "at": None},
        {"id": 2, "day": None, "at": datetime(2024, 2, 29, 12, tzinfo=UTC)},
        {"id": 3, "day": date(2024, 3, 1), "at": datetime(2024, 3, 1, tzinfo=UTC)},
    ]
    assert sync(mysql_db, warehouse, t).rows == 0


def test_tinyint_1_is_boolean_and_other_types_keep_their_values(mysql_db: str, warehouse: str) -> None:
    run(
        mysql_db,
        "CREATE TABLE v (id INT PRIMARY KEY, ok BOOL, tiny TINYINT, tu TINYINT UNSIGNED, yr YEAR, t TIME(3), "
        "j JSON, e ENUM('a', 'b'), s SET('x', 'y'), b VARBINARY(4), bits BIT(10), f FLOAT, dec_ DECIMAL(6,3))",
        "INSERT INTO v VALUES (1, TRUE, -128, 255, 2024, '-838:59:59.000', '{\"k\": [1]}', 'b', 'x,y', x'00ff', "
        "b'1111111111', 1.5, -123.456), (2, FALSE, 127, 0, NULL, '10:00:00.5', NULL, NULL, '', '', b'0', NULL, 0)",
    )
    sync(mysql_db, warehouse, mplan(mysql_db, "v"))
    first, second = sorted(synced_rows(warehouse, "v"), key=lambda r: r["id"])
    assert first == {
        "id": 1, "ok": True, "tiny": -128, "tu": 255, "yr": 2024, "t": "-838:59:59.000", "j": '{"k": [1]}',
        "e": "b", "s": "x,y", "b": b"\x00\xff", "bits": 1023, "f": 1.5, "dec_": Decimal("-123.456"),
    }  # fmt: skip
    assert (second["ok"], second["tiny"], second["tu"], second["t"], second["b"]) == (
        False,
        127,
        0,
        "10:00:00.500",
        b"",
    )


def test_timestamps_are_stored_in_utc_whatever_the_session_time_zone(mysql_db: str, warehouse: str) -> None:
    run(
        mysql_db,
        "SET time_zone = '+05:00'",
        "CREATE TABLE z (id INT PRIMARY KEY, ts TIMESTAMP NULL, dt DATETIME)",
        "INSERT INTO z VALUES (1, '2024-06-01 12:00:00', '2024-06-01 12:00:00')",
    )
    sync(mysql_db, warehouse, mplan(mysql_db, "z"))
    assert synced_rows(warehouse, "z") == [
        {"id": 1, "ts": datetime(2024, 6, 1, 7, tzinfo=UTC), "dt": datetime(2024, 6, 1, 12, tzinfo=UTC)}
    ]


@pytest.mark.parametrize("method", ["incremental", "append_only"])
def test_unsigned_bigint_extremes_as_key_and_cursor(mysql_db: str, warehouse: str, method: str) -> None:
    top = 2**64 - 1
    run(
        mysql_db,
        "CREATE TABLE u (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(10))",
        f"INSERT INTO u VALUES (0, 'zero'), (1, 'one'), ({top - 1}, 'almost')",
    )
    u = mplan(mysql_db, "u", method, replication_key="id")
    first = sync(mysql_db, warehouse, u)
    assert first.cursor == top - 1
    run(mysql_db, f"INSERT INTO u VALUES ({top}, 'top')", "UPDATE u SET v = 'changed' WHERE id = 1")
    second = sync(mysql_db, warehouse, u)
    assert second.cursor == top
    assert sync(mysql_db, warehouse, u).rows == (1 if method == "incremental" else 0)
    rows = {r["id"]: r["v"] for r in synced_rows(warehouse, "u")}
    assert rows == {Decimal(0): "zero", Decimal(1): "one", Decimal(top - 1): "almost", Decimal(top): "top"}


def test_merging_on_unsigned_keys_above_int64_updates_in_place(mysql_db: str, warehouse: str) -> None:
    big = 2**63
    run(
        mysql_db,
        "CREATE TABLE h (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(10), at DATETIME NOT NULL)",
        f"INSERT INTO h VALUES ({big}, 'a', '2024-01-01'), ({big + 1}, 'b', '2024-01-01')",
    )
    h = mplan(mysql_db, "h", "incremental", replication_key="at")
    sync(mysql_db, warehouse, h)
    run(mysql_db, f"UPDATE h SET v = 'changed', at = '2024-01-02' WHERE id = {big + 1}")
    assert sync(mysql_db, warehouse, h).write == "merge"
    assert sorted((r["id"], r["v"]) for r in synced_rows(warehouse, "h")) == [
        (Decimal(big), "a"),
        (Decimal(big + 1), "changed"),
    ]


def test_a_widened_column_widens_the_synced_table(mysql_db: str, warehouse: str) -> None:
    import pyarrow as pa
    from deltalake import DeltaTable

    run(
        mysql_db,
        "CREATE TABLE w (id INT PRIMARY KEY, n INT, f FLOAT)",
        "INSERT INTO w VALUES (1, 1, 1.5), (2, 2, 2.5)",
    )
    w = mplan(mysql_db, "w", "incremental", replication_key="id")
    sync(mysql_db, warehouse, w)
    run(
        mysql_db,
        "ALTER TABLE w MODIFY n BIGINT, MODIFY f DOUBLE",
        "INSERT INTO w VALUES (3, 9000000000, 0.1)",
    )
    sync(mysql_db, warehouse, w)
    schema = pa.schema(DeltaTable(f"{warehouse}/w").schema().to_arrow())
    assert schema.field("n").type == pa.int64() and schema.field("f").type == pa.float64()
    assert sorted((r["id"], r["n"]) for r in synced_rows(warehouse, "w")) == [(1, 1), (2, 2), (3, 9000000000)]


# --- the reader on its own --------------------------------------------------------------------


def test_a_snapshot_does_not_see_rows_committed_after_it_began(mysql_db: str) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS)
    with MySQLReader(mysql_db) as reader:
        desc = reader.describe(database(mysql_db), "orders")
        assert desc is not None and desc.primary_key == ("id",)
        reader.begin_snapshot()
        upper, _ = reader.key_bounds(desc, "id", None)
        run(mysql_db, "INSERT INTO orders VALUES (1000, 1, 1, 'late', NOW(), NOW())")
        rows = reader.read(desc).read_all().num_rows
        reader.end_snapshot()
        assert (upper, rows) == (500, 500)
        assert reader.read(desc).read_all().num_rows == 501  # a new statement outside the snapshot


def test_batches_are_bounded_and_an_unfinished_read_is_dropped(mysql_db: str) -> None:
    run(mysql_db, ORDERS, FILL_ORDERS)
    with MySQLReader(mysql_db, batch_bytes=4096, batch_rows=100) as reader:
        desc = reader.describe(database(mysql_db), "orders")
        assert desc is not None
        batches = list(reader.read(desc))
        assert sum(b.num_rows for b in batches) == 500
        assert max(b.num_rows for b in batches) <= 100
        assert max(b.nbytes for b in batches[1:]) <= 4096 * 1.2
        reader.begin_snapshot()
        stream = reader.read(desc)
        stream.read_next_batch()
        done = threading.Event()
        threading.Thread(target=lambda: (reader.end_snapshot(), done.set()), daemon=True).start()
        assert done.wait(10)  # ends without draining the rest
        assert reader.rows("SELECT count(*) FROM orders") == [(500,)]


# --- through Airflow: YAML -> DAG -> operator -> MySQL connection ---------------------------------


def test_a_mysql_source_file_syncs_through_its_dag(
    mysql_db: str, warehouse: str, airflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    run(mysql_db, ORDERS, FILL_ORDERS)
    p = MySQLParams.from_uri(mysql_db)
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "shop.yaml").write_text(
        f"name: shop\nkind: mysql\nconn_id: shop_mysql\ntables:\n"
        f"  - {{name: '{p.database}.orders', sync: incremental, replication_key: updated_at}}\n"
    )
    conn = {"conn_type": "mysql", "host": p.host, "port": p.port, "login": p.user, "schema": p.database}
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_MYSQL", json.dumps(conn | ({"password": p.password} if p.password else {})))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", warehouse)
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["sync_shop"]
    assert set(dag.tags) == {"warehouse-sources", "mysql"}
    assert dag.test().state == "success"
    assert synced_rows(warehouse, "orders") == source_rows(mysql_db, "orders")


def test_a_refused_login_names_the_connection_and_never_the_password(
    mysql_db: str, airflow_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from warehouse_sources.airflow.operators import FullTableSyncOperator
    from warehouse_sources.errors import SourceConnectionError

    p = MySQLParams.from_uri(mysql_db)
    secret = "n0t-the-p@ssword"
    conn = {"conn_type": "mysql", "host": p.host, "port": p.port, "login": "ws_nobody", "password": secret}
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_MYSQL", json.dumps(conn))
    from warehouse_sources.config.kinds import parse_source
    from warehouse_sources.plan import plan_source

    tables = [{"name": f"{p.database or 'shop'}.orders"}]
    plan = plan_source(parse_source({"name": "shop", "kind": "mysql", "conn_id": "shop_mysql", "tables": tables}))
    op = FullTableSyncOperator(task_id="orders", source=plan, table=plan.tables[0])
    with pytest.raises(SourceConnectionError) as exc:
        op.open_reader()
    message = str(exc.value)
    assert "source 'shop'" in message and "'shop_mysql'" in message and f"{p.host}:{p.port}/" in message
    assert "Access denied" in message and secret not in message and "n0t-the-p%40ssword" not in message


@pytest.mark.parametrize("method", ["full_table", "incremental"])
def test_a_read_the_server_refuses_fails_for_good_with_the_servers_reason(
    mysql_db: str, warehouse: str, method: str
) -> None:
    """A view whose DEFINER no longer exists: MariaDB refuses every read (errno 1449), so a retry
    cannot help; the task fails at once, naming the table and the server's reason."""
    run(
        mysql_db,
        "CREATE TABLE g (id INT PRIMARY KEY)",
        "INSERT INTO g VALUES (1)",
        "CREATE DEFINER = 'ghost'@'%' VIEW gv AS SELECT id FROM g",
    )
    keys = {"replication_key": "id", "primary_key": ["id"]} if method == "incremental" else {}
    with pytest.raises(SourceDataError) as exc:
        sync(mysql_db, warehouse, mplan(mysql_db, "gv", method, **keys))
    message = str(exc.value)
    assert f"{database(mysql_db)}.gv" in message and "definer ('ghost'@'%') does not exist" in message
    from deltalake import DeltaTable

    assert not DeltaTable.is_deltatable(f"{warehouse}/gv")  # nothing committed
