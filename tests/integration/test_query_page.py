"""The Query page in a real browser against a real Airflow: type, complete, run, chart, CSV, share.

The demo's billing source is synced first; expected values come from the Delta table itself
(pyarrow), not through the query engine. Screenshots (light and dark, 1280 and 390 px) go to
tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.integration.web_stack import Stack, airflow_stack, first_sync, shoot, signed_in_page, wait_for_dags

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

BY_STATUS = "SELECT status, count(*) AS n FROM billing_charges GROUP BY status ORDER BY status"
BY_MONTH = (
    "SELECT date_trunc('month', created_at)::DATE AS month, count(*) AS charges, sum(amount) AS amount\n"
    "FROM billing_charges GROUP BY 1 ORDER BY 1"
)


@pytest.fixture(scope="module")
def stack(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with airflow_stack(pg_server, tmp_path_factory.mktemp("query-page")) as running:
        wait_for_dags(running, "sync_", 2, "the demo DAGs")
        first_sync(running, "billing")
        yield running


@pytest.fixture(scope="module")
def page(stack: Stack) -> Iterator[Any]:
    with signed_in_page(stack) as tab:
        tab.get_by_role("link", name="Query").click()
        tab.get_by_role("heading", name="Query").wait_for()
        yield tab


def _charges_by_status(stack: Stack) -> list[tuple[str, int]]:
    from deltalake import DeltaTable

    table = DeltaTable(str(stack.warehouse / "billing_charges")).to_pyarrow_table(columns=["status", "id"])
    counted = table.group_by("status").aggregate([("id", "count")]).to_pylist()
    return sorted((row["status"], row["id_count"]) for row in counted)


def _rows(page: Any) -> list[list[str]]:
    cells = page.get_by_test_id("result-table").locator("tbody tr")
    return [row.locator("td").all_inner_texts() for row in cells.all()]


def test_a_typed_query_completes_names_runs_and_charts_a_category_count(page: Any, stack: Stack) -> None:
    from playwright.sync_api import expect

    listed = page.get_by_role("navigation", name="tables and views")
    listed.get_by_role("button", name="billing_charges").wait_for()  # GET /api/tables answered
    editor = page.get_by_label("SQL")
    editor.press_sequentially("SELECT status, count(*) AS n FROM billing_ch")
    option = page.get_by_role("option", name="billing_charges")
    expect(option).to_be_visible()
    editor.press("Tab")
    editor.press_sequentially(" GROUP BY status ORDER BY status")
    assert editor.input_value() == BY_STATUS
    editor.press("Control+Enter")
    table = page.get_by_test_id("result-table")
    expect(table).to_be_visible()
    headers = table.locator("thead th").all_inner_texts()
    assert [h.split() for h in headers] == [["status", "VARCHAR"], ["n", "BIGINT"]]
    expected = _charges_by_status(stack)
    assert _rows(page) == [[status, f"{n}"] for status, n in expected]
    assert page.get_by_test_id("result-chart").get_attribute("data-kind") == "bar"
    assert parse_qs(urlsplit(page.url).query)["sql"] == [BY_STATUS]
    shoot(page, "query-category-count")


def test_the_result_downloads_as_csv(page: Any, stack: Stack) -> None:
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "query.csv"
    with open(download.value.path()) as f:
        text = f.read()
    assert text == "status,n\n" + "".join(f"{status},{n}\n" for status, n in _charges_by_status(stack))


def test_a_time_series_draws_lines(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_label("SQL").fill(BY_MONTH)
    page.get_by_role("button", name="Run").click()
    chart = page.get_by_test_id("result-chart")
    expect(chart).to_have_attribute("data-kind", "line")
    headers = page.get_by_test_id("result-table").locator("thead th").all_inner_texts()
    assert [h.split()[1] for h in headers] == ["DATE", "BIGINT", "DECIMAL(38,2)"]
    shoot(page, "query-time-series")


def test_an_error_shows_the_engines_message(page: Any) -> None:
    page.get_by_label("SQL").fill("SELECT * FROM no_such_table")
    page.get_by_role("button", name="Run").click()
    alert = page.get_by_test_id("query-error")
    alert.wait_for()
    assert alert.get_attribute("role") == "alert"
    assert "Query failed" in alert.inner_text()
    assert "no table or view named 'no_such_table'" in alert.inner_text()
    shoot(page, "query-error")


def test_a_shared_link_opens_with_its_query(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.base}/plugin/query?sql={quote(BY_STATUS)}")
    page.get_by_role("heading", name="Query").wait_for()
    assert page.get_by_label("SQL").input_value() == BY_STATUS
