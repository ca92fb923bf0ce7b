"""When a sync checks deletions, and the check around the writer (engine/deletes.py does the work)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse_sources.engine import checks
from warehouse_sources.engine.deletes import DeleteCheck, carried, count_rows, due, recorded
from warehouse_sources.engine.missing_keys import find_deleted
from warehouse_sources.engine.reads import Read
from warehouse_sources.errors import SyncFatalError
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse.state import SyncState

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from warehouse_sources.engine.writer import SyncResult, Writer
    from warehouse_sources.sources.base import SourceReader, TableDescription


def with_check(
    reader: SourceReader,
    desc: TableDescription,
    plan: TablePlan,
    previous: SyncState | None,
    base: SyncState,
    read: Read | None,
    table: DeltaTable | None,
) -> Read | None:
    """`read` with this run's deletion check when one is due. A run with no changed rows still
    checks the key set (an empty read from the cursor on); a rebuild needs no check."""
    if plan.deletes == "none" or (read is not None and read.write != "merge"):
        return read
    if read is not None:
        read = replace(read, state=replace(read.state, extra={**carried(previous), **read.state.extra}))
    synced_at = datetime.fromisoformat(base.synced_at)
    if not due(plan, previous, synced_at):
        return read
    if read is None:
        if table is None or previous is None or previous.cursor is None or plan.deletes_column:
            return None  # nothing read and nothing stored to compare, or no changed row to look at
        assert plan.replication_key is not None
        where = reader.key_condition(desc, plan.replication_key, ">", previous.cursor)
        state = replace(previous, synced_at=base.synced_at, run_id=base.run_id, extra=carried(previous))
        read = Read("merge", where, state, cursor_moved=True)
    return replace(read, deletes=DeleteCheck(plan, synced_at))


def write_with(writer: Writer, read: Read, write: Callable[[Read], SyncResult]) -> SyncResult:
    """Find the keys that left the source (key-set check, in the read's snapshot) and write the
    read with them, in one commit; log and count what was deleted."""
    check = read.deletes
    assert check is not None and writer.table is not None
    with tempfile.TemporaryDirectory(prefix="ws-deletes-") as folder:
        if check.plan.deletes_column is None:
            read_keys = getattr(writer.reader, "read_keys", None)
            if read_keys is None:
                raise SyncFatalError(
                    f"{checks.where(check.plan)}: this source kind cannot list its keys, so deletes by key-set "
                    "comparison are not available; set deletes_column, or use sync: full_table"
                )
            keys = partial(read_keys, writer.desc, writer.keys)  # called with ordered=True or False
            spool = find_deleted(keys, writer.table, writer.keys, Path(folder))
            check.found = count_rows(spool)
            check.spool = spool if check.found else None
            read = replace(read, state=recorded(read.state, check))
        result = write(read)
    if result.write == "none":
        return result
    writer.log.info("%s: %s", check.plan.qualified_name, check.summary())
    return replace(result, deleted=check.deleted)
