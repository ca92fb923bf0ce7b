"""Cleaning up after failed runs: data files that no table version references.

A sync that dies before its commit leaves the files it wrote behind; they are never read (no
version lists them), and a full vacuum deletes them once they are older than the retention
period. The period protects a sync still writing: its files are not committed yet either.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

DEFAULT_RETENTION_HOURS = 168


def warehouse_tables(warehouse_uri: str) -> Iterator[str]:
    """The Delta tables under a local warehouse root."""
    from deltalake import DeltaTable

    root = Path(warehouse_uri)
    if not root.is_dir():
        return
    for child in sorted(root.iterdir()):
        if child.is_dir() and DeltaTable.is_deltatable(str(child)):
            yield str(child)


def vacuum_table(uri: str, retention_hours: int = DEFAULT_RETENTION_HOURS, apply: bool = False) -> list[str]:
    """Files of `uri` that no version uses and older than the retention: deleted when `apply`."""
    from deltalake import DeltaTable

    return DeltaTable(uri).vacuum(
        retention_hours=retention_hours, dry_run=not apply, enforce_retention_duration=False, full=True
    )


def vacuum_warehouse(
    warehouse_uri: str, retention_hours: int = DEFAULT_RETENTION_HOURS, apply: bool = False
) -> Iterator[tuple[str, list[str]]]:
    for uri in warehouse_tables(warehouse_uri):
        yield uri, vacuum_table(uri, retention_hours, apply)
