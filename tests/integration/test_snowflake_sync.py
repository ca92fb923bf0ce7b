"""Each sync method against Snowflake as fakesnow serves it: the real connector, over HTTP, to an
in-process server that runs the SQL on DuckDB (README "Snowflake" says what this cannot show)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.integration.helpers import plan, synced_rows, table_version
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.errors import ReplicationKeyTypeError, TableNotFoundError
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.snowflake import SnowflakeReader, connect_uri

pytestmark = pytest.mark.integration
LOG = logging.getLogger("warehouse_sources.tests.snowflake")

ORDERS = """
CREATE TABLE ANALYTICS.ORDERS (
    ID NUMBER(38, 0) PRIMARY KEY, CUSTOMER_ID INTEGER, AMOUNT NUMBER(12, 2), STATUS VARCHAR(20),
    CREATED_AT TIMESTAMP_NTZ NOT NULL, UPDATED_AT TIMESTAMP_NTZ
)
"""
FILL_ORDERS = """
INSERT INTO ANALYTICS.ORDERS
SELECT SEQ4() + 1, (SEQ4() + 1) % 7, (SEQ4() + 1) * 1.25, 'paid',
       DATEADD(MINUTE, SEQ4() + 1, '2024-01-01 00:00:00'::TIMESTAMP_NTZ),
       DATEADD(MINUTE, SEQ4() + 1, '2024-01-01 00:00:00'::TIMESTAMP_NTZ)
FROM TABLE(GENERATOR(ROWCOUNT => 500))
"""


def run(kwargs: dict[str, Any], *statements: str) -> None:
    import snowflake.connector

    with snowflake.connector.connect(**kwargs) as conn, conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def source_rows(kwargs: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """Rows as the synced table holds them: NTZ read as UTC, every timestamp in UTC."""
    import snowflake.connector

    with snowflake.connector.connect(**kwargs) as conn, conn.cursor(snowflake.connector.DictCursor) as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        found = cursor.fetchall()
    rows = [{k: _utc(v) for k, v in r.items()} for r in found]
    return sorted(rows, key=lambda r: repr(sorted(r.items(), key=lambda kv: kv[0])))


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def splan(table: str, method: str = "full_table", **kwargs: Any) -> TablePlan:
    return plan(table, method, **kwargs)


def sync(kwargs: dict[str, Any], warehouse: str, table_plan: TablePlan, **reader_options: Any) -> SyncResult:
    with SnowflakeReader(**kwargs, **reader_options) as reader:
        request = SyncRequest(table=table_plan, warehouse_uri=warehouse, run_id="test")
        return sync_table(reader, request, LOG)


def change_orders(kwargs: dict[str, Any]) -> None:
    run(
        kwargs,
        "UPDATE ANALYTICS.ORDERS SET AMOUNT = AMOUNT + 1, STATUS = 'refunded', UPDATED_AT = '2025-01-01' "
        "WHERE ID % 50 = 0",
        "INSERT INTO ANALYTICS.ORDERS SELECT ID + 500, 1, 9.99, 'new', '2025-01-02', '2025-01-02' "
        "FROM ANALYTICS.ORDERS WHERE ID <= 20",
        "DELETE FROM ANALYTICS.ORDERS WHERE ID IN (3, 4)",
    )


# --- the three methods ----------------------------------------------------------------------


def test_full_table_equals_source_and_drops_deleted_rows(sf_db: dict[str, Any], warehouse: str) -> None:
    run(sf_db, ORDERS, FILL_ORDERS)
    full = splan("ANALYTICS.ORDERS")
    first = sync(sf_db, warehouse, full)
    assert first.rows == 500 and first.write == "overwrite"
    assert synced_rows(warehouse, "ORDERS") == source_rows(sf_db, "ANALYTICS.ORDERS")
    change_orders(sf_db)
    sync(sf_db, warehouse, full)
    assert synced_rows(warehouse, "ORDERS") == source_rows(sf_db, "ANALYTICS.ORDERS")
    assert table_version(warehouse, "ORDERS") == 1


def test_incremental_merges_updates_and_inserts_on_the_declared_key(sf_db: dict[str, Any], warehouse: str) -> None:
    run(sf_db, ORDERS, FILL_ORDERS)
    incremental = splan("ANALYTICS.ORDERS", "incremental", replication_key="UPDATED_AT")
    sync(sf_db, warehouse, incremental)
    change_orders(sf_db)
    second = sync(sf_db, warehouse, incremental)
    assert second.write == "merge" and second.rows == 30  # 10 updated + 20 inserted
    expected = source_rows(sf_db, "ANALYTICS.ORDERS")
    kept = [r for r in synced_rows(warehouse, "ORDERS") if r["ID"] not in (3, 4)]
    assert kept == expected  # deletions are not synced by incremental
    assert len(synced_rows(warehouse, "ORDERS")) == len(expected) + 2
    assert second.cursor == "2025-01-02T00:00:00+00:00"


def test_append_only_keeps_boundary_ties_once(sf_db: dict[str, Any], warehouse: str) -> None:
    run(
        sf_db,
        "CREATE TABLE ANALYTICS.EVENTS (ID INTEGER, HAPPENED_AT TIMESTAMP_TZ, NOTE VARCHAR)",
        "INSERT INTO ANALYTICS.EVENTS VALUES (1, '2024-01-01 10:00:00+02:00', 'a'), "
        "(2, '2024-01-01 08:30:00+00:00', 'b'), (3, '2024-01-01 08:30:00+00:00', 'c')",
    )
    events = splan("ANALYTICS.EVENTS", "append_only", replication_key="HAPPENED_AT")
    first = sync(sf_db, warehouse, events)
    assert first.rows == 3 and first.cursor == "2024-01-01T08:30:00+00:00"
    # A row committed later at the cursor value (another offset, the same instant) and one after it.
    run(sf_db, "INSERT INTO ANALYTICS.EVENTS VALUES (4, '2024-01-01 09:30:00+01:00', 'tie'), (5, NULL, 'no key')")
    run(sf_db, "INSERT INTO ANALYTICS.EVENTS VALUES (6, '2024-01-02 00:00:00+00:00', 'later')")
    second = sync(sf_db, warehouse, events)
    assert second.write == "append" and second.null_keys == 1
    assert sorted(r["ID"] for r in synced_rows(warehouse, "EVENTS")) == [1, 2, 3, 4, 6]
    third = sync(sf_db, warehouse, events)
    assert third.rows == 0 and sorted(r["ID"] for r in synced_rows(warehouse, "EVENTS")) == [1, 2, 3, 4, 6]


def test_integer_keys_and_lookback(sf_db: dict[str, Any], warehouse: str) -> None:
    run(sf_db, ORDERS, FILL_ORDERS)
    by_id = splan("ANALYTICS.ORDERS", "incremental", replication_key="ID", lookback=10, synced_name="by_id")
    first = sync(sf_db, warehouse, by_id)
    assert first.cursor == 500
    run(sf_db, "UPDATE ANALYTICS.ORDERS SET STATUS = 'late' WHERE ID = 495", "INSERT INTO ANALYTICS.ORDERS "
        "VALUES (501, 1, 1, 'new', '2025-01-01', '2025-01-01')")  # fmt: skip
    second = sync(sf_db, warehouse, by_id)
    assert second.rows == 12 and second.cursor == 501  # ids 490..501
    assert {r["ID"]: r["STATUS"] for r in synced_rows(warehouse, "by_id")}[495] == "late"


def test_null_keys_are_counted_and_reported(sf_db: dict[str, Any], warehouse: str) -> None:
    run(
        sf_db,
        "CREATE TABLE ANALYTICS.T (ID INTEGER PRIMARY KEY, D DATE)",
        "INSERT INTO ANALYTICS.T VALUES (1, '2024-01-01'), (2, NULL), (3, NULL), (4, '2024-01-03')",
    )
    result = sync(sf_db, warehouse, splan("ANALYTICS.T", "incremental", replication_key="D"))
    assert result.null_keys == 2 and result.rows == 4 and result.cursor == "2024-01-03"


# --- names, types and refusals --------------------------------------------------------------


def test_mixed_case_and_reserved_names_are_quoted_and_matched_exactly(sf_db: dict[str, Any], warehouse: str) -> None:
    run(
        sf_db,
        'CREATE SCHEMA "Sales"',
        'CREATE TABLE "Sales"."Order Lines" ("Id" INTEGER PRIMARY KEY, "select" VARCHAR, "Say ""hi""" VARCHAR, '
        '"Updated At" TIMESTAMP_LTZ)',
        """INSERT INTO "Sales"."Order Lines" VALUES (1, 'a', 'x', '2024-01-01 00:00:00+00:00'),
           (2, 'b', 'y', '2024-01-02 00:00:00+00:00')""",
    )
    lines = splan("Sales.Order Lines", "incremental", replication_key="Updated At", synced_name="order_lines")
    sync(sf_db, warehouse, lines)
    run(sf_db, """UPDATE "Sales"."Order Lines" SET "select" = 'changed', "Updated At" = '2024-02-01' WHERE "Id" = 1""")
    assert sync(sf_db, warehouse, lines).rows == 2  # the updated row and the one at the cursor (inclusive)
    assert synced_rows(warehouse, "order_lines") == source_rows(sf_db, '"Sales"."Order Lines"')
    # Unquoted names fold to upper case in Snowflake; the source file's name is never folded.
    with pytest.raises(TableNotFoundError) as exc:
        sync(sf_db, warehouse, splan("analytics.orders"))
    run(sf_db, ORDERS)
    with pytest.raises(TableNotFoundError, match="ANALYTICS.ORDERS"):
        sync(sf_db, warehouse, splan("analytics.orders"))
    assert "analytics.orders" in str(exc.value)


def test_a_name_carrying_sql_is_quoted_harmlessly(sf_db: dict[str, Any], warehouse: str) -> None:
    run(sf_db, "CREATE TABLE ANALYTICS.Y (ID INTEGER)", "INSERT INTO ANALYTICS.Y VALUES (1)")
    for name in ('ANALYTICS.X"; DROP TABLE ANALYTICS.Y; --', "ANALYTICS.X'; DROP TABLE ANALYTICS.Y; --\\"):
        with pytest.raises(TableNotFoundError, match="no such table"):
            sync(sf_db, warehouse, splan(name, synced_name="x"))
    assert source_rows(sf_db, "ANALYTICS.Y") == [{"ID": 1}]


@pytest.mark.parametrize(
    ("column_type", "shown"),
    [("FLOAT", "FLOAT"), ("VARCHAR", "TEXT"), ("BOOLEAN", "BOOLEAN")],
)
def test_refused_key_types_name_the_column_before_any_data_moves(
    sf_db: dict[str, Any], warehouse: str, column_type: str, shown: str
) -> None:
    run(sf_db, f"CREATE TABLE ANALYTICS.T (ID INTEGER, K {column_type})")
    with pytest.raises(ReplicationKeyTypeError) as exc:
        sync(sf_db, warehouse, splan("ANALYTICS.T", "append_only", replication_key="K"))
    message = str(exc.value)
    assert "'K'" in message and repr(shown) in message and "NUMBER(p,s)" in message and "TIMESTAMP_TZ" in message
    assert not Path(warehouse, "T").exists()


def test_snowflake_types_map_to_documented_warehouse_types(sf_db: dict[str, Any], warehouse: str) -> None:
    run(
        sf_db,
        """CREATE TABLE ANALYTICS.KINDS (
            I NUMBER(38, 0), SMALL NUMBER(9, 0), WIDE NUMBER(20, 0), N NUMBER(12, 2), F FLOAT, S VARCHAR,
            B BOOLEAN, D DATE, NTZ TIMESTAMP_NTZ, LTZ TIMESTAMP_LTZ, TZ TIMESTAMP_TZ, V VARIANT,
            O OBJECT, A ARRAY, BIN BINARY, T TIME)""",
        """INSERT INTO ANALYTICS.KINDS SELECT 12345678901234, 7, 12345678901234567890, 1234.5, 2.5, 'text', TRUE,
            '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02:00',
            '2024-01-02 03:04:05-05:00', PARSE_JSON('{"a": [1, 2]}'), OBJECT_CONSTRUCT('k', 'v'),
            ARRAY_CONSTRUCT(1, 2), TO_BINARY('ABCD', 'HEX'), '12:34:56'""",
        "INSERT INTO ANALYTICS.KINDS (I) VALUES (NULL)",
    )
    sync(sf_db, warehouse, splan("ANALYTICS.KINDS"))
    from deltalake import DeltaTable

    schema = DeltaTable(f"{warehouse}/KINDS").to_pyarrow_table().schema
    assert {f.name: f.type for f in schema if not f.name.startswith("_ws_")} == {
        "I": pa.decimal128(38, 0), "SMALL": pa.int64(), "WIDE": pa.decimal128(20, 0), "N": pa.decimal128(12, 2),
        "F": pa.float64(), "S": pa.string(), "B": pa.bool_(), "D": pa.date32(),
        "NTZ": pa.timestamp("us", tz="UTC"), "LTZ": pa.timestamp("us", tz="UTC"), "TZ": pa.timestamp("us", tz="UTC"),
        "V": pa.string(), "O": pa.string(), "A": pa.string(), "BIN": pa.binary(), "T": pa.string(),
    }  # fmt: skip
    row = next(r for r in synced_rows(warehouse, "KINDS") if r["I"] is not None)
    assert row == {
        "I": Decimal(12345678901234), "SMALL": 7, "WIDE": Decimal(12345678901234567890), "N": Decimal("1234.50"),
        "F": 2.5, "S": "text", "B": True, "D": date(2024, 2, 29),
        "NTZ": datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "LTZ": datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC),
        "TZ": datetime(2024, 1, 2, 8, 4, 5, tzinfo=UTC), "V": '{"a":[1,2]}', "O": '{"k":"v"}', "A": "[1,2]",
        "BIN": bytes.fromhex("ABCD"), "T": row["T"],
    }  # fmt: skip
    assert time.fromisoformat(row["T"]) == time(12, 34, 56)


# --- the reader itself ----------------------------------------------------------------------


def test_batches_are_bounded_by_rows_and_bytes(sf_db: dict[str, Any]) -> None:
    run(sf_db, ORDERS, FILL_ORDERS)
    for options, most in (({"batch_rows": 64}, 64), ({"batch_bytes": 2_000}, 2_000)):
        with SnowflakeReader(**sf_db, **options) as reader:
            desc = reader.describe("ANALYTICS", "ORDERS")
            assert desc is not None
            batches = list(reader.read(desc))
        assert sum(b.num_rows for b in batches) == 500 and len(batches) > 1
        assert all((b.num_rows if "batch_rows" in options else b.nbytes) <= most * 1.5 for b in batches)


def test_catalog_reads_columns_and_the_declared_primary_key(sf_db: dict[str, Any]) -> None:
    run(sf_db, "CREATE TABLE ANALYTICS.K (A INTEGER, B VARCHAR, C DATE, PRIMARY KEY (B, A))")
    with SnowflakeReader(**sf_db) as reader:
        desc = reader.describe("ANALYTICS", "K")
        assert reader.describe("ANALYTICS", "k") is None
        similar = reader.similar_tables("ANALYTICS", "k")
    assert desc is not None and [c.name for c in desc.columns] == ["A", "B", "C"]
    assert desc.primary_key == ("B", "A") and similar == ["ANALYTICS.K"]
    assert [c.type_sql for c in desc.columns] == ["NUMBER(38,0)", "TEXT", "DATE"]


def test_a_snapshot_is_opened_and_ended_around_a_read(sf_db: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """fakesnow has no Time Travel: the pin is refused, the read goes on unpinned and says so."""
    run(sf_db, ORDERS, FILL_ORDERS)
    with SnowflakeReader(**sf_db) as reader, caplog.at_level(logging.WARNING):
        desc = reader.describe("ANALYTICS", "ORDERS")
        assert desc is not None
        reader.begin_snapshot()
        upper, nulls = reader.key_bounds(desc, "ID", 10)
        rows = reader.read(desc, reader.key_condition(desc, "ID", ">=", 490)).read_all().num_rows
        reader.end_snapshot()
        reader.end_snapshot()  # a second end (nothing open) does not raise
    assert (upper, nulls, rows) == (500, 0, 11)
    assert "cannot be read at one point in time" in caplog.text and "ANALYTICS.ORDERS" in caplog.text


def test_the_reader_opens_from_the_uri_the_airflow_side_builds(sf_db: dict[str, Any]) -> None:
    run(sf_db, ORDERS, FILL_ORDERS)
    with SnowflakeReader(connect_uri(sf_db)) as reader:
        assert reader.rows("SELECT COUNT(*) FROM ANALYTICS.ORDERS") == [(500,)]


# --- through Airflow: YAML -> DAG -> operator -> Snowflake connection through the provider's hook --


def test_a_snowflake_source_file_syncs_through_its_dag(
    sf_db: dict[str, Any], warehouse: str, airflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    run(sf_db, ORDERS, FILL_ORDERS)
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "dw.yaml").write_text(
        "name: dw\nkind: snowflake\nconn_id: dw_snowflake\ntables:\n"
        "  - {name: ANALYTICS.ORDERS, sync: incremental, replication_key: UPDATED_AT}\n"
    )
    extra = {
        "account": sf_db["account"], "database": sf_db["database"], "host": sf_db["host"], "port": sf_db["port"],
        "protocol": sf_db["protocol"], "session_parameters": sf_db["session_parameters"],
    }  # fmt: skip
    conn = {"conn_type": "snowflake", "login": sf_db["user"], "password": sf_db["password"], "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_DW_SNOWFLAKE", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", warehouse)
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["sync_dw"]
    assert set(dag.tags) == {"warehouse-sources", "snowflake"}
    assert dag.test().state == "success"
    assert synced_rows(warehouse, "ORDERS") == source_rows(sf_db, "ANALYTICS.ORDERS")


@pytest.mark.parametrize("method", ["incremental", "append_only"])
def test_a_number_with_a_scale_is_a_key_with_an_exact_decimal_cursor(
    sf_db: dict[str, Any], warehouse: str, method: str
) -> None:
    run(
        sf_db,
        "CREATE TABLE ANALYTICS.LEDGER (ID INT PRIMARY KEY, SEQ NUMBER(12, 2), NOTE VARCHAR)",
        "INSERT INTO ANALYTICS.LEDGER VALUES (1, 10.25, 'a'), (2, 10.50, 'b')",
    )
    ledger = splan("ANALYTICS.LEDGER", method, replication_key="SEQ", primary_key=["ID"])
    first = sync(sf_db, warehouse, ledger)
    assert first.cursor == "10.50"
    run(sf_db, "INSERT INTO ANALYTICS.LEDGER VALUES (3, 10.50, 'tie'), (4, 10.51, 'c')")
    second = sync(sf_db, warehouse, ledger)
    assert second.cursor == "10.51"
    third = sync(sf_db, warehouse, ledger)  # incremental re-reads the row at the cursor, stored as it is
    assert (third.rows, third.write) == (0, "none")
    rows = synced_rows(warehouse, "LEDGER")
    assert sorted(r["ID"] for r in rows) == [1, 2, 3, 4]
    assert {r["ID"]: r["SEQ"] for r in rows}[4] == Decimal("10.51")
