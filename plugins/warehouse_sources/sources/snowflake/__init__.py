"""Snowflake source: catalog lookups, type mapping and a reader over the connector's Arrow batches."""

from __future__ import annotations

from warehouse_sources.sources.snowflake.params import connect_kwargs_from_uri, connect_uri
from warehouse_sources.sources.snowflake.reader import SnowflakeReader

__all__ = ["SnowflakeReader", "connect_kwargs_from_uri", "connect_uri"]
