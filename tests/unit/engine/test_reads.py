"""Which merge keys a cursor read checks on the source before anything is written.

A stub reader stands in for the source here: the decision is the engine's, and the case it
exists for (Snowflake's declared but unenforced primary keys) cannot be built in fakesnow,
whose DuckDB enforces keys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.plans import plan
from warehouse_sources.engine.reads import cursor_read
from warehouse_sources.errors import PrimaryKeyError
from warehouse_sources.sources.base import TableDescription
from warehouse_sources.warehouse.state import KeyKind, SyncState


@dataclass(frozen=True)
class Column:
    name: str
    type_sql: str = "NUMBER(38,0)"
    cursor_kind: KeyKind | None = "int"
    is_integer: bool = True
    is_native_array: bool = False


@dataclass
class StubReader:
    duplicate: str | None = None
    checked: list[tuple[str, ...]] = field(default_factory=list)

    def key_bounds(self, desc: TableDescription, key: str, lower: Any) -> tuple[Any, int]:
        return 3, 0

    def key_condition(self, desc: TableDescription, key: str, op: str, value: Any) -> str:
        return f"{key} {op} {value}"

    def key_problems(self, desc: TableDescription, keys: tuple[str, ...], where: str) -> tuple[int, str | None]:
        self.checked.append(keys)
        return 0, self.duplicate


def read(desc: TableDescription, reader: StubReader) -> None:
    table = plan("S.T", "incremental", replication_key="SEQ")
    base = SyncState(method="incremental", key_kind="int")
    cursor_read(reader, desc, table, ("ID",), None, base, logging.getLogger("test"))  # type: ignore[arg-type]


COLUMNS = (Column("ID"), Column("SEQ"))


def test_an_enforced_primary_key_constraint_is_trusted() -> None:
    reader = StubReader()
    read(TableDescription("S", "T", COLUMNS, ("ID",)), reader)
    assert reader.checked == []


def test_a_declared_but_unenforced_primary_key_is_checked_on_the_rows_read() -> None:
    reader = StubReader(duplicate="(2)")
    with pytest.raises(PrimaryKeyError, match=r"\['ID'\] is not unique in the source: \(2\)"):
        read(TableDescription("S", "T", COLUMNS, ("ID",), primary_key_enforced=False), reader)
    assert reader.checked == [("ID",)]
