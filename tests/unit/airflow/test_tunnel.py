"""An Airflow SSH connection -> a bastion, and failures to open a tunnel sorted into retry or fail for good."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import paramiko
import pytest
from paramiko.ssh_exception import NoValidConnectionsError

from warehouse_sources.airflow.connections import mysql_target, postgres_target
from warehouse_sources.airflow.tunnel import (
    DEFAULT_TIMEOUT,
    Bastion,
    TunnelRefusedError,
    TunnelUnreachableError,
    bastion_of,
    tunnel_failure,
)
from warehouse_sources.errors import SourceConnectionError, SyncFatalError
from warehouse_sources.sources.mysql import MySQLParams

KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACBc0cmVrZXkx\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)


@dataclass
class FakeConnection:
    conn_id: str = "bastion_ssh"
    conn_type: str = "ssh"
    host: str | None = "bastion.example.com"
    port: int | None = None
    login: str | None = "tunnel"
    password: str | None = None
    extra_dejson: Any = field(default_factory=dict)


@dataclass
class FakeDbConnection:
    conn_id: str = "shop"
    conn_type: str = "postgres"
    host: str | None = "db.internal"
    port: int | None = None
    login: str | None = "reader"
    password: str | None = "p@ss word"
    schema: str | None = "shop"
    extra_dejson: Any = field(default_factory=dict)


def bastion(**extra: Any) -> Bastion:
    return bastion_of(FakeConnection(extra_dejson=extra))


def test_a_bastion_defaults_to_port_22_and_a_ten_second_timeout() -> None:
    b = bastion()
    assert (b.host, b.port, b.timeout) == ("bastion.example.com", 22, DEFAULT_TIMEOUT)
    assert b.label == "SSH bastion tunnel@bastion.example.com:22 (Airflow connection 'bastion_ssh')"


def test_ssh_compression_is_off_unless_the_extra_asks_for_it() -> None:
    assert not bastion().compress and not bastion(compress="false").compress
    assert bastion(compress="true").compress and bastion(compress=True).compress


def test_the_connect_timeout_comes_from_the_provider_extra() -> None:
    assert bastion(conn_timeout=3).timeout == 3
    assert bastion(conn_timeout="2.5").timeout == 2.5


@pytest.mark.parametrize("value", ["soon", 0, -1, 601])
def test_an_unusable_connect_timeout_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="conn_timeout must be"):
        bastion(conn_timeout=value)


def test_a_connection_of_another_type_is_refused() -> None:
    with pytest.raises(ValueError, match="has type 'postgres'; ssh_tunnel needs an 'ssh' connection"):
        bastion_of(FakeConnection(conn_type="postgres"))


@pytest.mark.parametrize("host", [None, "", "ssh://bastion", "me@bastion"])
def test_the_host_must_be_a_host_name(host: str | None) -> None:
    with pytest.raises(ValueError, match="set the bastion's host name"):
        bastion_of(FakeConnection(host=host))


def test_the_password_the_key_its_lines_and_the_passphrase_are_secrets() -> None:
    b = bastion_of(
        FakeConnection(
            password="hunter2-long", extra_dejson={"private_key": KEY, "private_key_passphrase": "open sesame"}
        )
    )
    assert {"hunter2-long", KEY, "b3BlbnNzaC1rZXktdjEAAAAA", "QyNTUxOQAAACBc0cmVrZXkx", "open sesame"} <= set(b.secrets)
    assert "-----BEGIN OPENSSH PRIVATE KEY-----" not in b.secrets  # the frame is in every key: not a secret
    assert b.redact("key QyNTUxOQAAACBc0cmVrZXkx and hunter2-long") == "key *** and ***"


# --- sorting failures ----------------------------------------------------------------------------------

REMOTE = ("db.internal", 5432)


def failure(exc: BaseException, **extra: Any) -> Exception:
    return tunnel_failure(exc, bastion(**extra), "shop", REMOTE)


def test_a_refused_login_fails_for_good_and_says_what_to_check() -> None:
    error = failure(paramiko.AuthenticationException("Authentication failed."))
    assert isinstance(error, TunnelRefusedError) and isinstance(error, SyncFatalError)
    message = str(error)
    assert message.startswith(
        "source 'shop': cannot open the SSH tunnel to db.internal:5432 through SSH bastion "
        "tunnel@bastion.example.com:22 (Airflow connection 'bastion_ssh'): the bastion refused the login"
    )
    assert "private_key or key_file" in message and "authorized_keys" in message


def test_an_encrypted_key_without_its_passphrase_is_a_refused_login() -> None:
    error = failure(paramiko.PasswordRequiredException("Private key file is encrypted"))
    assert isinstance(error, TunnelRefusedError) and "private_key_passphrase" in str(error)


def test_an_unknown_host_key_fails_for_good_and_names_the_keyscan_to_run() -> None:
    error = failure(paramiko.SSHException("Server '[bastion.example.com]:22' not found in known_hosts"))
    assert isinstance(error, TunnelRefusedError)
    assert "host key is unknown" in str(error) and "ssh-keyscan -p 22 bastion.example.com" in str(error)


def test_a_changed_host_key_fails_for_good() -> None:
    key = paramiko.RSAKey.generate(1024)
    other = paramiko.RSAKey.generate(1024)
    error = failure(paramiko.BadHostKeyException("bastion.example.com", key, other))
    assert isinstance(error, TunnelRefusedError) and "update the connection's extra host_key" in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        NoValidConnectionsError({("10.0.0.9", 22): ConnectionRefusedError(111, "Connection refused")}),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        socket.gaierror(-2, "Name or service not known"),
        paramiko.SSHException("Error reading SSH protocol banner"),
        EOFError(),
        paramiko.AuthenticationException("Authentication timeout."),
    ],
)
def test_a_bastion_that_does_not_answer_is_left_for_retries(exc: BaseException) -> None:
    error = failure(exc, conn_timeout=4)
    assert isinstance(error, TunnelUnreachableError) and isinstance(error, SourceConnectionError)
    assert not isinstance(error, SyncFatalError)
    assert "the bastion did not answer" in str(error) and "connect timeout 4 s" in str(error)


def test_unusable_connection_settings_fail_for_good() -> None:
    error = failure(ValueError("Must check host key when provided"))
    assert isinstance(error, TunnelRefusedError) and "settings cannot be used" in str(error)


def test_an_unreadable_key_says_to_check_it_and_its_passphrase() -> None:
    from airflow.providers.common.compat.sdk import AirflowException

    error = failure(AirflowException("Private key provided cannot be read by paramiko."))
    assert isinstance(error, TunnelRefusedError) and "private_key_passphrase" in str(error)


def test_secrets_in_a_library_message_are_redacted() -> None:
    b = bastion_of(FakeConnection(password="hunter2-long"))
    error = tunnel_failure(paramiko.AuthenticationException("bad password hunter2-long"), b, "shop", REMOTE)
    assert "hunter2-long" not in str(error) and "bad password ***" in str(error)


# --- the database reached through the tunnel's local end -------------------------------------------------


def test_a_postgres_target_through_a_tunnel_keeps_credentials_database_and_options() -> None:
    conn = FakeDbConnection(extra_dejson={"sslmode": "require"})
    target = postgres_target(conn)
    assert (target.host, target.port) == ("db.internal", 5432)
    local = target.through("127.0.0.1", 40123, via="through SSH connection 'bastion_ssh'")
    assert local.uri == "postgresql://reader:p%40ss%20word@127.0.0.1:40123/shop?sslmode=require"
    assert local.label == "db.internal:5432/shop through SSH connection 'bastion_ssh'"
    assert (local.host, local.port) == ("db.internal", 5432)  # still the far end, for messages
    assert local.redact(f"failed: {local.uri}") == "failed: ***"


def test_a_mysql_target_through_a_tunnel() -> None:
    conn = FakeDbConnection(conn_type="mysql", host="10.1.2.3", port=3307, password="pw")
    target = mysql_target(conn)
    assert (target.host, target.port) == ("10.1.2.3", 3307)
    local = target.through("127.0.0.1", 40124, via="through SSH connection 'b'")
    p = MySQLParams.from_uri(local.uri)
    assert (p.host, p.port, p.user, p.password, p.database) == ("127.0.0.1", 40124, "reader", "pw", "shop")
