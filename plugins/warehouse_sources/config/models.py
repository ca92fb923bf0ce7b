"""Pydantic models of the source YAML contract (DESIGN §4.1): what every kind shares.

A source file is one member of a union discriminated on `kind`: the fields every kind shares live
in `SourceConfig` and `TableConfig` here, and each kind's model adds or narrows its own
(config/database_models.py, config/bucket_models.py). Which kinds exist is the registry's business
(warehouse_sources/registry.py); config/kinds.py `parse_source(data)` picks the model of data's
kind. Every field carries a description: the JSON Schema for editors is generated from these models.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from warehouse_sources.config.durations import MAX_LOOKBACK, SCHEDULE_SHORTHANDS, parse_duration, parse_lookback
from warehouse_sources.config.names import (
    SOURCE_NAME,
    SYNCED_NAME,
    SyncMethod,
    reserved_name_reason,
    split_table_name,
)
from warehouse_sources.config.options import ReaderOptions
from warehouse_sources.config.schedules import CRON_PRESETS, MANUAL, check_schedule

DeleteMode = Literal["none", "soft", "hard"]
STRICT_MODEL = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class TableConfig(BaseModel):
    """One source table and how it syncs."""

    model_config = STRICT_MODEL

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
    deletes: DeleteMode = Field(
        "none",
        description="incremental only: none | soft (keep rows whose key left the source, with _ws_deleted_at "
        "set) | hard (remove them); checked by comparing key sets unless deletes_column is given",
    )
    deletes_every: str | None = Field(None, description="check deletions at most this often ('6h'); default: every run")
    deletes_column: str | None = Field(
        None,
        description="the source's own soft-delete column (a timestamp or boolean, e.g. deleted_at or is_deleted): "
        "rows where it is set are removed or marked, instead of comparing key sets",
    )
    enabled: bool = Field(True, description="false skips the table at run time (its task is kept, and skipped)")
    synced_name: str | None = Field(
        None, description="warehouse table name; default table_prefix + table name (schema dropped)"
    )
    verify: Literal["on", "strict", "off"] = Field(
        "on",
        description="each sync compares the source's row count (and key range) with the committed table's "
        "statistics: on logs and shows a mismatch, strict also fails the task, off skips the check",
    )
    verify_every: str | None = Field(
        None,
        description="run the deep checksum verification (CLI `verify`) in the table's task when this long "
        "has passed since the last one, like '24h'; default never",
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

    @field_validator("verify", mode="before")
    @classmethod
    def _verify_word(cls, value: object) -> object:
        if value is True or value is False:  # YAML 1.1 reads a bare on/off as a boolean
            return "on" if value else "off"
        return value

    @field_validator("verify_every")
    @classmethod
    def _verify_every_form(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("deletes")
    @classmethod
    def _deletes_on_incremental(cls, value: DeleteMode, info: ValidationInfo) -> DeleteMode:
        sync = info.data.get("sync")
        if value != "none" and sync != "incremental":
            raise ValueError(f"deletes: {value} only applies to sync: incremental (sync: {sync} is set)")
        return value

    @field_validator("deletes_every")
    @classmethod
    def _deletes_every_form(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("deletes", "none") == "none":
            raise ValueError("needs deletes: soft or hard on the table")
        parse_duration(value)
        return value

    @field_validator("deletes_column")
    @classmethod
    def _deletes_column_needs_mode(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("deletes", "none") == "none":
            raise ValueError(f"{value!r}: set deletes: soft or hard too (what to do with the rows it marks)")
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


TableName = Annotated[str, Field(min_length=1, max_length=255)]


class SourceConfig(BaseModel):
    """Fields every source kind shares; each kind's model narrows `kind` to its name."""

    model_config = STRICT_MODEL
    table_form: ClassVar[str | None] = None
    """How each table must be named when the kind has no default schema (e.g. 'database.table')."""

    name: str = Field(description="[a-z][a-z0-9_]*, unique; the DAG id is sync_<name>")
    kind: str = Field(description="source kind (warehouse_sources/registry.py lists them)")
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

    @field_validator("kind")
    @classmethod
    def _through_a_kind_model(cls, value: str) -> str:
        """The shared base alone would let any kind through: a source is validated by its kind's model."""
        if cls is SourceConfig:
            raise ValueError(f"{value!r}: validate a source file with config.kinds.parse_source (its kind's model)")
        return value

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

    def schema_and_table(self, table: TableConfig) -> tuple[str, str]:
        """Where `table` lives in the source: (schema, table); a bare name means schema `public`."""
        return split_table_name(table.name)

    def synced_name(self, table: TableConfig) -> str:
        """Warehouse table name of `table`: its override, else table_prefix + table name."""
        return table.synced_name or self.table_prefix + split_table_name(table.name)[1]

    def reader_options(self) -> ReaderOptions:
        """What this kind's reader needs besides the connection (the plan carries it to each task)."""
        return ReaderOptions()

    def tunnel_conn_id(self) -> str | None:
        """The Airflow SSH connection each task reaches the source through (kinds with `ssh_tunnel`)."""
        return None
