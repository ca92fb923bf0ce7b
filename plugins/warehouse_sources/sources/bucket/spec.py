"""What the reader needs to know of one bucket table: where its files are and how to parse them.

Plain data built from the validated YAML (config/bucket_models.py `BucketTableConfig`) and handed to the
task in the source plan's `options` (config/bucket.py `BucketOptions`), so nothing here imports pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FileFormat = Literal["csv", "parquet", "jsonl", "delta"]
FILE_FORMATS: tuple[FileFormat, ...] = ("csv", "parquet", "jsonl", "delta")
FileChange = Literal["warn", "reload"]


@dataclass(frozen=True)
class CsvDialect:
    """How a table's CSV files are written; every file of the table shares it."""

    header: bool = True
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    sample_rows: int = 20480  # rows the type inference reads from the first file


@dataclass(frozen=True)
class FileTable:
    """One table: the files its `pattern` matches under the source's url, and how to read them."""

    name: str
    pattern: str
    format: FileFormat
    csv: CsvDialect = CsvDialect()
    columns: Mapping[str, str] = field(default_factory=dict)  # declared DuckDB types, by column
    on_file_change: FileChange = "warn"

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> FileTable:
        csv = options.get("csv") or {}
        return cls(
            name=name,
            pattern=options["pattern"],
            format=options["format"],
            csv=CsvDialect(**csv),
            columns=dict(options.get("columns") or {}),
            on_file_change=options.get("on_file_change", "warn"),
        )

    def options(self) -> dict[str, Any]:
        """The JSON form `from_options` takes back (the plan carries it to the task)."""
        return {
            "pattern": self.pattern,
            "format": self.format,
            "csv": self.csv.__dict__.copy(),
            "columns": dict(self.columns),
            "on_file_change": self.on_file_change,
        }
