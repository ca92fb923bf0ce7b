"""The bucket kind's source model (`kind: s3`, s3:// or file://): tables of files (DESIGN §4.1).

The rules themselves (urls, glob patterns, declared types) are plain functions in config/bucket.py.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from warehouse_sources.config import bucket
from warehouse_sources.config.models import SourceConfig, TableConfig, TableName


class CsvConfig(BaseModel):
    """How a table's CSV files are written (every file of the table the same way)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header: bool = Field(default=True, description="the first line names the columns (false: column0, column1, ...)")
    delimiter: str = Field(default=",", min_length=1, max_length=1, description="field separator, one character")
    quote: str = Field(default='"', min_length=1, max_length=1, description="quote character")
    escape: str = Field(default='"', min_length=1, max_length=1, description="escape character inside quotes")
    sample_rows: int = Field(
        default=20480, ge=1, le=10_000_000, description="rows of the first file the type inference reads"
    )


class BucketTableConfig(TableConfig):
    """A table of files: the ones `pattern` matches under the source's url, in one format."""

    name: TableName = Field(description="table name (letters, digits, _); synced table name = table_prefix + name")
    pattern: Annotated[str, Field(min_length=1)] = Field(
        description="glob relative to url: * and ? within a folder, ** across folders; for format delta, the "
        "Delta table's folder"
    )
    format: Literal["csv", "parquet", "jsonl", "delta"] = Field(description="csv | parquet | jsonl | delta")
    replication_key: str | None = Field(
        None,
        description="optional cursor column (integer, date or timestamp); without one, append_only and "
        "incremental read the files not loaded yet",
    )
    csv: CsvConfig | None = Field(None, description="format csv only: header, delimiter, quote, escape, sample_rows")
    columns: dict[str, str] | None = Field(
        None, description="formats csv, jsonl and parquet: declared types by column (e.g. {amount: DECIMAL(12,2)}); "
        "other columns are inferred (parquet: taken from the files)"
    )  # fmt: skip
    on_file_change: Literal["warn", "reload"] = Field(
        "warn",
        description="without a replication_key: a loaded file rewritten in place is only warned about (warn), "
        "or read again (reload: appended again, or merged again for incremental)",
    )

    @field_validator("name")
    @classmethod
    def _name_has_table(cls, value: str) -> str:
        return bucket.check_table_name(value)

    @field_validator("replication_key")
    @classmethod
    def _key_fits_method(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("sync") == "full_table" and value:
            raise ValueError("not used by sync: full_table; remove it or pick another method")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_form(cls, value: str) -> str:
        return bucket.check_pattern(value)

    @field_validator("columns")
    @classmethod
    def _column_types(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else {name: bucket.normalize_type(name, t) for name, t in value.items()}

    @model_validator(mode="after")
    def _options_fit(self) -> Self:
        problems = []
        if self.csv is not None and self.format != "csv":
            problems.append(f"csv: only applies to format: csv, not {self.format}")
        if self.columns and self.format == "delta":
            problems.append("columns: only applies to formats csv, jsonl and parquet (a delta table carries types)")
        by_files = self.sync != "full_table" and not self.replication_key
        if by_files and self.format == "delta":
            problems.append(f"sync: {self.sync} of a delta table needs a replication_key (or use full_table)")
        if by_files and self.sync == "incremental" and not self.primary_key:
            problems.append("sync: incremental merges on primary_key: [...], which files do not declare; set it")
        if "on_file_change" in self.model_fields_set and not by_files:
            problems.append("on_file_change: only applies to append_only or incremental without a replication_key")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def reader_options(self) -> bucket.FileTableOptions:
        c = self.csv or CsvConfig()
        csv = bucket.CsvOptions(header=c.header, delimiter=c.delimiter, quote=c.quote, escape=c.escape,
                                sample_rows=c.sample_rows)  # fmt: skip
        return {"pattern": self.pattern, "format": self.format, "csv": csv, "columns": dict(self.columns or {}),
                "on_file_change": self.on_file_change}  # fmt: skip


class S3Source(SourceConfig):
    """Files in a bucket (S3, R2, GCS or MinIO through their S3 endpoint) or a local folder."""

    kind: Literal["s3"] = Field(description="s3: files in an S3-compatible bucket, or a local folder (file://)")
    conn_id: Annotated[str, Field(max_length=250)] = Field(
        "",
        description="Airflow aws connection: login = access key, password = secret, extra endpoint_url and "
        "region_name; optional for file:// urls (and for s3:// with credentials from the environment)",
    )
    url: str = Field(description="s3://bucket/prefix/ or file:///absolute/folder/; table patterns are relative to it")
    # Narrower than the base's list[TableConfig]; sound since nothing appends to a validated source.
    tables: list[BucketTableConfig] = Field(min_length=1, description="the tables to sync")  # type: ignore[assignment]

    @field_validator("url")
    @classmethod
    def _url_form(cls, value: str) -> str:
        return bucket.check_url(value)

    def schema_and_table(self, table: TableConfig) -> tuple[str, str]:
        """A table of files has a name and no schema."""
        return "", table.name

    def reader_options(self) -> bucket.BucketOptions:
        return bucket.BucketOptions(url=self.url, tables={t.name: t.reader_options() for t in self.tables})
