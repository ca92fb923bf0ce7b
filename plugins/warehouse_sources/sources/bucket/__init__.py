"""Bucket sources (`kind: s3`): files in S3, R2, GCS or MinIO, or a local folder, read with DuckDB."""

from __future__ import annotations

from warehouse_sources.sources.bucket.reader import BucketReader
from warehouse_sources.sources.bucket.spec import FileTable

__all__ = ["BucketReader", "FileTable"]
