"""What a bucket table's pattern matches, and the columns inferred from those files, for the link form."""

from __future__ import annotations

from typing import Any

from warehouse_sources.sources.tables import MAX_TABLES, ListedTable, Listing, listed_table

PREVIEW = "preview"  # the table's name inside the one-table reader (never shown)


def list_root(url: str, storage_options: dict[str, str] | None) -> int:
    """List the url's top level (what a sync needs first): the number of entries; raises what the store said."""
    from pyarrow import fs

    from warehouse_sources.sources.bucket.listing import open_location

    location = open_location(url, storage_options)
    return len(location.fs.get_file_info(fs.FileSelector(location.root, allow_not_found=False)))


def list_pattern(
    url: str, storage_options: dict[str, str] | None, pattern: str, file_format: str, source: str = ""
) -> Listing:
    """The files `pattern` matches under `url` and their unified columns, through the sync's own reader."""
    from warehouse_sources.sources.bucket.reader import BucketReader

    options: dict[str, Any] = {"pattern": pattern, "format": file_format}
    with BucketReader(url, {PREVIEW: options}, storage_options, source=source or "(new source)") as reader:
        desc = reader.describe("", PREVIEW)
        assert desc is not None  # the reader knows its one table
        files = [entry.rel for entry in reader.listed_files(desc)]
        table = listed_table(pattern, "files", desc, None, reader.cursor_type_names)
    shown = tuple(files[:MAX_TABLES])
    return Listing((ListedTable(table.name, table.type, (), None, table.columns, shown),), len(files) > MAX_TABLES)
