"""Stripe's objects as declarations: path, fields, the methods each offers and why.

Amounts are the API's integer minor units beside their `currency`; timestamps are UTC instants;
expandable references (`customer`, `charge`, ...) are kept as id strings; nested objects as JSON
text. `changed_at` is not a Stripe field: it is when the row's snapshot was taken, the `created`
time of the event that carried it (the object's own `created` on a listing), and it is the
incremental cursor. Event types from Stripe's documented list (`types[]` takes up to 20).
"""

from __future__ import annotations

from warehouse_sources.sources.rest.spec import Method, ObjectSpec, fields

ALL: tuple[Method, ...] = ("full_table", "incremental", "append_only")
NO_EVENTS: tuple[Method, ...] = ("full_table", "append_only")
CHANGED_AT = "changed_at"
COMMON = "livemode:boolean metadata:json created:timestamp changed_at:timestamp"
MUTABLE = "incremental reads the object's events; append_only on created sees each object once, as first read"


def _events(prefix: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{name}" for name in names)


def _mutable(name: str, declared: str, changes: tuple[str, ...], deletions: tuple[str, ...] = (),
             params: tuple[tuple[str, str], ...] = ()) -> ObjectSpec:  # fmt: skip
    return ObjectSpec(
        name, f"/v1/{name}", fields(f"{declared} {COMMON}"), ALL, MUTABLE, updated=CHANGED_AT, params=params,
        changes=changes, deletions=deletions,
    )  # fmt: skip


def _fixed(name: str, path: str, declared: str, why: str) -> ObjectSpec:
    return ObjectSpec(name, path, fields(declared), NO_EVENTS, why)


OBJECTS: dict[str, ObjectSpec] = {
    spec.name: spec
    for spec in (
        _mutable(
            "charges",
            "id amount:integer amount_captured:integer amount_refunded:integer currency customer:id description "
            "invoice:id payment_intent:id balance_transaction:id status paid:boolean captured:boolean "
            "refunded:boolean failure_code failure_message billing_details:json payment_method_details:json",
            _events("charge", "captured", "expired", "failed", "pending", "refunded", "succeeded", "updated"),
        ),
        _mutable(
            "customers",
            "id email name phone description currency balance:integer delinquent:boolean address:json deleted:boolean",
            _events("customer", "created", "updated", "deleted"),
            _events("customer", "deleted"),
        ),
        _mutable(
            "invoices",
            "id customer:id subscription:id status number currency amount_due:integer amount_paid:integer "
            "amount_remaining:integer subtotal:integer total:integer paid:boolean period_start:timestamp "
            "period_end:timestamp due_date:timestamp lines:json deleted:boolean",
            _events(
                "invoice",
                "created",
                "deleted",
                "finalized",
                "finalization_failed",
                "marked_uncollectible",
                "overdue",
                "paid",
                "payment_action_required",
                "payment_failed",
                "payment_succeeded",
                "sent",
                "updated",
                "voided",
                "will_be_due",
            ),  # fmt: skip
            _events("invoice", "deleted"),
        ),
        _mutable(
            "subscriptions",
            "id customer:id status currency cancel_at_period_end:boolean cancel_at:timestamp canceled_at:timestamp "
            "ended_at:timestamp start_date:timestamp trial_start:timestamp trial_end:timestamp items:json",
            # customer.subscription.deleted is a cancellation: the subscription stays, status canceled.
            _events(
                "customer.subscription",
                "created",
                "deleted",
                "paused",
                "pending_update_applied",
                "pending_update_expired",
                "resumed",
                "trial_will_end",
                "updated",
            ),  # fmt: skip
            params=(("status", "all"),),
        ),
        _mutable(
            "products",
            "id name description active:boolean type default_price:id updated:timestamp deleted:boolean",
            _events("product", "created", "updated", "deleted"),
            _events("product", "deleted"),
        ),
        _mutable(
            "prices",
            "id product:id active:boolean currency unit_amount:integer type recurring:json nickname lookup_key "
            "deleted:boolean",
            _events("price", "created", "updated", "deleted"),
            _events("price", "deleted"),
        ),
        _mutable(
            "refunds",
            "id amount:integer currency charge:id payment_intent:id balance_transaction:id reason status",
            _events("refund", "created", "updated", "failed"),
        ),
        _mutable(
            "payment_intents",
            "id amount:integer amount_received:integer currency customer:id status description latest_charge:id "
            "payment_method:id canceled_at:timestamp",
            _events(
                "payment_intent",
                "amount_capturable_updated",
                "canceled",
                "created",
                "partially_funded",
                "payment_failed",
                "processing",
                "requires_action",
                "succeeded",
            ),  # fmt: skip
        ),
        _fixed(
            "balance_transactions",
            "/v1/balance_transactions",
            "id amount:integer fee:integer net:integer currency type status reporting_category source:id "
            "description available_on:timestamp created:timestamp",
            "no events tell their changes (status moves pending -> available): append_only adds each once; "
            "full_table re-reads the status",
        ),
        _fixed(
            "events",
            "/v1/events",
            "id type api_version data:json request:json pending_webhooks:integer livemode:boolean created:timestamp",
            "events never change; Stripe keeps 30 days of them, so full_table holds those 30 days, append_only "
            "keeps every event ever read",
        ),
    )
}
