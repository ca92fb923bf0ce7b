"""The registry entry of `kind: postgres` (see warehouse_sources/registry.py)."""

from __future__ import annotations

from warehouse_sources.kindspec import FormField, KindSpec

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

KIND = KindSpec(
    name="postgres",
    default_port=5432,
    database_in_name=True,
    label="PostgreSQL",
    description="a PostgreSQL database, read with COPY over ADBC",
    conn_types=("postgres", "postgresql"),
    model="warehouse_sources.config.database_models:PostgresSource",
    open_reader="warehouse_sources.airflow.readers:open_database_reader",
    reader="warehouse_sources.sources.postgres.reader:PostgresReader",
    target="warehouse_sources.airflow.connections:postgres_target",
    tunnel=True,
    form=(
        FormField("host", "Host", "text", required=True, help="host name or address (a socket folder starts with /)"),
        FormField("port", "Port", "integer", default=5432),
        FormField("schema", "Database", "text", default="postgres", help="the database to read"),
        FormField("login", "User", "text", required=True, help="a user that may SELECT the synced tables"),
        FormField("password", "Password", "password", secret=True),
        FormField("extra.sslmode", "SSL mode", "select", default="prefer", choices=SSL_MODES),
    ),
)
