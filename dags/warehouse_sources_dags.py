"""Airflow DAG file: one DAG per source YAML in [warehouse_sources] sources_dir."""

from warehouse_sources.airflow.factory import register_dags

register_dags(globals())
