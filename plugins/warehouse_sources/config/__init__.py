"""Source YAML -> validated models (`models`, `loader`). No Airflow imports here.

Kept empty on purpose: the sync engine imports `config.names` and `config.durations` without
paying for pydantic and PyYAML, which only parsing needs.
"""
