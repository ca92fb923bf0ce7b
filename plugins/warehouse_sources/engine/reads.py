"""What a run reads and how it writes it, from the table's stored state and the source's bounds."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from warehouse_sources.engine import checks
from warehouse_sources.engine.files import FileListing, LoadedFiles, plan_files, shown
from warehouse_sources.engine.progress import Log
from warehouse_sources.errors import SchemaDriftError, SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse import delta
from warehouse_sources.warehouse.state import CursorValue, KeyKind, SyncState, as_utc, encode_cursor, lower_bound

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from warehouse_sources.engine.deletes import DeleteCheck
    from warehouse_sources.sources.base import SourceReader, TableDescription


WriteMode = Literal["overwrite", "merge", "append"]  # replace the table, merge on the keys, or append


@dataclass(frozen=True)
class Read:
    """One run's read (`where`, empty for the whole table), its write mode and the state to commit."""

    write: WriteMode
    where: str
    state: SyncState
    skip: tuple[CursorValue, list[str]] | None = None  # append only: (boundary value, identity columns)
    deleted: dict[str, int] = field(default_factory=dict)  # append only: the previous boundary_deleted
    cursor_moved: bool = True  # False: the read holds only rows at (or, with a lookback, below) the old cursor
    key_range: tuple[str, int, int] | None = None  # bounds the MERGE's target; None: from the rows read
    deletes: DeleteCheck | None = None  # incremental with `deletes` due this run (engine/deletes.py)


def previous_state(
    table: DeltaTable | None, plan: TablePlan, key_kind: KeyKind | None, full_refresh: bool, log: Log
) -> SyncState | None:
    """The state to continue from, or None to read the whole table again."""
    if table is None:
        return None
    if full_refresh:
        log.info("full refresh requested: the stored cursor is ignored and the table rebuilt")
        return None
    state = delta.read_state(table)
    if state is None:
        return None
    if (state.method, state.replication_key) != (plan.method, plan.replication_key):
        log.warning(
            "sync method or replication key changed (%s on %s -> %s on %s): rebuilding the table",
            state.method,
            state.replication_key,
            plan.method,
            plan.replication_key,
        )
        return None
    if state.key_kind and state.key_kind != key_kind:
        raise SyncFatalError(
            f"{checks.where(plan)}: replication key {plan.replication_key!r} changed from {state.key_kind} "
            f"to {key_kind} values, so the stored cursor no longer applies; resync the table "
            '(trigger with conf {"full_refresh": true})'
        )
    return state


def cursor_read(
    reader: SourceReader,
    desc: TableDescription,
    plan: TablePlan,
    keys: tuple[str, ...],
    previous: SyncState | None,
    base: SyncState,
    log: Log,
) -> Read | None:
    """Plan an incremental or append-only read inside the reader's snapshot; None: nothing to read."""
    if plan.replication_key is None:
        return file_read(reader, desc, plan, keys, previous, base, log)
    window = _window(reader, desc, plan, previous, base, log)
    if plan.method == "incremental":
        return _incremental_read(reader, desc, plan, keys, previous, window)
    return _append_read(desc, plan, previous, window)


@dataclass(frozen=True)
class _Window:
    """What a read from the cursor covers, for either method."""

    cursor: CursorValue | None  # the stored cursor (None: first load or rebuild)
    state: SyncState  # the state to commit: the cursor moved to the source's max key
    where: str  # the rows' condition ("" for every row)
    rebuild: bool  # no usable state: the read replaces the table
    empty: bool  # the source has no rows at or above the cursor


def _window(
    reader: SourceReader, desc: TableDescription, plan: TablePlan, previous: SyncState | None, base: SyncState, log: Log
) -> _Window:
    key = plan.replication_key
    assert key is not None and base.key_kind is not None
    cursor = previous.cursor if previous else None
    lower, from_start = _lower(cursor, plan, log)
    upper, nulls = reader.key_bounds(desc, key, None if from_start else lower)
    upper = as_utc(upper) if isinstance(upper, datetime) else upper
    if nulls:
        _warn_null_keys(log, plan, nulls, first_load=cursor is None)
    empty = cursor is not None and upper is None
    if empty:
        log.info("%s: no rows at or above the cursor %s", plan.qualified_name, encode_cursor(cursor))
    state = replace(base, replication_key=key, cursor=_advance(cursor, upper), null_keys=nulls)
    rebuild = previous is None or cursor is None
    where = "" if rebuild or from_start or lower is None else reader.key_condition(desc, key, ">=", lower)
    return _Window(cursor, state, where, rebuild, empty)


def _incremental_read(
    reader: SourceReader,
    desc: TableDescription,
    plan: TablePlan,
    keys: tuple[str, ...],
    previous: SyncState | None,
    window: _Window,
) -> Read | None:
    """Rows from the cursor (minus lookback) on, merged on `keys`."""
    if window.empty:
        return None
    if keys != desc.primary_key or not desc.primary_key_enforced:
        # Only an enforced key constraint promises unique, non-NULL keys; any other key is checked.
        checks.require_usable_keys(plan, keys, *reader.key_problems(desc, keys, window.where))
    if window.rebuild:
        return Read("overwrite", "", window.state)
    # The cursor stays: the read holds only rows at or below it, which may all be stored already.
    state, cursor = window.state, window.cursor
    unmoved = state.cursor == cursor and state.null_keys == (previous.null_keys if previous else 0)
    return Read("merge", window.where, state, cursor_moved=not unmoved)


def _append_read(desc: TableDescription, plan: TablePlan, previous: SyncState | None, window: _Window) -> Read | None:
    """Rows from the cursor on, appended; those at the cursor value the table holds already are skipped."""
    if window.empty and (previous is None or not previous.identity_columns):
        return None
    # When empty, the rows appended at the cursor value are all gone from the source: the read below
    # finds none, and the state records them as deleted, so an identical row committed there later
    # is appended rather than taken as already synced.
    state, cursor = window.state, window.cursor
    if state.cursor is not None:
        kept = previous.identity_columns if previous and not window.rebuild else ()
        columns = kept or (plan.primary_key or desc.primary_key or tuple(c.name for c in desc.columns))
        state = replace(state, identity_columns=tuple(columns))
    if window.rebuild:
        return Read("overwrite", "", state)
    assert previous is not None and cursor is not None
    skip = _boundary_skip(desc, plan, cursor, list(previous.identity_columns))
    moved = state.cursor != cursor
    return Read("append", window.where, state, skip, deleted=dict(previous.boundary_deleted), cursor_moved=moved)


def _boundary_skip(
    desc: TableDescription, plan: TablePlan, cursor: CursorValue, identity_columns: list[str]
) -> tuple[CursorValue, list[str]] | None:
    """What the append skips: rows at the old cursor value that the table already holds."""
    gone = [c for c in identity_columns if desc.column(c) is None]
    if gone:
        raise SchemaDriftError(
            f"{checks.where(plan)}: columns {gone}, which identify the rows already appended at the cursor "
            "value, no longer exist in the source, so those rows cannot be told apart from new ones; resync "
            '(trigger with conf {"full_refresh": true})'
        )
    return (cursor, identity_columns) if identity_columns else None


def file_read(
    reader: SourceReader,
    desc: TableDescription,
    plan: TablePlan,
    keys: tuple[str, ...],
    previous: SyncState | None,
    base: SyncState,
    log: Log,
) -> Read | None:
    """A file source without a replication key: read the files not loaded yet (engine/files.py)."""
    if not isinstance(reader, FileListing):
        raise SyncFatalError(f"{checks.where(plan)}: {plan.method} needs a replication_key for this source kind")
    before = LoadedFiles.from_extra(previous.extra) if previous else None
    reload = reader.reloads_changed_files(desc)
    files = plan_files(reader.listed_files(desc), before, reload)
    _log_files(log, plan, files.changed, files.deleted, files.below_watermark, reload)
    state = replace(base, extra=files.loaded.to_extra())
    if previous is not None and not files.read:
        log.info("%s: no new files", plan.qualified_name)
        return None
    if previous is not None:
        log.info("%s: reading %d files not loaded yet: %s", plan.qualified_name, len(files.read), shown(files.read))
        reader.restrict_files(desc, files.read)
    if plan.method == "incremental":
        checks.require_usable_keys(plan, keys, *reader.key_problems(desc, keys, ""))
    if previous is None:
        return Read("overwrite", "", state)
    if plan.method == "append_only":
        return Read("append", "", state)
    return Read("merge", "", state)


def _log_files(log: Log, plan: TablePlan, changed: list[str], deleted: list[str], old: list[str],
               reloaded: bool) -> None:  # fmt: skip
    name = plan.qualified_name
    if changed and reloaded:
        log.warning("%s: %d loaded files changed in place and are read again (on_file_change: reload): %s",
                    name, len(changed), shown(changed))  # fmt: skip
    elif changed:
        log.warning("%s: %d loaded files changed in place and are NOT read again (set on_file_change: reload to "
                    "load them again, or resync): %s", name, len(changed), shown(changed))  # fmt: skip
    if deleted:
        log.warning("%s: %d loaded files were deleted from the bucket (their rows stay in the table): %s",
                    name, len(deleted), shown(deleted))  # fmt: skip
    if old:
        log.warning("%s: %d files not in the loaded-file list are older than its watermark and taken as loaded "
                    "(resync to load them): %s", name, len(old), shown(old))  # fmt: skip


def _lower(cursor: CursorValue | None, plan: TablePlan, log: Log) -> tuple[CursorValue | None, bool]:
    """Where the read starts: the cursor, moved back by the lookback for incremental tables;
    and whether the lookback reaches past the smallest key, so the read starts from the first row."""
    if cursor is None or plan.method != "incremental":
        return cursor, False
    try:
        return lower_bound(cursor, plan.lookback), False
    except ValueError as exc:
        raise SyncFatalError(f"{checks.where(plan)}: {exc}; fix lookback in the source YAML") from exc
    except OverflowError:
        log.info("%s: the lookback reaches before the first possible key: reading every row", plan.qualified_name)
        return cursor, True


def _advance(cursor: CursorValue | None, upper: CursorValue | None) -> CursorValue | None:
    """The cursor never moves back, even when the newest rows were deleted or keys went down."""
    if cursor is None or upper is None:
        return upper if cursor is None else cursor
    return upper if upper > cursor else cursor  # type: ignore[operator]


def _warn_null_keys(log: Log, plan: TablePlan, nulls: int, first_load: bool) -> None:
    seen = "they are loaded now" if first_load else "the first load read them"
    log.warning(
        "%s: %d rows have NULL %s: %s, but reads from the cursor cannot see new or changed ones; "
        "use full_table to keep them current",
        plan.qualified_name,
        nulls,
        plan.replication_key,
        seen,
    )
