"""What a bucket table's pattern matches, and the columns inferred from those files, for the link form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.tables import MAX_TABLES, ListedTable, Listing, listed_table

if TYPE_CHECKING:
    from warehouse_sources.sources.bucket.reader import BucketReader


def count_tables(reader: BucketReader) -> int:
    """List the url's top level, what a sync does first: how many entries; the store's refusal as a sync says it."""
    from pyarrow import fs

    from warehouse_sources.sources.bucket.listing import listing_error

    location = reader._require_location()
    try:
        return len(location.fs.get_file_info(fs.FileSelector(location.root, allow_not_found=False)))
    except Exception as exc:
        raise listing_error(location, exc, reader._source) from None


def list_pattern(reader: BucketReader, table: str) -> Listing:
    """The files the reader's one `table` matches and their unified columns, described as a sync describes them."""
    desc = reader.describe("", table)
    assert desc is not None  # the reader was built with this table
    files = [entry.rel for entry in reader.listed_files(desc)]
    listed = listed_table(table, "files", desc, None, reader.cursor_type_names)
    shown = tuple(files[:MAX_TABLES])
    return Listing((ListedTable(listed.name, listed.type, (), None, listed.columns, shown),), len(files) > MAX_TABLES)
