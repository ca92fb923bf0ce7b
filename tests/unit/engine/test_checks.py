"""The checks a sync makes on the source's catalog and keys before any data moves (engine/checks.py),
through sync_table over the in-memory reader: each refusal names the table and the fix, and leaves
the warehouse untouched."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pytest

from tests.plans import plan
from tests.unit.engine.fake_reader import FakeReader, items
from warehouse_sources.engine.sync import SyncRequest, sync_table
from warehouse_sources.errors import PrimaryKeyError, SyncFatalError, TableNotFoundError
from warehouse_sources.plan import TablePlan

LOG = logging.getLogger("warehouse_sources.tests.engine")


def refused(reader: FakeReader, table_plan: TablePlan, tmp_path: Path, error: type[Exception]) -> str:
    """The message sync_table refuses with; nothing was read and no warehouse folder was made."""
    warehouse = tmp_path / "warehouse"
    with pytest.raises(error) as caught:
        sync_table(reader, SyncRequest(table=table_plan, warehouse_uri=str(warehouse)), LOG)
    assert not warehouse.exists()
    message = str(caught.value)
    assert "source 'src', table 'public." in message
    return message


def test_an_unknown_table_is_refused_with_the_similar_name_to_use(tmp_path: Path) -> None:
    reader = FakeReader(items([(1, "a", None)]), name="public.Items")
    message = refused(reader, plan("public.items"), tmp_path, TableNotFoundError)
    assert "no such table or view in the source" in message and "did you mean 'public.Items'?" in message
    assert reader.reads == []


def test_a_column_with_the_metadata_prefix_is_refused(tmp_path: Path) -> None:
    table = pa.table({"id": [1], "_WS_synced_at": ["x"]})
    message = refused(FakeReader(table), plan("public.items"), tmp_path, SyncFatalError)
    assert "['_WS_synced_at'] use the prefix '_ws_'" in message and "rename them in the source" in message


def test_columns_that_differ_only_by_case_are_refused(tmp_path: Path) -> None:
    table = pa.table({"email": ["a"], "Email": ["b"]})
    message = refused(FakeReader(table), plan("public.items"), tmp_path, SyncFatalError)
    assert "columns 'email' and 'Email' differ only by case" in message


def test_a_missing_replication_key_column_lists_the_columns(tmp_path: Path) -> None:
    table_plan = plan("public.items", "append_only", replication_key="changed_at")
    message = refused(FakeReader(items([])), table_plan, tmp_path, TableNotFoundError)
    assert "replication_key column 'changed_at' does not exist; columns are: id, name, updated_at" in message


def test_incremental_without_any_primary_key_is_refused(tmp_path: Path) -> None:
    table_plan = plan("public.items", "incremental", replication_key="updated_at")
    message = refused(FakeReader(items([])), table_plan, tmp_path, PrimaryKeyError)
    assert "has no primary key constraint; set primary_key: [...]" in message


def test_a_configured_key_with_nulls_is_refused_before_the_merge(tmp_path: Path) -> None:
    source = pa.table({"code": ["a", None], "n": [1, 2]})
    table_plan = plan("public.items", "incremental", replication_key="n", primary_key=["code"])
    message = refused(FakeReader(source), table_plan, tmp_path, PrimaryKeyError)
    assert "1 rows to sync have NULL in primary_key ['code']" in message


def test_a_configured_key_that_is_not_unique_is_refused_naming_a_duplicate(tmp_path: Path) -> None:
    source = pa.table({"code": ["a", "b", "b"], "n": [1, 2, 3]})
    table_plan = plan("public.items", "incremental", replication_key="n", primary_key=["code"])
    message = refused(FakeReader(source), table_plan, tmp_path, PrimaryKeyError)
    assert "primary_key ['code'] is not unique in the source: b appears more than once" in message


def test_an_enforced_source_key_is_trusted_and_a_configured_one_checked(tmp_path: Path) -> None:
    # Duplicates under the source's own (enforced) key cannot exist, so it is not checked; the same
    # column named in the YAML instead is.
    source = pa.table({"id": [1, 1], "n": [1, 2]})
    warehouse = str(tmp_path / "trusted")
    request = SyncRequest(table=plan("public.items", "incremental", replication_key="n"), warehouse_uri=warehouse)
    assert sync_table(FakeReader(source, primary_key=("id",)), request, LOG).rows == 2
    checked = plan("public.items", "incremental", replication_key="n", primary_key=["n", "id"])
    reader = FakeReader(pa.table({"id": [1, 1], "n": [1, 1]}), primary_key=("id",))
    assert "is not unique" in refused(reader, checked, tmp_path, PrimaryKeyError)
