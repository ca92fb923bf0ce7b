"""Resync markers: after an edit that invalidates a table's stored state, its next run rebuilds it.

The sync engine rebuilds a table by itself when the method or replication key differs from what its
last commit stored; a changed primary key is not stored there, so an edit through REST leaves a
marker: one Airflow Variable per table, `warehouse_sources_resync.<source>.<synced name>`, holding
the new primary key. A task whose plan has that key runs as a full refresh and removes the marker
once the sync succeeded; a task still running the DAG's previous version (the old key, parsed before
the file changed) leaves it for the next run. Its own prefix keeps it out of the per-source toggle
Variables (`warehouse_sources.<source>`), which the Sources page reads all at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from warehouse_sources.plan import TablePlan

PREFIX = "warehouse_sources_resync."


def marker_key(source_name: str, synced_name: str) -> str:
    return f"{PREFIX}{source_name}.{synced_name}"


def mark(source_name: str, synced_name: str, primary_key: Sequence[str] | None, by: str) -> None:
    """API server: ask for a full refresh of the table's next run under `primary_key` (ORM write)."""
    from airflow.models.variable import Variable

    value = {"primary_key": list(primary_key) if primary_key else None, "by": by,
             "at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    Variable.set(marker_key(source_name, synced_name), json.dumps(value),
                 description=f"warehouse-sources: resync {synced_name} on its next run")  # fmt: skip


def _due(text: str | None, plan: TablePlan) -> bool:
    if not text:
        return False
    try:
        wanted = json.loads(text).get("primary_key")
    except (ValueError, AttributeError):
        return True  # unreadable: rebuilding once is the safe side
    return wanted == (list(plan.primary_key) if plan.primary_key else None)


def requested(plan: TablePlan) -> bool:
    """Task side: whether a marker waits for this table as planned, left in place (a chunked load's plan
    reads it; the table's task removes it with the commit, airflow/chunk_tasks.py)."""
    from airflow.sdk import Variable

    return _due(Variable.get(marker_key(plan.source_name, plan.synced_name), default=None), plan)


@contextmanager
def pending(plan: TablePlan, log: Any) -> Iterator[bool]:
    """Task side: whether a marker waits for this table as planned; removed when the block ends well."""
    from airflow.sdk import Variable

    key = marker_key(plan.source_name, plan.synced_name)
    due = _due(Variable.get(key, default=None), plan)
    if due:
        log.info("resync requested by an edit of the source (the primary key changed): rebuilding the table")
    yield due
    if due:
        try:
            Variable.delete(key)
        except Exception:  # the table is synced; the next run rebuilds once more rather than fail this one
            log.warning("could not remove the resync marker %s; the next run rebuilds the table again", key)
