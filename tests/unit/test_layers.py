"""The package's layers (DESIGN §3) import only downwards: the data's path stays one way.

Read from the source text (every `import`, including those inside functions), so a lazy import
that crosses a layer is caught as well as a top-level one. The two sides inside Airflow, tasks
(airflow/) and the API server (web/), share what both read through shared/ and never import
each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "warehouse_sources"
# layer -> the package's layers it must not import; none of them imports Airflow
FORBIDDEN = {
    "engine": ("airflow", "web", "config"),
    "sources": ("airflow", "web", "config", "engine"),
    "warehouse": ("airflow", "web", "config", "engine", "sources"),
    "plan.py": ("airflow", "web", "engine", "sources", "warehouse"),
    "config": ("airflow", "web", "engine", "sources", "warehouse", "plan"),
    "query": ("airflow", "web", "config", "engine", "sources", "plan"),
}
# layer -> the package's layers it must not import; these run inside Airflow and may import it.
# shared/ holds what both sides read (stored state, connections): it may use the layers below.
IN_AIRFLOW = {
    "airflow": ("web",),
    "web": ("airflow",),
    "shared": ("airflow", "web"),
}
# The AirflowPlugin class hands Airflow the web app: the one import from airflow/ into web/.
PLUGIN_ENTRY = ("airflow/plugin.py", "warehouse_sources.web.app")
CONCRETE_SOURCES = ("postgres", "mysql", "snowflake", "bucket")


def crosses(name: str, forbidden: tuple[str, ...], airflow_allowed: bool = False) -> bool:
    parts = name.split(".")
    if parts[0] == "airflow":
        return not airflow_allowed
    return parts[0] == "warehouse_sources" and len(parts) > 1 and parts[1] in forbidden


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def modules_of(layer: str) -> list[Path]:
    where = PACKAGE / layer
    return [where] if where.is_file() else sorted(where.rglob("*.py"))


@pytest.mark.parametrize("layer", FORBIDDEN)
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    crossings = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules_of(layer)
        for name in imported_modules(path)
        if crosses(name, FORBIDDEN[layer])
    ]
    assert not crossings, "\n".join(crossings)


@pytest.mark.parametrize("side", IN_AIRFLOW)
def test_tasks_and_the_api_server_share_state_without_importing_each_other(side: str) -> None:
    crossings = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules_of(side)
        for name in imported_modules(path)
        if crosses(name, IN_AIRFLOW[side], airflow_allowed=True)
        and (str(path.relative_to(PACKAGE)), name) != PLUGIN_ENTRY
    ]
    assert not crossings, "\n".join(crossings)


def test_a_crossing_between_the_airflow_sides_is_caught() -> None:
    assert crosses("warehouse_sources.airflow.toggles", IN_AIRFLOW["web"], airflow_allowed=True)
    assert crosses("warehouse_sources.airflow", IN_AIRFLOW["web"], airflow_allowed=True)
    assert not crosses("airflow.sdk", IN_AIRFLOW["web"], airflow_allowed=True)
    assert not crosses("warehouse_sources.shared.toggles", IN_AIRFLOW["web"], airflow_allowed=True)
    assert crosses("warehouse_sources.web.app", IN_AIRFLOW["airflow"], airflow_allowed=True)


def test_the_engine_knows_sources_only_through_their_protocol() -> None:
    concrete = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules_of("engine")
        for name in imported_modules(path)
        if name.startswith("warehouse_sources.sources.") and name.split(".")[2] in CONCRETE_SOURCES
    ]
    assert not concrete, "\n".join(concrete)
