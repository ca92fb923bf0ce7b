"""The storage options as airflow/connections.py and operators.py import them (shared/warehouse_storage.py)."""

from __future__ import annotations

from warehouse_sources.shared.warehouse_storage import AWS_CONN_TYPES as AWS_CONN_TYPES
from warehouse_sources.shared.warehouse_storage import s3_access as s3_access
from warehouse_sources.shared.warehouse_storage import warehouse_storage_options as warehouse_storage_options
