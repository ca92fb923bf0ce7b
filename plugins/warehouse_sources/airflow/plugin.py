"""The Airflow plugin: the Sources and Query pages (React apps in the nav) and their REST API (a FastAPI app).

Registered through the `airflow.plugins` entry point, and also found when Airflow's
`plugins_folder` is this repo's `plugins/` (through `plugins/warehouse_sources_plugin.py`).
Both paths hand Airflow this one class; Airflow keeps the first plugin of a name and skips
the other, so the plugin is registered exactly once.

The FastAPI app is built on first use, not at import: schedulers and workers load plugins
too and have no use for the web app's imports.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

PLUGIN_NAME = "warehouse_sources"
PAGE_ROUTE = "sources"
QUERY_ROUTE = "query"  # the Sources page links to plugin/query?sql=... (web/ui/src/api.ts)


class _FastAPIApps:
    """Class attribute that builds the app the first time Airflow's API server reads it."""

    _apps: list[dict[str, Any]] | None = None

    def __get__(self, obj: object, owner: type | None = None) -> list[dict[str, Any]]:
        if _FastAPIApps._apps is None:
            from warehouse_sources.web.app import URL_PREFIX, create_app

            _FastAPIApps._apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "warehouse-sources"}]
        return _FastAPIApps._apps


def _react_apps() -> list[dict[str, Any]]:
    # Relative: Airflow's UI resolves it against its base URL, so a sub-path deployment works too.
    # Top level: Airflow's nav folds two or more other plugin entries into a "Plugins" menu.
    return [
        {
            "name": "Sources",
            "bundle_url": "warehouse-sources/static/sources-page.js",
            "destination": "nav",
            "url_route": PAGE_ROUTE,
            "nav_top_level": True,
        },
        {
            "name": "Query",
            "bundle_url": "warehouse-sources/static/query-page.js",
            "destination": "nav",
            "url_route": QUERY_ROUTE,
            "nav_top_level": True,
        },
    ]


class WarehouseSourcesPlugin(AirflowPlugin):
    """Registers the Sources and Query pages and the `/warehouse-sources` REST API with Airflow."""

    name = PLUGIN_NAME
    fastapi_apps = _FastAPIApps()
    react_apps = _react_apps()
