"""Example downstream DAG: runs when the warehouse table `billing_charges` changes, not on a clock.

Each synced table is the Airflow Asset `warehouse://<synced table name>`; a sync that committed
something emits its event (rows, deleted, write, cursor, Delta version, schema hash in its extra),
an empty sync emits none. Paused when first seen: unpause it to try, copy it for real work.
"""

import pendulum
from airflow.sdk import DAG, task

from warehouse_sources.airflow.assets import table_asset

BILLING_CHARGES = table_asset("billing_charges")

with DAG(
    dag_id="example_billing_charges_downstream",
    schedule=[BILLING_CHARGES],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    tags=["warehouse-sources", "example"],
    doc_md=__doc__,
):

    @task
    def report_new_charges(*, triggering_asset_events=None):  # type: ignore[no-untyped-def]
        """Print what each sync that triggered this run committed."""
        for event in (triggering_asset_events or {}).get(BILLING_CHARGES, []):
            extra = event.extra
            print(
                f"billing_charges version {extra['version']}: {extra['rows']} rows ({extra['write']}), "
                f"cursor {extra['cursor']}, schema {extra['schema_hash']}"
            )

    report_new_charges()
