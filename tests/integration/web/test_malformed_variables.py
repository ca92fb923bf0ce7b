"""A `warehouse_sources.*` Variable that is not what the plugin writes is skipped, not a 500.

Whoever may write Airflow Variables can put anything there (README: Security); one bad value
must not take the list, every source's page and the table switch down for everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("airflow_state_restored")
P = "/warehouse-sources/api"
BAD = {
    "warehouse_sources.billing": "not json {",
    "warehouse_sources.crm": '{"tables": {"crm_deals": {"enabled": "yes"}}}',
    "warehouse_sources.ghost": "[1, 2]",
}


@pytest.fixture
def bad_variables(client: Any) -> Iterator[None]:
    from airflow.models.variable import Variable

    for key, value in BAD.items():
        Variable.set(key, value)
    yield
    for key in BAD:
        Variable.delete(key)


def test_the_routes_skip_a_malformed_variable_with_a_warning_naming_it(
    client: Any, admin: dict[str, str], bad_variables: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        listed = client.get(f"{P}/sources", headers=admin)
        assert listed.status_code == 200, listed.text
        assert {s["name"] for s in listed.json()["sources"]} >= {"billing", "crm"}
        assert client.get(f"{P}/sources/billing", headers=admin).status_code == 200
        assert client.get(f"{P}/sources/crm", headers=admin).status_code == 200
    for key in BAD:
        assert any(key in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records), key


def test_a_table_switch_replaces_a_malformed_variable(client: Any, admin: dict[str, str], bad_variables: None) -> None:
    answer = client.patch(f"{P}/sources/billing/tables/billing_plans", json={"enabled": False}, headers=admin)
    assert answer.status_code == 200, answer.text
    (table,) = [t for t in client.get(f"{P}/sources/billing", headers=admin).json()["tables"]
                if t["synced_name"] == "billing_plans"]  # fmt: skip
    assert (table["enabled"], table["enabled_origin"]) == (False, "ui")
