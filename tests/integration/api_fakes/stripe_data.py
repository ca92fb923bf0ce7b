"""Generated Stripe objects: plausible fields of each declared object, deterministic per seed."""

from __future__ import annotations

import random
import time
from typing import Any

from tests.integration.api_fakes.stripe_fake import StripeStore

CURRENCIES = ("usd", "eur", "gbp")


def charge(rng: random.Random, i: int) -> dict[str, Any]:
    amount = rng.randrange(50, 100_000)
    return {"amount": amount, "amount_captured": amount, "amount_refunded": 0, "currency": rng.choice(CURRENCIES),
            "customer": f"cus_{rng.randrange(1, 500):010d}", "description": f"order {i}", "status": "succeeded",
            "paid": True, "captured": True, "refunded": False, "failure_code": None, "failure_message": None,
            "invoice": None, "payment_intent": {"id": f"pi_{i:010d}", "object": "payment_intent"},
            "balance_transaction": f"txn_{i:010d}", "billing_details": {"name": f"Buyer {i}", "address": None},
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}}}  # fmt: skip


def customer(rng: random.Random, i: int) -> dict[str, Any]:
    return {"email": f"user{i}@example.com", "name": f"User {i}", "phone": None, "description": None,
            "currency": rng.choice(CURRENCIES), "balance": 0, "delinquent": False,
            "address": {"city": "Lisbon", "country": "PT"}}  # fmt: skip


def subscription(rng: random.Random, i: int) -> dict[str, Any]:
    return {"customer": f"cus_{i:010d}", "status": rng.choice(("active", "trialing", "canceled", "past_due")),
            "currency": "usd", "cancel_at_period_end": False, "cancel_at": None, "canceled_at": None,
            "ended_at": None, "start_date": int(time.time()) - 86400, "trial_start": None, "trial_end": None,
            "items": {"object": "list", "data": [{"price": {"id": "price_1"}}]}}  # fmt: skip


def refund(rng: random.Random, i: int) -> dict[str, Any]:
    return {"amount": rng.randrange(50, 5000), "currency": "usd", "charge": f"ch_{i:010d}", "payment_intent": None,
            "balance_transaction": None, "reason": "requested_by_customer", "status": "succeeded"}  # fmt: skip


MAKERS = {"charges": charge, "customers": customer, "subscriptions": subscription, "refunds": refund}


def fill(store: StripeStore, name: str, count: int, *, start: int | None = None, step: int = 7, seed: int = 1) -> list[
        dict[str, Any]]:  # fmt: skip
    """`count` objects of `name`, created `step` seconds apart from `start` (default: a day ago)."""
    rng = random.Random(seed)
    first = int(time.time()) - 86400 if start is None else start
    return [store.create(name, first + i * step, **MAKERS[name](rng, i)) for i in range(count)]
