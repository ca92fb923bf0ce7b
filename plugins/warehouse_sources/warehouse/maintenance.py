"""Cleaning up after failed runs: data files that no table version references.

A sync that dies before its commit leaves the files it wrote behind; they are never read (no
version lists them), and a full vacuum deletes them once they are older than the retention
period. The period protects a sync still writing: its files are not committed yet either.

One table that cannot be opened (a damaged log, a folder whose first sync never committed) is
reported with the reason and skipped; it never stops the other tables from being vacuumed.

A deleted source's tables are dropped here too (`drop_table`): the web app decides when, this
module removes the files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warehouse_sources.warehouse.storage import access_error, filesystem, is_object_store

DEFAULT_RETENTION_HOURS = 168
Options = dict[str, str] | None


@dataclass(frozen=True)
class TableVacuum:
    """One folder of the warehouse: the files vacuum removed (or would), or why it was skipped."""

    uri: str
    files: tuple[str, ...] = ()
    skipped: str | None = None


def warehouse_folders(warehouse_uri: str, storage_options: Options = None) -> Iterator[str]:
    """Every folder under the warehouse root (a local path or s3://bucket/prefix), each meant to be
    one table (hidden ones left out), listed through the object store on S3."""
    from pyarrow import fs

    store, root = filesystem(warehouse_uri, storage_options)
    if not is_object_store(warehouse_uri) and not Path(root).is_dir():
        return
    try:
        found = store.get_file_info(fs.FileSelector(root, allow_not_found=True))
    except OSError as exc:
        error = access_error(warehouse_uri, exc, storage_options)
        if error is None:
            raise
        raise error from None
    for info in sorted(found, key=lambda i: i.base_name):
        if info.type == fs.FileType.Directory and not info.base_name.startswith("."):
            yield f"{warehouse_uri.rstrip('/')}/{info.base_name}"


def warehouse_tables(warehouse_uri: str, storage_options: Options = None) -> Iterator[str]:
    """The Delta tables under the warehouse root."""
    from deltalake import DeltaTable

    for folder in warehouse_folders(warehouse_uri, storage_options):
        if DeltaTable.is_deltatable(folder, storage_options=storage_options):
            yield folder


def vacuum_table(
    uri: str, retention_hours: int = DEFAULT_RETENTION_HOURS, apply: bool = False, storage_options: Options = None
) -> list[str]:
    """Files of `uri` that no version uses and older than the retention: deleted when `apply`."""
    from deltalake import DeltaTable

    return DeltaTable(uri, storage_options=storage_options).vacuum(
        retention_hours=retention_hours, dry_run=not apply, enforce_retention_duration=False, full=True
    )


def _why_unreadable(folder: str, exc: Exception, storage_options: Options) -> str:
    from pyarrow import fs

    store, path = filesystem(folder, storage_options)
    log = store.get_file_info(fs.FileSelector(f"{path}/_delta_log", allow_not_found=True))
    if not log:
        return (
            "no Delta log: no sync of this table has committed (its first sync is running, or died "
            "before its commit); when no sync is running, delete the folder and the next sync starts over"
        )
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"cannot open it as a Delta table ({first_line}); check its _delta_log, or resync the table"


def vacuum_warehouse(
    warehouse_uri: str,
    retention_hours: int = DEFAULT_RETENTION_HOURS,
    apply: bool = False,
    storage_options: Options = None,
) -> Iterator[TableVacuum]:
    """Vacuum every table under the root; one that cannot be opened is skipped with its reason."""
    from deltalake.exceptions import DeltaError

    for folder in warehouse_folders(warehouse_uri, storage_options):
        try:
            files = vacuum_table(folder, retention_hours, apply, storage_options)
        except (DeltaError, OSError) as exc:
            yield TableVacuum(folder, skipped=_why_unreadable(folder, exc, storage_options))
        else:
            yield TableVacuum(folder, files=tuple(files))


def is_linked_folder(uri: str) -> bool:
    """A local table folder that is a symbolic link: dropping it would follow the link and could
    remove files outside the warehouse, so callers refuse it before anything changes."""
    return "://" not in uri and os.path.islink(uri)


def drop_table(uri: str, storage_options: Options = None) -> None:
    """Remove one synced table (data, log and the sync state its commits carry); a missing one is fine.

    Raises OSError when a folder cannot be removed; check `is_linked_folder` first.
    """
    if "://" not in uri:
        import shutil

        if os.path.exists(uri):
            shutil.rmtree(uri)
        return
    from pyarrow import fs

    store, path = filesystem(uri, storage_options)
    if store.get_file_info(path).type != fs.FileType.NotFound:
        store.delete_dir(path)
