"""The Sources page's "last checked" (issue 20): a run whose deletion check and count check find
nothing, with no changed rows, commits nothing (a commit per idle run would grow the log forever),
yet the page shows that run's check, from the task's XCom, since it is newer than the last commit's.

Real parts: PostgreSQL as the source, Airflow's metadata DB, the DAG file parsed, `dag.test()`
running the sync task (its return value stored as Airflow stores it), and the page's status read
from Airflow's records (web/status.py) as the route reads it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import sql

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TABLE = "checked_charges"


def _status(sources: Path, warehouse: Path) -> Any:
    from airflow.utils.session import create_session

    from warehouse_sources.web import status
    from warehouse_sources.web.catalog import load_catalog

    with create_session() as session:
        found = status.detail(session, load_catalog(sources), "checked", str(warehouse))
    return next(t for t in found.tables if t.synced_name == TABLE)


def _version(warehouse: Path) -> int:
    from deltalake import DeltaTable

    return DeltaTable(str(warehouse / TABLE)).version()


def test_an_idle_runs_checks_show_though_it_commits_nothing(
    airflow_db: str, pg_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql(
        pg_db,
        "CREATE TABLE charges (id int PRIMARY KEY, amount numeric(10,2), updated_at timestamptz)",
        "INSERT INTO charges SELECT g, g * 1.5, '2026-01-01'::timestamptz + g * interval '1 minute' "
        "FROM generate_series(1, 40) g",
    )
    sources, warehouse = tmp_path / "sources", tmp_path / "warehouse"
    sources.mkdir()
    # Not "billing": the demo's source is, and the session's Airflow DB keeps the last DAG of that id.
    (sources / "checked.yaml").write_text(
        "name: checked\nkind: postgres\nconn_id: checked_pg\nschedule: 1h\ntable_prefix: checked_\ntables:\n"
        "  - {name: public.charges, sync: incremental, replication_key: updated_at, deletes: hard}\n"
    )
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
    monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", str(warehouse))
    monkeypatch.setenv("AIRFLOW_CONN_CHECKED_PG", pg_db)
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags["sync_checked"]
    assert dag.test().state == "success"  # the first load: no deletion check yet
    first = _status(sources, warehouse)
    assert first.deletes_checked_at is None and first.verify_check is not None and first.verify_check.ok

    sql(pg_db, "DELETE FROM charges WHERE id = 7")
    assert dag.test().state == "success"  # the deletion found: committed with its record
    found = _status(sources, warehouse)
    assert found.deletes_found == 1 and found.deletes_checked_at is not None
    assert found.verify_check is not None and found.verify_check.ok
    assert found.verify_check.checked_at == found.deletes_checked_at  # one run, one time
    version = _version(warehouse)

    assert dag.test().state == "success"  # nothing changed, nothing deleted: nothing committed
    assert _version(warehouse) == version
    idle = _status(sources, warehouse)
    assert isinstance(idle.deletes_checked_at, datetime) and idle.deletes_checked_at > found.deletes_checked_at
    assert idle.deletes_found == 0, "the idle run's check found nothing, and the page says so"
    assert idle.verify_check is not None and idle.verify_check.ok
    assert idle.verify_check.checked_at == idle.deletes_checked_at
    assert idle.verify_check.message.startswith("source 39 rows at or below the cursor ")
    assert idle.verify_check.message.endswith(", warehouse 39")
