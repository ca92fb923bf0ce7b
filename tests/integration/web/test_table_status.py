"""A table's "Last synced", "Last run" and "Rows last run" on `GET /api/sources/{name}` (README: Sources page).

"Last run" and "Rows last run" describe one run, the latest; "Last synced" is when the table's
task last succeeded, even when that run found nothing new and committed nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("airflow_state_restored")
P = "/warehouse-sources/api"
TABLE = "crm_deals"


def _run_once(client: Any, admin: dict[str, str], state: str, ended: datetime, value: Any) -> str:
    """Start a sync of crm_deals through the route, then stand in for the scheduler and the task."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    answer = client.post(f"{P}/sources/crm/sync", json={"tables": [TABLE]}, headers=admin)
    assert answer.status_code == 200, answer.text
    run_id = answer.json()["dag_run_id"]
    with create_session() as session:
        run = session.query(DagRun).filter_by(dag_id="sync_crm", run_id=run_id).one()
        for ti in run.get_task_instances(session=session):
            ti.state = state if ti.task_id == TABLE else "skipped"
            ti.end_date = ended
            if ti.task_id == TABLE and value is not None:
                XComModel.set("return_value", value, dag_id="sync_crm", task_id=TABLE, run_id=run_id, session=session)
        run.state = "success" if state == "success" else "failed"
        run.end_date = ended
    return str(run_id)


def _table(client: Any, admin: dict[str, str]) -> dict[str, Any]:
    detail = client.get(f"{P}/sources/crm", headers=admin).json()
    return next(t for t in detail["tables"] if t["synced_name"] == TABLE)


def test_last_synced_counts_a_run_that_committed_nothing_and_the_last_run_fields_share_one_run(
    client: Any, admin: dict[str, str]
) -> None:
    assert client.post(f"{P}/sources/crm/unpause", headers=admin).status_code == 200
    first = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    empty = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    _run_once(client, admin, "success", first, {"rows": 5, "write": "append", "seconds": 1.5})
    run_id = _run_once(client, admin, "success", empty, {"rows": 0, "write": "none", "seconds": 0.2})
    table = _table(client, admin)
    assert table["last_synced"] == empty.isoformat().replace("+00:00", "Z")
    assert (table["state"], table["rows_last_run"], table["last_run"]["run_id"]) == ("success", 0, run_id)

    failed_id = _run_once(client, admin, "failed", datetime(2026, 12, 1, 12, 0, tzinfo=UTC), None)
    table = _table(client, admin)
    assert table["last_synced"] == empty.isoformat().replace("+00:00", "Z"), "a failed run is no sync"
    assert (table["state"], table["rows_last_run"], table["last_run"]["run_id"]) == ("failed", None, failed_id)
