"""Maintenance inside Airflow: a source DAG's own task maintains its table after each sync (no
task added to the DAG), as the `retention` setting says, and says what it did in the task log."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable

from tests.integration.helpers import source_rows, sql, synced_rows
from tests.integration.test_dags import dagbag
from warehouse_sources.warehouse import upkeep
from warehouse_sources.warehouse.health import table_health

pytestmark = pytest.mark.integration


def test_each_dag_run_maintains_its_tables_as_the_retention_setting_says(
    airflow_db: str, pg_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    sql(
        pg_db,
        "CREATE TABLE events (id int PRIMARY KEY, name text)",
        "INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 10) g",
    )
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "app.yaml").write_text(
        "name: app\nkind: postgres\nconn_id: app_pg\nschedule: 1h\ntables:\n"
        "  - {name: public.events, sync: append_only, replication_key: id}\n"
    )
    warehouse = tmp_path / "warehouse"
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(warehouse))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__RETENTION", "0m")
    monkeypatch.setenv("AIRFLOW_CONN_APP_PG", pg_db)
    dag = dagbag().dags["sync_app"]
    assert [t.task_id for t in dag.tasks] == ["events"]
    for run in range(1, upkeep.MIN_SMALL_FILES + 2):
        sql(pg_db, f"INSERT INTO events VALUES ({100 + run}, 'run {run}')")
        assert dag.test().state == "success"
    assert synced_rows(str(warehouse), "events") == source_rows(pg_db, "events")
    health = table_health(str(warehouse / "events"))
    assert health.live_files < upkeep.MIN_SMALL_FILES and health.files_on_disk == health.live_files
    assert "OPTIMIZE" in [c.get("operation") for c in DeltaTable(str(warehouse / "events")).history()]
    logged = capfd.readouterr()
    assert "events: maintenance (retention 0 h): compacted" in logged.out + logged.err
