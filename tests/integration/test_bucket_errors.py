"""Bucket files that cannot be loaded: one clear error naming the file (and line) and the fix,
and nothing committed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.bucket_support import rows, sync, table_plan, version, write_csv, write_parquet
from warehouse_sources.errors import SyncFatalError

CSV = {"pattern": "orders/*.csv", "format": "csv"}


def url(folder: Path) -> str:
    return f"file://{folder}/"


def test_ragged_csv_row_names_file_and_line(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_csv(folder / "orders/a.csv", "id,v\n1,a\n")
    plan = table_plan("orders", "append_only")
    sync(url(folder), warehouse, plan, CSV)
    write_csv(folder / "orders/b.csv", "id,v\n2,b\n3,c,extra\n4,d\n")
    with pytest.raises(SyncFatalError, match=r"file 'orders/b\.csv', line 3 .*'3,c,extra'.*Expected Number of Columns"):
        sync(url(folder), warehouse, plan, CSV)
    assert [r["id"] for r in rows(warehouse, "orders")] == [1]
    assert version(warehouse, "orders") == 0


def test_csv_with_other_columns_is_refused_naming_it(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_csv(folder / "orders/a.csv", "id,v\n1,a\n")
    write_csv(folder / "orders/b.csv", "v,id\nb,2\n")
    with pytest.raises(SyncFatalError, match=r"file 'orders/b\.csv' has the header \['v', 'id'\]"):
        sync(url(folder), warehouse, table_plan("orders"), CSV)


def test_unparseable_files_name_the_file(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_parquet(folder / "orders/a.parquet", {"id": [1]})
    (folder / "orders/b.parquet").write_bytes(b"PAR1 this is not parquet")
    options = {"pattern": "orders/*.parquet", "format": "parquet"}
    with pytest.raises(SyncFatalError, match=r"orders/b\.parquet"):
        sync(url(folder), warehouse, table_plan("orders"), options)
    (folder / "ev").mkdir()
    (folder / "ev/1.jsonl").write_text('{"id": 1}\n{"id": 2}\n{"id": \n')
    with pytest.raises(
        SyncFatalError,
        match=r"file 'ev/1\.jsonl', line \d cannot be read as jsonl: Malformed JSON in file \"ev/1\.jsonl\"",
    ):
        sync(url(folder), warehouse, table_plan("ev"), {"pattern": "ev/*.jsonl", "format": "jsonl"})


def test_parquet_schema_conflict_names_the_file(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_parquet(folder / "orders/a.parquet", {"id": [1], "amount": [1.5]})
    options = {"pattern": "orders/*.parquet", "format": "parquet"}
    plan = table_plan("orders", "append_only")
    sync(url(folder), warehouse, plan, options)
    write_parquet(folder / "orders/b.parquet", {"id": [2], "amount": ["lots"]})
    with pytest.raises(SyncFatalError, match=r"file 'orders/b\.parquet' has column 'amount' as string, but file "
                                             r"'orders/a\.parquet' has it as double"):  # fmt: skip
        sync(url(folder), warehouse, plan, options)
    assert version(warehouse, "orders") == 0


def test_empty_match_and_missing_folder(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_csv(folder / "orders/a.txt", "id\n1\n")
    with pytest.raises(
        SyncFatalError, match=r"pattern 'orders/\*\.csv' matches no file under file://.*fix tables\[\]\.pattern"
    ):
        sync(url(folder), warehouse, table_plan("orders"), CSV)
    with pytest.raises(SyncFatalError, match=r"is not a folder on this machine"):
        sync(url(tmp_path / "missing"), warehouse, table_plan("orders"), CSV)


def test_empty_first_csv_names_the_file(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_csv(folder / "orders/a.csv", "")
    write_csv(folder / "orders/b.csv", "id\n1\n")
    with pytest.raises(SyncFatalError, match=r"file 'orders/a\.csv' is empty \(0 bytes\)"):
        sync(url(folder), warehouse, table_plan("orders"), CSV)


def test_compression_is_chosen_by_suffix_in_any_case(tmp_path: Path, warehouse: str) -> None:
    folder = tmp_path / "b"
    write_csv(folder / "orders/a.csv", "id,v\n1,a\n")
    write_csv(folder / "orders/c.csv.GZ", "id,v\n2,b\n", compress="gzip")
    write_csv(folder / "orders/d.CSV.Zst", "id,v\n3,c\n", compress="zstd")
    sync(url(folder), warehouse, table_plan("orders"), {"pattern": "orders/*", "format": "csv"})
    assert rows(warehouse, "orders") == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]


@pytest.mark.parametrize(("header", "twins"), [("id,v,v", "'v' and 'v' are the same name"),
                                               ("id,v,V", "'v' and 'V' differ only by case")])  # fmt: skip
def test_repeated_csv_header_names_the_file_and_both_columns(
    header: str, twins: str, tmp_path: Path, warehouse: str
) -> None:
    folder = tmp_path / "b"
    write_csv(folder / "orders/a.csv", "id,v,w\n1,2,3\n")
    plan = table_plan("orders", "append_only")
    sync(url(folder), warehouse, plan, CSV)
    write_csv(folder / "orders/b.csv", f"{header}\n2,3,4\n")
    with pytest.raises(SyncFatalError, match=rf"columns {twins} \(file 'orders/b\.csv' has both\)"):
        sync(url(folder), warehouse, plan, CSV)
    with pytest.raises(SyncFatalError, match=rf"columns {twins} \(file 'orders/b\.csv' has both\)"):
        sync(url(folder), warehouse, table_plan("fresh"), {"pattern": "orders/b.csv", "format": "csv"})
