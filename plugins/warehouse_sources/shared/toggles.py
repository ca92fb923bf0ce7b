"""Per-table overrides and the "deleted" marker of a source, stored in one Airflow Variable per source.

The API server writes them (it may use the ORM); tasks read them through the Task SDK
(`airflow.sdk.Variable`, in airflow/toggles.py), never the metadata DB. One Variable per source
keeps a task's read to a single lookup and lets a delete or a switch take effect on the next run,
with no YAML edit and no redeploy, surviving restarts of every component. Both sides read this
model; neither imports the other.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Literal

log = logging.getLogger(__name__)
VARIABLE_PREFIX = "warehouse_sources."
Origin = Literal["yaml", "ui"]


@dataclass(frozen=True)
class Switch:
    """Who turned a table on or off from the UI/REST, and when (ISO UTC)."""

    enabled: bool
    by: str
    at: str


@dataclass(frozen=True)
class Deletion:
    """A delete in progress ("deleting") or done ("deleted"); `file_removed` is False when
    sources_dir was read-only and the user must remove the file from their repo."""

    state: Literal["deleting", "deleted"]
    by: str
    at: str
    file_removed: bool = False
    error: str | None = None  # why a delete stopped midway ("deleting" until a second delete finishes)


@dataclass(frozen=True)
class SourceToggles:
    tables: dict[str, Switch] = field(default_factory=dict)
    deleted: Deletion | None = None

    def enabled(self, synced_name: str, yaml_enabled: bool) -> tuple[bool, Origin]:
        """The effective switch of a table and where it comes from: the UI overrides the YAML both ways."""
        switch = self.tables.get(synced_name)
        return (switch.enabled, "ui") if switch else (yaml_enabled, "yaml")

    def with_switch(self, synced_name: str, switch: Switch) -> SourceToggles:
        return replace(self, tables={**self.tables, synced_name: switch})


def variable_key(source_name: str) -> str:
    return VARIABLE_PREFIX + source_name


def dump_toggles(toggles: SourceToggles) -> str:
    data: dict[str, Any] = {"tables": {k: vars(v) for k, v in sorted(toggles.tables.items())}}
    if toggles.deleted:
        data["deleted"] = vars(toggles.deleted)
    return json.dumps(data, sort_keys=True)


def _parse(text: str) -> SourceToggles:
    data = json.loads(text)
    tables = {str(name): Switch(**value) for name, value in (data.get("tables") or {}).items()}
    deleted = Deletion(**data["deleted"]) if data.get("deleted") else None
    if not all(isinstance(s.enabled, bool) for s in tables.values()):
        raise TypeError("a table switch's 'enabled' is not true or false")
    return SourceToggles(tables=tables, deleted=deleted)


def load_toggles(text: str | None, key: str = "the Variable") -> SourceToggles:
    """Parse a stored Variable; a missing one means "no overrides".

    A value this package did not write (not JSON, other fields) is skipped with a warning naming
    the Variable: whoever may write Variables could otherwise break every source's page.
    """
    if not text:
        return SourceToggles()
    try:
        return _parse(text)
    except (ValueError, TypeError, AttributeError) as exc:
        log.warning("Variable %s is not a warehouse-sources switch record (%s); skipped. A table switch "
                    "from the Sources page rewrites it, or delete the Variable", key, exc)  # fmt: skip
        return SourceToggles()


ERROR_XCOM_KEY = "warehouse_sources_error"  # a failed task's first error line, which the Sources page shows
