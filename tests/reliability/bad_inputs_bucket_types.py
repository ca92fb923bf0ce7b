"""Bucket bad inputs about columns and types (issue 13): case twins, a repeated CSV header, an empty
first CSV file, numbers no one type holds exactly. Run with the other file cases by
test_bad_inputs_bucket.py, in the same source (b_files) beside its good table."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.integration.bucket_support import write_csv, write_parquet
from tests.reliability.test_bad_inputs import TaskCase

TWINS_FIX = r"rename one of them in the files"
DECLARE_FIX = r"Declare the column's type under columns: in the source YAML"
TYPE_CASES = [
    TaskCase(
        "bucket-columns-differ-only-by-case",
        "bucket file",
        "f_twins",
        "{name: f_twins, pattern: 'tw/*.parquet', format: parquet}",
        (
            "source 'b_files'",
            "table 'f_twins'",
            "columns 'v' and 'V' differ only by case (file 'tw/a.parquet' has both)",
        ),
        TWINS_FIX,
        dag="b_files",
    ),
    TaskCase(
        "bucket-csv-header-repeats-a-column",
        "bucket file",
        "f_header",
        "{name: f_header, pattern: 'rh/*.csv', format: csv}",
        (
            "source 'b_files'",
            "table 'f_header'",
            "columns 'id' and 'ID' differ only by case (file 'rh/a.csv' has both)",
        ),
        TWINS_FIX,
        dag="b_files",
    ),
    TaskCase(
        "bucket-csv-first-file-empty",
        "bucket file",
        "f_zero",
        "{name: f_zero, pattern: 'z/*.csv', format: csv}",
        ("source 'b_files'", "table 'f_zero'", "file 'z/a.csv' is empty (0 bytes)"),
        r"remove the file or write its header",
        dag="b_files",
    ),
    TaskCase(
        "bucket-decimal-next-to-double",
        "bucket file",
        "f_mixed",
        "{name: f_mixed, pattern: 'mx/*.parquet', format: parquet}",
        (
            "source 'b_files'",
            "table 'f_mixed'",
            "column 'amount' is DOUBLE in file 'mx/a.parquet' but DECIMAL(38,18) in file 'mx/b.parquet'",
        ),
        DECLARE_FIX,
        dag="b_files",
    ),  # fmt: skip
    TaskCase(
        "bucket-integer-a-double-cannot-hold",
        "bucket file",
        "f_exact",
        "{name: f_exact, pattern: 'ex/*.jsonl', format: jsonl}",
        (
            "source 'b_files'",
            "table 'f_exact'",
            "column 'amount' holds the integer 9007199254740993",
            "cannot hold it exactly (files: ex/b.jsonl)",
        ),
        DECLARE_FIX,
        dag="b_files",
    ),  # fmt: skip
]


def write_type_cases(folder: Path) -> None:
    """Files whose columns the warehouse cannot take as they are (README "Bucket sources", Errors)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_parquet(folder / "tw/a.parquet", {"id": [1], "v": [1], "V": [2]})
    write_csv(folder / "rh/a.csv", "id,v,ID\n1,2,3\n")
    write_csv(folder / "z/a.csv", "")
    write_csv(folder / "z/b.csv", "id\n1\n")
    write_parquet(folder / "mx/a.parquet", {"id": [1], "amount": [1.5]})
    decimals = pa.array([Decimal("0.100000000000000001")], pa.decimal128(38, 18))
    pq.write_table(pa.table({"id": [2], "amount": decimals}), folder / "mx/b.parquet")
    (folder / "ex").mkdir()
    (folder / "ex/a.jsonl").write_text('{"id": 1, "amount": 1.5}\n')
    (folder / "ex/b.jsonl").write_text('{"id": 2, "amount": 9007199254740993}\n')
