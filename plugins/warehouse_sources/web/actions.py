"""The page's and REST's actions: start DAG runs or change stored state. Nothing here syncs.

Each function raises `Conflict` (409) or `NotFound` (404) with a message naming the source,
table or run and what to do; the routes turn them into `{"detail": ...}` answers.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse_sources.shared.toggles import Deletion, SourceToggles, Switch, dump_toggles, variable_key
from warehouse_sources.web import records
from warehouse_sources.web.catalog import KnownSource
from warehouse_sources.web.models import SyncBody

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from warehouse_sources.plan import TablePlan


class Conflict(Exception):
    """The action clashes with the source's current state (409)."""


class NotFound(Exception):
    """No such source or table (404)."""


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def stored_toggles(session: Session, name: str) -> SourceToggles:
    return records.all_toggles(session).get(name, SourceToggles())


def save_toggles(session: Session, name: str, toggles: SourceToggles) -> None:
    from airflow.models.variable import Variable

    Variable.set(variable_key(name), dump_toggles(toggles), description=f"warehouse-sources: {name}", session=session)


def _usable(session: Session, known: KnownSource) -> records.DagRow:
    """The source's DAG row; 409 when the source is deleted or Airflow has not parsed its DAG yet."""
    name, dag_id = known.plan.name, known.plan.dag_id
    if stored_toggles(session, name).deleted:
        raise Conflict(f"source {name!r} is deleted; add its file again to bring it back")
    dag = records.dags(session, [dag_id]).get(dag_id)
    if dag is None:
        raise Conflict(f"DAG {dag_id!r} is not in Airflow yet: the dag-processor has not parsed {known.path.name}")
    return dag


def _active_conflict(session: Session, dag_id: str, doing: str) -> None:
    run = records.active_runs(session, [dag_id]).get(dag_id)
    if run:
        raise Conflict(f"cannot {doing}: run {run.run_id!r} of {dag_id!r} is {run.state}; wait for it to finish")


def _selected(known: KnownSource, toggles: SourceToggles, names: list[str] | None) -> list[TablePlan]:
    """The tables a sync request names (all enabled ones when none are named); 404/409 as DESIGN §4.7 says."""
    plan = known.plan
    enabled = [t for t in plan.tables if toggles.enabled(t.synced_name, t.enabled)[0]]
    if names is None:
        if not enabled:
            raise Conflict(f"every table of source {plan.name!r} is disabled; switch one on first")
        return enabled
    from warehouse_sources.shared.table_names import table_named, unknown_tables_problem

    chosen = []
    for name in dict.fromkeys(names):
        table = table_named(plan.tables, name)
        if table is None:
            raise NotFound(f"source {plan.name!r}: {unknown_tables_problem([name], plan.tables)}")
        if table not in enabled:
            raise Conflict(f"table {table.synced_name!r} of source {plan.name!r} is disabled; switch it on first")
        chosen.append(table)
    return chosen


def trigger_sync(session: Session, known: KnownSource, body: SyncBody, user_name: str) -> tuple[str, list[str] | None]:
    """Queue a run with the conf the DAG accepts (DESIGN §4.4); returns its run id and the tables."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.utils.types import DagRunTriggeredByType

    dag = _usable(session, known)
    dag_id = known.plan.dag_id
    tables = _selected(known, stored_toggles(session, known.plan.name), body.tables)
    if dag.paused:
        raise Conflict(f"source {known.plan.name!r} is paused; unpause it, then sync")
    _active_conflict(session, dag_id, "start another sync")
    conf: dict[str, Any] = {}
    names = [t.synced_name for t in tables] if body.tables is not None else None
    if names is not None:
        conf["tables"] = names
    if body.full_refresh:
        conf["full_refresh"] = True
    if body.repair:
        conf["repair"] = True  # each table's task verifies and repairs after its sync (airflow/run_conf.py)
    run = trigger_dag(dag_id, triggered_by=DagRunTriggeredByType.REST_API, triggering_user_name=user_name,
                      conf=conf, session=session)  # fmt: skip
    if run is None:
        raise Conflict(f"Airflow did not create a run of {dag_id!r}")
    return run.run_id, names


def set_paused(session: Session, known: KnownSource, paused: bool) -> None:
    from airflow.models.dag import DagModel
    from sqlalchemy import update

    _usable(session, known)
    session.execute(update(DagModel).where(DagModel.dag_id == known.plan.dag_id).values(is_paused=paused))


def switch_table(session: Session, known: KnownSource, table: TablePlan, enabled: bool, user_name: str) -> Switch:
    toggles = stored_toggles(session, known.plan.name)
    if toggles.deleted:
        raise Conflict(f"source {known.plan.name!r} is deleted; its tables cannot be switched")
    switch = Switch(enabled=enabled, by=user_name, at=now_iso())
    save_toggles(session, known.plan.name, toggles.with_switch(table.synced_name, switch))
    return switch


def _remove_file(path: Path) -> bool:
    """Remove the source file when sources_dir is writable; False when it is not (git, image)."""
    if not os.access(path.parent, os.W_OK):
        return False
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def _refuse_links(known: KnownSource, warehouse_uri: str) -> None:
    """409 before anything changes when a table folder is a symbolic link: dropping it would
    follow the link and could remove files outside the warehouse."""
    from warehouse_sources.warehouse.delta import table_uri
    from warehouse_sources.warehouse.maintenance import is_linked_folder

    for table in known.plan.tables:
        if is_linked_folder(table_uri(warehouse_uri, table.synced_name)):
            raise Conflict(
                f"cannot delete source {known.plan.name!r}: the warehouse folder of table {table.synced_name!r} "
                "is a symbolic link, and delete does not follow links (it could remove files outside the "
                "warehouse); remove the link (and what it points to, if you mean to) by hand, then delete again"
            )


def _drop_tables(session: Session, known: KnownSource, warehouse_uri: str, marker: Deletion,
                 toggles: SourceToggles) -> list[str]:  # fmt: skip
    """Drop every synced table; on a failure, record why in the marker and answer 409 (a retry finishes)."""
    from dataclasses import replace

    from warehouse_sources.shared.warehouse_storage import configured_storage_options
    from warehouse_sources.warehouse.delta import table_uri
    from warehouse_sources.warehouse.maintenance import drop_table
    from warehouse_sources.web import tablestats

    dropped = []
    options = configured_storage_options()
    for table in known.plan.tables:
        uri = table_uri(warehouse_uri, table.synced_name)
        try:
            drop_table(uri, options)
        except OSError as exc:
            reason = f"table {table.synced_name!r}: {exc.strerror or str(exc)[:200]}"
            save_toggles(session, known.plan.name, SourceToggles(toggles.tables, replace(marker, error=reason)))
            session.commit()
            raise Conflict(
                f"delete of source {known.plan.name!r} stopped at {reason}; the tables before it are dropped and "
                "the source stays paused and marked deleted (its tasks skip): fix that, then delete again to finish"
            ) from exc
        tablestats.forget(uri)
        dropped.append(table.synced_name)
    return dropped


def delete_source(session: Session, known: KnownSource, user_name: str, warehouse_uri: str) -> tuple[list[str], bool]:
    """Refuse links, pause, refuse while a run is active, mark, drop every synced table, remove the file.

    The marker says "deleting" until every table is gone, so a crash or a failure midway leaves
    a source that shows as deleted to tasks (they skip) and that a second DELETE finishes.
    """
    from airflow.models.dag import DagModel
    from sqlalchemy import update

    from warehouse_sources.web import catalog

    name, dag_id = known.plan.name, known.plan.dag_id
    toggles = stored_toggles(session, name)
    if toggles.deleted and toggles.deleted.state == "deleted":
        raise NotFound(f"source {name!r} is already deleted")
    _active_conflict(session, dag_id, f"delete source {name!r}")
    _refuse_links(known, warehouse_uri)
    session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=True))
    marker = Deletion(state="deleting", by=user_name, at=now_iso())
    save_toggles(session, name, SourceToggles(tables=toggles.tables, deleted=marker))
    session.commit()  # paused and marked before anything is dropped
    dropped = _drop_tables(session, known, warehouse_uri, marker, toggles)
    removed = _remove_file(known.path)
    if removed:  # the source is gone from sources_dir: nothing to remember, a new file starts afresh
        from airflow.models.variable import Variable

        catalog.forget()
        Variable.delete(variable_key(name), session=session)
        return dropped, removed
    done = Deletion(state="deleted", by=user_name, at=marker.at, file_removed=False)
    save_toggles(session, name, SourceToggles(tables=toggles.tables, deleted=done))
    return dropped, removed
