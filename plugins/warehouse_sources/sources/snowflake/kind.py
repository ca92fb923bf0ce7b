"""The registry entry of `kind: snowflake` (see warehouse_sources/registry.py).

The connection is read the way the Snowflake provider's hook reads it: account, warehouse,
database and role in the extra, a password or a key pair's private key.
"""

from __future__ import annotations

from warehouse_sources.kindspec import FormField, KindSpec

KIND = KindSpec(
    name="snowflake",
    database_in_name=True,
    label="Snowflake",
    description="a Snowflake database, named by the connection",
    conn_types=("snowflake",),
    model="warehouse_sources.config.database_models:SnowflakeSource",
    open_reader="warehouse_sources.airflow.readers:open_database_reader",
    reader="warehouse_sources.sources.snowflake.reader:SnowflakeReader",
    target="warehouse_sources.airflow.connections:snowflake_target",
    form=(
        FormField("extra.account", "Account", "text", required=True, help="account identifier, e.g. xy12345.eu-west-1"),
        FormField("login", "User", "text", required=True),
        FormField("password", "Password", "password", secret=True, help="or a key pair below"),
        FormField("extra.private_key_content", "Private key (PEM)", "textarea", secret=True),
        FormField("extra.warehouse", "Warehouse", "text", required=True),
        FormField("extra.database", "Database", "text", required=True),
        FormField("extra.role", "Role", "text"),
    ),
)
