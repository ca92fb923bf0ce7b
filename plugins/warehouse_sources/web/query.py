"""`POST /api/query` and the saved views of `GET /api/tables`: the query engine behind Airflow's permissions.

A query may read a table only where the user may read its source's DAG; a table no valid source
owns (a removed or broken source's) is for admins only, as `GET /api/tables` lists it. `events`
is the synced table of its bucket source, so it follows that source's DAG; a saved view follows
the tables it reads, because the engine reports the tables behind views before anything runs.

One engine per process and configuration, so its limit on queries at once holds for the API
server as a whole (429 beyond it). The limits come from `[warehouse_sources]`
`query_max_concurrent` and `query_timeout` (seconds), defaults 4 and 30.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from warehouse_sources.web.auth import is_admin, readable_dag_ids

if TYPE_CHECKING:
    from warehouse_sources.query.engine import QueryEngine
    from warehouse_sources.web.catalog import Catalog

_lock = threading.Lock()
_engines: dict[tuple[object, ...], QueryEngine] = {}


def _limits() -> Any:
    from airflow.configuration import conf

    from warehouse_sources.query.sandbox import QueryLimits

    defaults = QueryLimits()
    return QueryLimits(
        max_concurrent=conf.getint("warehouse_sources", "query_max_concurrent", fallback=defaults.max_concurrent),
        timeout_s=conf.getfloat("warehouse_sources", "query_timeout", fallback=defaults.timeout_s),
    )


def engine() -> QueryEngine:
    """This process's engine for the configured warehouse, views and limits."""
    from warehouse_sources.query.engine import QueryEngine
    from warehouse_sources.settings import load_settings
    from warehouse_sources.shared.warehouse_storage import warehouse_storage_options

    settings = load_settings()
    options = warehouse_storage_options(settings)
    limits = _limits()
    key = (settings.warehouse_uri, settings.views_dir, tuple(sorted((options or {}).items())), limits)
    with _lock:
        if key not in _engines:
            _engines[key] = QueryEngine(settings.warehouse_uri, options, settings.views_dir, limits)
        return _engines[key]


def table_check(user: Any, catalog: Catalog) -> Callable[[frozenset[str]], None]:
    """A `check_tables` hook: 403 naming the first table `user` may not read."""
    from fastapi import HTTPException

    owners = {t.synced_name.lower(): k.plan for k in catalog.sources.values() for t in k.plan.tables}

    def check(tables: frozenset[str]) -> None:
        named = {name: owners.get(name.lower()) for name in tables}
        readable = readable_dag_ids(user, sorted({p.dag_id for p in named.values() if p is not None}))
        admin: bool | None = None
        for name in sorted(named):
            plan = named[name]
            if plan is not None and plan.dag_id in readable:
                continue
            if plan is None:
                admin = is_admin(user) if admin is None else admin
                if admin:
                    continue
                reason = "no source owns it, so only admins may read it"
            else:
                reason = f"it is synced by source {plan.name!r}, whose DAG {plan.dag_id!r} the user may not read"
            raise HTTPException(403, f"user {user.get_name()!r} may not read table {name!r}: {reason}")

    return check


def readable_views(user: Any, catalog: Catalog) -> list[tuple[str, list[tuple[str, str]]]]:
    """The saved views whose every table `user` may read, each with its columns and types."""
    from fastapi import HTTPException

    from warehouse_sources.errors import WarehouseSourcesError
    from warehouse_sources.query.views import load_views

    query_engine = engine()
    check = table_check(user, catalog)
    found: list[tuple[str, list[tuple[str, str]]]] = []
    for view in load_views(query_engine.views_dir).views.values():
        quoted = '"' + view.name.replace('"', '""') + '"'
        try:
            result = query_engine.run(f"DESCRIBE {quoted}", check_tables=check)
        except HTTPException:
            continue
        except WarehouseSourcesError:
            found.append((view.name, []))  # listed, so the user learns it exists; a query says why it fails
            continue
        found.append((view.name, [(str(row[0]), str(row[1])) for row in result.rows]))
    return found
