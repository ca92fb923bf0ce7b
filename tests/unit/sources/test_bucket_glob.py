"""Glob patterns of bucket tables: what `*`, `?`, `**` and classes match, and what gets listed."""

from __future__ import annotations

import pytest

from warehouse_sources.sources.bucket.listing import fixed_prefix, glob_regex


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("invoices/*.csv", "invoices/a.csv", True),
        ("invoices/*.csv", "invoices/2024/a.csv", False),  # * stays within a folder
        ("invoices/*.csv", "invoices/a.csv.gz", False),
        ("invoices/*.csv*", "invoices/a.csv.gz", True),
        ("invoices/**/*.csv", "invoices/a.csv", True),  # **/ spans zero folders too
        ("invoices/**/*.csv", "invoices/2024/01/a.csv", True),
        ("invoices/**", "invoices/2024/01/a.csv", True),
        ("part-?.parquet", "part-1.parquet", True),
        ("part-?.parquet", "part-10.parquet", False),
        ("part-[0-4].parquet", "part-3.parquet", True),
        ("part-[!0-4].parquet", "part-7.parquet", True),
        ("part-[!0-4].parquet", "part-3.parquet", False),
        ("a+b (1).csv", "a+b (1).csv", True),  # regex characters are literal
        ("a+b (1).csv", "aab (1).csv", False),
    ],
)
def test_glob(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_regex(pattern).match(path)) is matches


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [("invoices/*.csv", "invoices"), ("a/b/2024-*/x/*.csv", "a/b"), ("*.csv", ""), ("**/x.csv", "")],
)
def test_only_the_fixed_folders_are_listed(pattern: str, prefix: str) -> None:
    assert fixed_prefix(pattern) == prefix
