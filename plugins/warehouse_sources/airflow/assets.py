"""Each synced table is an Airflow Asset, `warehouse://<synced table name>` (README "Assets").

The name, not the storage URI: the warehouse can move (local folder to S3, another bucket) without
renaming the assets downstream DAGs are scheduled on, and the name is what users see everywhere else.

A sync emits the table's event only when it committed something. Airflow emits an event for every
static outlet of a successful task, so the sync tasks declare an AssetAlias instead and add the
table's event through it when the table changed (Airflow's documented way to emit at run time):
an empty sync succeeds and emits nothing, so it wakes no downstream DAG.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from warehouse_sources.shared.asset_names import asset_uri

if TYPE_CHECKING:
    from airflow.sdk import Asset, AssetAlias

ALIAS_PREFIX = "warehouse-sync:"


def table_asset(synced_name: str) -> Asset:
    """The asset downstream DAGs schedule on: `schedule=[table_asset("billing_charges")]`."""
    from airflow.sdk import Asset

    return Asset(asset_uri(synced_name))


def table_alias(synced_name: str) -> AssetAlias:
    """The sync task's outlet, through which it adds the table's event when the table changed."""
    from airflow.sdk import AssetAlias

    return AssetAlias(f"{ALIAS_PREFIX}{synced_name}")


def schema_hash(fields: list[tuple[str, str]]) -> str:
    """A short, stable digest of the table's columns and types: equal hashes, same schema."""
    text = json.dumps(fields, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changed(sync: dict[str, Any]) -> bool:
    """Whether the sync committed a new table version (rows, deletions or a full replace)."""
    return sync.get("write", "none") != "none"


def event_extra(sync: dict[str, Any], fields: list[tuple[str, str]] | None) -> dict[str, Any]:
    """What a downstream DAG reads from the event: rows, cursor, Delta version and schema hash."""
    return {
        "rows": sync["rows"],
        "deleted": sync.get("deleted", 0),
        "write": sync["write"],
        "cursor": sync["cursor"],
        "version": sync["version"],
        "schema_hash": schema_hash(fields) if fields is not None else None,
    }


def emit(context: Any, synced_name: str, sync: dict[str, Any], fields: list[tuple[str, str]] | None) -> bool:
    """Add the table's asset event through the task's alias if the sync changed the table."""
    if not changed(sync):
        return False
    context["outlet_events"][table_alias(synced_name)].add(table_asset(synced_name), extra=event_extra(sync, fields))
    return True
