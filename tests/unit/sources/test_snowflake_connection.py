"""An Airflow Snowflake connection -> the reader's connect arguments, through the provider's hook:
password and key-pair auth, secrets masked and redacted, wrong or incomplete connections refused."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from warehouse_sources.airflow.connections import resolve_target
from warehouse_sources.sources.snowflake import SnowflakeReader, connect_kwargs_from_uri

EXTRA = {"account": "xy12345", "warehouse": "LOAD_WH", "database": "SALES", "role": "LOADER"}


def connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "snowflake", **fields}))


def test_password_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret-p@ss/word"
    connection(monkeypatch, "sf_pw", login="loader", password=secret, schema="PUBLIC", extra=EXTRA)
    target = resolve_target("sf_pw", "snowflake")
    kwargs = connect_kwargs_from_uri(target.uri)
    assert {k: kwargs[k] for k in ("account", "user", "password", "database", "warehouse", "role", "schema")} == {
        "account": "xy12345", "user": "loader", "password": secret, "database": "SALES", "warehouse": "LOAD_WH",
        "role": "LOADER", "schema": "PUBLIC",
    }  # fmt: skip
    assert target.label == "xy12345/SALES" and secret not in target.label
    assert target.redact(f"login failed for {secret} at {target.uri}") == "login failed for *** at ***"


def test_key_pair_auth_carries_the_private_key_and_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    connection(monkeypatch, "sf_key", login="loader", extra=EXTRA | {"private_key_content": pem})
    target = resolve_target("sf_key", "snowflake")
    kwargs = connect_kwargs_from_uri(target.uri)
    assert "password" not in kwargs and kwargs["user"] == "loader"
    loaded = serialization.load_der_private_key(base64.b64decode(kwargs["private_key"]), password=None)
    assert loaded.private_numbers() == key.private_numbers()  # type: ignore[union-attr]
    assert target.redact(kwargs["private_key"]) == "***"


def test_an_emulators_host_port_and_protocol_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = EXTRA | {"host": "127.0.0.1", "port": 8080, "protocol": "http"}
    connection(monkeypatch, "sf_local", login="u", password="p-long-enough", extra=extra)
    kwargs = connect_kwargs_from_uri(resolve_target("sf_local", "snowflake").uri)
    assert (kwargs["host"], kwargs["port"], kwargs["protocol"]) == ("127.0.0.1", 8080, "http")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"conn_type": "postgres", "host": "h"}, "needs a 'snowflake' connection"),
        ({"login": "u", "password": "pw-long", "extra": {"account": "a"}}, "has no database"),
        ({"login": "u", "password": "pw-long", "extra": {"database": "D"}}, "has no account"),
        ({"login": "u", "extra": EXTRA | {"proxy_host": "proxy"}}, "proxy_host are not supported"),
    ],
)
def test_unusable_connections_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], message: str
) -> None:
    connection(monkeypatch, "sf_bad", **fields)
    with pytest.raises(ValueError, match=message) as exc:
        resolve_target("sf_bad", "snowflake")
    assert "'sf_bad'" in str(exc.value)


def test_the_registry_opens_a_snowflake_reader_for_the_kind() -> None:
    from warehouse_sources.registry import kind_spec, load

    assert load(kind_spec("snowflake").reader) is SnowflakeReader
