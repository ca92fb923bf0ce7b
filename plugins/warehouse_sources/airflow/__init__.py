"""The DAG and task side of Airflow: factory, operators, run conf, connections, the plugin class."""
