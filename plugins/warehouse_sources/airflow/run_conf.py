"""A DAG run's `conf`: `{"tables": [...], "full_refresh": true}` (DESIGN §4.4), checked strictly.

A table is named by its synced name or by `schema.table`, never by the bare source table name:
a bare name can be one table's synced name and another table's source name at once (a rebuild
asked for one table would then rebuild both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from warehouse_sources.plan import TablePlan

KNOWN_KEYS = ("tables", "full_refresh")


def names_of(table: TablePlan) -> frozenset[str]:
    """The names a run conf may use for `table`: its synced name and `schema.table`."""
    return frozenset({table.synced_name, table.qualified_name})


def find_table(tables: tuple[TablePlan, ...], name: str) -> TablePlan | None:
    """The table `name` names, as a run conf, the REST routes and the page name tables; None if none."""
    return next((t for t in tables if name in names_of(t)), None)


@dataclass(frozen=True)
class RunConf:
    tables: frozenset[str] | None
    full_refresh: bool

    def selects(self, table: TablePlan) -> bool:
        """No `tables` means every table; else the table's synced name or schema.table is listed."""
        return self.tables is None or bool(names_of(table) & self.tables)


def unknown_tables_problem(unknown: list[str], tables: tuple[TablePlan, ...]) -> str:
    hints = []
    for name in unknown:
        matches = [t for t in tables if t.table == name]
        if matches:
            alternatives = " or ".join(f"{t.synced_name!r} ({t.qualified_name})" for t in matches)
            hints.append(f"{name!r} is a source table name, not a synced name: write {alternatives}")
    known = ", ".join(f"{t.synced_name} ({t.qualified_name})" for t in tables)
    return (
        f"tables {unknown} are not in this source{': ' + '; '.join(hints) if hints else ''}; "
        f"name a table by its synced name or its schema.table, known: {known}"
    )


def parse_run_conf(conf: dict[str, Any] | None, tables: tuple[TablePlan, ...]) -> RunConf:
    """Validate `conf` against the source's tables; raises ValueError with every problem."""
    conf = conf or {}
    problems = [f"unknown key {k!r} (known: {', '.join(KNOWN_KEYS)})" for k in conf if k not in KNOWN_KEYS]
    full_refresh = conf.get("full_refresh", False)
    if not isinstance(full_refresh, bool):
        problems.append(f"full_refresh must be true or false, not {full_refresh!r}")
    names = conf.get("tables")
    selected: frozenset[str] | None = None
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(f"tables must be a list of table names, not {names!r}")
        elif not names:
            problems.append("tables is empty; name at least one table, or leave tables out to sync them all")
        else:
            selected = frozenset(names)
            unknown = sorted(selected - frozenset().union(*(names_of(t) for t in tables)))
            if unknown:
                problems.append(unknown_tables_problem(unknown, tables))
    if problems:
        raise ValueError("invalid DAG run conf: " + "; ".join(problems))
    return RunConf(tables=selected, full_refresh=bool(full_refresh))
