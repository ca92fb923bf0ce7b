"""Cleaning up after failed runs: data files that no table version references.

A sync that dies before its commit leaves the files it wrote behind; they are never read (no
version lists them), and a full vacuum deletes them once they are older than the retention
period. The period protects a sync still writing: its files are not committed yet either.

One table that cannot be opened (a damaged log, a folder whose first sync never committed) is
reported with the reason and skipped; it never stops the other tables from being vacuumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RETENTION_HOURS = 168


@dataclass(frozen=True)
class TableVacuum:
    """One folder of the warehouse: the files vacuum removed (or would), or why it was skipped."""

    uri: str
    files: tuple[str, ...] = ()
    skipped: str | None = None


def warehouse_folders(warehouse_uri: str) -> Iterator[Path]:
    """Every folder under a local warehouse root, each meant to be one table (hidden ones left out)."""
    root = Path(warehouse_uri)
    if not root.is_dir():
        return
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            yield child


def warehouse_tables(warehouse_uri: str) -> Iterator[str]:
    """The Delta tables under a local warehouse root."""
    from deltalake import DeltaTable

    for folder in warehouse_folders(warehouse_uri):
        if DeltaTable.is_deltatable(str(folder)):
            yield str(folder)


def vacuum_table(uri: str, retention_hours: int = DEFAULT_RETENTION_HOURS, apply: bool = False) -> list[str]:
    """Files of `uri` that no version uses and older than the retention: deleted when `apply`."""
    from deltalake import DeltaTable

    return DeltaTable(uri).vacuum(
        retention_hours=retention_hours, dry_run=not apply, enforce_retention_duration=False, full=True
    )


def _why_unreadable(folder: Path, exc: Exception) -> str:
    log = folder / "_delta_log"
    if not log.is_dir() or not any(log.iterdir()):
        return (
            "no Delta log: no sync of this table has committed (its first sync is running, or died "
            "before its commit); when no sync is running, delete the folder and the next sync starts over"
        )
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"cannot open it as a Delta table ({first_line}); check its _delta_log, or resync the table"


def vacuum_warehouse(
    warehouse_uri: str, retention_hours: int = DEFAULT_RETENTION_HOURS, apply: bool = False
) -> Iterator[TableVacuum]:
    """Vacuum every table under the root; one that cannot be opened is skipped with its reason."""
    from deltalake.exceptions import DeltaError

    for folder in warehouse_folders(warehouse_uri):
        try:
            files = vacuum_table(str(folder), retention_hours, apply)
        except (DeltaError, OSError) as exc:
            yield TableVacuum(str(folder), skipped=_why_unreadable(folder, exc))
        else:
            yield TableVacuum(str(folder), files=tuple(files))
