"""Bucket sources (`kind: s3`): files in S3, R2, GCS or MinIO, or a local folder, read with DuckDB.

Its names are imported on first use (PEP 562), so the kind's registry entry (kind.py) imports no driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.lazy import lazy_names

if TYPE_CHECKING:
    from warehouse_sources.sources.bucket.reader import BucketReader
    from warehouse_sources.sources.bucket.spec import FileTable

__all__ = ["BucketReader", "FileTable"]
_HOMES = {
    "BucketReader": "warehouse_sources.sources.bucket.reader",
    "FileTable": "warehouse_sources.sources.bucket.spec",
}

__getattr__ = lazy_names(__name__, _HOMES)
