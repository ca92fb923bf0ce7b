"""Which files of sources_dir are read as sources, and which are skipped and why.

The rule is narrow on purpose (`*.yaml`/`*.yml`, lower case, directly in the folder) so that a
backup copy or a parked file never becomes a DAG; `validate` lists the skipped ones so that a
file skipped by mistake (`billing.YAML`, `old/billing.yaml`) does not go unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path

SOURCE_SUFFIXES = (".yaml", ".yml")


def source_paths(directory: Path) -> list[Path]:
    """The source files of `directory`, in name order."""
    return sorted(p for p in directory.glob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())


def _looks_like_yaml(name: str) -> bool:
    return any(suffix in name.lower() for suffix in SOURCE_SUFFIXES)


def _skip_reason(path: Path) -> str:
    suffix = path.suffix or "(none)"
    if path.suffix.lower() in SOURCE_SUFFIXES:
        return (
            f"extension {suffix}: only .yaml and .yml (lower case) are read; "
            f"rename it to {path.stem}{path.suffix.lower()} to load it"
        )
    if _looks_like_yaml(path.stem):
        return f"extension {suffix}: only files ending in .yaml or .yml are read (a backup or parked copy?)"
    return f"extension {suffix}: only .yaml and .yml (lower case) are read"


def _yaml_files_below(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root, f) for f in files if _looks_like_yaml(f) and not f.startswith(".")]
    return found


def ignored_files(directory: Path) -> list[tuple[Path, str]]:
    """Files in `directory` that are not read, each with why: other names, and YAML in subfolders.

    Hidden entries (`.gitkeep`, `.git/`) are left out, and so are non-YAML files in subfolders.
    """
    if not directory.is_dir():
        return []
    read = set(source_paths(directory))
    ignored: list[tuple[Path, str]] = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path in read:
            continue
        if path.is_file():
            ignored.append((path, _skip_reason(path)))
        elif path.is_dir():
            reason = "in a subfolder: only files directly in sources_dir are read"
            ignored += [(p, reason) for p in sorted(_yaml_files_below(path))]
    return ignored
