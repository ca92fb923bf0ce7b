"""How a run conf, the REST routes and the Sources page name a source's table: one lookup for all.

A table is named by its synced name or by `schema.table`, never by the bare source table name:
a bare name can be one table's synced name and another table's source name at once (a rebuild
asked for one table would then rebuild both).
"""

from __future__ import annotations

from collections.abc import Iterable

from warehouse_sources.plan import TablePlan


def names_of(table: TablePlan) -> frozenset[str]:
    """The names that name `table`: its synced name and `schema.table`."""
    return frozenset({table.synced_name, table.qualified_name})


def table_named(tables: Iterable[TablePlan], name: str) -> TablePlan | None:
    """The table `name` names (synced name or `schema.table`); None if none, a bare source name included."""
    return next((t for t in tables if name in names_of(t)), None)


def unknown_tables_problem(unknown: list[str], tables: tuple[TablePlan, ...]) -> str:
    """Why `unknown` name no table, with the names to write instead of a bare source table name."""
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
