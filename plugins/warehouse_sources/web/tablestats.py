"""What the warehouse itself says about a synced table: its sync state and row count, cached.

Opening a Delta table reads its log, which costs milliseconds per table; the Sources page
asks for the same tables every few seconds. The cache stays correct because every sync commit
is made by a task whose XCom return value records the Delta version it wrote: the page passes
that version as `expected_version`, so a new commit misses the cache on the next request.
Commits made outside Airflow (a manual `vacuum`) are picked up when an entry reaches its
age limit, and a delete drops the entries of the tables it dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from warehouse_sources.warehouse.health import TableHealth
from warehouse_sources.warehouse.state import SyncState

log = logging.getLogger(__name__)
MAX_AGE_SECONDS = 300.0


@dataclass(frozen=True)
class TableStats:
    version: int | None
    rows: int | None
    state: SyncState | None

    @property
    def synced_at(self) -> datetime | None:
        if not self.state or not self.state.synced_at:
            return None
        return datetime.fromisoformat(self.state.synced_at)


MISSING = TableStats(None, None, None)
_lock = threading.Lock()
_cache: dict[str, tuple[float, TableStats]] = {}


def _read(uri: str) -> TableStats:
    from warehouse_sources.shared.warehouse_storage import configured_storage_options
    from warehouse_sources.warehouse.delta import open_table, read_state

    try:
        table = open_table(uri, configured_storage_options())
    except OSError as exc:  # not a table (a stray file, a broken log): the page shows no figures, not a 500
        log.warning("cannot read the warehouse table at %s: %s", uri, str(exc).splitlines()[0])
        return MISSING
    if table is None:
        return MISSING
    actions = table.get_add_actions(flatten=True)
    rows = None
    if "num_records" in actions.column_names:
        rows = sum(v for v in actions.column("num_records").to_pylist() if v is not None)
    return TableStats(table.version(), rows, read_state(table))


def table_stats(uri: str, expected_version: int | None = None) -> TableStats:
    """Stats of the table at `uri`, from the cache unless stale or older than `expected_version`."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(uri)
    if hit:
        at, stats = hit
        fresh = now - at < MAX_AGE_SECONDS
        if fresh and (expected_version is None or (stats.version is not None and stats.version >= expected_version)):
            return stats
    stats = _read(uri)
    with _lock:
        _cache[uri] = (now, stats)
    return stats


def forget(uri: str) -> None:
    with _lock:
        _cache.pop(uri, None)


def table_health(uri: str) -> TableHealth | None:
    """Size on disk, live files, versions kept and last maintenance of the table at `uri`, or None
    when there is no table. Reading them lists the table's whole folder, so they are kept per
    newest commit file (maintenance commits too), like the warehouse catalog's columns."""
    from warehouse_sources.shared.warehouse_storage import configured_storage_options
    from warehouse_sources.warehouse import health
    from warehouse_sources.web.warehouse_catalog import by_commit, latest_commit

    options = configured_storage_options()
    try:
        commit = latest_commit(uri, options)
        if commit is None:
            return None
        return by_commit("health", uri, commit, lambda: health.table_health(uri, options))
    except OSError as exc:  # a broken log: the page shows no figures, not a 500
        log.warning("cannot read the health of the warehouse table at %s: %s", uri, str(exc).splitlines()[0])
        return None
