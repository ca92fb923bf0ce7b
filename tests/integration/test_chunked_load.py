"""Chunked full loads (`parallelism`) through real Airflow: `dag.test()` runs the plan, the mapped
range loads and the table's commit against real PostgreSQL and MariaDB databases.

Each source syncs the same source table twice, once split (`parallelism`) and once not, so the two
synced tables must match: the same rows, schema and cursor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import sql, synced_rows

pytestmark = pytest.mark.integration

ITEMS = (
    "CREATE TABLE items (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, price numeric(10, 2), "
    "name text, tags int[], doc jsonb)",
    "INSERT INTO items SELECT g, '2026-01-01'::timestamptz + g * interval '1 second', g * 0.25, 'item ' || g, "
    "ARRAY[g, g + 1], jsonb_build_object('n', g) FROM generate_series(1, 3000) g",
    "CREATE TABLE events (at timestamptz PRIMARY KEY, seq bigint NOT NULL, kind text)",
    "INSERT INTO events SELECT '2026-01-01'::timestamptz + g * interval '7 minutes', g, 'k' || (g % 5) "
    "FROM generate_series(1, 2000) g",
)
PG_SOURCE = """name: big
kind: postgres
conn_id: big_pg
tables:
  - {name: public.items, synced_name: items_split, sync: incremental, replication_key: updated_at, parallelism: 4}
  - {name: public.items, synced_name: items_whole, sync: incremental, replication_key: updated_at}
  - {name: public.events, synced_name: events_split, sync: append_only, replication_key: seq, parallelism: 3}
  - {name: public.events, synced_name: events_whole, sync: append_only, replication_key: seq}
"""


def source_dag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, conn: str) -> Any:
    """The source file's DAG as Airflow's DagBag builds it, with the warehouse under `tmp_path`."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "big.yaml").write_text(text)
    name = text.split("conn_id: ", 1)[1].split()[0]
    monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", conn)
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(tmp_path / "warehouse"))
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["sync_big"]


def state_of(warehouse: Path, name: str) -> dict[str, Any]:
    """The table's last sync state, less what differs between any two syncs (when, and by which run)."""
    from deltalake import DeltaTable

    from warehouse_sources.warehouse.delta import read_state
    from warehouse_sources.warehouse.state import dump_state

    state = read_state(DeltaTable(str(warehouse / name)))
    assert state is not None
    return {k: v for k, v in json.loads(dump_state(state)).items() if k not in ("synced_at", "run_id")}


def same_tables(warehouse: Path, split: str, whole: str) -> None:
    from deltalake import DeltaTable

    assert synced_rows(str(warehouse), split) == synced_rows(str(warehouse), whole)
    assert DeltaTable(str(warehouse / split)).schema() == DeltaTable(str(warehouse / whole)).schema()
    assert state_of(warehouse, split) == state_of(warehouse, whole)


def ranges_run(dag_run: Any, task_id: str) -> list[str]:
    return sorted(str(ti.state) for ti in dag_run.get_task_instances() if ti.task_id == task_id)


def test_a_split_first_load_equals_the_whole_one_and_changes_during_it_land_in_the_next_run(
    airflow_db: str, pg_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse_sources.airflow import chunk_tasks
    from warehouse_sources.engine import chunks

    sql(pg_db, *ITEMS)
    dag = source_dag(tmp_path, monkeypatch, PG_SOURCE, pg_db)
    assert {"items_split.chunk_plan", "items_split.chunk", "items_split"} <= set(dag.task_ids)
    loads: list[str] = []
    real_load = chunks.load_chunk

    def changing_while_loading(reader: Any, request: Any, chunk: dict[str, Any], log: Any) -> dict[str, Any]:
        """The source changes after the plans captured their cursors, before the ranges read."""
        if not loads:
            sql(pg_db, "UPDATE items SET name = 'changed', updated_at = '2026-06-01' WHERE id IN (5, 2999)",
                "INSERT INTO items VALUES (3001, '2026-06-01', 1, 'new', NULL, NULL)",
                "INSERT INTO events VALUES ('2027-01-01', 2001, 'late')")  # fmt: skip
        loads.append(request.table.synced_name)
        return real_load(reader, request, chunk, log)

    monkeypatch.setattr(chunks, "load_chunk", changing_while_loading)
    run = dag.test()
    assert run.state == "success"
    assert sorted(loads) == ["events_split"] * 3 + ["items_split"] * 4
    assert ranges_run(run, "items_split.chunk") == ["success"] * 4
    warehouse = tmp_path / "warehouse"
    split_rows = {r["id"]: r for r in synced_rows(str(warehouse), "items_split")}
    assert len(split_rows) == 3001 and split_rows[5]["name"] == "changed"  # the ranges read after the change
    cursor = state_of(warehouse, "items_split")["cursor"]
    assert cursor == "2026-01-01T00:50:00+00:00"  # captured before the change: the next run reads it again
    assert len(synced_rows(str(warehouse), "events_split")) == 2000  # above the cursor: the next run appends it

    monkeypatch.setattr(chunks, "load_chunk", real_load)
    second = dag.test()  # no full load: no ranges, each table's task syncs from its cursor
    assert second.state == "success" and ranges_run(second, "items_split.chunk") == ["skipped"]
    same_tables(warehouse, "items_split", "items_whole")
    same_tables(warehouse, "events_split", "events_whole")
    assert len(synced_rows(str(warehouse), "events_split")) == 2001
    assert state_of(warehouse, "items_split")["cursor"] == "2026-06-01T00:00:00+00:00"
    assert dag.get_task("items_split").trigger_rule == chunk_tasks.TABLE_TRIGGER_RULE

    sql(pg_db, "DELETE FROM items WHERE id BETWEEN 100 AND 200")
    dag.test(run_conf={"full_refresh": True, "tables": ["items_split", "items_whole"]})  # a resync: split again
    same_tables(warehouse, "items_split", "items_whole")
    assert len(synced_rows(str(warehouse), "items_split")) == 3001 - 101


MARIADB_SOURCE = """name: big
kind: mysql
conn_id: big_my
tables:
  - {{name: {db}.orders, synced_name: orders_split, sync: full_table, parallelism: 3}}
  - {{name: {db}.orders, synced_name: orders_whole, sync: full_table}}
  - {{name: {db}.days, synced_name: days_split, sync: incremental, replication_key: id, parallelism: 2}}
  - {{name: {db}.days, synced_name: days_whole, sync: incremental, replication_key: id}}
"""


def test_a_split_mariadb_load_equals_the_whole_one_and_a_failed_range_retries_alone(
    airflow_db: str, mysql_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pendulum

    from tests.integration.test_mysql_sync import run
    from warehouse_sources.airflow import factory
    from warehouse_sources.engine import chunks
    from warehouse_sources.sources.mysql import MySQLParams

    monkeypatch.setitem(factory.DEFAULT_ARGS, "retry_delay", pendulum.duration(seconds=0))
    real_load, failed = chunks.load_chunk, []

    def failing_once(reader: Any, request: Any, chunk: dict[str, Any], log: Any) -> dict[str, Any]:
        if request.table.synced_name == "orders_split" and chunk["index"] == 1 and not failed:
            failed.append(chunk["index"])
            raise ConnectionResetError("the source dropped the connection")  # transient: Airflow retries it
        return real_load(reader, request, chunk, log)

    monkeypatch.setattr(chunks, "load_chunk", failing_once)

    run(
        mysql_db,
        "CREATE TABLE orders (placed DATETIME(6) PRIMARY KEY, amount DECIMAL(12, 2), note VARCHAR(40))",
        "INSERT INTO orders WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1500) "
        "SELECT TIMESTAMP'2024-01-01 00:00:00' + INTERVAL n * 37 SECOND, n * 1.5, CONCAT('o', n) FROM g",
        "CREATE TABLE days (day DATE PRIMARY KEY, id INT NOT NULL, n INT)",
        "INSERT INTO days WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 900) "
        "SELECT DATE'2020-01-01' + INTERVAL n DAY, n, n * n FROM g",
    )
    p = MySQLParams.from_uri(mysql_db)
    conn = {"conn_type": "mysql", "host": p.host, "port": p.port, "login": p.user, "schema": p.database}
    conn |= {"password": p.password} if p.password else {}
    dag = source_dag(tmp_path, monkeypatch, MARIADB_SOURCE.format(db=p.database), json.dumps(conn))
    run_ = dag.test()
    assert run_.state == "success"
    assert ranges_run(run_, "orders_split.chunk") == ["success"] * 3 and failed == [1]
    tries = {ti.map_index: ti.try_number for ti in run_.get_task_instances() if ti.task_id == "orders_split.chunk"}
    assert tries == {0: 1, 1: 2, 2: 1}  # only the range that failed ran again
    assert ranges_run(run_, "days_split.chunk") == ["success"] * 2
    warehouse = tmp_path / "warehouse"
    same_tables(warehouse, "orders_split", "orders_whole")
    same_tables(warehouse, "days_split", "days_whole")
    assert len(synced_rows(str(warehouse), "orders_split")) == 1500


@pytest.mark.parametrize(
    ("create", "message"),
    [
        ("CREATE TABLE odd (code text PRIMARY KEY, n int)", "primary key 'code', a text column"),
        ("CREATE TABLE odd (a int, b int, n int, PRIMARY KEY (a, b))", "its primary key is ['a', 'b']"),
        ("CREATE TABLE odd (n int)", "it has no primary key"),
    ],
)
def test_a_key_that_cannot_be_split_fails_the_plan_and_says_the_fix(pg_db: str, create: str, message: str) -> None:
    import logging

    from tests.integration.helpers import plan
    from warehouse_sources.engine.chunk_plan import plan_load
    from warehouse_sources.engine.sync import SyncRequest
    from warehouse_sources.errors import SyncFatalError
    from warehouse_sources.sources.postgres import PostgresReader

    sql(pg_db, create)
    request = SyncRequest(table=plan("odd", parallelism=2), warehouse_uri="unused")
    with PostgresReader(pg_db) as reader, pytest.raises(SyncFatalError) as exc:
        plan_load(reader, request, logging.getLogger("test"))
    assert message in str(exc.value) and "remove parallelism" in str(exc.value)


def test_a_split_snowflake_load_equals_the_whole_one(sf_db: dict[str, Any], warehouse: str) -> None:
    """Snowflake as fakesnow serves it, through the engine's three steps (no Airflow): NUMBER(38, 0)
    keys, which the connector answers as Decimals."""
    import logging
    from dataclasses import replace

    from tests.integration.test_snowflake_sync import FILL_ORDERS, ORDERS, run, splan, sync
    from warehouse_sources.engine.chunk_plan import plan_load
    from warehouse_sources.engine.chunks import commit_load, load_chunk
    from warehouse_sources.engine.sync import SyncRequest
    from warehouse_sources.sources.snowflake import SnowflakeReader

    log = logging.getLogger("test")
    run(sf_db, ORDERS, FILL_ORDERS)
    whole = splan("ANALYTICS.ORDERS", "incremental", replication_key="UPDATED_AT", synced_name="whole")
    sync(sf_db, warehouse, whole)
    request = SyncRequest(table=replace(whole, synced_name="split", parallelism=3), warehouse_uri=warehouse,
                          run_id="test")  # fmt: skip
    with SnowflakeReader(**sf_db) as reader:
        planned = plan_load(reader, request, log)
        loaded = [load_chunk(reader, request, chunk, log) for chunk in planned]
    assert [c["rows"] for c in loaded] == [166, 167, 167]
    commit_load(request, planned, loaded, log)
    assert synced_rows(warehouse, "split") == synced_rows(warehouse, "whole")
    assert state_of(Path(warehouse), "split") == state_of(Path(warehouse), "whole")


def test_auto_splits_by_the_catalogs_estimate_and_not_before_the_table_is_analyzed(
    pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from tests.integration.helpers import plan
    from warehouse_sources.engine import chunk_plan
    from warehouse_sources.engine.sync import SyncRequest
    from warehouse_sources.sources.postgres import PostgresReader

    monkeypatch.setattr(chunk_plan, "AUTO_ROWS_PER_CHUNK", 100)
    sql(pg_db, "CREATE TABLE t (id int PRIMARY KEY, n int)", "INSERT INTO t SELECT g, g FROM generate_series(1, 350) g")
    request = SyncRequest(table=plan("t", parallelism="auto"), warehouse_uri="unused")
    with PostgresReader(pg_db) as reader:
        assert chunk_plan.plan_load(reader, request, logging.getLogger("test")) == []  # never analyzed: no estimate
    sql(pg_db, "ANALYZE t")
    with PostgresReader(pg_db) as reader:
        planned = chunk_plan.plan_load(reader, request, logging.getLogger("test"))
    assert [p["where"] for p in planned] == [
        'NOT COALESCE("id" >= 117, FALSE)',
        '"id" >= 117 AND "id" < 234',
        '"id" >= 234',
    ]


def test_a_split_load_into_an_s3_warehouse_stages_and_commits_through_the_object_store(
    pg_db: str, s3_server: Any, s3_warehouse: tuple[str, dict[str, str]]
) -> None:
    """The staging folder, the staged log read back and removed, and the one commit, on S3 (moto)."""
    import logging

    from deltalake import DeltaTable

    from tests.integration.helpers import plan
    from warehouse_sources.engine.chunk_plan import plan_load
    from warehouse_sources.engine.chunks import commit_load, load_chunk
    from warehouse_sources.engine.sync import SyncRequest
    from warehouse_sources.sources.postgres import PostgresReader

    log = logging.getLogger("test")
    warehouse, options = s3_warehouse
    sql(pg_db, *ITEMS[:2])
    request = SyncRequest(table=plan("items", parallelism=2), warehouse_uri=warehouse, storage_options=options,
                          run_id="s3")  # fmt: skip
    with PostgresReader(pg_db) as reader:
        planned = plan_load(reader, request, log)
        loaded = [load_chunk(reader, request, chunk, log) for chunk in planned]
    keys = s3_server.keys(f"{warehouse}/items")
    assert not any("ws_chunks" in k and "_delta_log" in k for k in keys), keys  # the staged logs are gone
    assert commit_load(request, planned, loaded, log).rows == 3000
    table = DeltaTable(f"{warehouse}/items", storage_options=options)
    assert table.version() == 0 and table.to_pyarrow_table().num_rows == 3000
    assert commit_load(request, planned, loaded, log).version == 0  # the table task's retry commits nothing again
