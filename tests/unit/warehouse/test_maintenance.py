"""Vacuum over a whole warehouse: a table it cannot open is named and skipped, the others still vacuumed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from warehouse_sources.__main__ import main
from warehouse_sources.warehouse.maintenance import TableVacuum, drop_table, is_linked_folder, vacuum_warehouse


def table_with_orphan(uri: Path) -> Path:
    """A Delta table of rows 1..3 plus one data file no version lists (what a crashed sync leaves)."""
    write_deltalake(str(uri), pa.table({"id": [1, 2]}))
    write_deltalake(str(uri), pa.table({"id": [3]}), mode="append")
    orphan = uri / "part-00000-orphan.parquet"
    pq.write_table(pa.table({"id": [99]}), orphan)
    return orphan


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """a_corrupt (a damaged log), b_good (an orphan file), c_half (no log: a first sync that died)."""
    root = tmp_path / "warehouse"
    table_with_orphan(root / "a_corrupt")
    (root / "a_corrupt" / "_delta_log" / "00000000000000000001.json").write_text("{not json")
    table_with_orphan(root / "b_good")
    table_with_orphan(root / "c_half")
    shutil.rmtree(root / "c_half" / "_delta_log")
    (root / ".hidden").mkdir()
    (root / "notes.txt").write_text("not a table")
    return root


def test_broken_tables_are_skipped_with_the_reason_and_the_good_one_is_vacuumed(warehouse: Path) -> None:
    results = {Path(r.uri).name: r for r in vacuum_warehouse(str(warehouse), retention_hours=0, apply=True)}

    assert list(results) == ["a_corrupt", "b_good", "c_half"]
    good = results["b_good"]
    assert good.skipped is None and good.files == ("part-00000-orphan.parquet",)
    assert not (warehouse / "b_good" / "part-00000-orphan.parquet").exists()
    assert sorted(DeltaTable(str(warehouse / "b_good")).to_pyarrow_table()["id"].to_pylist()) == [1, 2, 3]

    corrupt = results["a_corrupt"]
    assert corrupt.files == ()
    assert corrupt.skipped is not None
    assert corrupt.skipped.startswith("cannot open it as a Delta table (")
    assert "Json error" in corrupt.skipped and "\n" not in corrupt.skipped
    assert corrupt.skipped.endswith("check its _delta_log, or resync the table")

    half = results["c_half"]
    assert half.skipped is not None and half.skipped.startswith("no Delta log: no sync of this table has committed")
    assert "delete the folder" in half.skipped
    # Skipped tables are left exactly as they were.
    assert (warehouse / "a_corrupt" / "part-00000-orphan.parquet").exists()
    assert (warehouse / "c_half" / "part-00000-orphan.parquet").exists()


def test_dry_run_deletes_nothing(warehouse: Path) -> None:
    results = list(vacuum_warehouse(str(warehouse), retention_hours=0, apply=False))
    assert TableVacuum(str(warehouse / "b_good"), files=("part-00000-orphan.parquet",)) in results
    assert (warehouse / "b_good" / "part-00000-orphan.parquet").exists()


def test_the_command_names_skipped_tables_and_exits_non_zero(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["vacuum", "--apply", "--retention-hours", "0", "--warehouse", str(warehouse)])

    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith(f"SKIP {warehouse / 'a_corrupt'}: cannot open it as a Delta table")
    assert lines[1] == f"{warehouse / 'b_good'}: deleted 1 files"
    assert lines[2].startswith(f"SKIP {warehouse / 'c_half'}: no Delta log")
    assert len(lines) == 3
    assert "2 table(s) skipped, not vacuumed" in err
    assert not (warehouse / "b_good" / "part-00000-orphan.parquet").exists()


def test_the_command_exits_zero_when_every_table_was_vacuumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table_with_orphan(tmp_path / "only")
    assert main(["vacuum", "--retention-hours", "0", "--warehouse", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'only'}: would delete 1 files\n"


def test_a_dropped_table_is_gone_with_its_log_and_a_missing_one_is_no_error(warehouse: Path) -> None:
    drop_table(str(warehouse / "b_good"))
    drop_table(str(warehouse / "never_synced"))
    assert not (warehouse / "b_good").exists() and (warehouse / "a_corrupt" / "_delta_log").is_dir()


def test_a_linked_table_folder_is_named_so_a_delete_can_refuse_it(warehouse: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    table_with_orphan(elsewhere)
    (warehouse / "linked").symlink_to(elsewhere)
    assert is_linked_folder(str(warehouse / "linked")) and not is_linked_folder(str(warehouse / "b_good"))
    assert not is_linked_folder("s3://bucket/warehouse/linked")
