"""MySQL/MariaDB source: catalog lookups, type mapping and a streaming reader over asyncmy.

Its names are imported on first use (PEP 562), so the kind's registry entry (kind.py) imports no driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.lazy import lazy_names

if TYPE_CHECKING:
    from warehouse_sources.sources.mysql.params import MySQLParams
    from warehouse_sources.sources.mysql.reader import MySQLReader

__all__ = ["MySQLParams", "MySQLReader"]
_HOMES = {
    "MySQLParams": "warehouse_sources.sources.mysql.params",
    "MySQLReader": "warehouse_sources.sources.mysql.reader",
}

__getattr__ = lazy_names(__name__, _HOMES)
