"""Name rules shared by the config models and the plan."""

from __future__ import annotations

import re
from typing import Literal

SyncMethod = Literal["incremental", "append_only", "full_table"]
SYNC_METHODS: tuple[SyncMethod, ...] = ("incremental", "append_only", "full_table")
"""The methods in the order docs and messages list them (a test keeps it equal to `SyncMethod`)."""

SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SYNCED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def split_table_name(name: str) -> tuple[str, str]:
    """`"public.charges"` -> `("public", "charges")`; no dot means schema `public`."""
    schema, dot, table = name.partition(".")
    return (schema, table) if dot else ("public", schema)


def reserved_name_reason(synced_name: str) -> str | None:
    """Why `synced_name` cannot name a warehouse folder, or None when it can.

    Delta Lake keeps its own folders next to data (`_delta_log`, `_change_data`, and `_delta*`
    for future ones); a synced table under such a name would write into Delta's reserved paths
    (compared case-insensitively, since some file systems are).
    """
    lowered = synced_name.lower()
    if lowered == "_change_data" or lowered.startswith("_delta"):
        return (
            f"synced table name {synced_name!r} is reserved: Delta Lake keeps its own folders under "
            "_delta_log, _change_data and names starting with _delta (in any case), and a table there would "
            "write into them; set synced_name (or table_prefix) to choose another name"
        )
    return None
