"""Every REST route through Airflow's own API app: happy path, 401, 403 for a viewer, 404, 409, 422."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("airflow_state_restored")
P = "/warehouse-sources/api"
ACTIONS = [
    ("post", f"{P}/sources/billing/sync", {}),
    ("post", f"{P}/sources/billing/pause", None),
    ("post", f"{P}/sources/billing/unpause", None),
    ("delete", f"{P}/sources/billing", None),
    ("patch", f"{P}/sources/billing/tables/billing_plans", {"enabled": False}),
]
READS = [("get", f"{P}/sources", None), ("get", f"{P}/sources/billing", None), ("get", f"{P}/tables", None)]


def call(client: Any, method: str, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if body is not None:
        kwargs["json"] = body
    return client.request(method.upper(), url, **kwargs)


@pytest.mark.parametrize(("method", "url", "body"), ACTIONS + READS)
def test_every_route_answers_401_without_a_valid_token(client: Any, method: str, url: str, body: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Cookie": "_token=garbage"}):
        answer = call(client, method, url, body, headers)
        assert answer.status_code == 401, (url, headers, answer.text)
        assert "POST /auth/token" in answer.json()["detail"]


def test_401_comes_before_a_malformed_body(client: Any) -> None:
    answer = client.post(
        f"{P}/sources/billing/sync", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 401


def test_the_openapi_document_and_the_bundle_need_a_token_too(client: Any, admin: dict[str, str]) -> None:
    assert client.get("/warehouse-sources/openapi.json").status_code == 401
    assert client.get("/warehouse-sources/openapi.json", headers=admin).status_code == 200


@pytest.mark.parametrize(("method", "url", "body"), ACTIONS)
def test_a_viewer_gets_403_on_every_action(
    client: Any, viewer: dict[str, str], method: str, url: str, body: Any
) -> None:
    answer = call(client, method, url, body, viewer)
    assert answer.status_code == 403, answer.text
    assert "viewer" in answer.json()["detail"] and "sync_billing" in answer.json()["detail"]


@pytest.mark.parametrize(("method", "url", "body"), READS)
def test_a_viewer_may_read(client: Any, viewer: dict[str, str], method: str, url: str, body: Any) -> None:
    assert call(client, method, url, body, viewer).status_code == 200


def test_the_ui_session_cookie_authenticates(client: Any, admin: dict[str, str]) -> None:
    jwt = admin["Authorization"].removeprefix("Bearer ")
    answer = client.get(f"{P}/sources", cookies={"_token": jwt})
    client.cookies.clear()
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", f"{P}/sources/nope", None),
        ("post", f"{P}/sources/nope/sync", {}),
        ("post", f"{P}/sources/nope/pause", None),
        ("post", f"{P}/sources/nope/unpause", None),
        ("delete", f"{P}/sources/nope", None),
        ("patch", f"{P}/sources/nope/tables/x", {"enabled": True}),
        ("patch", f"{P}/sources/billing/tables/no_such_table", {"enabled": True}),
        ("post", f"{P}/sources/billing/sync", {"tables": ["no_such_table"]}),
    ],
)
def test_unknown_sources_and_tables_are_404(
    client: Any, admin: dict[str, str], method: str, url: str, body: Any
) -> None:
    answer = call(client, method, url, body, admin)
    assert answer.status_code == 404, answer.text
    assert "nope" in answer.json()["detail"] or "no_such_table" in answer.json()["detail"]


@pytest.mark.parametrize("route", ["sync", "tables"])
def test_a_bare_source_table_name_is_refused_as_the_run_conf_refuses_it(
    client: Any, admin: dict[str, str], route: str
) -> None:
    if route == "sync":
        answer = client.post(f"{P}/sources/billing/sync", json={"tables": ["plans"]}, headers=admin)
    else:
        answer = client.patch(f"{P}/sources/billing/tables/plans", json={"enabled": True}, headers=admin)
    assert answer.status_code == 404, answer.text
    assert "'plans' is a source table name, not a synced name: write 'billing_plans' (public.plans)" in answer.text


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (f"{P}/sources/billing/sync", {"tables": "billing_plans"}),
        (f"{P}/sources/billing/sync", {"full_refresh": "yes"}),
        (f"{P}/sources/billing/sync", {"tablez": ["billing_plans"]}),
        (f"{P}/sources/billing/sync", {"tables": []}),
        (f"{P}/sources/billing/tables/billing_plans", {"enabled": "false"}),
        (f"{P}/sources/billing/tables/billing_plans", {}),
        (f"{P}/sources/billing/tables/billing_plans", {"enabled": True, "by": "me"}),
    ],
)
def test_malformed_bodies_are_422(client: Any, admin: dict[str, str], url: str, body: Any) -> None:
    method = "patch" if "/tables/" in url else "post"
    assert call(client, method, url, body, admin).status_code == 422


def test_list_shows_every_source_with_its_status(client: Any, admin: dict[str, str]) -> None:
    answer = client.get(f"{P}/sources", headers=admin)
    assert answer.status_code == 200
    sources = {s["name"]: s for s in answer.json()["sources"]}
    assert set(sources) == {"billing", "crm"}
    billing = sources["billing"]
    assert billing["kind"] == "postgres" and billing["dag_id"] == "sync_billing"
    assert billing["frequency"] == "every 30 minutes" and sources["crm"]["frequency"] == "hourly"
    assert billing["status"] == "Paused"  # new DAGs start paused
    assert billing["tables_total"] == 4 and billing["last_run"] is None


def _flow_tables(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["synced_name"]: t for t in detail["tables"]}


def test_actions_change_airflow_state(client: Any, admin: dict[str, str], web_env: dict[str, Path]) -> None:
    # paused: a sync would queue forever, so it is refused
    answer = client.post(f"{P}/sources/crm/sync", json={}, headers=admin)
    assert answer.status_code == 409 and "paused" in answer.json()["detail"]
    assert client.post(f"{P}/sources/crm/unpause", headers=admin).json() == {"name": "crm", "paused": False}
    assert client.get(f"{P}/sources/crm", headers=admin).json()["paused"] is False

    switched = client.patch(f"{P}/sources/crm/tables/crm_deals", json={"enabled": False}, headers=admin).json()
    assert switched["enabled"] is False and switched["switched_by"] == "admin" and switched["enabled_origin"] == "ui"
    answer = client.post(f"{P}/sources/crm/sync", json={"tables": ["crm_deals"]}, headers=admin)
    assert (
        answer.status_code == 409 and "crm_deals" in answer.json()["detail"] and "disabled" in answer.json()["detail"]
    )

    answer = client.post(
        f"{P}/sources/crm/sync", json={"tables": ["crm_contacts"], "full_refresh": True}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    run_id = answer.json()["dag_run_id"]
    assert answer.json()["tables"] == ["crm_contacts"] and answer.json()["full_refresh"] is True
    assert _run_conf("sync_crm", run_id) == {"tables": ["crm_contacts"], "full_refresh": True}

    detail = client.get(f"{P}/sources/crm", headers=admin).json()
    assert detail["status"] == "Running" and detail["active_run"]["run_id"] == run_id
    tables = _flow_tables(detail)
    assert tables["crm_deals"]["enabled"] is False and tables["crm_deals"]["switched_by"] == "admin"
    assert tables["crm_contacts"]["enabled"] is True and tables["crm_contacts"]["enabled_origin"] == "yaml"

    answer = client.post(f"{P}/sources/crm/sync", json={}, headers=admin)
    assert answer.status_code == 409 and run_id in answer.json()["detail"]
    answer = client.delete(f"{P}/sources/crm", headers=admin)
    assert answer.status_code == 409 and run_id in answer.json()["detail"]

    _finish_run("sync_crm", run_id, ok=False, error="source 'crm': cannot connect\nsecond line")
    summary = {s["name"]: s for s in client.get(f"{P}/sources", headers=admin).json()["sources"]}["crm"]
    assert summary["status"] == "Failed"
    assert summary["last_error"]["message"] == "source 'crm': cannot connect"
    assert (
        summary["last_error"]["url"].startswith("dags/sync_crm/runs/")
        and "/tasks/crm_contacts" in summary["last_error"]["url"]
    )

    assert client.post(f"{P}/sources/crm/pause", headers=admin).json()["paused"] is True
    assert client.get(f"{P}/sources/crm", headers=admin).json()["status"] == "Paused"


def test_delete_drops_tables_and_the_file_and_a_second_delete_is_404(
    client: Any, admin: dict[str, str], web_env: dict[str, Path]
) -> None:
    table = web_env["warehouse"] / "billing_plans"
    _write_delta(table)
    answer = client.delete(f"{P}/sources/billing", headers=admin)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["dropped"]) == {"billing_customers", "billing_charges", "billing_refunds", "billing_plans"}
    assert answer.json()["file_removed"] is True and not table.exists()
    assert not (web_env["sources"] / "billing.yaml").exists()
    assert client.get(f"{P}/sources/billing", headers=admin).status_code == 404
    assert client.delete(f"{P}/sources/billing", headers=admin).status_code == 404
    assert [s["name"] for s in client.get(f"{P}/sources", headers=admin).json()["sources"]] == ["crm"]


def test_delete_with_a_read_only_sources_dir_keeps_the_dag_paused_and_marked(
    client: Any, admin: dict[str, str], web_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == web_env["sources"] else real_access(p, mode))
    answer = client.delete(f"{P}/sources/crm", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["file_removed"] is False and "crm.yaml" in answer.json()["note"]
    detail = client.get(f"{P}/sources/crm", headers=admin).json()
    assert detail["status"] == "Deleted" and detail["paused"] is True and "crm.yaml" in detail["deleted"]["note"]
    assert client.delete(f"{P}/sources/crm", headers=admin).status_code == 404
    for method, url, body in [("post", f"{P}/sources/crm/sync", {}), ("post", f"{P}/sources/crm/unpause", None),
                              ("patch", f"{P}/sources/crm/tables/crm_deals", {"enabled": True})]:  # fmt: skip
        assert call(client, method, url, body, admin).status_code == 409
    from warehouse_sources.airflow.toggles import skip_reason
    from warehouse_sources.web.actions import stored_toggles

    with _session() as session:
        assert "deleted by admin" in (
            skip_reason("crm", "crm_deals", "public.deals", True, stored_toggles(session, "crm")) or ""
        )


def _session() -> Any:
    from airflow.utils.session import create_session

    return create_session()


def _run_conf(dag_id: str, run_id: str) -> dict[str, Any]:
    from airflow.models.dagrun import DagRun

    with _session() as session:
        return dict(session.query(DagRun).filter_by(dag_id=dag_id, run_id=run_id).one().conf)


def _finish_run(dag_id: str, run_id: str, ok: bool, error: str = "") -> None:
    """Stand in for the scheduler and the task: set states and the XComs a task leaves."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel

    from warehouse_sources.airflow.toggles import ERROR_XCOM_KEY, error_line

    with _session() as session:
        run = session.query(DagRun).filter_by(dag_id=dag_id, run_id=run_id).one()
        for ti in run.get_task_instances(session=session):
            ti.state = "success" if ok else "failed" if ti.task_id == "crm_contacts" else "skipped"
            if ti.state == "failed":
                XComModel.set(ERROR_XCOM_KEY, error_line(RuntimeError(error)), dag_id=dag_id, task_id=ti.task_id,
                              run_id=run_id, session=session)  # fmt: skip
        run.state = "success" if ok else "failed"


def _write_delta(path: Path) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    write_deltalake(str(path), pa.table({"id": [1, 2]}))


@pytest.mark.parametrize("page", ["sources", "query"])
def test_the_page_bundle_is_served_to_signed_in_users(client: Any, admin: dict[str, str], page: str) -> None:
    url = f"/warehouse-sources/static/{page}-page.js"
    assert client.get(url).status_code == 401
    answer = client.get(url, headers=admin)
    assert answer.status_code == 200 and "javascript" in answer.headers["content-type"]
    assert "AirflowPlugin" in answer.text and "warehouse-sources/api/" in answer.text


def test_the_tables_route_names_column_types_as_arrow_does(
    client: Any, admin: dict[str, str], web_env: dict[str, Path]
) -> None:
    from decimal import Decimal

    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    data = pa.table({"id": pa.array([1], pa.int64()), "amount": pa.array([Decimal("2.50")], pa.decimal128(12, 2))})
    write_deltalake(str(web_env["warehouse"] / "crm_activities"), data)
    tables = {t["name"]: t for t in client.get(f"{P}/tables", headers=admin).json()["tables"]}
    assert tables["crm_activities"]["source"] == "crm"
    assert tables["crm_activities"]["columns"] == [{"name": "id", "type": "int64"},
                                                   {"name": "amount", "type": "decimal(12,2)"}]  # fmt: skip

    # the Sources page's per-table upkeep figures, and they follow a maintenance commit
    folder = web_env["warehouse"] / "crm_activities"
    on_disk = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    table = _flow_tables(client.get(f"{P}/sources/crm", headers=admin).json())["crm_activities"]
    assert (table["bytes_on_disk"], table["live_files"], table["versions_kept"]) == (on_disk, 1, 1)
    assert table["last_maintenance"] is None
    write_deltalake(str(folder), data, mode="append")
    DeltaTable(str(folder)).optimize.compact()
    table = _flow_tables(client.get(f"{P}/sources/crm", headers=admin).json())["crm_activities"]
    assert (table["live_files"], table["versions_kept"]) == (1, 3) and table["last_maintenance"] is not None
