"""The Sources page in a real browser against a real Airflow: what it shows and every action.

Screenshots (light and dark, 1280x800 and 390 px wide) go to tests/artifacts/ (README: Sources page).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.web_stack import Stack, airflow_stack, shoot, sources_page, wait_for_dags

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

RUN_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def stack(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with airflow_stack(pg_server, tmp_path_factory.mktemp("e2e")) as running:
        wait_for_dags(running, "sync_", 2, "the demo DAGs")
        yield running


@pytest.fixture(scope="module")
def page(stack: Stack) -> Iterator[Any]:
    with sources_page(stack) as tab:
        yield tab


def card(page: Any, name: str) -> Any:
    return page.get_by_test_id(f"source-{name}")


def wait_status(page: Any, name: str, status: str) -> None:
    from playwright.sync_api import expect

    expect(card(page, name).get_by_text(status, exact=True)).to_be_visible(timeout=RUN_TIMEOUT_MS)


def latest_run(stack: Stack, dag_id: str) -> dict[str, Any]:
    runs = stack.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after&limit=1")["dag_runs"]
    return runs[0]


def delta_rows(stack: Stack, table: str) -> int:
    from deltalake import DeltaTable

    return DeltaTable(str(stack.warehouse / table)).to_pyarrow_table().num_rows


def test_unpause_follows_the_run_and_shows_what_the_warehouse_holds(page: Any, stack: Stack) -> None:
    from warehouse_sources.warehouse.delta import open_table, read_state

    billing = card(page, "billing")
    billing.get_by_text("Paused", exact=True).wait_for(timeout=60_000)  # a loaded CI box renders slowly
    card(page, "crm").get_by_text("hourly").wait_for(timeout=60_000)
    billing.get_by_role("button", name="Unpause").click()  # the scheduler starts the due run at once
    wait_status(page, "billing", "Running")
    for action in ("Sync now", "Resync", "Delete"):  # no way into a 409 while the run is active
        button = billing.get_by_role("button", name=action, exact=True)
        assert button.is_disabled(), action
        assert button.locator("xpath=..").get_attribute("title") == "A run is queued or running: wait for it to finish"
    expect_gone(billing.get_by_test_id("action-message"))  # "Unpaused" spoke of the paused state
    wait_status(page, "billing", "Completed")
    assert latest_run(stack, "sync_billing")["state"] == "success"
    billing.get_by_role("button", name="billing").click()
    for table in ("billing_customers", "billing_charges", "billing_refunds", "billing_plans"):
        row = page.get_by_test_id(f"table-{table}")
        row.wait_for()
        text = row.inner_text()
        assert f"{delta_rows(stack, table):,}" in text, (table, text)
        state = read_state(open_table(str(stack.warehouse / table)))  # type: ignore[arg-type]
        if state and state.cursor is not None:
            from warehouse_sources.warehouse.state import encode_cursor

            assert str(encode_cursor(state.cursor)) in text, (table, text)
    page.set_viewport_size({"width": 390, "height": 844})
    cursor = page.get_by_test_id("table-billing_charges").get_by_test_id("cursor")
    assert cursor.evaluate("e => e.parentElement.scrollWidth <= e.parentElement.clientWidth"), "cursor cut at 390 px"
    page.set_viewport_size({"width": 1280, "height": 800})
    shoot(page, "sources-after-first-sync")


def expect_gone(locator: Any, timeout_ms: int = 15_000) -> None:
    from playwright.sync_api import expect

    expect(locator).to_have_count(0, timeout=timeout_ms)


def test_each_synced_table_links_to_the_query_page(page: Any, stack: Stack) -> None:
    link = page.get_by_test_id("table-billing_plans").get_by_role("link", name="Query")
    assert "plugin/query?sql=SELECT%20*%20FROM%20billing_plans%20LIMIT%20100" in (link.get_attribute("href") or "")
    link.click()
    page.get_by_role("heading", name="Query").wait_for()
    assert page.get_by_label("SQL").input_value() == "SELECT * FROM billing_plans LIMIT 100"
    page.get_by_role("link", name="Sources").click()
    page.get_by_role("heading", name="Sources").wait_for()
    card(page, "billing").get_by_role("button", name="billing").click()
    page.get_by_test_id("table-billing_plans").wait_for()


def test_a_switched_off_table_is_skipped_by_the_next_sync_now(page: Any, stack: Stack) -> None:
    row = page.get_by_test_id("table-billing_plans")
    row.get_by_label("Sync billing_plans").focus()  # keyboard reachable: Space flips the switch
    page.keyboard.press("Space")
    row.get_by_text("switched by admin").wait_for(timeout=30_000)
    before = latest_run(stack, "sync_billing")["dag_run_id"]
    card(page, "billing").get_by_role("button", name="Sync now").click()
    wait_status(page, "billing", "Running")
    wait_status(page, "billing", "Completed")
    run = latest_run(stack, "sync_billing")["dag_run_id"]
    assert run != before
    path = f"/api/v2/dags/sync_billing/dagRuns/{quote(run, safe='')}/taskInstances/billing_plans"
    assert stack.api("GET", path)["state"] == "skipped"
    log = str(stack.api("GET", path + "/logs/1"))
    assert "disabled by admin" in log, log[-2000:]
    assert stack.api("GET", path.replace("billing_plans", "billing_charges"))["state"] == "success"


def test_resync_of_one_table_rebuilds_it_after_a_confirmation(page: Any, stack: Stack) -> None:
    row = page.get_by_test_id("table-billing_refunds")
    row.get_by_role("button", name="Resync").click()
    dialog = page.get_by_role("alertdialog")
    assert "billing_refunds" in dialog.inner_text()
    dialog.get_by_role("button", name="Resync").click()
    card(page, "billing").get_by_text("Resync of billing_refunds queued").wait_for(timeout=30_000)
    wait_status(page, "billing", "Running")
    wait_status(page, "billing", "Completed")
    run = latest_run(stack, "sync_billing")
    assert run["conf"] == {"tables": ["billing_refunds"], "full_refresh": True}
    xcom = stack.api("GET", f"/api/v2/dags/sync_billing/dagRuns/{quote(run['dag_run_id'], safe='')}"
                            "/taskInstances/billing_refunds/xcomEntries/return_value")  # fmt: skip
    assert "overwrite" in str(xcom["value"])


def _wait_import_errors(stack: Stack, present: bool) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 120
    while True:
        errors = stack.api("GET", "/api/v2/importErrors")["import_errors"]
        if bool(errors) == present:
            return list(errors)
        assert time.monotonic() < deadline, f"import errors did not become {'present' if present else 'empty'}"
        time.sleep(0.5)


def _sync_when_idle(stack: Stack, name: str) -> str:
    """Start a sync through the plugin, waiting out a run already active (unpausing may start one)."""
    import urllib.error

    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while True:
        try:
            return str(stack.api("POST", f"/warehouse-sources/api/sources/{name}/sync", {})["dag_run_id"])
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode()
            assert exc.code == 409 and "wait for it to finish" in detail, detail
        assert time.monotonic() < deadline, f"a run of {name} stayed active"
        time.sleep(0.5)


def test_a_broken_source_file_leaves_the_other_source_syncing(stack: Stack) -> None:
    crm = stack.sources / "crm.yaml"
    original = crm.read_text()
    crm.write_text(original + "owner_note: typo\n")
    try:
        (error,) = _wait_import_errors(stack, present=True)
        assert error["filename"] == "warehouse_sources_config_errors.py"
        assert "crm.yaml: owner_note: unknown key" in error["stack_trace"]
        time.sleep(6)  # one more parse of the DAG file: sync_billing must still be there afterwards
        assert stack.api("GET", "/api/v2/dags/sync_billing")["is_stale"] is False
        warnings = stack.api("GET", "/warehouse-sources/api/sources")["warnings"]
        assert any("crm.yaml: owner_note: unknown key" in w for w in warnings), warnings
        stack.api("POST", "/warehouse-sources/api/sources/billing/unpause", {})
        run = _sync_when_idle(stack, "billing")
        deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
        while (state := latest_run(stack, "sync_billing"))["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the sync of billing did not finish"
            time.sleep(0.5)
        assert state["dag_run_id"] == run
        assert state["state"] == "success"
    finally:
        crm.write_text(original)
    _wait_import_errors(stack, present=False)


def test_delete_names_every_table_then_drops_them(page: Any, stack: Stack) -> None:
    billing = card(page, "billing")
    billing.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("alertdialog")
    text = dialog.inner_text()
    for table in ("billing_customers", "billing_charges", "billing_refunds", "billing_plans"):
        assert table in text
    shoot(page, "sources-delete-confirmation")
    dialog.get_by_role("button", name="Delete billing").click()
    billing.wait_for(state="detached", timeout=30_000)
    notice = page.get_by_test_id("page-notice").inner_text()
    assert notice.startswith("Deleted billing: dropped ") and "billing_charges" in notice, notice
    assert "its source file was removed" in notice, notice
    assert not (stack.sources / "billing.yaml").exists()
    assert not any((stack.warehouse / t).exists() for t in ("billing_customers", "billing_charges", "billing_plans"))
    assert card(page, "crm").is_visible()


@pytest.mark.parametrize("name", ["billing", "no_such_source"])
def test_a_link_to_a_deleted_or_unknown_source_says_so(page: Any, stack: Stack, name: str) -> None:
    page.goto(f"{stack.base}/plugin/sources?source={name}")
    missing = page.get_by_test_id("missing-source")
    missing.wait_for()
    assert f"No source named {name}" in missing.inner_text()
    assert card(page, "crm").is_visible()
    if name == "billing":
        shoot(page, "sources-missing-source")
