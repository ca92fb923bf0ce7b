"""A DAG run's `conf`: `{"tables": [...], "full_refresh": true}` (DESIGN §4.4), checked strictly;
`"repair": true` also runs the deep verification after each table's sync and repairs its drift.

Tables are named as everywhere else (shared/table_names.py): by synced name or `schema.table`,
never by the bare source table name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from warehouse_sources.plan import TablePlan
from warehouse_sources.shared.table_names import names_of, unknown_tables_problem

KNOWN_KEYS = ("tables", "full_refresh", "repair")


@dataclass(frozen=True)
class RunConf:
    tables: frozenset[str] | None
    full_refresh: bool
    repair: bool = False

    def selects(self, table: TablePlan) -> bool:
        """No `tables` means every table; else the table's synced name or schema.table is listed."""
        return self.tables is None or bool(names_of(table) & self.tables)


def parse_run_conf(conf: dict[str, Any] | None, tables: tuple[TablePlan, ...]) -> RunConf:
    """Validate `conf` against the source's tables; raises ValueError with every problem."""
    conf = conf or {}
    problems = [f"unknown key {k!r} (known: {', '.join(KNOWN_KEYS)})" for k in conf if k not in KNOWN_KEYS]
    full_refresh = conf.get("full_refresh", False)
    if not isinstance(full_refresh, bool):
        problems.append(f"full_refresh must be true or false, not {full_refresh!r}")
    repair = conf.get("repair", False)
    if not isinstance(repair, bool):
        problems.append(f"repair must be true or false, not {repair!r}")
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
    return RunConf(tables=selected, full_refresh=bool(full_refresh), repair=bool(repair))
