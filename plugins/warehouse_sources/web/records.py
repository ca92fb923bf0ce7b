"""Reads of Airflow's own records (DAGs, runs, task instances, XComs, Variables), batched.

Status is assembled from these and the warehouse's commits only, never from a second copy.
Every function issues one query whatever the number of DAGs, so the Sources list stays fast
with hundreds of sources.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.shared.toggles import ERROR_XCOM_KEY, VARIABLE_PREFIX, SourceToggles, load_toggles

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ACTIVE_STATES = ("queued", "running")


@dataclass(frozen=True)
class DagRow:
    dag_id: str
    paused: bool
    next_run: datetime | None
    timetable_description: str | None


@dataclass(frozen=True)
class RunRow:
    dag_id: str
    run_id: str
    state: str | None
    started: datetime | None
    ended: datetime | None
    run_after: datetime | None


def _run(row: Any) -> RunRow:
    return RunRow(row.dag_id, row.run_id, row.state, row.start_date, row.end_date, row.run_after)


def _run_columns() -> tuple[Any, ...]:
    from airflow.models.dagrun import DagRun

    return (DagRun.dag_id, DagRun.run_id, DagRun.state, DagRun.start_date, DagRun.end_date, DagRun.run_after)


def dags(session: Session, dag_ids: Iterable[str]) -> dict[str, DagRow]:
    from airflow.models.dag import DagModel
    from sqlalchemy import select

    query = select(
        DagModel.dag_id, DagModel.is_paused, DagModel.next_dagrun_create_after, DagModel.timetable_description
    ).where(DagModel.dag_id.in_(list(dag_ids)), DagModel.is_stale.is_(False))
    return {r.dag_id: DagRow(r.dag_id, bool(r.is_paused), r.next_dagrun_create_after, r.timetable_description)
            for r in session.execute(query)}  # fmt: skip


def latest_runs(session: Session, dag_ids: Iterable[str]) -> dict[str, RunRow]:
    """The newest run of each DAG (by id: the order runs were created in)."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import func, select

    newest = (
        select(func.max(DagRun.id).label("id"))
        .where(DagRun.dag_id.in_(list(dag_ids)))
        .group_by(DagRun.dag_id)
        .scalar_subquery()
    )
    return {r.dag_id: _run(r) for r in session.execute(select(*_run_columns()).where(DagRun.id.in_(newest)))}


def active_runs(session: Session, dag_ids: Iterable[str]) -> dict[str, RunRow]:
    """A queued or running run of each DAG that has one (the oldest: it runs first)."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    query = select(*_run_columns()).where(DagRun.dag_id.in_(list(dag_ids)), DagRun.state.in_(ACTIVE_STATES))
    found: dict[str, RunRow] = {}
    for row in session.execute(query.order_by(DagRun.id.desc())):
        found[row.dag_id] = _run(row)
    return found


def last_successes(session: Session, dag_ids: Iterable[str]) -> dict[str, datetime]:
    from airflow.models.dagrun import DagRun
    from sqlalchemy import func, select

    query = (
        select(DagRun.dag_id, func.max(DagRun.end_date))
        .where(DagRun.dag_id.in_(list(dag_ids)), DagRun.state == "success")
        .group_by(DagRun.dag_id)
    )
    return {dag_id: ended for dag_id, ended in session.execute(query) if ended}


def recent_runs(session: Session, dag_id: str, limit: int = 20) -> list[RunRow]:
    """The last `limit` runs of a DAG, oldest first."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    query = select(*_run_columns()).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(limit)
    return [_run(r) for r in session.execute(query)][::-1]


@dataclass(frozen=True)
class TaskRow:
    dag_id: str
    run_id: str
    task_id: str
    state: str | None
    try_number: int
    ended: datetime | None = None


def task_states(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str, str], TaskRow]:
    """Task instances of the given (dag_id, run_id) runs, keyed (dag_id, run_id, task_id)."""
    from airflow.models.taskinstance import TaskInstance as TI
    from sqlalchemy import select, tuple_

    pairs = list(pairs)
    if not pairs:
        return {}
    query = select(TI.dag_id, TI.run_id, TI.task_id, TI.state, TI.try_number, TI.end_date).where(
        tuple_(TI.dag_id, TI.run_id).in_(pairs), TI.map_index == -1
    )
    return {(r.dag_id, r.run_id, r.task_id): TaskRow(r.dag_id, r.run_id, r.task_id, r.state, r.try_number, r.end_date)
            for r in session.execute(query)}  # fmt: skip


def xcoms(session: Session, pairs: Iterable[tuple[str, str]], key: str) -> dict[tuple[str, str, str], Any]:
    """XCom values under `key` of the given runs' tasks, keyed (dag_id, run_id, task_id)."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select, tuple_

    pairs = list(pairs)
    if not pairs:
        return {}
    query = select(XComModel.dag_id, XComModel.run_id, XComModel.task_id, XComModel.value).where(
        tuple_(XComModel.dag_id, XComModel.run_id).in_(pairs), XComModel.key == key, XComModel.map_index == -1
    )
    return {(r.dag_id, r.run_id, r.task_id): XComModel.deserialize_value(r) for r in session.execute(query)}


def error_xcoms(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str, str], str]:
    return {k: str(v) for k, v in xcoms(session, pairs, ERROR_XCOM_KEY).items() if v}


def all_toggles(session: Session) -> dict[str, SourceToggles]:
    """Every source's stored switches and delete marker, by source name."""
    from airflow.models.variable import Variable
    from sqlalchemy import select

    query = select(Variable).where(Variable.key.startswith(VARIABLE_PREFIX, autoescape=True))
    return {v.key[len(VARIABLE_PREFIX) :]: load_toggles(v.val, v.key) for v in session.scalars(query)}


def asset_consumers(session: Session, uris: Iterable[str]) -> dict[str, list[str]]:
    """The DAGs (not stale) scheduled on each of the assets `uris`, by URI, sorted: Airflow's own
    references, written when it parses the consumers, so a DAG shows as soon as Airflow knows it."""
    from airflow.models.asset import AssetModel
    from airflow.models.asset import DagScheduleAssetReference as Ref
    from airflow.models.dag import DagModel
    from sqlalchemy import select

    uris = list(uris)
    if not uris:
        return {}
    query = (
        select(AssetModel.uri, Ref.dag_id)
        .join(Ref, Ref.asset_id == AssetModel.id)
        .join(DagModel, DagModel.dag_id == Ref.dag_id)
        .where(AssetModel.uri.in_(uris), DagModel.is_stale.is_(False))
        .order_by(Ref.dag_id)
    )
    found: dict[str, list[str]] = {}
    for uri, dag_id in session.execute(query):
        found.setdefault(uri, []).append(dag_id)
    return found
