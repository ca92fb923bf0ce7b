"""Where a MySQL reader connects: keyword arguments or a `mysql://` URI, parsed in one place."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass(frozen=True)
class MySQLParams:
    """Where to connect; built from keyword arguments or a `mysql://` URI."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""
    database: str | None = None
    connect_timeout: int = 30
    ssl_ca: str | None = None  # CA file: set it (or ssl_cert/ssl_key) to connect over TLS
    ssl_cert: str | None = None
    ssl_key: str | None = None

    @classmethod
    def from_uri(cls, uri: str) -> MySQLParams:
        """`mysql://user:password@host:3306/database?connect_timeout=10&ssl_ca=/ca.pem` (also mariadb://)."""
        parts = urlsplit(uri)
        if parts.scheme not in ("mysql", "mariadb"):
            raise ValueError("a MySQL URI starts with mysql:// or mariadb://")
        query = dict(parse_qsl(parts.query))
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or None,
            connect_timeout=int(query.get("connect_timeout", 30)),
            ssl_ca=query.get("ssl_ca"),
            ssl_cert=query.get("ssl_cert"),
            ssl_key=query.get("ssl_key"),
        )
