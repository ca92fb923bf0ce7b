"""A resync marker (left by an edit through REST that changed a primary key) makes the next run a full refresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import source_rows, sql, synced_rows

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SOURCE = """\
name: rekey
kind: postgres
conn_id: rekey_pg
schedule: 1h
table_prefix: rekey_
tables:
  - {{name: public.items, sync: incremental, replication_key: updated_at, primary_key: {key}}}
"""


def _run(sources: Path, key: str) -> str:
    from airflow.dag_processing.dagbag import DagBag

    (sources / "rekey.yaml").write_text(SOURCE.format(key=key))
    dag = DagBag(dag_folder=str(REPO / "dags")).dags["sync_rekey"]
    return str(dag.test().state)


def test_the_next_run_after_a_primary_key_change_rebuilds_the_table(
    airflow_db: str, pg_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.models.variable import Variable

    from warehouse_sources.shared.resync import mark, marker_key

    sql(pg_db, "CREATE TABLE items (id int, part int, updated_at timestamptz, PRIMARY KEY (id, part))",
        "INSERT INTO items SELECT g, 1, now() FROM generate_series(1, 5) g")  # fmt: skip
    sources, warehouse = tmp_path / "sources", tmp_path / "warehouse"
    sources.mkdir()
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(warehouse))
    monkeypatch.setenv("AIRFLOW_CONN_REKEY_PG", pg_db)
    assert _run(sources, "[id]") == "success"
    sql(pg_db, "DELETE FROM items WHERE id = 1")  # an incremental run keeps it; a rebuild drops it
    key = marker_key("rekey", "rekey_items")
    mark("rekey", "rekey_items", ["id", "part"], "tester")
    try:
        assert _run(sources, "[id]") == "success"  # still the old key: the marker waits
        assert len(synced_rows(str(warehouse), "rekey_items")) == 5
        assert Variable.get(key, default_var=None) is not None
        assert _run(sources, "[id, part]") == "success"
        rows = synced_rows(str(warehouse), "rekey_items")
        assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in source_rows(pg_db, "items")) == [2, 3, 4, 5]
        assert Variable.get(key, default_var=None) is None  # consumed
    finally:
        Variable.delete(key)
