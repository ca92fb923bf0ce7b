"""The Airflow plugin entry (registered once, through the `airflow.plugins` entry point)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class WarehouseSourcesPlugin(AirflowPlugin):
    """Registers warehouse-sources with Airflow; the Sources page and REST API attach here."""

    name = "warehouse_sources"
