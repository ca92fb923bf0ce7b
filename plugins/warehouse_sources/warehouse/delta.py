"""Delta writes, one function per write mode, each committing data and sync state together.

Every sync commit also carries a Delta application transaction (`txn`) numbered one past the
table's last: if another sync of the same table commits first, this commit conflicts and
fails instead of silently adding the same rows a second time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warehouse_sources.errors import ConcurrentSyncError, WarehouseDiskFullError, WarehouseWriteError
from warehouse_sources.warehouse.state import STATE_KEY, SyncState, dump_state, load_state
from warehouse_sources.warehouse.storage import access_error

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import CommitProperties, DeltaTable, WriterProperties


# Measured (bench/layout_run.py, 2M rows, 100 changed rows): a change at recent keys rewrites one
# file whatever the size, so its cost is that file's: 0.04 CPU-s at 8 MB against 0.12 at 16 MB; a
# change spread at random rewrites every file at any size from 2 to 16 MB and costs the same CPU
# (0.86-0.89 s, 1.04 at 2 MB), while a full read takes 15 % longer at 8 MB than at 16 (more files).
# Stored as the table's delta.targetFileSize too, so merges and compaction keep files that size.
TARGET_FILE_SIZE = 8 * 1024 * 1024
MAX_ROW_GROUP_SIZE = 32 * 1024
# A column chunk falls back from dictionary to plain encoding once its dictionary passes this.
# The writer's default (1 MB) let every unique column (ids, timestamps, free text, JSON) build a
# 1 MB dictionary per row group before giving up: half the writer's CPU for 2M bench rows (1.48
# -> 0.72 CPU-s) and files 14 % larger (135.6 -> 116.7 MB). Columns of a few hundred distinct
# values still fit, and keep their dictionary.
DICTIONARY_PAGE_BYTES = 64 * 1024
APP_ID = "warehouse_sources"
STATE_HISTORY_DEPTHS = (1, 20, 500)


def table_uri(warehouse_uri: str, synced_name: str) -> str:
    return f"{warehouse_uri.rstrip('/')}/{synced_name}"


def open_table(uri: str, storage_options: dict[str, str] | None = None) -> DeltaTable | None:
    """The Delta table at `uri`, or None when nothing has been committed there yet.

    The first touch of the warehouse in a sync: an object store that refuses the credentials,
    lacks the bucket or does not answer is reported here, naming the warehouse, not the secret.
    The table is opened first and asked whether it exists only when that fails: each costs a listing
    of the log folder, which holds every version of the retention window.
    """
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    try:
        try:
            return DeltaTable(uri, storage_options=storage_options)
        except DeltaError:  # TableNotFoundError, or "Invalid table location" where the folder is missing
            if not DeltaTable.is_deltatable(uri, storage_options=storage_options):
                return None
            raise
    except (DeltaError, OSError) as exc:
        error = access_error(uri, exc, storage_options)
        if error is None:
            raise
        raise error from None


def read_state(table: DeltaTable) -> SyncState | None:
    """The state of the newest commit that carries one (maintenance commits carry none)."""
    for depth in STATE_HISTORY_DEPTHS:
        commits = table.history(depth)
        for commit in commits:
            text = commit.get(STATE_KEY)
            if text:
                return load_state(text)
        if len(commits) < depth:
            break
    return None


def commit_with_state(state: SyncState, table: DeltaTable | None) -> CommitProperties:
    from deltalake import CommitProperties
    from deltalake.transaction import Transaction

    txn = 0 if table is None else (table.transaction_version(APP_ID) or 0) + 1
    return CommitProperties(custom_metadata={STATE_KEY: dump_state(state)}, app_transactions=[Transaction(APP_ID, txn)])


def writer_properties() -> WriterProperties:
    from deltalake import WriterProperties

    return WriterProperties(
        max_row_group_size=MAX_ROW_GROUP_SIZE, dictionary_page_size_limit=DICTIONARY_PAGE_BYTES, compression="SNAPPY"
    )


DISK_FULL_MARKS = ("No space left on device", "os error 28")
UNWRITABLE_MARKS = ("Not a directory", "NotADirectory", "Permission denied", "Read-only file system",
                    "os error 20", "os error 13", "os error 30")  # fmt: skip


def guarded(uri: str, action: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a write; lost commit races, full disks and unwritable paths become errors saying so."""
    from deltalake.exceptions import CommitFailedError, DeltaError

    try:
        return action(*args, **kwargs)
    except CommitFailedError as exc:
        raise ConcurrentSyncError(
            f"{uri}: another sync of this table committed while this one ran; nothing of this run was "
            f"committed, and the next run goes on from the table's new cursor (cause: {_one_line(exc)})"
        ) from exc
    except (DeltaError, OSError) as exc:
        error = access_error(uri, exc, _options_of(args, kwargs))
        if error is not None:
            raise error from None
        text = _one_line(exc)
        if any(mark in text for mark in DISK_FULL_MARKS):
            raise WarehouseDiskFullError(
                f"{uri}: the warehouse disk is full; nothing was committed and the table stays at its previous "
                "version. Free space and retry; the files this run wrote belong to no version, and "
                f"`python -m warehouse_sources vacuum --apply` removes them (cause: {text})"
            ) from exc
        if any(mark in text for mark in UNWRITABLE_MARKS):
            raise WarehouseWriteError(
                f"{uri}: cannot write the warehouse table there; point [warehouse_sources] warehouse_uri "
                f"(AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI) at a folder Airflow's workers can write (cause: {text})"
            ) from exc
        raise


def _options_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, str] | None:
    """The storage options of a write: passed in, or those of the table it writes to."""
    options = kwargs.get("storage_options") or (getattr(args[0], "_storage_options", None) if args else None)
    return options if isinstance(options, dict) else None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def overwrite(
    uri: str,
    table: DeltaTable | None,
    data: pa.RecordBatchReader,
    state: SyncState,
    storage_options: Any = None,
    properties: dict[str, str] | None = None,
) -> None:
    """Replace the table's contents and schema in one commit; readers see old or new, never half.
    A new table is created with `properties` (maintenance's retention settings) in that commit."""
    from deltalake import write_deltalake

    configuration = {"delta.targetFileSize": str(TARGET_FILE_SIZE), **(properties or {})}
    guarded(
        uri,
        write_deltalake,
        table if table is not None else uri,
        data,
        mode="overwrite",
        schema_mode="overwrite",
        configuration=configuration if table is None else None,
        storage_options=storage_options if table is None else None,
        target_file_size=TARGET_FILE_SIZE,
        writer_properties=writer_properties(),
        commit_properties=commit_with_state(state, table),
    )


def append(uri: str, table: DeltaTable, data: pa.RecordBatchReader, state: SyncState) -> None:
    """Add rows in one commit; new source columns are added to the table."""
    from deltalake import write_deltalake

    guarded(
        uri,
        write_deltalake,
        table,
        data,
        mode="append",
        schema_mode="merge",
        target_file_size=TARGET_FILE_SIZE,
        writer_properties=writer_properties(),
        commit_properties=commit_with_state(state, table),
    )


def merge(
    uri: str,
    table: DeltaTable,
    data: pa.RecordBatchReader,
    keys: tuple[str, ...],
    state: SyncState,
    key_range: tuple[str, int, int] | None = None,
    *,
    skip_if_stored: bool = False,
) -> dict[str, Any]:
    """Upsert on `keys` in one commit (warehouse/merge.py chooses how, by the change set's size)."""
    from warehouse_sources.warehouse import merge as merging

    return merging.merge(uri, table, data, keys, state, key_range, skip_if_stored=skip_if_stored)


def widen(uri: str, table: DeltaTable, columns: dict[str, pa.DataType]) -> None:
    """Rewrite the table once with wider column types, keeping its sync state (and so its cursor)."""
    import pyarrow as pa

    dataset = table.to_pyarrow_dataset()
    schema = pa.schema([f.with_type(columns.get(f.name, f.type)) for f in dataset.schema])
    batches = (batch.cast(schema) for batch in dataset.to_batches())
    state = read_state(table)
    if state is None:
        raise ValueError(f"{uri} has no sync state to carry over")
    overwrite(uri, table, pa.RecordBatchReader.from_batches(schema, batches), state)
