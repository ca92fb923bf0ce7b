"""Snowflake source: catalog lookups, type mapping and a reader over the connector's Arrow batches.

Its names are imported on first use (PEP 562), so the kind's registry entry (kind.py) imports no driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.lazy import lazy_names

if TYPE_CHECKING:
    from warehouse_sources.sources.snowflake.params import connect_kwargs_from_uri, connect_uri
    from warehouse_sources.sources.snowflake.reader import SnowflakeReader

__all__ = ["SnowflakeReader", "connect_kwargs_from_uri", "connect_uri"]
_HOMES = {
    "SnowflakeReader": "warehouse_sources.sources.snowflake.reader",
    "connect_kwargs_from_uri": "warehouse_sources.sources.snowflake.params",
    "connect_uri": "warehouse_sources.sources.snowflake.params",
}

__getattr__ = lazy_names(__name__, _HOMES)
