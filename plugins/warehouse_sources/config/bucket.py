"""Rules for bucket sources' YAML (`kind: s3`): urls, glob patterns and declared column types.

Plain functions the pydantic models call (config/bucket_models.py), so each rule reads on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from warehouse_sources.config.options import ReaderOptions

URL_SCHEMES = ("s3://", "s3a://", "file://")
# DuckDB type names a CSV, JSON lines or Parquet column may be declared as (DECIMAL(p,s) too).
COLUMN_TYPES = frozenset({"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "VARCHAR",
                          "DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "TIME", "BLOB", "UUID",
                          "JSON"})  # fmt: skip
DECIMAL = re.compile(r"^DECIMAL\((\d{1,2}),\s*(\d{1,2})\)$")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def check_url(value: str) -> str:
    """s3://bucket/prefix/ (s3a:// too) or file:///absolute/folder/."""
    if not value.startswith(URL_SCHEMES):
        raise ValueError(f"{value!r} must start with s3:// (S3, R2, GCS, MinIO) or file:// (a local folder)")
    rest = value.split("://", 1)[1]
    if value.startswith("file://"):
        if not rest.startswith("/"):
            raise ValueError(f"{value!r}: a file:// url names an absolute folder, e.g. file:///srv/exports/")
    elif not rest.split("/", 1)[0]:
        raise ValueError(f"{value!r} names no bucket; write s3://bucket/prefix/")
    return value


def check_pattern(value: str) -> str:
    """A glob relative to the url: no leading '/', no '..'."""
    if value.startswith("/") or "://" in value:
        raise ValueError(f"{value!r} must be relative to the source's url (e.g. 'invoices/*.csv')")
    if ".." in value.split("/"):
        raise ValueError(f"{value!r} must stay under the source's url ('..' is not allowed)")
    return value


def check_table_name(value: str) -> str:
    if not TABLE_NAME.match(value):
        raise ValueError(
            f"{value!r}: a bucket table is named by letters, digits and underscores (not starting with a digit); "
            "its files are chosen by pattern"
        )
    return value


def normalize_type(column: str, value: str) -> str:
    """A declared column type, upper-cased, that DuckDB reads from CSV or JSON text or casts a Parquet column to."""
    text = " ".join(value.split()).upper()
    if text in COLUMN_TYPES:
        return text
    match = DECIMAL.match(text)
    if match and 1 <= int(match.group(1)) <= 38 and int(match.group(2)) <= int(match.group(1)):
        return text
    raise ValueError(
        f"column {column!r}: {value!r} is not a type a file column can be declared as; use one of "
        f"{', '.join(sorted(COLUMN_TYPES))} or DECIMAL(p,s) with p <= 38"
    )


class CsvOptions(TypedDict):
    header: bool
    delimiter: str
    quote: str
    escape: str
    sample_rows: int


class FileTableOptions(TypedDict):
    """One table of files in the form the bucket reader takes (sources/bucket/spec.py `FileTable.from_options`)."""

    pattern: str
    format: Literal["csv", "parquet", "jsonl", "delta"]
    csv: CsvOptions
    columns: dict[str, str]
    on_file_change: Literal["warn", "reload"]


@dataclass(frozen=True)
class BucketOptions(ReaderOptions):
    """A bucket source's reader options: its url and each table's files, by table name."""

    url: str = ""
    tables: dict[str, FileTableOptions] = field(default_factory=dict)
