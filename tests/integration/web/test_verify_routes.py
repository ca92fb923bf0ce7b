"""The Sources page's verification fields and its Repair action (issue 20), through Airflow's own API app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("airflow_state_restored")
P = "/warehouse-sources/api"


def test_repair_starts_a_run_with_the_repair_conf(client: Any, admin: dict[str, str], viewer: dict[str, str]) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    assert client.post(f"{P}/sources/billing/repair", json={}, headers=viewer).status_code == 403
    assert client.post(f"{P}/sources/billing/unpause", headers=admin).status_code == 200
    answer = client.post(f"{P}/sources/billing/repair", json={"tables": ["billing_plans"]}, headers=admin)
    assert answer.status_code == 200, answer.text
    run_id = answer.json()["dag_run_id"]
    with create_session() as session:
        conf = session.scalar(select(DagRun.conf).where(DagRun.run_id == run_id, DagRun.dag_id == "sync_billing"))
    assert conf == {"tables": ["billing_plans"], "repair": True}
    again = client.post(f"{P}/sources/billing/repair", json={}, headers=admin)
    assert again.status_code == 409 and run_id in again.text  # one run at a time, as for a sync


def test_a_stored_deep_result_shows_on_the_table(client: Any, admin: dict[str, str], web_env: dict[str, Path]) -> None:
    from warehouse_sources.engine.verify_run import store

    record = {"checked_at": "2026-12-05T00:00:00+00:00", "ok": False, "key": "id", "source_rows": 10,
              "warehouse_rows": 9, "drift": [[1, 5, 4, 3]], "unchecked_columns": ["price"], "problem": "",
              "line": "billing_plans: drift in 1 key ranges: 1 <= id < 5 (source 4 rows, warehouse 3)"}  # fmt: skip
    store(str(web_env["warehouse"]), "billing_plans", record, None)
    answer = client.get(f"{P}/sources/billing", headers=admin)
    assert answer.status_code == 200, answer.text
    (table,) = [t for t in answer.json()["tables"] if t["synced_name"] == "billing_plans"]
    assert table["verify"] == "on" and table["verify_check"] is None  # never synced: no counts committed
    verified = table["verified"]
    assert verified["ok"] is False and verified["drift"] == [
        {"low": 1, "high": 5, "source_rows": 4, "warehouse_rows": 3}
    ]
    assert verified["unchecked_columns"] == ["price"] and verified["line"] == record["line"]
