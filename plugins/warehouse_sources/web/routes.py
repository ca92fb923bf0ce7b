"""The REST routes (DESIGN §4.8). Every one needs an Airflow user and the DAG permission its action needs."""

from __future__ import annotations

from typing import Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Body, HTTPException

from warehouse_sources.plan import dag_id_of
from warehouse_sources.shared.table_names import table_named, unknown_tables_problem
from warehouse_sources.web import actions, query, status
from warehouse_sources.web.auth import authorize, is_admin, readable_dag_ids
from warehouse_sources.web.catalog import Catalog, KnownSource, load_catalog
from warehouse_sources.web.models import (
    DeleteAnswer,
    PauseAnswer,
    QueryAnswer,
    QueryBody,
    SourceDetail,
    SourceList,
    SyncAnswer,
    SyncBody,
    TableSwitchAnswer,
    TableSwitchBody,
    WarehouseColumn,
    WarehouseTable,
    WarehouseTables,
)

router = APIRouter(prefix="/api")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid token"},
    403: {"description": "no permission on the source's DAG"},
    404: {"description": "unknown source or table"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "a run in progress, a disabled table named, a deleted or paused source"}
}


def _catalog() -> Catalog:
    from warehouse_sources.settings import load_settings

    return load_catalog(load_settings().sources_dir)


def _source(name: str) -> KnownSource:
    catalog = _catalog()
    if name not in catalog.sources:
        raise HTTPException(404, f"no source {name!r} in sources_dir; known: {', '.join(sorted(catalog.sources))}")
    return catalog.sources[name]


def _warehouse_uri() -> str:
    from warehouse_sources.settings import load_settings

    return load_settings().warehouse_uri


@router.get("/sources", response_model=SourceList, responses=ERRORS)
def list_sources(user: GetUserDep, session: SessionDep) -> SourceList:
    """Every source the user may read, with its status, and the problems of the files they may see."""
    catalog = _catalog()
    dag_ids = {k.plan.dag_id for k in catalog.sources.values()}
    dag_ids |= {dag_id_of(f.source) for f in catalog.problems if f.source}
    readable = readable_dag_ids(user, sorted(dag_ids))
    names = sorted(n for n, k in catalog.sources.items() if k.plan.dag_id in readable)
    admin = any(not f.source for f in catalog.problems) and is_admin(user)
    warnings = [line for f in catalog.problems if (dag_id_of(f.source) in readable if f.source else admin)
                for line in f.lines]  # fmt: skip
    return SourceList(sources=status.summaries(session, catalog, names), warnings=warnings)


@router.get("/sources/{name}", response_model=SourceDetail, responses=ERRORS)
def get_source(name: str, user: GetUserDep, session: SessionDep) -> SourceDetail:
    """One source with its status and each table's."""
    from warehouse_sources.web.consumers import table_consumers

    authorize(user, dag_id_of(name), "read")
    known = _source(name)
    consumers = table_consumers(session, known.plan.tables, user)
    return status.detail(session, _catalog(), name, _warehouse_uri(), consumers)


@router.post("/sources/{name}/sync", response_model=SyncAnswer, responses={**ERRORS, **CONFLICT})
def sync_source(
    name: str, user: GetUserDep, session: SessionDep, body: Annotated[SyncBody | None, Body()] = None
) -> SyncAnswer:
    """Sync now (a normal run) or resync (`full_refresh`), of the whole source or the named tables."""
    authorize(user, dag_id_of(name), "run")
    known = _source(name)
    body = body or SyncBody()
    run_id, tables = actions.trigger_sync(session, known, body, user.get_name())
    return SyncAnswer(dag_id=known.plan.dag_id, dag_run_id=run_id, tables=tables, full_refresh=body.full_refresh)


@router.post("/sources/{name}/repair", response_model=SyncAnswer, responses={**ERRORS, **CONFLICT})
def repair_source(
    name: str, user: GetUserDep, session: SessionDep, body: Annotated[SyncBody | None, Body()] = None
) -> SyncAnswer:
    """Repair: a run that syncs the named tables (all enabled ones by default), verifies them deeply
    and rewrites their drifted key ranges from the source (run conf {"repair": true})."""
    authorize(user, dag_id_of(name), "run")
    known = _source(name)
    body = (body or SyncBody()).model_copy(update={"repair": True})
    run_id, tables = actions.trigger_sync(session, known, body, user.get_name())
    return SyncAnswer(dag_id=known.plan.dag_id, dag_run_id=run_id, tables=tables, full_refresh=body.full_refresh)


def _pause(name: str, user: GetUserDep, session: SessionDep, paused: bool) -> PauseAnswer:
    authorize(user, dag_id_of(name), "edit")
    actions.set_paused(session, _source(name), paused)
    return PauseAnswer(name=name, paused=paused)


@router.post("/sources/{name}/pause", response_model=PauseAnswer, responses={**ERRORS, **CONFLICT})
def pause_source(name: str, user: GetUserDep, session: SessionDep) -> PauseAnswer:
    """Stop scheduling the source's runs (a run in progress finishes)."""
    return _pause(name, user, session, True)


@router.post("/sources/{name}/unpause", response_model=PauseAnswer, responses={**ERRORS, **CONFLICT})
def unpause_source(name: str, user: GetUserDep, session: SessionDep) -> PauseAnswer:
    """Schedule the source's runs again."""
    return _pause(name, user, session, False)


@router.delete("/sources/{name}", response_model=DeleteAnswer, responses={**ERRORS, **CONFLICT})
def delete_source(name: str, user: GetUserDep, session: SessionDep) -> DeleteAnswer:
    """Drop the source's synced tables and state and stop scheduling it; 409 while a run is active."""
    authorize(user, dag_id_of(name), "delete")
    known = _source(name)
    dropped, removed = actions.delete_source(session, known, user.get_name(), _warehouse_uri())
    note = None if removed else status.FILE_NOTE.format(file=known.path.name)
    return DeleteAnswer(name=name, dropped=dropped, file_removed=removed, note=note)


@router.patch("/sources/{name}/tables/{synced}", response_model=TableSwitchAnswer, responses={**ERRORS, **CONFLICT})
def switch_table(
    name: str, synced: str, body: TableSwitchBody, user: GetUserDep, session: SessionDep
) -> TableSwitchAnswer:
    """Enable or disable one table for every later run, overriding the source file's `enabled`."""
    authorize(user, dag_id_of(name), "edit")
    known = _source(name)
    table = table_named(known.plan.tables, synced)
    if table is None:
        raise HTTPException(404, f"source {name!r}: {unknown_tables_problem([synced], known.plan.tables)}")
    switch = actions.switch_table(session, known, table, body.enabled, user.get_name())
    return TableSwitchAnswer(source=name, synced_name=table.synced_name, enabled=switch.enabled, enabled_origin="ui",
                             switched_by=switch.by, switched_at=switch.at)  # fmt: skip


@router.get("/tables", response_model=WarehouseTables, responses=ERRORS)
def warehouse_tables(user: GetUserDep) -> WarehouseTables:
    """The warehouse's tables with their columns and types: those of sources the user may read, and
    tables no valid source owns (`events`, or a broken or removed source's) for admins only."""
    from warehouse_sources.web.warehouse_catalog import list_tables

    catalog = _catalog()
    owners = {t.synced_name: k.plan for k in catalog.sources.values() for t in k.plan.tables}
    readable = readable_dag_ids(user, sorted({p.dag_id for p in owners.values()}))
    visible = {n: p.name for n, p in owners.items() if p.dag_id in readable}
    tables = list_tables(_warehouse_uri(), visible, owners, ownerless=is_admin(user))
    views = [WarehouseTable(name=name, kind="view", source=None, version=None,
                            columns=[WarehouseColumn(name=c, type=t) for c, t in columns])
             for name, columns in query.readable_views(user, catalog)]  # fmt: skip
    return WarehouseTables(tables=tables.tables + views)


QUERY_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid token"},
    400: {"description": "bad SQL, a statement a read-only query may not run, or a limit reached"},
    403: {"description": "a table the user may not read (named)"},
    429: {"description": "the API server's queries-at-once limit is reached; retry shortly"},
}


@router.post("/query", response_model=QueryAnswer, responses=QUERY_ERRORS)
def run_query(body: QueryBody, user: GetUserDep) -> dict[str, Any]:
    """Run one read-only SQL query over the warehouse (DESIGN §4.6), within the engine's limits.

    A plain `def`: FastAPI runs it in a worker thread, so the API server's event loop stays free."""
    from warehouse_sources.query.errors import QueryError, TooManyQueriesError

    try:
        result = query.engine().run(body.sql, body.limit, check_tables=query.table_check(user, _catalog()))
    except TooManyQueriesError as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": "1"}) from None
    except QueryError as exc:
        raise HTTPException(400, str(exc)) from None
    return result.to_json()
