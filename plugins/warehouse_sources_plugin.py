"""Airflow's `plugins_folder` entry for this repo's `plugins/` (the Astro / docker-compose layout).

Airflow imports every `.py` file of that folder as a module; `.airflowignore` keeps it out of
the `warehouse_sources` package (whose `__main__.py` is a command line), and this thin module
hands Airflow the one plugin class. With the package also installed (entry point), Airflow
registers the plugin once: it skips a second plugin of the same name.
"""

from __future__ import annotations

from warehouse_sources.airflow.plugin import WarehouseSourcesPlugin

__all__ = ["WarehouseSourcesPlugin"]
