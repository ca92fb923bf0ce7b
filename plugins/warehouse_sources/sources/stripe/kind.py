"""The registry entry of `kind: stripe` (see warehouse_sources/registry.py)."""

from __future__ import annotations

from warehouse_sources.kindspec import FormField, KindSpec

KIND = KindSpec(
    name="stripe",
    api_base="https://api.stripe.com",
    label="Stripe",
    description="a Stripe account's objects (charges, customers, invoices, ...) through its API",
    conn_types=("http", "generic"),
    model="warehouse_sources.config.api_models:StripeSource",
    open_reader="warehouse_sources.airflow.api_readers:open_api_reader",
    reader="warehouse_sources.sources.stripe:open_stripe",
    probe_table="customers",
    form=(
        FormField(
            "password",
            "Secret key",
            "password",
            secret=True,
            required=True,
            help="a restricted key with read access to the objects is enough",
        ),  # fmt: skip
        FormField("host", "API base URL", "text", help="empty: https://api.stripe.com; set it for a proxy"),
    ),
)
