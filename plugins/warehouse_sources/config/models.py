"""Pydantic models of the source YAML contract (DESIGN §4.1).

A source file is one member of a union discriminated on `kind`: the fields every kind shares live
in `SourceConfig`, and each kind's model adds or narrows its own (`PostgresSource`, ...).
`SourceConfig.model_validate(data)` returns the model of data's kind, so callers never pick one.
Every field carries a description: the JSON Schema for editors is generated from these models.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, Self, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from warehouse_sources.config import bucket
from warehouse_sources.config.durations import MAX_LOOKBACK, SCHEDULE_SHORTHANDS, parse_lookback
from warehouse_sources.config.names import (
    SOURCE_NAME,
    SYNCED_NAME,
    SyncMethod,
    reserved_name_reason,
    split_table_name,
)
from warehouse_sources.config.schedules import CRON_PRESETS, MANUAL, check_schedule

SourceKind = Literal["postgres", "mysql", "snowflake", "s3"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("postgres", "mysql", "snowflake", "s3")

_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class TableConfig(BaseModel):
    """One source table and how it syncs."""

    model_config = _STRICT

    name: Annotated[str, Field(min_length=1, max_length=255)] = Field(
        description="schema.table exactly as in the source (case kept; quoted, never pasted into SQL)"
    )
    sync: SyncMethod = Field("full_table", description="incremental | append_only | full_table")
    replication_key: str | None = Field(
        None,
        validate_default=True,
        description="cursor column for incremental and append_only: integer, date or timestamp",
    )
    primary_key: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, description="merge key for incremental; inferred from the source's primary key if omitted"
    )
    lookback: str | int | None = Field(
        None,
        description="incremental only: re-read this window below the cursor for late commits "
        f"('10m' for time keys, at most {MAX_LOOKBACK.days}d; a number for integer keys, at most 2**62)",
    )
    enabled: bool = Field(True, description="false skips the table at run time (its task is kept, and skipped)")
    synced_name: str | None = Field(
        None, description="warehouse table name; default table_prefix + table name (schema dropped)"
    )

    @field_validator("name")
    @classmethod
    def _name_has_table(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain a NUL character")
        schema, table = split_table_name(value)
        if not schema or not table:
            raise ValueError(f"{value!r} must be 'schema.table' or 'table'")
        return value

    @field_validator("replication_key")
    @classmethod
    def _key_fits_method(cls, value: str | None, info: ValidationInfo) -> str | None:
        sync = info.data.get("sync")
        if sync in ("incremental", "append_only") and not value:
            raise ValueError(f"sync: {sync} needs a replication_key (an integer, date or timestamp column)")
        if sync == "full_table" and value:
            raise ValueError("not used by sync: full_table; remove it or pick another method")
        return value

    @field_validator("lookback", mode="before")
    @classmethod
    def _lookback_form(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"{value!r} is not a lookback; write a duration like '10m' or a whole number")
        if info.data.get("sync") != "incremental":
            raise ValueError("only applies to sync: incremental")
        parse_lookback(value)
        return value

    @field_validator("synced_name")
    @classmethod
    def _synced_name_form(cls, value: str | None) -> str | None:
        if value is not None and not SYNCED_NAME.match(value):
            raise ValueError(f"{value!r} must be letters, digits and underscores, not starting with a digit")
        reason = reserved_name_reason(value) if value is not None else None
        if reason:
            raise ValueError(reason)
        return value


def _known_kind(value: object) -> object:
    """One message listing the kinds (each kind's model redefines `kind`, so only the base runs this)."""
    if value not in SOURCE_KINDS:
        raise ValueError(f"{value!r} is not a source kind; write one of: {', '.join(map(repr, SOURCE_KINDS))}")
    return value


TableName = Annotated[str, Field(min_length=1, max_length=255)]


class MysqlTableConfig(TableConfig):
    """A MySQL or MariaDB table: named by its database, since MySQL has no default schema."""

    name: TableName = Field(
        description="database.table exactly as in MySQL (case kept; quoted with backticks, never pasted into SQL)"
    )


class SnowflakeTableConfig(TableConfig):
    """A Snowflake table: SCHEMA.TABLE in the connection's database, matched exactly."""

    name: TableName = Field(
        description="SCHEMA.TABLE exactly as Snowflake stores it: unquoted names are stored upper case, "
        "so write ANALYTICS.ORDERS for a table created as analytics.orders (always quoted, never folded)"
    )
    replication_key: str | None = Field(
        None,
        validate_default=True,
        description="cursor column for incremental and append_only, exactly as stored (usually upper case): "
        "integer (NUMBER(p,0)), date or timestamp (NTZ, LTZ, TZ)",
    )


class SourceConfig(BaseModel):
    """Fields every source kind shares; `model_validate` dispatches to the model of `kind`."""

    model_config = _STRICT
    table_form: ClassVar[str | None] = None
    """How each table must be named when the kind has no default schema (e.g. 'database.table')."""

    name: str = Field(description="[a-z][a-z0-9_]*, unique; the DAG id is sync_<name>")
    kind: Annotated[SourceKind, BeforeValidator(_known_kind)] = Field(
        description=f"source kind: {' | '.join(SOURCE_KINDS)}"
    )
    conn_id: Annotated[str, Field(min_length=1, max_length=250)] = Field(
        description="Airflow connection that holds host and credentials"
    )
    schedule: Annotated[str, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "null"}]})] = Field(
        "24h",
        description=f"sync frequency: a shorthand ({' '.join(SCHEDULE_SHORTHANDS)}), a preset "
        f"({' '.join(CRON_PRESETS)}), '{MANUAL}' or null (triggered runs only), or a 5-field cron string",
    )
    table_prefix: str = Field("", description="prepended to each table name to form the synced table name")
    tables: list[TableConfig] = Field(min_length=1, description="the tables to sync")

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate `obj` with the model of its `kind`; an unknown or missing kind fails on `kind`
        (the shared fields are still checked, so every problem is reported at once)."""
        model = SOURCE_MODELS.get(obj.get("kind")) if cls is SourceConfig and isinstance(obj, dict) else None
        if model is None:
            return super().model_validate(obj, *args, **kwargs)
        return cast(Self, model.model_validate(obj, *args, **kwargs))

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The schema of `cls`; for `SourceConfig` itself, of every kind (a oneOf on `kind`)."""
        if cls is SourceConfig:
            return TypeAdapter(AnySource).json_schema(*args, **kwargs)
        return super().model_json_schema(*args, **kwargs)

    @field_validator("name")
    @classmethod
    def _name_form(cls, value: str) -> str:
        if not SOURCE_NAME.match(value):
            raise ValueError(f"{value!r} must start with a lowercase letter and hold only a-z, 0-9 and _ (at most 63)")
        return value

    @field_validator("tables")
    @classmethod
    def _tables_qualified(cls, value: list[TableConfig], info: ValidationInfo) -> list[TableConfig]:
        """Kinds without a default schema need each table to name its own (see `table_form`)."""
        if cls.table_form is None:
            return value
        bare = [f"tables[{i}].name {t.name!r}" for i, t in enumerate(value) if "." not in t.name]
        if bare:
            kind = info.data.get("kind", cls.__name__)
            raise ValueError(f"{', '.join(bare)}: a {kind} source names each table as {cls.table_form}")
        return value

    @field_validator("schedule", mode="before")
    @classmethod
    def _null_schedule_is_manual(cls, value: object) -> object:
        return MANUAL if value is None else value

    @field_validator("schedule")
    @classmethod
    def _schedule_form(cls, value: str) -> str:
        return check_schedule(value)

    @field_validator("table_prefix")
    @classmethod
    def _prefix_form(cls, value: str) -> str:
        if value and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value):
            raise ValueError(f"{value!r} must be letters, digits and underscores, not starting with a digit")
        return value

    def synced_name(self, table: TableConfig) -> str:
        """Warehouse table name of `table`: its override, else table_prefix + table name."""
        return table.synced_name or self.table_prefix + split_table_name(table.name)[1]

    def reader_options(self) -> dict[str, Any]:
        """What this kind's reader needs besides the connection (the plan carries it to each task)."""
        return {}


class SshTunnelConfig(BaseModel):
    """How to reach a database that only a bastion host can see; the credentials stay in Airflow."""

    model_config = _STRICT

    conn_id: Annotated[str, Field(min_length=1, max_length=250)] = Field(
        description="Airflow SSH connection of the bastion: host, port, login, and a key (extra private_key or "
        "key_file) or password; the database host and port are the source connection's, as the bastion sees them"
    )


SSH_TUNNEL_DESCRIPTION = "reach the database through an SSH bastion host, opened for each task and closed after it"


class PostgresSource(SourceConfig):
    """A PostgreSQL database (libpq connection); a bare table name means schema `public`."""

    kind: Literal["postgres"] = Field(description="postgres: a PostgreSQL database")
    tables: list[TableConfig] = Field(min_length=1, description="the tables to sync")
    ssh_tunnel: SshTunnelConfig | None = Field(None, description=SSH_TUNNEL_DESCRIPTION)


class MysqlSource(SourceConfig):
    """A MySQL or MariaDB server; each table names its database."""

    table_form: ClassVar[str | None] = "database.table"

    kind: Literal["mysql"] = Field(description="mysql: a MySQL or MariaDB server")
    # Narrower than the base's list[TableConfig]; sound since nothing appends to a validated source.
    tables: list[MysqlTableConfig] = Field(min_length=1, description="the tables to sync")  # type: ignore[assignment]
    ssh_tunnel: SshTunnelConfig | None = Field(None, description=SSH_TUNNEL_DESCRIPTION)


class SnowflakeSource(SourceConfig):
    """A Snowflake database (the connection names account, warehouse, database and role)."""

    table_form: ClassVar[str | None] = "SCHEMA.TABLE"

    kind: Literal["snowflake"] = Field(description="snowflake: a Snowflake database, named by the connection")
    # Narrower than the base's list[TableConfig]; sound since nothing appends to a validated source.
    tables: list[SnowflakeTableConfig] = Field(min_length=1, description="the tables to sync")  # type: ignore[assignment]


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
        None, description="formats csv and jsonl: declared types by column (e.g. {amount: DECIMAL(12,2)}); "
        "other columns are inferred"
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
        if self.columns and self.format not in ("csv", "jsonl"):
            problems.append(f"columns: only applies to formats csv and jsonl ({self.format} files carry types)")
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

    def reader_options(self) -> dict[str, Any]:
        csv = self.csv or CsvConfig()
        return {"pattern": self.pattern, "format": self.format, "csv": csv.model_dump(),
                "columns": dict(self.columns or {}), "on_file_change": self.on_file_change}  # fmt: skip


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

    def reader_options(self) -> dict[str, Any]:
        return {"url": self.url, "tables": {t.name: t.reader_options() for t in self.tables}}


AnySource = Annotated[PostgresSource | MysqlSource | SnowflakeSource | S3Source, Field(discriminator="kind")]
"""A source file: the member is chosen by `kind`."""

SOURCE_MODELS: dict[object, type[SourceConfig]] = {
    "postgres": PostgresSource,
    "mysql": MysqlSource,
    "snowflake": SnowflakeSource,
    "s3": S3Source,
}
assert set(SOURCE_MODELS) == set(SOURCE_KINDS), "every source kind needs its model"
