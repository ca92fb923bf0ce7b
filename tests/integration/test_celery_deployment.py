"""The distributed set-up of docker/docker-compose.yaml, proven without a Docker engine: Airflow's
CeleryExecutor with Redis, two workers standing for two machines, the warehouse on S3 (moto's
server), the demo's sources on PostgreSQL (tests/integration/celery_support.py starts it all).

The demo's three sources sync with their tasks spread over both workers and every table equals its
source; a worker SIGKILLed while its task reads the source loses that task to the other worker
(Airflow fails the heartbeat-less try and retries it), and the table still equals the source.
"""

from __future__ import annotations

import json
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.celery_support import WORKERS, Deployment, celery_deployment

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

CHANGES = "UPDATE charges SET status = 'refunded', updated_at = now() WHERE id % 50 = 0"
NEW_CHARGES = (
    "INSERT INTO charges (customer_id, amount, currency, status, metadata, created_at, updated_at) "
    "SELECT customer_id, amount + 1, currency, 'succeeded', metadata, now(), now() FROM charges WHERE id <= 200"
)
SOURCES = {"billing": ("customers", "charges", "refunds", "plans"), "crm": ("contacts", "deals", "activities")}


@pytest.fixture(scope="module")
def deployment(pg_server: str, s3_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with celery_deployment(pg_server, s3_server, tmp_path_factory.mktemp("celery")) as running:
        yield running


def poll(deployment: Deployment, path: str) -> Any:
    """GET for a polling loop: None when the API server is too busy to answer in time (a loaded
    2-core CI box, four task processes calling it too), so the loop asks again until its deadline."""
    try:
        return deployment.stack.api("GET", path)
    except TimeoutError:
        return None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return None
        raise


def wait_run(deployment: Deployment, dag_id: str, run_id: str | None = None, timeout_s: float = 240) -> dict[str, Any]:
    """The run (the latest when `run_id` is None) once it succeeded; fails the test when it failed."""
    deadline = time.monotonic() + timeout_s
    path = f"/api/v2/dags/{dag_id}/dagRuns" + (f"/{run_id}" if run_id else "?order_by=-run_after&limit=1")
    while True:
        answer = poll(deployment, path)
        runs = [] if answer is None else [answer] if run_id else answer["dag_runs"]
        if runs and runs[0]["state"] == "success":
            return dict(runs[0])
        assert not runs or runs[0]["state"] != "failed", f"{dag_id} run {runs[0]['dag_run_id']} failed"
        assert time.monotonic() < deadline, f"{dag_id} did not succeed in {timeout_s:g} s: see {deployment.stack.home}"
        time.sleep(1)


def task_instances(deployment: Deployment, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    answer = deployment.stack.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
    return list(answer["task_instances"])


def source_rows(uri: str, table: str) -> list[dict[str, Any]]:
    """Rows as the source holds them, jsonb as PostgreSQL's text of it (what the warehouse keeps)."""
    import psycopg
    from psycopg.rows import dict_row
    from psycopg.types.string import TextLoader

    with psycopg.connect(uri, row_factory=dict_row) as conn:
        conn.adapters.register_loader("jsonb", TextLoader)
        return conn.execute(f'SELECT * FROM "public"."{table}" ORDER BY "id"').fetchall()


def warehouse_rows(deployment: Deployment, name: str) -> list[dict[str, Any]]:
    from deltalake import DeltaTable

    rows = DeltaTable(f"{deployment.warehouse}/{name}", storage_options=deployment.options).to_pyarrow_table()
    plain = [{k: v for k, v in row.items() if not k.startswith("_ws_")} for row in rows.to_pylist()]
    return sorted(plain, key=lambda row: row.get("id") or 0)


def exported_event_ids(events: Path) -> list[str]:
    lines = [line for path in sorted(events.glob("date=*/*.jsonl")) for line in path.read_text().splitlines()]
    return sorted(json.loads(line)["uuid"] for line in lines)


def test_the_demo_sources_sync_on_both_workers_into_the_s3_warehouse(deployment: Deployment) -> None:
    for source in ("billing", "crm", "product_events"):
        deployment.stack.api("POST", f"/warehouse-sources/api/sources/{source}/unpause", {})
    hosts: set[str] = set()
    for source in ("billing", "crm", "product_events"):
        run = wait_run(deployment, f"sync_{source}")
        instances = task_instances(deployment, f"sync_{source}", run["dag_run_id"])
        assert {ti["state"] for ti in instances} == {"success"}, instances
        hosts |= {ti["hostname"] for ti in instances}
    assert hosts == set(WORKERS), f"tasks ran on {sorted(hosts)}, not on both workers"
    for source, tables in SOURCES.items():
        uri = getattr(deployment, source)
        for table in tables:
            assert warehouse_rows(deployment, f"{source}_{table}") == source_rows(uri, table), table
    synced_events = warehouse_rows(deployment, "events")
    assert sorted(row["uuid"] for row in synced_events) == exported_event_ids(deployment.events)


def wait_blocked_read(deployment: Deployment, dag_id: str, run_id: str, timeout_s: float = 120) -> str:
    """The host of the worker whose try of billing_charges is reading the source, blocked on the lock."""
    from tests.integration.helpers import query

    deadline = time.monotonic() + timeout_s
    server = deployment.billing.rsplit("/", 1)[0] + "/postgres"
    database = deployment.billing.rsplit("/", 1)[1]
    waiting = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND wait_event_type = 'Lock'"
    while True:
        ti = poll(deployment, f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/billing_charges")
        if ti and ti["state"] == "running" and ti["hostname"] and query(server, waiting)[0][0] > 0:
            return str(ti["hostname"])
        assert time.monotonic() < deadline, f"billing_charges did not reach its source read in {timeout_s:g} s: {ti}"
        time.sleep(0.5)


def test_a_killed_worker_s_task_is_retried_on_the_other_and_the_table_equals_the_source(
    deployment: Deployment,
) -> None:
    import psycopg

    from tests.integration.helpers import sql

    wait_run(deployment, "sync_billing")  # the first sync (the test above, or this one's own start)
    sql(deployment.billing, CHANGES, NEW_CHARGES)
    with psycopg.connect(deployment.billing) as locker:
        locker.execute('LOCK TABLE "public"."charges" IN ACCESS EXCLUSIVE MODE')  # its read waits: killed mid-sync
        body = {"tables": ["billing_charges"]}
        answer = deployment.stack.api("POST", "/warehouse-sources/api/sources/billing/sync", body)
        victim = wait_blocked_read(deployment, "sync_billing", answer["dag_run_id"])
        deployment.kill_worker(victim)
        locker.rollback()
    wait_run(deployment, "sync_billing", answer["dag_run_id"], timeout_s=240)
    path = f"/api/v2/dags/sync_billing/dagRuns/{answer['dag_run_id']}/taskInstances/billing_charges/tries"
    tries = deployment.stack.api("GET", path)["task_instances"]
    survivor = next(host for host in WORKERS if host != victim)
    assert [(t["try_number"], t["hostname"], t["state"]) for t in tries] == [
        (1, victim, "failed"), (2, survivor, "success")
    ], tries  # fmt: skip
    assert warehouse_rows(deployment, "billing_charges") == source_rows(deployment.billing, "charges")
