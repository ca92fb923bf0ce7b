"""MySQL/MariaDB source: catalog lookups, type mapping and a streaming reader over asyncmy."""

from __future__ import annotations

from warehouse_sources.sources.mysql.params import MySQLParams
from warehouse_sources.sources.mysql.reader import MySQLReader

__all__ = ["MySQLParams", "MySQLReader"]
