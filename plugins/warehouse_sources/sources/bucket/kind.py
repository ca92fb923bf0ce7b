"""The registry entry of `kind: s3`: files in an S3-compatible bucket or a local folder
(see warehouse_sources/registry.py)."""

from __future__ import annotations

from warehouse_sources.kindspec import FormField, KindSpec

KIND = KindSpec(
    name="s3",
    label="Bucket (S3, R2, GCS, MinIO) or local folder",
    description="files in an S3-compatible bucket, or a local folder (file://)",
    conn_types=("aws",),
    model="warehouse_sources.config.bucket_models:S3Source",
    open_reader="warehouse_sources.airflow.readers:open_bucket_reader",
    form=(
        FormField("login", "Access key ID", "text", help="empty: the worker's AWS_* variables or role"),
        FormField("password", "Secret access key", "password", secret=True),
        FormField("extra.endpoint_url", "Endpoint URL", "text", help="R2, GCS or MinIO: their S3 endpoint"),
        FormField("extra.region_name", "Region", "text", default="us-east-1"),
    ),
)
