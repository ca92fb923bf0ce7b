"""PostgreSQL source: catalog lookups, type mapping and a streaming reader over ADBC (COPY).

Its names are imported on first use (PEP 562), so the kind's registry entry (kind.py) imports no driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.lazy import lazy_names

if TYPE_CHECKING:
    from warehouse_sources.sources.postgres.reader import PostgresReader

__all__ = ["PostgresReader"]
_HOMES = {
    "PostgresReader": "warehouse_sources.sources.postgres.reader",
}

__getattr__ = lazy_names(__name__, _HOMES)
