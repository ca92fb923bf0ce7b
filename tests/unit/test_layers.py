"""The package's layers (DESIGN §3) import only downwards: the data's path stays one way.

Read from the source text (every `import`, including those inside functions), so a lazy import
that crosses a layer is caught as well as a top-level one.
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
CONCRETE_SOURCES = ("postgres", "mysql", "snowflake", "bucket")


def crosses(name: str, forbidden: tuple[str, ...]) -> bool:
    parts = name.split(".")
    return parts[0] == "airflow" or (parts[0] == "warehouse_sources" and len(parts) > 1 and parts[1] in forbidden)


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


def test_the_engine_knows_sources_only_through_their_protocol() -> None:
    concrete = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules_of("engine")
        for name in imported_modules(path)
        if name.startswith("warehouse_sources.sources.") and name.split(".")[2] in CONCRETE_SOURCES
    ]
    assert not concrete, "\n".join(concrete)
