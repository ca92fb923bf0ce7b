"""Airflow connection -> libpq URI, built from the connection's fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from warehouse_sources.airflow.connections import (
    LIBPQ_EXTRAS,
    mysql_target,
    mysql_uri,
    postgres_target,
    postgres_uri,
)
from warehouse_sources.sources.mysql import MySQLParams


@dataclass
class FakeConnection:
    """The attributes of an Airflow Connection that postgres_uri reads."""

    conn_id: str = "billing_pg"
    conn_type: str = "postgres"
    host: str | None = "db.example.com"
    port: int | str | None = 5432
    login: str | None = "reader"
    password: str | None = "secret"
    schema: str | None = "billing"
    extra_dejson: Any = field(default_factory=dict)


def test_plain_connection() -> None:
    assert postgres_uri(FakeConnection()) == "postgresql://reader:secret@db.example.com:5432/billing"


@pytest.mark.parametrize(
    "password",
    ["p@ss:w/rd", "a#b?c&d=e", "100%", "sp ace+plus", "quote'\"back\\slash", "ünïcødé€", "[]{}|^`~!$*();,"],
)
def test_special_characters_in_password_are_quoted_and_round_trip(password: str) -> None:
    uri = postgres_uri(FakeConnection(password=password))
    parts = urlsplit(uri)
    assert parts.hostname == "db.example.com"
    assert parts.port == 5432
    assert parts.path == "/billing"
    assert parts.query == ""
    assert parts.password is not None and unquote(parts.password) == password
    assert parts.username == "reader"
    # Nothing of the password is left unquoted in the URI.
    netloc_auth = parts.netloc.rsplit("@", 1)[0]
    assert set(netloc_auth.split(":", 1)[1]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%-._~"
    )


@pytest.mark.parametrize("login", ["user@corp.example", "dom:ain", "a/b", "first last"])
def test_special_characters_in_login_are_quoted_and_round_trip(login: str) -> None:
    parts = urlsplit(postgres_uri(FakeConnection(login=login, password="pw")))
    assert parts.username is not None and unquote(parts.username) == login
    assert parts.password == "pw"
    assert parts.hostname == "db.example.com"


def test_database_name_is_quoted() -> None:
    parts = urlsplit(postgres_uri(FakeConnection(schema="my db/x")))
    assert unquote(parts.path[1:]) == "my db/x"
    assert parts.path.count("/") == 1


def test_defaults_without_login_password_port_schema() -> None:
    uri = postgres_uri(FakeConnection(login=None, password=None, port=None, schema=None))
    assert uri == "postgresql://db.example.com/postgres"


def test_password_without_login() -> None:
    parts = urlsplit(postgres_uri(FakeConnection(login=None, password="p@ss")))
    assert parts.username == ""
    assert parts.password is not None and unquote(parts.password) == "p@ss"


def test_string_port_is_an_int() -> None:
    assert urlsplit(postgres_uri(FakeConnection(port="6543"))).port == 6543


def test_ipv6_host_is_bracketed() -> None:
    parts = urlsplit(postgres_uri(FakeConnection(host="::1")))
    assert parts.hostname == "::1"
    assert parts.port == 5432


@pytest.mark.parametrize("conn_type", ["postgres", "postgresql"])
def test_postgres_conn_types_accepted(conn_type: str) -> None:
    assert postgres_uri(FakeConnection(conn_type=conn_type)).startswith("postgresql://")


@pytest.mark.parametrize("conn_type", ["mysql", "aws", "snowflake", "http", ""])
def test_other_conn_types_refused_naming_the_connection(conn_type: str) -> None:
    with pytest.raises(ValueError, match="needs a 'postgres' connection") as exc:
        postgres_uri(FakeConnection(conn_type=conn_type))
    assert "'billing_pg'" in str(exc.value)
    assert repr(conn_type) in str(exc.value)


@pytest.mark.parametrize("host", [None, ""])
def test_missing_host_refused(host: str | None) -> None:
    with pytest.raises(ValueError, match="'billing_pg' has no host"):
        postgres_uri(FakeConnection(host=host))


def test_libpq_extras_kept_and_others_dropped() -> None:
    extra = {
        "sslmode": "verify-full",
        "sslrootcert": "/etc/ssl/ca.pem",
        "connect_timeout": 10,
        "application_name": "ws",
        "cursor": "named",
        "iam": True,
        "aws_conn_id": "aws_default",
        "password": "other",
    }
    parts = urlsplit(postgres_uri(FakeConnection(extra_dejson=extra)))
    assert parse_qs(parts.query) == {
        "sslmode": ["verify-full"],
        "sslrootcert": ["/etc/ssl/ca.pem"],
        "connect_timeout": ["10"],
        "application_name": ["ws"],
    }
    assert unquote(parts.password or "") == "secret"


def test_every_documented_libpq_extra_is_kept() -> None:
    extra = {key: "1" for key in LIBPQ_EXTRAS}
    query = parse_qs(urlsplit(postgres_uri(FakeConnection(extra_dejson=extra))).query)
    assert set(query) == set(LIBPQ_EXTRAS)


@pytest.mark.parametrize("extra", [None, "not a dict", ["sslmode"]])
def test_non_dict_extra_is_ignored(extra: object) -> None:
    assert urlsplit(postgres_uri(FakeConnection(extra_dejson=extra))).query == ""


def test_extra_values_with_spaces_survive_libpq_percent_decoding() -> None:
    extra = {"options": "-c statement_timeout=5000", "application_name": "warehouse sources"}
    query = urlsplit(postgres_uri(FakeConnection(extra_dejson=extra))).query
    # libpq splits on & and =, then percent-decodes only: urllib's unquote (not unquote_plus) does the same.
    decoded = dict(pair.split("=", 1) for pair in query.split("&"))
    assert {k: unquote(v) for k, v in decoded.items()} == extra


def test_libpq_itself_reads_back_every_field() -> None:
    conninfo = pytest.importorskip("psycopg.conninfo", reason="psycopg (dev extra) parses with libpq")
    conn = FakeConnection(
        login="us@r:x", password="p@ss:w/rd?#%&= +é", schema="my db", extra_dejson={"sslmode": "require"}
    )
    parsed = conninfo.conninfo_to_dict(postgres_uri(conn))
    assert parsed == {
        "user": "us@r:x",
        "password": "p@ss:w/rd?#%&= +é",
        "host": "db.example.com",
        "port": "5432",
        "dbname": "my db",
        "sslmode": "require",
    }


def test_a_uri_pasted_into_the_host_field_is_refused_without_echoing_it() -> None:
    conn = FakeConnection(host="postgresql://app:hunter2@db.internal:5432/app", password="hunter2")
    with pytest.raises(ValueError, match="host field holds a URI") as raised:
        postgres_uri(conn)
    assert "hunter2" not in str(raised.value)


def test_a_unix_socket_folder_goes_in_the_query() -> None:
    conninfo = pytest.importorskip("psycopg.conninfo", reason="psycopg (dev extra) parses with libpq")
    uri = postgres_uri(FakeConnection(host="/var/run/postgresql", port=None))
    assert conninfo.conninfo_to_dict(uri)["host"] == "/var/run/postgresql"


def test_the_target_redacts_every_form_of_the_password() -> None:
    target = postgres_target(FakeConnection(password="p@ss word/1"))
    text = f"failed: {target.uri} p@ss word/1 p%40ss%20word%2F1"
    assert "p@ss" not in target.redact(text) and "p%40ss" not in target.redact(text)
    assert "p@ss" not in target.label


# --- mysql connections -------------------------------------------------------------------------


def my_conn(**overrides: Any) -> FakeConnection:
    fields: dict[str, Any] = dict(conn_id="shop_mysql", conn_type="mysql", port=3306, schema="shop")
    return FakeConnection(**(fields | overrides))


def test_mysql_plain_connection() -> None:
    assert mysql_uri(my_conn()) == "mysql://reader:secret@db.example.com:3306/shop"


@pytest.mark.parametrize("password", ["p@ss:w/rd", "a#b?c&d=e", "100%", "sp ace+plus", "ünï`'\\\"€", "[]{}|^~!$*();,"])
def test_mysql_credentials_round_trip_into_the_reader(password: str) -> None:
    params = MySQLParams.from_uri(mysql_uri(my_conn(login="us@r:x", password=password, schema="my db")))
    assert (params.user, params.password, params.database) == ("us@r:x", password, "my db")
    assert (params.host, params.port) == ("db.example.com", 3306)


def test_mysql_defaults_without_login_port_schema() -> None:
    params = MySQLParams.from_uri(mysql_uri(my_conn(login=None, password=None, port=None, schema=None)))
    assert params == MySQLParams(host="db.example.com")


def test_mysql_ipv6_host_and_string_port() -> None:
    params = MySQLParams.from_uri(mysql_uri(my_conn(host="::1", port="3307")))
    assert (params.host, params.port) == ("::1", 3307)


def test_mysql_extras_flat_and_nested_ssl_are_kept_others_dropped() -> None:
    extra = {"ssl": {"ca": "/etc/ca.pem", "cert": "/c.pem", "key": "/k.pem"}, "connect_timeout": 5, "cursor": "x"}
    params = MySQLParams.from_uri(mysql_uri(my_conn(extra_dejson=extra)))
    assert (params.ssl_ca, params.ssl_cert, params.ssl_key, params.connect_timeout) == (
        "/etc/ca.pem",
        "/c.pem",
        "/k.pem",
        5,
    )
    assert "cursor" not in mysql_uri(my_conn(extra_dejson=extra))


@pytest.mark.parametrize("conn_type", ["postgres", "mssql", "http"])
def test_mysql_other_conn_types_refused_naming_the_connection(conn_type: str) -> None:
    with pytest.raises(ValueError, match="'shop_mysql' has type") as raised:
        mysql_uri(my_conn(conn_type=conn_type))
    assert "'mysql' connection" in str(raised.value)


@pytest.mark.parametrize("host", [None, "", "/var/run/mysqld/mysqld.sock"])
def test_mysql_needs_a_tcp_host(host: str | None) -> None:
    with pytest.raises(ValueError, match="host"):
        mysql_uri(my_conn(host=host))


def test_mysql_uri_in_the_host_field_is_refused_without_echoing_it() -> None:
    conn = my_conn(host="mysql://app:hunter2@db.internal:3306/app", password="hunter2")
    with pytest.raises(ValueError, match="host field holds a URI") as raised:
        mysql_uri(conn)
    assert "hunter2" not in str(raised.value)


def test_mysql_target_redacts_the_password_and_labels_without_it() -> None:
    target = mysql_target(my_conn(password="p@ss word/1"))
    text = f"failed: {target.uri} p@ss word/1 p%40ss%20word%2F1"
    assert "p@ss" not in target.redact(text) and "p%40ss" not in target.redact(text)
    assert target.label == "db.example.com:3306/shop"
