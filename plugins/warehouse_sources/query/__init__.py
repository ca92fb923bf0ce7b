"""Read-only SQL over the warehouse: DuckDB over the synced Delta tables, with limits (DESIGN §4.6).

Airflow-free: the CLI and the REST route hand in the warehouse root, its storage options and
the views folder. Heavy imports (duckdb, deltalake, pyarrow) happen inside functions.
"""
