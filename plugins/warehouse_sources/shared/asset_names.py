"""The name of each synced table's Airflow Asset: the sync tasks emit it, the Sources page looks up its consumers."""

from __future__ import annotations

SCHEME = "warehouse"


def asset_uri(synced_name: str) -> str:
    """`warehouse://<synced table name>` (README "Assets"); Airflow stores it with a trailing slash."""
    return f"{SCHEME}://{synced_name}"
