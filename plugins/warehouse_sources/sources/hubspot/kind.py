"""The registry entry of `kind: hubspot` (see warehouse_sources/registry.py)."""

from __future__ import annotations

from warehouse_sources.kindspec import FormField, KindSpec

KIND = KindSpec(
    name="hubspot",
    api_base="https://api.hubapi.com",
    label="HubSpot",
    description="a HubSpot account's CRM objects (contacts, companies, deals, tickets, owners) through its API",
    conn_types=("http", "generic"),
    model="warehouse_sources.config.api_models:HubSpotSource",
    open_reader="warehouse_sources.airflow.api_readers:open_api_reader",
    reader="warehouse_sources.sources.hubspot:open_hubspot",
    probe_table="contacts",
    form=(
        FormField(
            "password",
            "Private app access token",
            "password",
            secret=True,
            required=True,
            help="a private app with read scopes on the objects to sync (crm.objects.*.read)",
        ),  # fmt: skip
        FormField("host", "API base URL", "text", help="empty: https://api.hubapi.com; set it for a proxy"),
    ),
)
