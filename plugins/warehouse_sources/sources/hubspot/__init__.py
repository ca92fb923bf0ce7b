"""`kind: hubspot`: HubSpot's CRM objects through the declarative REST reader (sources/rest/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warehouse_sources.sources.rest.reader import RestReader

API_BASE = "https://api.hubapi.com"


def open_hubspot(
    base_url: str | None, token: str, *, source: str = "", budget: float | None = None, options: object = None
) -> RestReader:
    """A reader of a HubSpot account (`token`: a private app's access token); `options`: the chosen properties,
    associations and properties kept as text, by object (config/api_options.py)."""
    from warehouse_sources.sources.hubspot.api import HubSpotApi, error_text
    from warehouse_sources.sources.hubspot.objects import OBJECTS
    from warehouse_sources.sources.rest.client import RETRY_BUDGET, ApiClient
    from warehouse_sources.sources.rest.reader import RestReader

    if not token:
        raise ValueError("the connection has no password; put the HubSpot private app's access token there")
    chosen = {
        name: dict(getattr(options, name, None) or {}) for name in ("properties", "associations", "text_properties")
    }
    client = ApiClient(
        base_url or API_BASE, {"Authorization": f"Bearer {token}"}, service="HubSpot", secrets=(token,),
        error_text=error_text, budget=RETRY_BUDGET if budget is None else budget,
    )  # fmt: skip
    api = HubSpotApi(client, chosen["properties"], associations=chosen["associations"],
                     text_properties=chosen["text_properties"])  # fmt: skip
    return RestReader(api, OBJECTS, source=source)
