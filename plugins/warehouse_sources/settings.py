"""The `[warehouse_sources]` section of Airflow's config (DESIGN §4.2).

Read through Airflow's own config so both `airflow.cfg` and
`AIRFLOW__WAREHOUSE_SOURCES__<KEY>` environment variables work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from warehouse_sources.config.durations import parse_retention

SECTION = "warehouse_sources"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VIEWS_DIR = REPO_ROOT / "include" / "views"
DEFAULT_RETENTION = "7d"


@dataclass(frozen=True)
class Settings:
    sources_dir: Path
    warehouse_uri: str
    warehouse_conn_id: str | None
    views_dir: Path = DEFAULT_VIEWS_DIR
    # How far back time travel reaches: table maintenance keeps every data file a version inside it reads.
    retention: timedelta = timedelta(days=7)


def _airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))


def _get(key: str) -> str | None:
    from airflow.configuration import conf

    value = conf.get(SECTION, key, fallback=None)
    return value.strip() if value and value.strip() else None


def load_settings() -> Settings:
    """Current settings, with the documented defaults for anything unset."""
    sources_dir = _get("sources_dir")
    views_dir = _get("views_dir")
    warehouse_uri = _get("warehouse_uri") or str(_airflow_home() / "warehouse")
    return Settings(
        sources_dir=Path(sources_dir).expanduser() if sources_dir else REPO_ROOT / "include" / "sources",
        warehouse_uri=warehouse_uri.rstrip("/") if "://" in warehouse_uri else str(Path(warehouse_uri).expanduser()),
        warehouse_conn_id=_get("warehouse_conn_id"),
        views_dir=Path(views_dir).expanduser() if views_dir else DEFAULT_VIEWS_DIR,
        retention=parse_retention(_get("retention") or DEFAULT_RETENTION),
    )
