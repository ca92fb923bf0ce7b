"""Every sync checks itself: the source's cheap aggregates against the committed table's statistics.

In the read's snapshot the source counts the rows the warehouse must hold after this commit (a full
table: all of them; a cursor read: those with a key at or below the new cursor, with that key's
min and max). The counts travel in the commit's state (`source_counts`), and the committed table's
Delta add actions (numRecords, null counts, min/max statistics) give the warehouse's side: nothing
is read again. What "equal" means per method is in `compare` (and the README).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine import checks
from warehouse_sources.engine.progress import Log
from warehouse_sources.engine.reads import Read
from warehouse_sources.errors import SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse.state import SyncState, as_utc, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from collections.abc import Callable

    from deltalake import DeltaTable

    from warehouse_sources.engine.writer import SyncResult
    from warehouse_sources.sources.base import SourceReader, TableDescription

DELETED_AT = "_ws_deleted_at"  # a tombstoned (soft-deleted) row: not a live row of the source
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)


@dataclass(frozen=True)
class Check:
    """One comparison: `ok` False is a failed check; `note` explains an accepted difference."""

    ok: bool
    message: str
    source_rows: int | None = None
    warehouse_rows: int | None = None
    note: str = ""


def counted(reader: SourceReader, desc: TableDescription, plan: TablePlan, read: Read) -> Read:
    """`read` with the source's aggregates in its state, taken in the open snapshot (a kind without
    cheap counts, or `verify: off`, leaves it as it is)."""
    count = getattr(reader, "table_counts", None)
    if plan.verify == "off" or count is None:
        return read
    key = plan.replication_key if plan.method != "full_table" else None
    rows, low, high = count(desc, key, read.state.cursor if key else None)
    counts: dict[str, Any] = {"rows": rows, "cursor": encode_cursor(read.state.cursor) if key else None}
    if key:
        counts |= {"key": key, "min": encode_cursor(low), "max": encode_cursor(high)}
    return replace(read, state=replace(read.state, source_counts=counts))


def write_checked(
    write: Callable[[Read], SyncResult],
    reader: SourceReader,
    desc: TableDescription,
    plan: TablePlan,
    read: Read,
    log: Log,
    open_table: Callable[[], DeltaTable | None],
) -> SyncResult:
    """Count, write, then compare the commit with the counts; a failed check is logged with its
    numbers, and fails the task (the commit stands) with `verify: strict`."""
    read = counted(reader, desc, plan, read)
    result = write(read)
    if not read.state.source_counts:
        return replace(result, checks=ran(read, None))
    # A run that commits nothing is checked too (the table as it stands against this snapshot's counts):
    # its result reaches the Sources page through the task's XCom, not through a commit.
    check = compare(read.state, open_table(), deletions_synced(plan))
    result = replace(result, checks=ran(read, check))
    where = checks.where(plan)
    if check.ok:
        log.info("%s: verified: %s%s", where, check.message, f" ({check.note})" if check.note else "")
        return result
    log.warning("%s: verification failed: %s", where, check.message)
    if plan.verify == "strict":
        raise SyncFatalError(
            f"{where}: verification failed at table version {result.version}: {check.message} "
            "(verify: strict; run `python -m warehouse_sources verify` to locate the difference, --repair to fix it)"
        )
    return result


def ran(read: Read, check: Check | None) -> dict[str, Any]:
    """What this run checked, when and what it found, whether or not it committed: the count check
    (`verify_check`) and the key-set deletion check (`deletes_checked_at`, `deletes_found`)."""
    found: dict[str, Any] = {}
    if check is not None:
        found["verify_check"] = {"checked_at": read.state.synced_at, "ok": check.ok, "message": check.message,
                                 "note": check.note}  # fmt: skip
    deleting = read.deletes
    if deleting is not None and deleting.plan.deletes_column is None:
        found |= {"deletes_checked_at": deleting.synced_at.isoformat(), "deletes_found": deleting.found}
    return found


def deletions_synced(plan: TablePlan) -> bool:
    """Whether the table drops (or tombstones) rows the source deleted, so counts must be equal."""
    return plan.method == "incremental" and plan.deletes in ("soft", "hard")


def compare(state: SyncState, table: DeltaTable | None, exact: bool = False) -> Check:
    """The state's source counts against the table's add-action statistics.

    full_table: the live rows equal the source's rows. incremental and append_only: the live rows
    with a key are at least the source's rows at or below the cursor (the table keeps rows the
    source deleted: incremental without `deletes`, and append only always, which also keeps a row
    for each time its key moved up), exactly as many when deletions are synced; and the table's
    key range reaches the source's (timestamps compared to the millisecond Delta keeps).
    """
    counts = state.source_counts
    if not counts or table is None:
        return Check(True, "no counts to compare")
    stats = _table_stats(table, counts.get("key"))
    if stats is None:
        return Check(True, "not checked: the table's statistics cannot tell (a file without them, or one with "
                     "both tombstoned rows and rows without a key)")  # fmt: skip
    live, low, high = stats
    source = int(counts["rows"])
    if counts.get("key") is None:
        if live == source:
            return Check(True, f"source {source:,} rows, warehouse {live:,}", source, live)
        return Check(False, f"source {source:,} rows, warehouse {live:,}", source, live)
    return _compare_keyed(state, counts, source, live, low, high, exact)


def _compare_keyed(
    state: SyncState, counts: dict[str, Any], source: int, live: int, low: Any, high: Any, exact: bool
) -> Check:
    cursor = counts.get("cursor")
    numbers = f"source {source:,} rows at or below the cursor {cursor}, warehouse {live:,}"
    if live < source or (exact and live != source):
        return Check(False, numbers, source, live)
    kind = state.key_kind
    s_low, s_high = decode_cursor(kind, counts.get("min")), decode_cursor(kind, counts.get("max"))
    if s_high is not None and (high is None or _ms(high) < _ms(s_high)) and not _clamped(high, INT64_MAX):
        return Check(False, f"{numbers}; the warehouse's largest key {_shown(high)} is below the source's "
                     f"{encode_cursor(s_high)}", source, live)  # fmt: skip
    if s_low is not None and (low is None or _ms(low) > _ms(s_low)) and not _clamped(low, INT64_MIN):
        return Check(False, f"{numbers}; the warehouse's smallest key {_shown(low)} is above the source's "
                     f"{encode_cursor(s_low)}", source, live)  # fmt: skip
    note = ""
    if live > source:
        note = f"{live - source:,} rows the source no longer has at or below the cursor are kept"
    return Check(True, numbers, source, live, note)


def _table_stats(table: DeltaTable, key: str | None) -> tuple[int, Any, Any] | None:
    """(live rows with a key, min key, max key) from the add actions; None when the statistics cannot
    tell: a file without them, or one holding both tombstoned rows and rows without a key (their
    null counts do not say how many rows are both).

    A row is live unless tombstoned (`_ws_deleted_at` set); with a key, rows whose key is NULL
    (loaded by a first load, which no cursor read can match) are left out.
    """
    import pyarrow as pa

    actions = pa.table(table.get_add_actions(flatten=True))
    names = set(actions.column_names)
    found: list[int | None] = actions.column("num_records").to_pylist()
    if any(r is None for r in found):
        return None
    records = [int(r or 0) for r in found]
    tombstoned = _nulls_not(actions, names, DELETED_AT, records) if DELETED_AT in _fields(table) else [0] * len(records)
    keyed = _nulls_not(actions, names, key, records) if key is not None else records
    if tombstoned is None or keyed is None:
        return None
    unkeyed = [r - k for r, k in zip(records, keyed, strict=True)]
    if any(t > 0 and u > 0 for t, u in zip(tombstoned, unkeyed, strict=True)):
        return None
    live = sum(r - t - u for r, t, u in zip(records, tombstoned, unkeyed, strict=True))
    if key is None:
        return live, None, None
    mins = [v for v in _column(actions, names, f"min.{key}") if v is not None]
    maxes = [v for v in _column(actions, names, f"max.{key}") if v is not None]
    return live, min(mins, default=None), max(maxes, default=None)


def _fields(table: DeltaTable) -> set[str]:
    return {f.name for f in table.schema().fields}


def _nulls_not(actions: Any, names: set[str], column: str, records: list[int]) -> list[int] | None:
    """Per file, the rows whose `column` holds a value; None when a file has no null count for it."""
    name = f"null_count.{column}"
    nulls = actions.column(name).to_pylist() if name in names else [None]
    if any(n is None for n in nulls):
        return None
    return [r - n for r, n in zip(records, nulls, strict=True)]


def _column(actions: Any, names: set[str], name: str) -> list[Any]:
    return actions.column(name).to_pylist() if name in names else []


def _clamped(value: Any, limit: int) -> bool:
    """Whether a statistic sits at an int64 limit: Delta clamps a wider integer key's statistics there
    (an unsigned BIGINT stored as decimal(20, 0)), so the true value may lie beyond it."""
    return value is not None and not isinstance(value, (datetime, date, str)) and value == limit


def _ms(value: Any) -> Any:
    """Timestamps cut to the millisecond, the precision Delta's statistics keep."""
    if isinstance(value, datetime):
        value = as_utc(value)
        return value - timedelta(microseconds=value.microsecond % 1000)
    return value


def _shown(value: Any) -> Any:
    return encode_cursor(as_utc(value)) if isinstance(value, datetime) else value
