"""Snowflake source: catalog lookups, type mapping and a reader over the connector's Arrow batches.

Its names are imported on first use (PEP 562), so the kind's registry entry (kind.py) imports no driver.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse_sources.sources.snowflake.params import connect_kwargs_from_uri, connect_uri
    from warehouse_sources.sources.snowflake.reader import SnowflakeReader

__all__ = ["SnowflakeReader", "connect_kwargs_from_uri", "connect_uri"]
_HOMES = {
    "SnowflakeReader": "warehouse_sources.sources.snowflake.reader",
    "connect_kwargs_from_uri": "warehouse_sources.sources.snowflake.params",
    "connect_uri": "warehouse_sources.sources.snowflake.params",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
