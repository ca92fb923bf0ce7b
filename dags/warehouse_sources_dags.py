"""Airflow DAG file: one DAG per valid source YAML in [warehouse_sources] sources_dir.

Broken source files are reported by warehouse_sources_config_errors.py (keep both files).
"""

from warehouse_sources.airflow.factory import register_dags

register_dags(globals())
