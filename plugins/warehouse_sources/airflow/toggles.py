"""How a task obeys the stored table switches and delete marker (their model: shared/toggles.py).

Tasks read them through the Task SDK (`airflow.sdk.Variable`), never the metadata DB.
"""

from __future__ import annotations

from warehouse_sources.shared.toggles import ERROR_XCOM_KEY as ERROR_XCOM_KEY
from warehouse_sources.shared.toggles import SourceToggles, load_toggles, variable_key


def read_for_task(source_name: str) -> SourceToggles:
    """The stored toggles as a task sees them, through the Task SDK (no metadata DB access)."""
    from airflow.sdk import Variable

    key = variable_key(source_name)
    return load_toggles(Variable.get(key, default=None), key)


def skip_reason(source_name: str, synced_name: str, qualified_name: str, yaml_enabled: bool,
                toggles: SourceToggles) -> str | None:  # fmt: skip
    """Why a table's task must not sync this run (deleted source, switched off), or None."""
    if toggles.deleted:
        d = toggles.deleted
        return f"source {source_name!r} was deleted by {d.by} at {d.at}; its tasks no longer sync"
    enabled, origin = toggles.enabled(synced_name, yaml_enabled)
    if enabled:
        return None
    if origin == "yaml":
        return f"{qualified_name} ({synced_name}) is disabled in the source file (enabled: false)"
    switch = toggles.tables[synced_name]
    return f"{qualified_name} ({synced_name}) was disabled by {switch.by} at {switch.at} (Sources page / REST)"


def error_line(exc: BaseException) -> str:
    """The first line of a failure, as the Sources page shows it."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]
