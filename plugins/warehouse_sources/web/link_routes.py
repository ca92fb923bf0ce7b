"""The link-a-source routes (DESIGN §4.9): kinds, connection test, catalog, create, replace, read a source file.

Credentials stay in Airflow's connections (the form creates them with `POST /api/v2/connections`);
these routes only read them, from the API server, with the user's connection permission.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Body, HTTPException, Query
from fastapi.responses import JSONResponse

from warehouse_sources.web import link_connect, link_save
from warehouse_sources.web.auth import authorize
from warehouse_sources.web.link_models import (
    CatalogAnswer,
    ConnectionTestAnswer,
    ConnectionTestBody,
    KindList,
    SaveAnswer,
    SourceConfigAnswer,
)

router = APIRouter(prefix="/api")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid token"},
    403: {"description": "no permission on the connection (or the source's DAG)"},
    404: {"description": "unknown connection or source"},
}
SAVE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"description": "a name or synced table name clash, or sources_dir not writable (the YAML is in the body)"},
    422: {"description": "field errors: {detail: [{loc, msg}]}"},
}


def require_connection_read(user: Any, conn_id: str | None = None) -> None:
    """403 unless the user may read Airflow connections (this one, its team included, when named)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import ConnectionDetails
    from airflow.models.connection import Connection

    team = Connection.get_team_name(conn_id) if conn_id else None
    details = ConnectionDetails(conn_id=conn_id, team_name=team)
    if not get_auth_manager().is_authorized_connection(method="GET", details=details, user=user):
        what = f"connection {conn_id!r}" if conn_id else "Airflow connections"
        raise HTTPException(403, f"user {user.get_name()!r} may not read {what}")


def _known_kind(kind: str) -> None:
    from warehouse_sources.registry import kind_spec

    try:
        kind_spec(kind)
    except ValueError as exc:
        raise HTTPException(422, [{"loc": ["kind"], "msg": str(exc), "type": "value_error"}]) from None


@router.get("/kinds", response_model=KindList, responses=ERRORS)
def kinds(user: GetUserDep) -> KindList:
    """Every source kind: its Airflow connection type(s) and the fields of its form."""
    from warehouse_sources.web.link_kinds import list_kinds

    require_connection_read(user)
    return list_kinds()


@router.post("/connections/{conn_id}/test", response_model=ConnectionTestAnswer, responses=ERRORS)
def test_connection(conn_id: str, body: ConnectionTestBody, user: GetUserDep) -> ConnectionTestAnswer:
    """Connect for real (at most 10 s) and read what a sync reads first; a failure is `ok: false`."""
    require_connection_read(user, conn_id)
    if body.ssh_conn_id:
        require_connection_read(user, body.ssh_conn_id)
    _known_kind(body.kind)
    probe = link_connect.Probe(body.kind, conn_id, body.ssh_conn_id, body.url)
    try:
        count = link_connect.check_connection(probe)
    except link_connect.UnknownConnection as exc:
        raise HTTPException(404, str(exc)) from None
    except link_connect.ProbeFailed as exc:
        return ConnectionTestAnswer(ok=False, error=probe.redact(str(exc)))
    return ConnectionTestAnswer(ok=True, tables=count)


@router.get("/connections/{conn_id}/tables", response_model=CatalogAnswer, responses=ERRORS)
def connection_tables(
    conn_id: str,
    user: GetUserDep,
    kind: Annotated[str, Query(min_length=1, max_length=40)],
    ssh_conn_id: Annotated[str | None, Query(max_length=250)] = None,
    url: Annotated[str | None, Query(max_length=2000, description="bucket: the source's url")] = None,
    pattern: Annotated[str | None, Query(max_length=1000, description="bucket: a glob under url")] = None,
    format: Annotated[str | None, Query(max_length=20, description="bucket: csv | parquet | jsonl | delta")] = None,
) -> CatalogAnswer:
    """The tables a source file could name, their columns (which may be a replication key, and why not),
    primary keys and row estimates; for a bucket, the files `pattern` matches and their columns."""
    require_connection_read(user, conn_id)
    if ssh_conn_id:
        require_connection_read(user, ssh_conn_id)
    _known_kind(kind)
    probe = link_connect.Probe(kind, conn_id, ssh_conn_id, url, pattern, format)
    try:
        listing = link_connect.list_catalog(probe)
    except link_connect.UnknownConnection as exc:
        raise HTTPException(404, str(exc)) from None
    except link_connect.ProbeFailed as exc:
        raise HTTPException(502, probe.redact(str(exc))) from None
    return CatalogAnswer.model_validate(listing, from_attributes=True)


SourceBody = Annotated[dict[str, Any], Body(description="a source as JSON (DESIGN §4.1)")]


@router.post("/sources", status_code=201, response_model=SaveAnswer, responses=SAVE_ERRORS)
def create_source(body: SourceBody, user: GetUserDep) -> Any:
    """Write a new source file `<sources_dir>/<name>.yaml`; its DAG appears when Airflow next parses the folder."""
    return _save(body, user, None)


@router.put("/sources/{name}", response_model=SaveAnswer, responses=SAVE_ERRORS)
def replace_source(name: str, body: SourceBody, user: GetUserDep) -> Any:
    """Replace a source's file with the body (comments in it kept where the YAML library allows)."""
    return _save(body, user, name)


@router.get("/sources/{name}/config", response_model=SourceConfigAnswer, responses=ERRORS)
def source_config(name: str, user: GetUserDep) -> SourceConfigAnswer:
    """A source's file: as JSON (what PUT takes back) and as its YAML text."""
    from warehouse_sources.web.source_files import as_json

    authorize(user, f"sync_{name}", "read")
    text = _existing(name).path.read_text(encoding="utf-8")
    return SourceConfigAnswer(source=as_json(text), yaml=text)


def _existing(name: str) -> Any:
    from warehouse_sources.settings import load_settings
    from warehouse_sources.web.catalog import load_catalog

    known = load_catalog(load_settings().sources_dir).sources.get(name)
    if known is None:
        raise HTTPException(404, f"no source {name!r} in sources_dir")
    return known


def _save(body: dict[str, Any], user: Any, replacing: str | None) -> Any:
    from warehouse_sources.settings import load_settings
    from warehouse_sources.web.catalog import load_catalog
    from warehouse_sources.web.link_checks import check_against_source

    name = replacing or body.get("name")
    authorize(user, f"sync_{name}", "edit")
    sources_dir = load_settings().sources_dir
    catalog = load_catalog(sources_dir)
    existing = _existing(replacing) if replacing else None
    try:
        draft = link_save.draft(body, sources_dir, existing)
        if draft.config.conn_id:
            require_connection_read(user, draft.config.conn_id)
        link_save.check_clashes(draft, catalog, replacing)
        check_against_source(draft)
        changed = link_save.state_changes(existing.plan if existing else None, draft.plan)
        link_save.write(draft)
        _mark_resyncs(draft.plan, changed, user.get_name())
    except link_save.FieldErrors as exc:
        return JSONResponse({"detail": exc.errors}, status_code=422)
    except link_save.Clash as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    except link_save.ReadOnly as exc:
        return JSONResponse({"detail": str(exc), "yaml": exc.text, "file": exc.file}, status_code=409)
    status = 200 if replacing else 201
    answer = SaveAnswer(name=draft.config.name, dag_id=draft.plan.dag_id, file=draft.path.name,
                        resync=bool(changed), resync_tables=changed)  # fmt: skip
    return JSONResponse(answer.model_dump(), status_code=status)


def _mark_resyncs(plan: Any, synced_names: list[str], by: str) -> None:
    """The next run of each table rebuilds it (the engine alone would not notice a new primary key)."""
    from warehouse_sources.shared.resync import mark

    keys = {t.synced_name: t.primary_key for t in plan.tables}
    for synced in synced_names:
        mark(plan.name, synced, keys[synced], by)
