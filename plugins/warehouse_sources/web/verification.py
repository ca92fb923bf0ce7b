"""A table's checks as the Sources page shows them: the deletion check, the last sync's count check and
the last deep verification.

A run whose checks find nothing and which has no changed rows commits nothing (a commit per idle run
would grow the table's log forever), so the table's last commit may hold an older check than the
last one that ran. Each sync task also returns its checks in its XCom (engine/verify.py `ran`); the
page shows whichever of the two is newer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warehouse_sources.plan import TablePlan
from warehouse_sources.web.models import DriftRange, Verified, VerifyCheck


def verification(
    table: TablePlan, warehouse_uri: str, state: Any = None, returned: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`deletes_checked_at` and `deletes_found`, `verify_check` (the counts against the table's
    statistics, engine/verify.py) and `verified` (the stored deep result, engine/verify_run.py), each
    None when there is none. `state`: the table's last committed sync state; `returned`: the return
    value of the table's latest sync task that left one."""
    from warehouse_sources.engine.verify_run import last_result
    from warehouse_sources.shared.warehouse_storage import configured_storage_options

    options = configured_storage_options()
    ran = returned.get("checks") if isinstance(returned, dict) else None
    ran = ran if isinstance(ran, dict) else {}
    return {
        **_deletes_checked(state, ran),
        "verify_check": _newer_check(_committed_check(table, warehouse_uri, options), _returned_check(ran)),
        "verified": _verified(last_result(warehouse_uri, table.synced_name, options)),
    }


def _deletes_checked(state: Any, ran: dict[str, Any]) -> dict[str, Any]:
    """When the table's last deletion check ran and what it found: the last commit's record or the
    latest task's, whichever is newer."""
    extra = state.extra if state is not None else {}
    found = [_deletion(extra), _deletion(ran)]
    at, count = max((f for f in found if f is not None), default=(None, None), key=lambda f: f[0])
    return {"deletes_checked_at": at, "deletes_found": count}


def _deletion(record: dict[str, Any]) -> tuple[datetime, int | None] | None:
    at, found = _when(record.get("deletes_checked_at")), record.get("deletes_found")
    return (at, found if isinstance(found, int) else None) if at is not None else None


def _committed_check(table: TablePlan, warehouse_uri: str, options: dict[str, str] | None) -> VerifyCheck | None:
    """The check of the table's last commit, computed again from its counts and the table's statistics."""
    from warehouse_sources.engine.verify import compare, deletions_synced
    from warehouse_sources.warehouse.delta import open_table, read_state, table_uri

    try:
        delta = open_table(table_uri(warehouse_uri, table.synced_name), options)
        state = read_state(delta) if delta is not None else None
        if state is None or not state.source_counts:
            return None
        found = compare(state, delta, deletions_synced(table))
    except OSError:  # an unreadable table shows no check, as it shows no figures
        return None
    return VerifyCheck(ok=found.ok, message=found.message, note=found.note, checked_at=_when(state.synced_at))


def _returned_check(ran: dict[str, Any]) -> VerifyCheck | None:
    try:
        return VerifyCheck.model_validate(ran["verify_check"])
    except (KeyError, ValueError):  # none, or one written by another version
        return None


def _newer_check(committed: VerifyCheck | None, returned: VerifyCheck | None) -> VerifyCheck | None:
    if committed is None or returned is None:
        return committed or returned
    if returned.checked_at is None or (
        committed.checked_at is not None and committed.checked_at >= returned.checked_at
    ):
        return committed
    return returned


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


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
