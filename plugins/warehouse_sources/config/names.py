"""Name rules shared by the config models and the plan."""

from __future__ import annotations

import re
from typing import Literal

SyncMethod = Literal["incremental", "append_only", "full_table"]
SYNC_METHODS: tuple[str, ...] = ("incremental", "append_only", "full_table")

SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SYNCED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def split_table_name(name: str) -> tuple[str, str]:
    """`"public.charges"` -> `("public", "charges")`; no dot means schema `public`."""
    schema, dot, table = name.partition(".")
    return (schema, table) if dot else ("public", schema)
