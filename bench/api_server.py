"""A Stripe list endpoint over generated charges, for the API bench: `python bench/api_server.py N PORT KEY`.

Objects are made from their index when a page is asked for (nothing is stored), so the server's
memory stays flat at any N; it follows the test fake's contract (newest first, `limit`,
`starting_after`, `created` bounds, Bearer key). Runs in a process of its own, so its CPU and
memory are nobody's in the measurements.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.api_fakes.http_base import Answer, FakeApi  # noqa: E402

BASE = 1_700_000_000


def charge(i: int) -> dict[str, Any]:
    return {"id": f"ch_{i:012d}", "object": "charge", "amount": 100 + i % 99_900, "amount_captured": 100 + i % 99_900,
            "amount_refunded": 0, "currency": ("usd", "eur", "gbp")[i % 3], "customer": f"cus_{i % 50_000:010d}",
            "description": f"order {i}", "status": "succeeded", "paid": True, "captured": True, "refunded": False,
            "failure_code": None, "failure_message": None, "invoice": None, "payment_intent": f"pi_{i:012d}",
            "balance_transaction": f"txn_{i:012d}", "billing_details": {"name": f"Buyer {i}", "email": None},
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
            "livemode": False, "metadata": {"order": str(i)}, "created": BASE + i // 10}  # fmt: skip


def make_route(count: int, key: str) -> Any:
    def route(method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: Any) -> Answer:
        if headers.get("authorization") != f"Bearer {key}":
            return 401, {}, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
        if path != "/v1/charges":
            return 404, {}, {"error": {"type": "invalid_request_error", "message": f"Unrecognized URL {path}"}}
        params = dict(query)
        limit = int(params.get("limit", "10"))
        top = count - 1  # newest first: indexes from the top down
        if "starting_after" in params:
            top = int(params["starting_after"].removeprefix("ch_")) - 1
        if "created[lte]" in params:
            top = min(top, (int(params["created[lte]"]) - BASE) * 10 + 9)
        low = max(0, (int(params["created[gte]"]) - BASE) * 10) if "created[gte]" in params else 0
        indexes = range(top, max(low, top - limit + 1) - 1, -1)
        data = [charge(i) for i in indexes]
        more = bool(data) and indexes[-1] > low
        return 200, {}, {"object": "list", "url": path, "has_more": more, "data": data}

    return route


if __name__ == "__main__":
    count, port, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    api = FakeApi(make_route(count, key))
    api.start(port)
    print(api.url, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    api.stop()
