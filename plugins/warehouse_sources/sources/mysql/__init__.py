"""MySQL/MariaDB source: catalog lookups, type mapping and a streaming reader over asyncmy.

Its names are imported on first use (PEP 562), so the kind's registry entry (kind.py) imports no driver.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse_sources.sources.mysql.params import MySQLParams
    from warehouse_sources.sources.mysql.reader import MySQLReader

__all__ = ["MySQLParams", "MySQLReader"]
_HOMES = {
    "MySQLParams": "warehouse_sources.sources.mysql.params",
    "MySQLReader": "warehouse_sources.sources.mysql.reader",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
