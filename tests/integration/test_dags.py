"""The DAG file as Airflow sees it: DagBag contents, import errors, and a real DAG run."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from tests.integration.helpers import source_rows, sql, synced_rows

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DEMO_SOURCES = REPO / "include" / "sources"


def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_demo_sources_make_one_dag_each_with_one_task_per_table(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("DAG parsing must not open network connections")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    bag = dagbag()
    assert bag.import_errors == {}
    files = sorted(DEMO_SOURCES.glob("*.yaml"))
    assert files, "the demo ships source files"
    for path in files:
        source = yaml.safe_load(path.read_text())
        dag = bag.dags[f"sync_{source['name']}"]
        prefix = source.get("table_prefix", "")
        assert sorted(t.task_id for t in dag.tasks) == sorted(
            prefix + t["name"].split(".")[-1] for t in source["tables"]
        )
        assert dag.max_active_runs == 1 and dag.catchup is False
        assert set(dag.tags) == {"warehouse-sources", source["kind"]}
        assert source["name"] in (dag.doc_md or "")
    assert len(bag.dags) == len(files) + 1  # and dags/warehouse_sources_example_downstream.py


GOOD = """
name: good
kind: postgres
conn_id: good_pg
schedule: 6h
tables:
  - name: public.a
    sync: full_table
"""
BROKEN = """
name: broken
kind: postgres
conn_id: broken_pg
tables:
  - name: public.a2
    sync: full_table
  - name: public.b
    sync: incremental
  - name: public.c
    sync: incremental
    replication_key: 42
"""


def test_a_broken_source_file_is_one_import_error_and_the_others_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "broken.yaml").write_text(BROKEN)
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(tmp_path))
    bag = dagbag()
    assert sorted(bag.dags) == ["example_billing_charges_downstream", "sync_good"]  # and the example DAG
    assert len(bag.import_errors) == 1
    (message,) = bag.import_errors.values()
    assert (
        f"{tmp_path / 'broken.yaml'}: tables[1].replication_key: sync: incremental needs a replication_key" in message
    )
    assert f"{tmp_path / 'broken.yaml'}: tables[2].replication_key: Input should be a valid string" in message


def test_a_dag_run_syncs_the_tables_its_conf_names(
    airflow_db: str, pg_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql(
        pg_db,
        "CREATE TABLE customers (id int PRIMARY KEY, name text, updated_at timestamptz)",
        "INSERT INTO customers SELECT g, 'c' || g, now() FROM generate_series(1, 50) g",
        "CREATE TABLE plans (id int, name text)",
        "INSERT INTO plans VALUES (1, 'free'), (2, 'pro')",
    )
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "shop.yaml").write_text(
        "name: shop\nkind: postgres\nconn_id: shop_pg\nschedule: 1h\ntable_prefix: shop_\ntables:\n"
        "  - {name: public.customers, sync: incremental, replication_key: updated_at}\n"
        "  - {name: public.plans, sync: full_table}\n"
    )
    warehouse = tmp_path / "warehouse"
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(warehouse))
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_PG", pg_db)
    dag = dagbag().dags["sync_shop"]
    run = dag.test(run_conf={"tables": ["shop_customers"], "full_refresh": True})
    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {"shop_customers": "success", "shop_plans": "skipped"}
    assert synced_rows(str(warehouse), "shop_customers") == source_rows(pg_db, "customers")
    assert not (warehouse / "shop_plans").exists()
