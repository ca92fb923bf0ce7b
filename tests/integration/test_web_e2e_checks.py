"""The Sources page's per-table checks in a real browser against a real Airflow (issues 20 and 22):
deletions, the sync's count check, the deep verification a Repair run leaves, and the consuming DAGs.

Screenshots (light and dark, 1280 and 390 px wide) go to tests/artifacts/ (README: Sources page).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.web_stack import Stack, airflow_stack, first_sync, shoot, sources_page, wait_for_dags

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

RUN_TIMEOUT_MS = 180_000
CHARGES = "  - name: public.charges\n"


@pytest.fixture(scope="module")
def stack(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The demo with `deletes: soft` on billing's charges, synced once."""
    with airflow_stack(pg_server, tmp_path_factory.mktemp("e2e_checks")) as running:
        billing = running.sources / "billing.yaml"
        billing.write_text(billing.read_text().replace(CHARGES, CHARGES + "    deletes: soft\n"))
        wait_for_dags(running, "example_billing", 1, "the example downstream DAG")
        first_sync(running, "billing")
        _delete_a_charge(running)
        _sync(running)  # the edited file is parsed by now (every 5 s): this run finds the deletion
        yield running


def _delete_a_charge(stack: Stack) -> None:
    """Delete one charge no refund points at from the source database."""
    import psycopg

    with psycopg.connect(stack.env["AIRFLOW_CONN_DEMO_BILLING"], autocommit=True) as conn:
        conn.execute(
            "DELETE FROM charges WHERE id = (SELECT max(c.id) FROM charges c"
            " WHERE NOT EXISTS (SELECT 1 FROM refunds r WHERE r.charge_id = c.id))"
        )


def _sync(stack: Stack) -> None:
    run_id = stack.api("POST", "/warehouse-sources/api/sources/billing/sync", {})["dag_run_id"]
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while (run := stack.api("GET", f"/api/v2/dags/sync_billing/dagRuns/{quote(run_id, safe='')}"))["state"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, "the second sync of billing did not finish"
        time.sleep(0.5)
    assert run["state"] == "success", run


@pytest.fixture(scope="module")
def page(stack: Stack) -> Iterator[Any]:
    with sources_page(stack) as tab:
        tab.get_by_test_id("source-billing").get_by_role("button", name="billing").click()
        yield tab


def test_a_table_shows_its_deletions_check_and_consumers(page: Any) -> None:
    row = page.get_by_test_id("table-billing_charges")
    deletions = row.get_by_test_id("deletions")
    deletions.wait_for(timeout=60_000)
    text = deletions.inner_text()
    assert text.startswith("Deletions: soft, last checked ") and text.endswith(" ago, 1 found"), text
    check = row.get_by_test_id("verify-check").inner_text()  # when it ran: also a run that committed nothing
    assert check.startswith("Last sync's check: ok ") and check.endswith(" ago"), check
    link = row.get_by_test_id("used-by").get_by_role("link", name="example_billing_charges_downstream")
    assert (link.get_attribute("href") or "").endswith("/dags/example_billing_charges_downstream")
    plans = page.get_by_test_id("table-billing_plans")
    assert plans.get_by_test_id("deletions").count() == 0 and plans.get_by_test_id("used-by").count() == 0


def test_repair_confirms_then_runs_and_the_table_shows_it_verified(page: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    row = page.get_by_test_id("table-billing_charges")
    row.get_by_role("button", name="Repair").click()
    dialog = page.get_by_role("alertdialog")
    assert "billing_charges" in dialog.inner_text()
    dialog.get_by_role("button", name="Repair").click()
    billing = page.get_by_test_id("source-billing")
    billing.get_by_text("Repair of billing_charges queued").wait_for(timeout=30_000)
    expect(row.get_by_role("button", name="Repair")).to_be_disabled(timeout=30_000)  # while the run is active
    expect(billing.get_by_text("Completed", exact=True)).to_be_visible(timeout=RUN_TIMEOUT_MS)
    run = stack.api("GET", "/api/v2/dags/sync_billing/dagRuns?order_by=-run_after&limit=1")["dag_runs"][0]
    assert run["conf"] == {"tables": ["billing_charges"], "repair": True} and run["state"] == "success"
    verified = row.get_by_test_id("verified")
    expect(verified).to_contain_text("Verified: ok", timeout=60_000)
    shoot(page, "sources-table-checks")
