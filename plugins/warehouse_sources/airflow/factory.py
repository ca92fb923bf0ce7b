"""Plans -> Airflow DAGs: one DAG per source, one task per table (DESIGN §4.4), plus a plan and mapped
range loads upstream of a table with `parallelism` (airflow/chunk_tasks.py).

Runs at DAG-parse time, so it reads YAML and nothing else: no network, no database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG

from warehouse_sources.airflow.assets import table_alias
from warehouse_sources.airflow.chunk_tasks import TABLE_TRIGGER_RULE, add_chunk_tasks
from warehouse_sources.airflow.operators import OPERATORS
from warehouse_sources.config.loader import load_sources
from warehouse_sources.errors import ConfigError
from warehouse_sources.plan import SourcePlan, plan_source

START_DATE = pendulum.datetime(2024, 1, 1, tz="UTC")
DEFAULT_ARGS = {"owner": "warehouse-sources", "retries": 2, "retry_delay": pendulum.duration(minutes=1)}


def schedule_phrase(plan: SourcePlan) -> str:
    """How often the DAG runs, in words for its docs and description."""
    if plan.manual_only:
        return "manual only: runs when triggered, never on a schedule"
    if isinstance(plan.schedule, str):
        return f"on the schedule `{plan.schedule_label}` (UTC)"
    return f"every {plan.schedule_label}"


def doc_md(plan: SourcePlan, path: Path) -> str:
    rows = "\n".join(
        f"| `{t.qualified_name}` | `{t.synced_name}` | {t.method} | {t.replication_key or ''} |"
        f"{'' if t.enabled else ' disabled'} |"
        for t in plan.tables
    )
    return (
        f"Syncs the **{plan.kind}** source `{plan.name}` (connection `{plan.conn_id}`"
        + (f" through the SSH connection `{plan.ssh_conn_id}`" if plan.ssh_conn_id else "")
        + f", {schedule_phrase(plan)}) into the warehouse. Defined in `{path.name}`.\n\n"
        + "| source table | synced table | method | replication key | |\n|---|---|---|---|---|\n"
        f"{rows}\n\n"
        'Trigger with conf `{"tables": ["<synced table>"], "full_refresh": true}` to sync some tables '
        "or rebuild them from scratch.\n\n"
        f"Status, table switches and actions: [{plan.name} on the Sources page]({sources_page_url(plan.name)})"
    )


def sources_page_url(source_name: str) -> str:
    """The source on the plugin's Sources page, under Airflow's base URL path (sub-path deployments too)."""
    from urllib.parse import quote, urlsplit

    from airflow.configuration import conf

    base = urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")
    return f"{base}/plugin/sources?source={quote(source_name)}"


def build_dag(plan: SourcePlan, path: Path) -> DAG:
    """The DAG of one source."""
    with DAG(
        dag_id=plan.dag_id,
        schedule=plan.schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=plan.tags,
        doc_md=doc_md(plan, path),
        default_args=DEFAULT_ARGS,
        description=f"Sync {plan.kind} source {plan.name} into the warehouse"
        + (" (manual only)" if plan.manual_only else ""),
    ) as dag:
        for table in plan.tables:
            task = OPERATORS[table.method](
                task_id=table.synced_name,
                source=plan,
                table=table,
                outlets=[table_alias(table.synced_name)],
                **({"trigger_rule": TABLE_TRIGGER_RULE} if table.parallelism is not None else {}),
            )
            if table.parallelism is not None:  # a full load's key ranges run as tasks of their own
                add_chunk_tasks(plan, table, task)
    return dag


def build_dags(sources_dir: Path) -> dict[str, DAG]:
    """Every valid source's DAG; broken files are left to `raise_config_errors` (never raised here)."""
    result = load_sources(sources_dir)
    dags: dict[str, DAG] = {}
    for loaded in result.sources:
        dag = build_dag(plan_source(loaded.config), loaded.path)
        dags[dag.dag_id] = dag
    return dags


def _sources_dir(sources_dir: Path | None) -> Path:
    if sources_dir is not None:
        return sources_dir
    from warehouse_sources.settings import load_settings

    return load_settings().sources_dir


def register_dags(namespace: dict[str, Any], sources_dir: Path | None = None) -> None:
    """Put the valid sources' DAGs in a DAG file's globals(), where the DagBag finds them.

    This never raises for a broken source file: Airflow 3.3 marks every DAG of a file with an
    import error as stale, which would stop every source for one typo.
    """
    namespace.update(build_dags(_sources_dir(sources_dir)))


def raise_config_errors(sources_dir: Path | None = None) -> None:
    """Raise one ConfigError listing every broken source file's problems, if there is any.

    Called by a DAG file of its own that defines no DAG, so the import error Airflow records
    names the broken files and fields without touching the valid sources' DAGs.
    """
    result = load_sources(_sources_dir(sources_dir))
    if result.problems:
        raise ConfigError([p for problems in result.problems.values() for p in problems])
