"""The warehouse on S3: every method, widening, vacuum, the commit guard and refusals, against a
real S3 HTTP endpoint (moto's server, tests/integration/s3_support.py) and a real PostgreSQL."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import plan, query, sql
from warehouse_sources.engine.progress import SyncHooks
from warehouse_sources.engine.sync import SyncRequest, SyncResult, sync_table
from warehouse_sources.errors import ConcurrentSyncError, WarehouseAccessError, WarehouseUnreachableError
from warehouse_sources.plan import TablePlan
from warehouse_sources.sources.postgres import PostgresReader
from warehouse_sources.warehouse import delta

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LOG = logging.getLogger("warehouse_sources.tests.s3")
COLUMNS = ["id", "name", "n", "updated_at"]
SEED = """
CREATE TABLE items (id bigint PRIMARY KEY, name text, n integer, updated_at timestamptz NOT NULL);
INSERT INTO items SELECT g, 'item ' || g, g % 13, '2024-01-01'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 3000) g;
"""
CHANGES = {
    "incremental": (
        "UPDATE items SET name = 'changed ' || id, updated_at = '2025-01-01'::timestamptz + id * interval '1 s' "
        "WHERE id % 20 = 0",
        "INSERT INTO items SELECT g, 'new ' || g, 1, '2025-02-01' FROM generate_series(3001, 3100) g",
    ),
    # Append only reads from its cursor (id 3000) on: that row comes back and is dropped after the
    # boundary check counted it in the table, read back from S3.
    "append_only": ("INSERT INTO items SELECT g, 'new ' || g, 2, '2025-02-01' FROM generate_series(3001, 3100) g",),
    "full_table": (
        "DELETE FROM items WHERE id % 7 = 0",
        "UPDATE items SET n = n + 100 WHERE id % 11 = 0",
        "INSERT INTO items SELECT g, 'new ' || g, 3, '2025-03-01' FROM generate_series(3001, 3050) g",
    ),
}
KEYS = {"incremental": "updated_at", "append_only": "id", "full_table": None}


def sync_s3(db: str, warehouse: str, options: dict[str, str], table_plan: TablePlan, *,
            full_refresh: bool = False, hooks: SyncHooks | None = None) -> SyncResult:  # fmt: skip
    request = SyncRequest(table=table_plan, warehouse_uri=warehouse, storage_options=options,
                          full_refresh=full_refresh, run_id="s3-test")  # fmt: skip
    with PostgresReader(db) as reader:
        return sync_table(reader, request, LOG, hooks)


def warehouse_rows(uri: str, options: dict[str, str], columns: list[str] = COLUMNS) -> list[tuple[Any, ...]]:
    from deltalake import DeltaTable

    table = DeltaTable(uri, storage_options=options).to_pyarrow_table(columns=columns)
    return sorted(zip(*(table.column(c).to_pylist() for c in columns), strict=True))


def source_rows(db: str, table: str = "items", columns: list[str] = COLUMNS) -> list[tuple[Any, ...]]:
    return sorted(query(db, f"SELECT {', '.join(columns)} FROM {table}"))


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_each_method_syncs_into_the_s3_warehouse_with_its_state_in_the_commit(
    method: str, pg_db: str, s3_server: Any, s3_warehouse: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    warehouse, options = s3_warehouse
    sql(pg_db, SEED)
    table_plan = plan("public.items", method, replication_key=KEYS[method])
    uri = delta.table_uri(warehouse, "items")

    first = sync_s3(pg_db, warehouse, options, table_plan)
    assert (first.rows, first.version) == (3000, 0)
    assert warehouse_rows(uri, options) == source_rows(pg_db)
    keys = s3_server.keys(uri)
    assert any(k.endswith("_delta_log/00000000000000000000.json") for k in keys), keys
    assert any(k.endswith(".parquet") for k in keys), keys

    sql(pg_db, *CHANGES[method])
    second = sync_s3(pg_db, warehouse, options, table_plan)
    assert second.version == 1
    if method == "append_only":
        assert second.rows == 100  # the row at the cursor was read again and dropped
    assert second.write == {"incremental": "merge", "append_only": "append", "full_table": "overwrite"}[method]
    assert warehouse_rows(uri, options) == source_rows(pg_db)

    table = delta.open_table(uri, options)
    assert table is not None
    state = delta.read_state(table)
    assert state is not None and state.method == method and state.run_id == "s3-test"
    if method == "incremental":
        assert state.cursor == query(pg_db, "SELECT max(updated_at) FROM items")[0][0]
    elif method == "append_only":
        assert state.cursor == 3100
    # Nothing of the warehouse landed on local disk.
    assert not any(tmp_path.iterdir())


def test_widening_rewrites_the_s3_table_and_keeps_the_cursor(
    pg_db: str, s3_warehouse: tuple[str, dict[str, str]]
) -> None:
    import pyarrow as pa

    warehouse, options = s3_warehouse
    sql(
        pg_db,
        "CREATE TABLE t (id int PRIMARY KEY, qty smallint)",
        "INSERT INTO t SELECT g, g FROM generate_series(1, 10) g",
    )
    t = plan("public.t", "append_only", replication_key="id")
    sync_s3(pg_db, warehouse, options, t)
    sql(pg_db, "ALTER TABLE t ALTER COLUMN id TYPE bigint, ALTER COLUMN qty TYPE integer",
        "INSERT INTO t VALUES (5000000000, 100000)")  # fmt: skip
    result = sync_s3(pg_db, warehouse, options, t)
    assert result.rows == 1 and result.version == 2  # one rewrite to widen, one append
    table = delta.open_table(delta.table_uri(warehouse, "t"), options)
    assert table is not None
    schema = pa.schema(table.schema().to_arrow())
    assert schema.field("id").type == pa.int64() and schema.field("qty").type == pa.int32()
    assert warehouse_rows(delta.table_uri(warehouse, "t"), options, ["id", "qty"]) == source_rows(
        pg_db, "t", ["id", "qty"]
    )
    state = delta.read_state(table)
    assert state is not None and state.cursor == 5000000000


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "warehouse_sources", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300)  # fmt: skip


def test_vacuum_command_cleans_the_s3_warehouse_through_the_airflow_connection(
    pg_db: str, s3_server: Any, s3_warehouse: tuple[str, dict[str, str]]
) -> None:
    warehouse, options = s3_warehouse
    sql(pg_db, SEED)
    full = plan("public.items", "full_table")
    uri = delta.table_uri(warehouse, "items")
    sync_s3(pg_db, warehouse, options, full)
    sync_s3(pg_db, warehouse, options, full)  # the first version's files are now unreferenced
    bucket, _, prefix = warehouse.removeprefix("s3://").partition("/")
    client = s3_server.client()
    client.put_object(
        Bucket=bucket, Key=f"{prefix}/items/part-00000-orphan-c000.snappy.parquet", Body=b"left by a kill"
    )
    client.put_object(Bucket=bucket, Key=f"{prefix}/broken/part-00000.parquet", Body=b"no log")
    rows = warehouse_rows(uri, options)
    env = {**os.environ, **s3_server.connection_env("ws_warehouse"),
           "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": warehouse,
           "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_CONN_ID": "ws_warehouse"}  # fmt: skip

    dry = run_cli("vacuum", "--retention-hours", "0", env=env)
    assert dry.returncode == 1, dry.stderr  # the folder without a log is skipped, named
    assert f"SKIP {warehouse}/broken: no Delta log" in dry.stdout
    would = next(line for line in dry.stdout.splitlines() if line.startswith(f"{uri}: would delete"))
    assert int(would.split()[-2]) >= 2, dry.stdout  # the replaced files and the orphan

    applied = run_cli("vacuum", "--apply", "--retention-hours", "0", env=env)
    assert applied.returncode == 1 and f"{uri}: deleted" in applied.stdout, applied.stdout + applied.stderr
    table = delta.open_table(uri, options)
    assert table is not None
    live = {f.rsplit("/", 1)[-1] for f in table.file_uris()}
    parquet = {k.rsplit("/", 1)[-1] for k in s3_server.keys(uri) if k.endswith(".parquet")}
    assert parquet == live, "unreferenced files remain after vacuum"
    assert warehouse_rows(uri, options) == rows
    assert s3_server.secret_access_key not in dry.stdout + dry.stderr + applied.stdout + applied.stderr


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_the_commit_guard_holds_on_s3(method: str, pg_db: str, s3_warehouse: tuple[str, dict[str, str]]) -> None:
    """Two syncs of one table overlap: the first pauses before its commit until the second committed;
    the first must then be refused, commit nothing, and its retry must leave the table equal to the source."""
    warehouse, options = s3_warehouse
    sql(pg_db, SEED)
    table_plan = plan("public.items", method, replication_key=KEYS[method])
    uri = delta.table_uri(warehouse, "items")
    sync_s3(pg_db, warehouse, options, table_plan)
    sql(pg_db, "INSERT INTO items SELECT g, 'new ' || g, 1, '2025-02-01' FROM generate_series(3001, 3300) g")

    reading, committed = threading.Event(), threading.Event()
    hooks = SyncHooks(after_batch=lambda rows: reading.set(), before_commit=lambda: committed.wait(60) or None)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(sync_s3, pg_db, warehouse, options, table_plan, hooks=hooks)
        try:
            assert reading.wait(60), "the first sync never read a batch"
            winner = sync_s3(pg_db, warehouse, options, table_plan)
        finally:
            committed.set()
        with pytest.raises(ConcurrentSyncError, match="another sync of this table committed while this one ran"):
            first.result(timeout=120)
    table = delta.open_table(uri, options)
    assert table is not None and table.version() == winner.version == 1
    assert warehouse_rows(uri, options) == source_rows(pg_db)  # nothing appended twice
    sync_s3(pg_db, warehouse, options, table_plan)  # the refused run's retry
    assert warehouse_rows(uri, options) == source_rows(pg_db)


@pytest.mark.parametrize(
    ("case", "error", "says"),
    [
        ("wrong secret", WarehouseAccessError, "refused the credentials"),
        ("missing bucket", WarehouseAccessError, "does not exist"),
        ("no server at the endpoint", WarehouseUnreachableError, "cannot reach the object store"),
    ],
)
def test_an_unusable_warehouse_is_one_clear_error_naming_it_without_the_secret(
    case: str, error: type[Exception], says: str, pg_db: str, s3_server: Any
) -> None:
    sql(pg_db, "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1)")
    warehouse = s3_server.fresh_prefix()
    secret = "wrong-secret/with+chars"
    options = s3_server.options()
    if case == "wrong secret":
        options = s3_server.options(secret_access_key=secret)
    elif case == "missing bucket":
        warehouse = "s3://no-such-bucket-here/wh"
    else:
        import socket

        with socket.socket() as sock:  # a port nothing listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        options = s3_server.options(endpoint_url=f"http://127.0.0.1:{port}", secret_access_key=secret)
    with pytest.raises(error) as caught:
        sync_s3(pg_db, warehouse, options, plan("public.t", "full_table"))
    message = str(caught.value)
    assert message.startswith(f"warehouse {warehouse}/t: ") and says in message, message
    assert secret not in message and s3_server.secret_access_key not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no traceback that may hold it


def test_a_source_dag_syncs_into_s3_through_the_airflow_connection(
    pg_db: str, s3_server: Any, airflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The DAG factory's tasks read warehouse_uri and warehouse_conn_id from Airflow's config, the
    credentials from the `aws` connection, and write there; a wrong secret fails the task with the
    warehouse named and the secret nowhere in the log."""
    from airflow.dag_processing.dagbag import DagBag

    sql(pg_db, SEED)
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "shop.yaml").write_text(
        "name: shop\nkind: postgres\nconn_id: shop_pg\ntables:\n"
        "  - {name: public.items, sync: incremental, replication_key: updated_at}\n"
    )
    user, rest = pg_db.removeprefix("postgresql://").split("@", 1)
    host_port, database = rest.split("/", 1)
    host, port = host_port.rsplit(":", 1)
    pg_conn = {"conn_type": "postgres", "host": host, "port": int(port), "login": user, "schema": database}
    warehouse = s3_server.fresh_prefix()
    for key, value in {**s3_server.connection_env("ws_warehouse"), "AIRFLOW_CONN_SHOP_PG": json.dumps(pg_conn),
                       "AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR": str(sources),
                       "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": warehouse,
                       "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_CONN_ID": "ws_warehouse"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["sync_shop"]
    for task in dag.tasks:
        task.retries = 0
    assert dag.test().state == "success"
    uri = delta.table_uri(warehouse, "items")
    assert warehouse_rows(uri, s3_server.options()) == source_rows(pg_db)
    capfd.readouterr()

    wrong = "wrong/secret+" + "x" * 8
    conn = json.loads(s3_server.connection_env("ws_warehouse")["AIRFLOW_CONN_WS_WAREHOUSE"])
    monkeypatch.setenv("AIRFLOW_CONN_WS_WAREHOUSE", json.dumps({**conn, "password": wrong}))
    assert dag.test().state == "failed"
    out, err = capfd.readouterr()
    assert f"warehouse {uri}: the object store at {s3_server.endpoint} refused the credentials" in out + err
    assert wrong not in out + err and s3_server.secret_access_key not in out + err


def test_the_web_app_reads_and_drops_tables_of_the_s3_warehouse(
    pg_db: str, s3_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Sources page's stats, the warehouse table list and a source's delete reach S3 with the
    connection's credentials (the web app has no other way to them)."""
    from warehouse_sources.shared.warehouse_storage import configured_storage_options
    from warehouse_sources.warehouse.maintenance import drop_table
    from warehouse_sources.web import tablestats
    from warehouse_sources.web.warehouse_catalog import list_tables

    warehouse, options = s3_server.fresh_prefix(), s3_server.options()
    for key, value in {**s3_server.connection_env("ws_warehouse"),
                       "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": warehouse,
                       "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_CONN_ID": "ws_warehouse"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    sql(pg_db, SEED)
    sync_s3(pg_db, warehouse, options, plan("public.items", "full_table"))
    uri = delta.table_uri(warehouse, "items")

    listed = list_tables(warehouse, {"items": "shop"}, {"items": object()})
    assert [(t.name, t.source, t.version) for t in listed.tables] == [("items", "shop", 0)]
    assert "id" in [c.name for c in listed.tables[0].columns]
    stats = tablestats.table_stats(uri, expected_version=0)
    assert (stats.version, stats.rows) == (0, 3000) and stats.state is not None
    drop_table(uri, configured_storage_options())  # as a source's delete drops it
    tablestats.forget(uri)
    assert s3_server.keys(uri) == [] and delta.open_table(uri, options) is None
