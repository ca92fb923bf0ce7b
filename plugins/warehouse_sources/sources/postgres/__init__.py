"""PostgreSQL source: catalog lookups, type mapping and a streaming reader over ADBC (COPY)."""

from __future__ import annotations

from warehouse_sources.sources.postgres.reader import PostgresReader

__all__ = ["PostgresReader"]
