"""Where a Snowflake reader connects: the connector's keyword arguments, or a `snowflake://` URI
carrying them (how the operator hands a reader its connection, as it does for every kind).

The URI is `snowflake:///?account=...&user=...`: each argument one query parameter, the session
parameters as JSON and a key-pair private key as base64 DER (which the connector accepts as is).
It holds secrets: the Airflow side masks and redacts it like a database URI.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


# The connector arguments a URI may carry, each with how its text becomes the value.
CONNECT_ARGS: dict[str, Callable[[str], Any]] = {
    "account": str,
    "user": str,
    "password": str,
    "authenticator": str,
    "private_key": str,  # base64 of the DER bytes
    "token": str,
    "database": str,
    "schema": str,
    "warehouse": str,
    "role": str,
    "region": str,
    "host": str,
    "port": int,
    "protocol": str,
    "application": str,
    "login_timeout": int,
    "network_timeout": int,
    "insecure_mode": _flag,
    "ocsp_fail_open": _flag,
    "session_parameters": json.loads,
}
SECRET_ARGS = ("password", "private_key", "token")


def connect_uri(kwargs: Mapping[str, Any]) -> str:
    """The URI carrying `kwargs` (empty values dropped); an argument not listed is refused by name."""
    unknown = sorted(set(kwargs) - set(CONNECT_ARGS))
    if unknown:
        raise ValueError(f"Snowflake connection arguments {unknown} are not supported; supported: {list(CONNECT_ARGS)}")
    params = {k: _text(v) for k, v in kwargs.items() if v not in (None, "", {})}
    return "snowflake:///?" + urlencode(sorted(params.items()), quote_via=quote)


def connect_kwargs_from_uri(uri: str) -> dict[str, Any]:
    """The connector's keyword arguments from a URI made by `connect_uri`."""
    parts = urlsplit(uri)
    if parts.scheme != "snowflake":
        raise ValueError("a Snowflake URI starts with snowflake://")
    query = parse_qsl(parts.query, keep_blank_values=False)
    unknown = sorted({k for k, _ in query} - set(CONNECT_ARGS))
    if unknown:
        raise ValueError(f"Snowflake URI parameters {unknown} are not supported; supported: {list(CONNECT_ARGS)}")
    return {k: CONNECT_ARGS[k](v) for k, v in query}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return json.dumps(dict(value), sort_keys=True)
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    return str(value)
