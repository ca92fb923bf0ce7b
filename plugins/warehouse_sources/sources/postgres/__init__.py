"""PostgreSQL source: catalog lookups, type mapping and a streaming reader over ADBC (COPY).

Its names are imported on first use (PEP 562), so the kind's registry entry (kind.py) imports no driver.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse_sources.sources.postgres.reader import PostgresReader

__all__ = ["PostgresReader"]
_HOMES = {
    "PostgresReader": "warehouse_sources.sources.postgres.reader",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
