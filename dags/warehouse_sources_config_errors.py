"""Airflow DAG file: the problems of broken source files in [warehouse_sources] sources_dir.

It defines no DAG. When a source file is broken, importing it fails with one error listing
every file and field, which Airflow shows in its DAG import errors. The valid sources' DAGs
come from warehouse_sources_dags.py, which never fails for a broken source file: Airflow marks
every DAG of a file with an import error as stale, so one typo would stop every source.
"""

from warehouse_sources.airflow.factory import raise_config_errors

raise_config_errors()
