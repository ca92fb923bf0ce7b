"""A table's verification as the Sources page shows it: the last sync's check and the last deep one."""

from __future__ import annotations

from typing import Any

from warehouse_sources.plan import TablePlan
from warehouse_sources.web.models import DriftRange, Verified, VerifyCheck


def verification(table: TablePlan, warehouse_uri: str) -> dict[str, Any]:
    """`verify_check` (the committed counts against the table's statistics, engine/verify.py) and
    `verified` (the stored deep result, engine/verify_run.py); each None when there is none."""
    from warehouse_sources.engine.verify import compare, deletions_synced
    from warehouse_sources.engine.verify_run import last_result
    from warehouse_sources.shared.warehouse_storage import configured_storage_options
    from warehouse_sources.warehouse.delta import open_table, read_state, table_uri

    options = configured_storage_options()
    check = None
    try:
        delta = open_table(table_uri(warehouse_uri, table.synced_name), options)
        state = read_state(delta) if delta is not None else None
        if state is not None and state.source_counts:
            found = compare(state, delta, deletions_synced(table))
            check = VerifyCheck(ok=found.ok, message=found.message, note=found.note)
    except OSError:  # an unreadable table shows no check, as it shows no figures
        check = None
    return {"verify_check": check, "verified": _verified(last_result(warehouse_uri, table.synced_name, options))}


def _verified(record: dict[str, Any] | None) -> Verified | None:
    if not record:
        return None
    try:
        drift = [DriftRange(low=d[0], high=d[1], source_rows=d[2], warehouse_rows=d[3]) for d in record["drift"]]
        fields = {k: record[k] for k in ("checked_at", "ok", "key", "source_rows", "warehouse_rows", "line")}
        return Verified(**fields, drift=drift, unchecked_columns=record.get("unchecked_columns", []),
                        problem=record.get("problem", ""), repaired="repaired" in record)  # fmt: skip
    except (KeyError, TypeError, ValueError, IndexError):  # a result written by another version
        return None
