"""An API source's objects as the link-a-source form lists them (the catalog of sources/tables.py).

`count_tables` makes one real, authenticated request (the newest object of the first kind a sync
reads), so a wrong or revoked key fails the connection test with the API's own message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.tables import ListedTable, Listing, listed_table

if TYPE_CHECKING:
    from warehouse_sources.sources.rest.reader import RestReader


def count_tables(reader: RestReader) -> int:
    """One request with the connection's key; the number of objects this kind reads."""
    reader.probe()
    return len(reader.object_names())


def list_tables(reader: RestReader) -> Listing:
    """Every object with its declared fields, the cursor fields marked as replication keys."""
    tables: list[ListedTable] = []
    for name in reader.object_names():
        desc = reader.describe("", name)
        if desc is not None:
            tables.append(listed_table(name, "object", desc, None, reader.cursor_type_names))
    return Listing(tuple(tables))
