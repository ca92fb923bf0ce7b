"""The registry entry of `kind: mysql` (MySQL or MariaDB; see warehouse_sources/registry.py)."""

from __future__ import annotations

from warehouse_sources.kindspec import FormField, KindSpec

KIND = KindSpec(
    name="mysql",
    default_port=3306,
    label="MySQL / MariaDB",
    description="a MySQL or MariaDB server; each table names its database",
    conn_types=("mysql",),
    model="warehouse_sources.config.database_models:MysqlSource",
    open_reader="warehouse_sources.airflow.readers:open_database_reader",
    reader="warehouse_sources.sources.mysql.reader:MySQLReader",
    target="warehouse_sources.airflow.connections:mysql_target",
    tunnel=True,
    form=(
        FormField("host", "Host", "text", required=True, help="host name or address (TCP; not a socket path)"),
        FormField("port", "Port", "integer", default=3306),
        FormField("schema", "Database", "text", help="optional: tables are named database.table in the source file"),
        FormField("login", "User", "text", default="root", help="a user that may SELECT the synced tables"),
        FormField("password", "Password", "password", secret=True),
        FormField("extra.ssl_ca", "CA certificate file", "text", help="path of the CA bundle, for TLS"),
        FormField("extra.connect_timeout", "Connect timeout (s)", "integer"),
    ),
)
