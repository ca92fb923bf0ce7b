"""Create or replace a source file from REST (DESIGN §4.9): validate, check clashes and the catalog, write.

The body is rendered as YAML and validated by the loader exactly as a hand-written file is, so a
source saved here is one `validate` accepts. What invalidates stored state (another method,
replication key or primary key) is reported per table; the sync engine compares the method and
key with those its last commit stored and rebuilds the table when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse_sources.web import source_files

if TYPE_CHECKING:
    from warehouse_sources.config.models import SourceConfig
    from warehouse_sources.plan import SourcePlan, TablePlan
    from warehouse_sources.web.catalog import Catalog, KnownSource


class FieldErrors(ValueError):
    """422: the body does not make a valid source; `errors` are `{"loc", "msg"}` like FastAPI's own."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


class Clash(ValueError):
    """409: another source has the name, the file or a synced table name."""


class ReadOnly(Exception):
    """409: sources_dir cannot be written here; `text` is the YAML to commit by hand."""

    def __init__(self, message: str, text: str, file: str) -> None:
        super().__init__(message)
        self.text, self.file = text, file


@dataclass(frozen=True)
class Draft:
    """A validated source about to be written: its text, model, plan and file."""

    text: str
    config: SourceConfig
    plan: SourcePlan
    path: Path


def draft(body: dict[str, Any], sources_dir: Path, existing: KnownSource | None) -> Draft:
    """The body as a validated source file (an edit of the existing file when there is one)."""
    from warehouse_sources.plan import plan_source

    name = body.get("name")
    path = existing.path if existing else sources_dir / f"{name if isinstance(name, str) else 'source'}.yaml"
    old_text = existing.path.read_text(encoding="utf-8") if existing else None
    try:
        text = source_files.render(body, old_text)
    except Exception as exc:  # a value YAML cannot hold
        raise FieldErrors([{"loc": [], "msg": f"cannot be written as YAML: {exc}", "type": "value_error"}]) from None
    config, problems = source_files.validate(text, path.name)
    if config is None:
        raise FieldErrors(problems)
    return Draft(text, config, plan_source(config), path)


def check_clashes(new: Draft, catalog: Catalog, replacing: str | None) -> None:
    """409 for a source name, file or synced table name another source already has."""
    name = new.config.name
    declared = {f.source for f in catalog.problems if f.source}  # broken files still claim their names
    if replacing is None and (name in catalog.sources or name in declared or new.path.exists()):
        raise Clash(f"source {name!r} already exists ({new.path.name}); edit it with PUT, or choose another name")
    if replacing is not None and name != replacing:
        raise FieldErrors([{"loc": ["name"], "type": "value_error",
                            "msg": f"{name!r} differs from the source being edited ({replacing!r}); a source "
                                   "keeps its name (its DAG and tables are named after it)"}])  # fmt: skip
    taken = {t.synced_name.lower(): other for other, k in catalog.sources.items() if other != replacing
             for t in k.plan.tables}  # fmt: skip
    for index, table in enumerate(new.plan.tables):
        owner = taken.get(table.synced_name.lower())
        if owner:
            raise Clash(
                f"tables[{index}]: synced table name {table.synced_name!r} is already used by source {owner!r}; "
                "set table_prefix or the table's synced_name"
            )


def state_changes(old: SourcePlan | None, new: SourcePlan) -> list[str]:
    """Synced names of the tables whose stored cursor the change invalidates (method, key, primary key)."""
    if old is None:
        return []
    before: dict[str, TablePlan] = {t.synced_name: t for t in old.tables}
    changed = []
    for table in new.tables:
        was = before.get(table.synced_name)
        if was is None:
            continue
        same = (was.method, was.replication_key) == (table.method, table.replication_key)
        if not same or (table.method == "incremental" and was.primary_key != table.primary_key):
            changed.append(table.synced_name)
    return changed


def catalog_problems(new: Draft, describe: Any, allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each table's replication key and primary key checked against the source's catalog, as the sync
    checks them before any data moves; `describe(schema, table)` is an open reader's."""
    from warehouse_sources.errors import ReplicationKeyTypeError

    found: list[dict[str, Any]] = []
    for index, (table, plan) in enumerate(zip(new.config.tables, new.plan.tables, strict=True)):
        desc = describe(plan.schema, plan.table)
        if desc is None:
            found.append(_problem(index, "name", f"no table or view {plan.qualified_name!r} in the source "
                                                 "(names match exactly, case included)"))  # fmt: skip
            continue
        columns = ", ".join(c.name for c in desc.columns)
        key = table.replication_key
        column = desc.column(key) if key else None
        if key and column is None:
            found.append(_problem(index, "replication_key", f"no column {key!r}; columns are: {columns}"))
        elif column is not None and column.cursor_kind is None:
            error = ReplicationKeyTypeError(new.config.name, plan.qualified_name, column.name, column.type_sql, allowed)
            found.append(_problem(index, "replication_key", str(error)))
        missing = [k for k in plan.primary_key or () if desc.column(k) is None]
        if missing:
            found.append(_problem(index, "primary_key", f"no column {missing[0]!r}; columns are: {columns}"))
    return found


def _problem(index: int, key: str, message: str) -> dict[str, Any]:
    return {"loc": ["tables", index, key], "msg": message, "type": "value_error"}


def write(new: Draft) -> None:
    """Write the file atomically; ReadOnly (with the YAML) where sources_dir cannot take it."""
    try:
        source_files.write_atomically(new.path, new.text)
    except source_files.NotWritable as exc:
        raise ReadOnly(
            f"{exc}: nothing was written. Save this YAML as {new.path.name} in the folder your DAGs are "
            "deployed from (your repository or image), and deploy it",
            new.text,
            new.path.name,
        ) from None
