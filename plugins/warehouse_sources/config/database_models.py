"""The database kinds' source models: PostgreSQL, MySQL/MariaDB and Snowflake (DESIGN §4.1)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from warehouse_sources.config.models import STRICT_MODEL, SourceConfig, TableConfig, TableName

MAX_PARALLELISM = 64
Parallelism = Annotated[int, Field(ge=2, le=MAX_PARALLELISM)] | Literal["auto"]


class DatabaseTableConfig(TableConfig):
    """A database table: it may split its full loads into key ranges read in parallel (engine/chunks.py)."""

    parallelism: Parallelism | None = Field(
        None,
        description="split a full load (first load, full_table, full refresh or resync) into this many ranges of "
        f"the primary key, read by parallel tasks and committed together (2-{MAX_PARALLELISM}); 'auto' chooses "
        "from the catalog's row estimate. Needs a single integer, date or timestamp primary key",
    )

    @field_validator("parallelism", mode="before")
    @classmethod
    def _parallelism_form(cls, value: object) -> object:
        if isinstance(value, bool) or not (value is None or isinstance(value, int) or value == "auto"):
            raise ValueError(f"{value!r} is not a parallelism; write a whole number 2-{MAX_PARALLELISM} or auto")
        return value

    @field_validator("parallelism")
    @classmethod
    def _parallelism_key(cls, value: int | str | None, info: ValidationInfo) -> int | str | None:
        keys = info.data.get("primary_key")
        if value is not None and keys and len(keys) != 1:
            raise ValueError(
                f"splits the table on its primary key, which must be one integer, date or timestamp column; "
                f"primary_key {keys} has {len(keys)}: remove parallelism or name one column"
            )
        return value


class MysqlTableConfig(DatabaseTableConfig):
    """A MySQL or MariaDB table: named by its database, since MySQL has no default schema."""

    name: TableName = Field(
        description="database.table exactly as in MySQL (case kept; quoted with backticks, never pasted into SQL)"
    )


class SnowflakeTableConfig(DatabaseTableConfig):
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


class SshTunnelConfig(BaseModel):
    """How to reach a database that only a bastion host can see; the credentials stay in Airflow."""

    model_config = STRICT_MODEL

    conn_id: Annotated[str, Field(min_length=1, max_length=250)] = Field(
        description="Airflow SSH connection of the bastion: host, port, login, and a key (extra private_key or "
        "key_file) or password; the database host and port are the source connection's, as the bastion sees them"
    )


SSH_TUNNEL_DESCRIPTION = "reach the database through an SSH bastion host, opened for each task and closed after it"


class TunnelledSource(SourceConfig):
    """A database a task may reach through an SSH bastion (its kind's registry entry says `tunnel=True`)."""

    ssh_tunnel: SshTunnelConfig | None = Field(None, description=SSH_TUNNEL_DESCRIPTION)

    def tunnel_conn_id(self) -> str | None:
        return self.ssh_tunnel.conn_id if self.ssh_tunnel is not None else None


class PostgresSource(TunnelledSource):
    """A PostgreSQL database (libpq connection); a bare table name means schema `public`."""

    kind: Literal["postgres"] = Field(description="postgres: a PostgreSQL database")
    # Narrower than the base's list[TableConfig]; sound since nothing appends to a validated source.
    tables: list[DatabaseTableConfig] = Field(min_length=1, description="the tables to sync")  # type: ignore[assignment]


class MysqlSource(TunnelledSource):
    """A MySQL or MariaDB server; each table names its database."""

    table_form: ClassVar[str | None] = "database.table"

    kind: Literal["mysql"] = Field(description="mysql: a MySQL or MariaDB server")
    # Narrower than the base's list[TableConfig]; sound since nothing appends to a validated source.
    tables: list[MysqlTableConfig] = Field(min_length=1, description="the tables to sync")  # type: ignore[assignment]


class SnowflakeSource(SourceConfig):
    """A Snowflake database (the connection names account, warehouse, database and role)."""

    table_form: ClassVar[str | None] = "SCHEMA.TABLE"

    kind: Literal["snowflake"] = Field(description="snowflake: a Snowflake database, named by the connection")
    # Narrower than the base's list[TableConfig]; sound since nothing appends to a validated source.
    tables: list[SnowflakeTableConfig] = Field(min_length=1, description="the tables to sync")  # type: ignore[assignment]
