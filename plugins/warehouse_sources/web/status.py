"""Status of sources and tables (DESIGN §4.7), assembled from Airflow's records and the warehouse."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from warehouse_sources.shared.toggles import SourceToggles
from warehouse_sources.web import records
from warehouse_sources.web.catalog import Catalog, KnownSource
from warehouse_sources.web.models import (
    ConsumerRef,
    Deleted,
    ErrorRef,
    RunPoint,
    RunRef,
    SourceDetail,
    SourceSummary,
    Status,
    TableStatus,
)
from warehouse_sources.web.verification import verification

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from warehouse_sources.plan import TablePlan

FREQUENCY_WORDS = {
    "5m": "every 5 minutes", "30m": "every 30 minutes", "1h": "hourly", "6h": "every 6 hours",
    "12h": "every 12 hours", "24h": "daily", "7d": "weekly", "30d": "every 30 days",
}  # fmt: skip
FILE_NOTE = (
    "sources_dir is read-only here: the DAG stays paused and marked deleted; remove {file} from the "
    "repository (or image) that ships your source files"
)

UNFINISHED = "the delete stopped midway ({error}); its tasks skip: delete again to finish it"


def frequency(label: str, description: str | None) -> str:
    """The schedule in words; cron strings use Airflow's own description of them."""
    return FREQUENCY_WORDS.get(label) or (description if description else f"cron {label}")


def run_url(dag_id: str, run_id: str) -> str:
    return f"dags/{dag_id}/runs/{quote(run_id, safe='')}"


def task_url(dag_id: str, run_id: str, task_id: str) -> str:
    return f"{run_url(dag_id, run_id)}/tasks/{quote(task_id, safe='')}"


def _run_ref(run: records.RunRow | None) -> RunRef | None:
    if run is None:
        return None
    return RunRef(run_id=run.run_id, state=run.state, started=run.started, ended=run.ended,
                  url=run_url(run.dag_id, run.run_id))  # fmt: skip


def _status(toggles: SourceToggles, dag: records.DagRow | None, latest: records.RunRow | None,
            active: records.RunRow | None) -> Status:  # fmt: skip
    if toggles.deleted and (toggles.deleted.state == "deleted" or toggles.deleted.error):
        return "Deleted"
    if active:
        return "Running"
    if dag and dag.paused:
        return "Paused"
    if latest is None:
        return "Never run"
    return {"success": "Completed", "failed": "Failed"}.get(latest.state or "", "Never run")  # type: ignore[return-value]


def _deleted(toggles: SourceToggles, known: KnownSource) -> Deleted | None:
    """The delete marker as the page shows it: done, or stopped midway with why (a delete in
    progress, with no error yet, is not shown)."""
    d = toggles.deleted
    if d and d.state == "deleting" and d.error:
        return Deleted(by=d.by, at=d.at, file_removed=False, note=UNFINISHED.format(error=d.error), finished=False)
    if not d or d.state != "deleted":
        return None
    note = None if d.file_removed else FILE_NOTE.format(file=known.path.name)
    return Deleted(by=d.by, at=d.at, file_removed=d.file_removed, note=note)


def _error(dag_id: str, run: records.RunRow, task_id: str, errors: dict[tuple[str, str, str], str]) -> ErrorRef:
    message = errors.get((dag_id, run.run_id, task_id)) or f"task {task_id} failed; its log says why"
    return ErrorRef(message=message, task_id=task_id, run_id=run.run_id, url=task_url(dag_id, run.run_id, task_id))


def source_errors(session: Session, latest: dict[str, records.RunRow]) -> dict[str, ErrorRef]:
    """The first failed task of each DAG whose latest run failed, with its error's first line."""
    failed = [(r.dag_id, r.run_id) for r in latest.values() if r.state == "failed"]
    if not failed:
        return {}
    tasks = records.task_states(session, failed)
    errors = records.error_xcoms(session, failed)
    found: dict[str, ErrorRef] = {}
    for (dag_id, _, task_id), task in sorted(tasks.items()):
        if task.state in ("failed", "upstream_failed") and dag_id not in found:
            found[dag_id] = _error(dag_id, latest[dag_id], task_id, errors)
    return found


def summaries(session: Session, catalog: Catalog, names: list[str] | None = None) -> list[SourceSummary]:
    """Every (or the named) source's summary, in a fixed number of queries."""
    known = [catalog.sources[n] for n in (names if names is not None else sorted(catalog.sources))]
    dag_ids = [k.plan.dag_id for k in known]
    dags = records.dags(session, dag_ids)
    latest = records.latest_runs(session, dag_ids)
    active = records.active_runs(session, dag_ids)
    successes = records.last_successes(session, dag_ids)
    errors = source_errors(session, latest)
    stored = records.all_toggles(session)
    result = []
    for source in known:
        plan, dag_id = source.plan, source.plan.dag_id
        toggles = stored.get(plan.name, SourceToggles())
        dag = dags.get(dag_id)
        result.append(SourceSummary(
            name=plan.name, kind=plan.kind, dag_id=dag_id,
            status=_status(toggles, dag, latest.get(dag_id), active.get(dag_id)),
            paused=bool(dag and dag.paused), schedule=plan.schedule_label,
            frequency=frequency(plan.schedule_label, dag.timetable_description if dag else None),
            last_success=successes.get(dag_id), next_run=dag.next_run if dag and not dag.paused else None,
            last_run=_run_ref(latest.get(dag_id)), active_run=_run_ref(active.get(dag_id)),
            last_error=errors.get(dag_id), tables_total=len(plan.tables),
            tables_enabled=sum(toggles.enabled(t.synced_name, t.enabled)[0] for t in plan.tables),
            deleted=_deleted(toggles, source), dag_url=f"dags/{dag_id}",
        ))  # fmt: skip
    return result


def _history(dag_id: str, task_id: str, runs: list[records.RunRow], tasks: dict[Any, records.TaskRow],
             returns: dict[Any, Any]) -> list[RunPoint]:  # fmt: skip
    points = []
    for run in runs:
        task = tasks.get((dag_id, run.run_id, task_id))
        value = returns.get((dag_id, run.run_id, task_id))
        value = value if isinstance(value, dict) else {}
        points.append(RunPoint(run_id=run.run_id, at=run.started or run.run_after,
                               state=task.state if task else None, rows=value.get("rows"),
                               seconds=value.get("seconds")))  # fmt: skip
    return points


def _last_synced(dag_id: str, task_id: str, runs: list[records.RunRow],
                 tasks: dict[Any, records.TaskRow]) -> datetime | None:  # fmt: skip
    """When the table's task last succeeded among `runs`: a run that read or committed nothing
    is a successful sync too, though it leaves the table's Delta state as it was."""
    for run in reversed(runs):
        task = tasks.get((dag_id, run.run_id, task_id))
        if task is not None and task.state == "success":
            return task.ended or run.ended
    return None


def table_status(table: TablePlan, toggles: SourceToggles, warehouse_uri: str, runs: list[records.RunRow],
                 tasks: dict[Any, records.TaskRow], returns: dict[Any, Any],
                 errors: dict[tuple[str, str, str], str]) -> TableStatus:  # fmt: skip
    """State and rows of the latest run (one run for both); last synced from the task's last success,
    or, when that is older than the recent runs, from the sync state the table's last commit holds."""
    from warehouse_sources.warehouse.delta import table_uri
    from warehouse_sources.warehouse.state import encode_cursor
    from warehouse_sources.web.tablestats import table_health, table_stats

    dag_id = table.dag_id
    history = _history(dag_id, table.synced_name, runs, tasks, returns)
    committed = next((returns[(dag_id, r.run_id, table.synced_name)] for r in reversed(runs)
                      if isinstance(returns.get((dag_id, r.run_id, table.synced_name)), dict)), None)  # fmt: skip
    expected = committed.get("version") if committed else None
    uri = table_uri(warehouse_uri, table.synced_name)
    stats = table_stats(uri, expected if isinstance(expected, int) else None)
    health = table_health(uri)
    enabled, origin = toggles.enabled(table.synced_name, table.enabled)
    switch = toggles.tables.get(table.synced_name)
    latest = runs[-1] if runs else None
    state = history[-1].state if history else None
    last_synced = _last_synced(dag_id, table.synced_name, runs, tasks) or stats.synced_at
    return TableStatus(
        synced_name=table.synced_name, schema_name=table.schema, table=table.table, enabled=enabled,
        enabled_origin=origin, switched_by=switch.by if switch else None, switched_at=switch.at if switch else None,
        method=table.method, replication_key=table.replication_key,
        cursor=encode_cursor(stats.state.cursor) if stats.state else None, last_synced=last_synced,
        rows_last_run=history[-1].rows if history else None, rows_total=stats.rows, state=state,
        bytes_on_disk=health.bytes_on_disk if health else None, live_files=health.live_files if health else None,
        versions_kept=health.versions_kept if health else None,
        last_maintenance=health.last_maintenance if health else None,
        deletes=table.deletes, verify=table.verify, **verification(table, warehouse_uri, stats.state, committed),
        last_run=_run_ref(latest),
        last_error=_error(dag_id, latest, table.synced_name, errors) if latest and state == "failed" else None,
        history=history,
    )  # fmt: skip


def detail(session: Session, catalog: Catalog, name: str, warehouse_uri: str,
           consumers: dict[str, list[str]] | None = None) -> SourceDetail:  # fmt: skip
    """One source with each table's status and its last 20 runs; `consumers`: the DAGs the user may
    read that are scheduled on each table's asset, by synced name."""
    (summary,) = summaries(session, catalog, [name])
    known = catalog.sources[name]
    runs = records.recent_runs(session, known.plan.dag_id)
    pairs = [(known.plan.dag_id, r.run_id) for r in runs]
    tasks = records.task_states(session, pairs)
    returns = records.xcoms(session, pairs, "return_value")
    errors = records.error_xcoms(session, pairs[-1:])
    toggles = records.all_toggles(session).get(name, SourceToggles())
    tables = [table_status(t, toggles, warehouse_uri, runs, tasks, returns, errors) for t in known.plan.tables]
    for table in tables:
        table.used_by = [ConsumerRef(dag_id=d, url=f"dags/{d}") for d in (consumers or {}).get(table.synced_name, [])]
    return SourceDetail(**summary.model_dump(), source_file=known.path.name, tables=tables)
