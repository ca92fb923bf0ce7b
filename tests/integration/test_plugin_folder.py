"""The plugin loads both ways users install plugins: the package's entry point, `plugins_folder`, or both.

Airflow imports every `.py` file of `plugins_folder`; the repo's `plugins/` must survive that
(the package's `__main__.py` is a command line) and the plugin must be registered once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# Runs `airflow plugins -o json` with this package's entry point hidden: a plain plugins_folder deployment.
WITHOUT_ENTRY_POINT = """
import sys
from airflow._shared import module_loading
real = module_loading.entry_points_with_dist
def filtered(group):
    return [(ep, dist) for ep, dist in real(group) if not ep.value.startswith("warehouse_sources.")]
module_loading.entry_points_with_dist = filtered
from airflow.__main__ import main
sys.argv = ["airflow", "plugins", "-o", "json"]
main()
"""
PARSE_DAGS = """
import json
from airflow import plugins_manager
from airflow.dag_processing.dagbag import DagBag
plugins_manager.ensure_plugins_loaded()
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({"dags": sorted(bag.dags), "errors": {k: str(v) for k, v in bag.import_errors.items()}}))
"""


def _run(args: list[str], plugins_folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300, cwd=REPO)


def _plugins(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout[result.stdout.index("[") :])


def _ours(plugins: list[dict[str, object]]) -> list[dict[str, object]]:
    return [p for p in plugins if p["name"] == "warehouse_sources"]


def _check(plugin: dict[str, object]) -> None:
    assert [a["url_prefix"] for a in plugin["fastapi_apps"]] == ["/warehouse-sources"]  # type: ignore[attr-defined]
    assert [(r["name"], r["destination"]) for r in plugin["react_apps"]] == [("Sources", "nav"), ("Query", "nav")]  # type: ignore[attr-defined]


def test_plugins_folder_is_this_repos_plugins_and_the_package_is_installed_too() -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    (plugin,) = _ours(_plugins(_run([airflow, "plugins", "-o", "json"], REPO / "plugins")))
    _check(plugin)


def test_entry_point_only(tmp_path: Path) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    (plugin,) = _ours(_plugins(_run([airflow, "plugins", "-o", "json"], tmp_path)))
    _check(plugin)
    assert "warehouse_sources.airflow.plugin" in str(plugin["source"])


def test_plugins_folder_only() -> None:
    (plugin,) = _ours(_plugins(_run([sys.executable, "-c", WITHOUT_ENTRY_POINT], REPO / "plugins")))
    _check(plugin)
    assert "warehouse_sources_plugin.py" in str(plugin["source"])


def test_dags_parse_without_import_errors_with_the_plugins_folder_set() -> None:
    result = _run([sys.executable, "-c", "import sys\n" + PARSE_DAGS, str(REPO / "dags")], REPO / "plugins")
    assert result.returncode == 0, result.stderr[-3000:]
    parsed = json.loads(result.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    assert parsed["dags"] == ["example_billing_charges_downstream", "sync_billing", "sync_crm", "sync_product_events"]


def test_without_the_airflowignore_the_folder_would_break_airflow(tmp_path: Path) -> None:
    """Guards the reason for plugins/.airflowignore: the package's __main__ exits when imported as a plugin."""
    import shutil

    copy = tmp_path / "plugins"
    shutil.copytree(REPO / "plugins", copy, ignore=shutil.ignore_patterns("__pycache__", ".airflowignore"))
    airflow = str(Path(sys.executable).with_name("airflow"))
    broken = _run([airflow, "plugins", "-o", "json"], copy)
    shutil.copy(REPO / "plugins" / ".airflowignore", copy / ".airflowignore")
    fixed = _run([airflow, "plugins", "-o", "json"], copy)
    assert broken.returncode != 0 or "warehouse_sources" not in broken.stdout
    (plugin,) = _ours(_plugins(fixed))
    _check(plugin)
