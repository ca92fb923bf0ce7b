"""Saved views: one `.sql` file per view in the `views_dir` setting, named by its file name.

`include/views/monthly_revenue.sql` holds one SELECT and is the view `monthly_revenue`, usable
in any query and listed with the tables. A view is checked like any query (statement.py) when a
query reads it; a file whose name is not an SQL name is reported, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

VIEW_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SavedView:
    name: str
    path: Path
    sql: str


@dataclass(frozen=True)
class SavedViews:
    """The views of a folder by lower-cased name (SQL names ignore case), and the files skipped."""

    views: dict[str, SavedView]
    problems: tuple[str, ...] = ()

    def get(self, name: str) -> SavedView | None:
        return self.views.get(name.lower())


def load_views(directory: Path | None) -> SavedViews:
    """Every `*.sql` file directly in `directory` (a missing folder holds no views)."""
    if directory is None or not directory.is_dir():
        return SavedViews({})
    views: dict[str, SavedView] = {}
    problems = []
    for path in sorted(directory.glob("*.sql")):
        if not VIEW_NAME.fullmatch(path.stem):
            problems.append(f"{path}: a view's file name must be an SQL name (letters, digits, _); rename it")
            continue
        if path.stem.lower() in views:
            problems.append(f"{path}: another file already defines view {path.stem!r} (names ignore case)")
            continue
        sql = path.read_text().strip().rstrip(";").strip()
        views[path.stem.lower()] = SavedView(path.stem, path, sql)
    return SavedViews(views, tuple(problems))
