"""The API kinds through Airflow: YAML -> DAG -> operator -> http connection -> the fake API -> Delta."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from tests.integration.api_fakes.hubspot_fake import start_hubspot
from tests.integration.api_fakes.stripe_data import fill
from tests.integration.api_fakes.stripe_fake import start_stripe

pytestmark = pytest.mark.integration


def test_stripe_and_hubspot_source_files_sync_through_their_dags(
    warehouse: str, airflow_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    stripe, stripe_store = start_stripe()
    hubspot, hubspot_store = start_hubspot()
    try:
        fill(stripe_store, "customers", 120)
        for i in range(30):
            hubspot_store.create("contacts", datetime.now(UTC) - timedelta(hours=i), email=f"c{i}@example.com")
        sources = tmp_path / "sources"
        sources.mkdir()
        (sources / "pay.yaml").write_text("name: pay\nkind: stripe\nconn_id: pay_api\ntable_prefix: stripe_\n"
                                          "tables:\n  - {name: customers, sync: incremental}\n")  # fmt: skip
        # Not "crm": the demo's PostgreSQL source is, and its sync_crm DAG in the session's Airflow DB
        # must stay the demo's for the web tests that run after this file on the same worker.
        (sources / "hubcrm.yaml").write_text("name: hubcrm\nkind: hubspot\nconn_id: crm_api\ntable_prefix: hubspot_\n"
                                          "tables:\n  - {name: contacts, sync: incremental}\n")  # fmt: skip
        for conn_id, api, secret in (("PAY_API", stripe, stripe_store.key), ("CRM_API", hubspot, hubspot_store.token)):
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps({"conn_type": "http", "host": api.url,
                                                                      "password": secret}))  # fmt: skip
        monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR", str(sources))
        monkeypatch.setenv("AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI", warehouse)
        bag = DagBag(dag_folder=str(REPO / "dags"))
        assert bag.import_errors == {}
        assert set(bag.dags["sync_pay"].tags) == {"warehouse-sources", "stripe"}
        assert bag.dags["sync_pay"].test().state == "success"
        assert bag.dags["sync_hubcrm"].test().state == "success"
        assert DeltaTable(f"{warehouse}/stripe_customers").to_pyarrow_table().num_rows == 120
        assert DeltaTable(f"{warehouse}/hubspot_contacts").to_pyarrow_table().num_rows == 30
    finally:
        stripe.stop()
        hubspot.stop()
