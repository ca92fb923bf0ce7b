"""The link-a-source form's catalog of this API kind: its objects (sources/rest/tables.py)."""

from __future__ import annotations

from warehouse_sources.sources.rest.tables import count_tables, list_tables

__all__ = ["count_tables", "list_tables"]
