"""Source YAML -> validated models. No Airflow imports here."""

from __future__ import annotations

from warehouse_sources.config.loader import LoadedSource, LoadResult, load_source_file, load_sources
from warehouse_sources.config.models import SourceConfig, SyncMethod, TableConfig

__all__ = [
    "LoadResult",
    "LoadedSource",
    "SourceConfig",
    "SyncMethod",
    "TableConfig",
    "load_source_file",
    "load_sources",
]
