"""HubSpot's CRM objects as declarations: the top-level fields every record has, and its cursors.

A record's properties become columns (every property the account defines, or the chosen ones),
typed as the properties endpoint declares them (sources/hubspot/values.py); the create and
last-modified dates serve as cursors. The chosen associations become `associated_<object>` id
lists (sources/hubspot/associations.py): the dialect adds those columns, as it adds properties.
"""

from __future__ import annotations

from warehouse_sources.sources.rest.spec import Method, ObjectSpec, fields

ALL: tuple[Method, ...] = ("full_table", "incremental", "append_only")
RECORD = "id createdAt:iso_timestamp updatedAt:iso_timestamp archived:boolean archivedAt:iso_timestamp"
WHY = ("incremental searches the last-modified property (GTE, ascending; windows split at 10,000 results); "
       "append_only searches the create date; full_table lists every live record")  # fmt: skip


def _crm(name: str, created: str, updated: str) -> ObjectSpec:
    return ObjectSpec(
        name, f"/crm/v3/objects/{name}", fields(f"{RECORD} {created}:iso_timestamp {updated}:iso_timestamp"), ALL,
        WHY, created=created, updated=updated, deletions=("archived",),
    )  # fmt: skip


OBJECTS: dict[str, ObjectSpec] = {
    "contacts": _crm("contacts", "createdate", "lastmodifieddate"),
    "companies": _crm("companies", "createdate", "hs_lastmodifieddate"),
    "deals": _crm("deals", "createdate", "hs_lastmodifieddate"),
    "tickets": _crm("tickets", "createdate", "hs_lastmodifieddate"),
    "owners": ObjectSpec(
        "owners",
        "/crm/v3/owners",
        fields(
            "id email firstName lastName userId:integer teams:json archived:boolean createdAt:iso_timestamp "
            "updatedAt:iso_timestamp"
        ),
        ("full_table",),
        "the owners endpoint has no search: full_table lists them (a few hundred at most)",
        created=None,
    ),  # fmt: skip
}
