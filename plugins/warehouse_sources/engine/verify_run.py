"""A table's deep verification as the CLI and the table's task run it, and where its result is kept.

The last result of each table is a small JSON file under the warehouse's hidden `.ws_verify/`
folder (the warehouse's listing skips hidden folders; no Delta table holds it, so no commit is
made for a verification): the Sources page shows it and `verify_every` reads when it was taken.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from warehouse_sources.engine.progress import Log
from warehouse_sources.engine.verify_deep import DeepResult, as_record, deep_verify
from warehouse_sources.plan import TablePlan
from warehouse_sources.warehouse.storage import filesystem

if TYPE_CHECKING:
    from warehouse_sources.sources.base import SourceReader

FOLDER = ".ws_verify"


def verify_table(
    reader: SourceReader,
    plan: TablePlan,
    warehouse_uri: str,
    storage_options: dict[str, str] | None,
    repair: bool,
    log: Log,
) -> DeepResult:
    """Verify the table (and repair its drift with `repair`); the last result is stored."""
    from warehouse_sources.engine.verify_repair import repair as repair_drift

    result = deep_verify(reader, plan, warehouse_uri, storage_options)
    record = as_record(result)
    if repair and not result.ok and not result.problem:
        log.info("%s", result.line())
        result = repair_drift(reader, plan, result, warehouse_uri, storage_options, log)
        record = as_record(result) | {"repaired": record}
    store(warehouse_uri, plan.synced_name, record, storage_options)
    return result


def _path(warehouse_uri: str, synced_name: str, storage_options: dict[str, str] | None) -> tuple[Any, str]:
    store_, root = filesystem(warehouse_uri, storage_options)
    return store_, f"{root.rstrip('/')}/{FOLDER}/{synced_name}.json"


def store(warehouse_uri: str, synced_name: str, record: dict[str, Any], storage_options: dict[str, str] | None) -> None:
    fs, path = _path(warehouse_uri, synced_name, storage_options)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as out:
        out.write(json.dumps(record, separators=(",", ":")).encode())


def last_result(warehouse_uri: str, synced_name: str, storage_options: dict[str, str] | None) -> dict[str, Any] | None:
    """The table's last stored verification, or None (never verified, or unreadable)."""
    try:
        fs, path = _path(warehouse_uri, synced_name, storage_options)
        with fs.open_input_stream(path) as source:
            found = json.loads(source.read())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def due(plan: TablePlan, warehouse_uri: str, storage_options: dict[str, str] | None) -> bool:
    """Whether `verify_every` asks for a deep verification now."""
    if plan.verify_every is None or plan.verify == "off":
        return False
    last = last_result(warehouse_uri, plan.synced_name, storage_options)
    try:
        taken = datetime.fromisoformat(str((last or {}).get("checked_at")))
    except ValueError:
        return True
    return datetime.now(UTC) - taken >= plan.verify_every - timedelta(minutes=1)


def scheduled(
    reader: SourceReader,
    plan: TablePlan,
    warehouse_uri: str,
    storage_options: dict[str, str] | None,
    log: Log,
    repair: bool = False,
) -> None:
    """The deep verification after the table's sync: when `verify_every` says it is due, or when the
    run asks to `repair`. Drift is a warning with its ranges; it fails the task with `verify: strict`,
    and when a repair leaves the table still differing."""
    from warehouse_sources.errors import SyncFatalError

    if not repair and not due(plan, warehouse_uri, storage_options):
        return
    result = verify_table(reader, plan, warehouse_uri, storage_options, repair, log)
    if result.ok:
        log.info("deep verification: %s", result.line())
        return
    log.warning("deep verification: %s", result.line())
    if repair or (plan.verify == "strict" and not result.problem):
        raise SyncFatalError(f"deep verification found drift (verify: strict): {result.line()}")
