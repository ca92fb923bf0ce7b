"""`kind: stripe`: Stripe's objects through the declarative REST reader (sources/rest/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warehouse_sources.sources.rest.reader import RestReader

API_BASE = "https://api.stripe.com"


def open_stripe(
    base_url: str | None, api_key: str, *, source: str = "", budget: float | None = None, options: object = None
) -> RestReader:
    """A reader of a Stripe account (`base_url`: a proxy or a test server; None: Stripe's API)."""
    from warehouse_sources.sources.rest.client import RETRY_BUDGET, ApiClient
    from warehouse_sources.sources.rest.reader import RestReader
    from warehouse_sources.sources.stripe.api import StripeApi, error_text
    from warehouse_sources.sources.stripe.objects import OBJECTS

    if not api_key:
        raise ValueError("the connection has no password; put the Stripe secret (or restricted) key there")
    client = ApiClient(
        base_url or API_BASE, {"Authorization": f"Bearer {api_key}"}, service="Stripe", secrets=(api_key,),
        error_text=error_text, budget=RETRY_BUDGET if budget is None else budget,
    )  # fmt: skip
    return RestReader(StripeApi(client), OBJECTS, source=source)
