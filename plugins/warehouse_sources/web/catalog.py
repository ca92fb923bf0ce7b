"""The sources the API server knows: the same YAML the DAG factory reads, parsed once per change.

The cache key is every source file's name, size and mtime, so an edited, added or removed
file is seen on the next request; a stat of each file costs far less than parsing them all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from warehouse_sources.plan import SourcePlan, plan_source


@dataclass(frozen=True)
class KnownSource:
    plan: SourcePlan
    path: Path


@dataclass(frozen=True)
class FileProblems:
    """One broken source file's problems (paths relative to sources_dir) and the source it names, if any."""

    source: str | None
    lines: list[str]


@dataclass(frozen=True)
class Catalog:
    sources: dict[str, KnownSource]
    problems: list[FileProblems]


_lock = threading.Lock()
_cached: tuple[tuple[object, ...], Catalog] | None = None


def _signature(directory: Path) -> tuple[object, ...]:
    if not directory.is_dir():
        return (str(directory), None)
    entries = []
    for path in sorted(directory.iterdir()):
        if path.suffix in (".yaml", ".yml"):
            stat = path.stat()
            entries.append((path.name, stat.st_size, stat.st_mtime_ns))
    return (str(directory), tuple(entries))


def load_catalog(directory: Path) -> Catalog:
    """Every valid source in `directory` (cached until a file changes)."""
    global _cached
    signature = _signature(directory)
    with _lock:
        if _cached and _cached[0] == signature:
            return _cached[1]
    from warehouse_sources.config.loader import load_sources

    result = load_sources(directory)
    sources = {s.config.name: KnownSource(plan_source(s.config), s.path) for s in result.sources}
    problems = [FileProblems(result.declared.get(path), [_relative(line, directory) for line in lines])
                for path, lines in result.problems.items()]  # fmt: skip
    catalog = Catalog(sources, problems)
    with _lock:
        _cached = (signature, catalog)
    return catalog


def _relative(line: str, directory: Path) -> str:
    """A problem line without the server's absolute paths: files by name, the folder as sources_dir."""
    return line.replace(f"{directory}/", "").replace(str(directory), "sources_dir")


def forget() -> None:
    """Drop the cache (after this process removed a source file)."""
    global _cached
    with _lock:
        _cached = None
