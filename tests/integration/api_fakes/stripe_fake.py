"""Stripe's API as documented, over objects the tests create, change and delete.

- Lists: `GET /v1/<object>`, newest first (created, then creation order), `limit` 1-100,
  `starting_after=<id>`, `created[gte|gt|lte|lt]`; `{"object": "list", "data", "has_more", "url"}`.
  Subscriptions leave out canceled ones unless `status=all` (or `status=canceled`).
- Events: `GET /v1/events` with `types[]` (exact names, at most 20) or `type` (a `*` wildcard),
  the same filters and paging; only the last 30 days are kept. Every create, update and delete
  makes one (`<prefix>.created|updated|deleted`, `data.object` the snapshot).
- Errors: `{"error": {"type", "message", "code"?}}` with a `Request-Id` header; a wrong key is
  401 "Invalid API Key provided", a revoked one 401 "Expired API Key provided" (masked as Stripe
  masks them), an unknown path 404, a bad parameter 400.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from tests.integration.api_fakes.http_base import Answer, FakeApi

WINDOW = 30 * 86400
PREFIX = {"charges": "charge", "customers": "customer", "invoices": "invoice", "subscriptions": "customer.subscription",
          "products": "product", "prices": "price", "refunds": "refund", "payment_intents": "payment_intent",
          "balance_transactions": "balance_transaction"}  # fmt: skip
ID_PREFIX = {"charges": "ch", "customers": "cus", "invoices": "in", "subscriptions": "sub", "products": "prod",
             "prices": "price", "refunds": "re", "payment_intents": "pi", "balance_transactions": "txn"}  # fmt: skip


@dataclass
class StripeStore:
    key: str = "sk_test_fake_4eC39HqLyjWDarjtT1zdp7dc"
    revoked: set[str] = field(default_factory=set)
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # name -> id -> object
    order: dict[str, int] = field(default_factory=dict)  # id -> creation order
    events: list[dict[str, Any]] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def create(self, name: str, at: int | None = None, /, **values: Any) -> dict[str, Any]:
        at = int(time.time()) if at is None else at
        number = next(self.counter)
        obj = {"id": values.pop("id", f"{ID_PREFIX.get(name, 'obj')}_{number:010d}"), "object": name[:-1],
               "created": at, "livemode": False, "metadata": {}, **values}  # fmt: skip
        self.objects.setdefault(name, {})[obj["id"]] = obj
        self.order[obj["id"]] = number
        self._event(name, "created", obj, at)
        return obj

    def update(self, name: str, obj_id: str, /, at: int | None = None, **values: Any) -> dict[str, Any]:
        obj = self.objects[name][obj_id]
        obj.update(values)
        self._event(name, "updated", obj, int(time.time()) if at is None else at)
        return obj

    def delete(self, name: str, obj_id: str, at: int | None = None) -> None:
        obj = self.objects[name].pop(obj_id)
        self._event(name, "deleted", obj, int(time.time()) if at is None else at)

    def _event(self, name: str, change: str, obj: dict[str, Any], at: int) -> None:
        number = next(self.counter)
        self.order[f"evt_{number:010d}"] = number
        self.events.append({"id": f"evt_{number:010d}", "object": "event", "type": f"{PREFIX.get(name, name)}.{change}",
                            "created": at, "api_version": "2024-06-20", "livemode": False, "pending_webhooks": 0,
                            "request": {"id": None}, "data": {"object": dict(obj)}})  # fmt: skip

    def route(self, method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: Any) -> Answer:
        refused = self._auth(headers.get("authorization", ""))
        if refused:
            return refused
        name = path.removeprefix("/v1/")
        if method != "GET" or not path.startswith("/v1/") or (name != "events" and name not in PREFIX):
            return _error(404, f"Unrecognized request URL ({method}: {path}).")
        params: dict[str, list[str]] = {}
        for k, v in query:
            params.setdefault(k, []).append(v)
        items = self._events(params) if name == "events" else self._listing(name, params)
        if isinstance(items, tuple):
            return items
        return _page(path, items, params, self.order)

    def _auth(self, header: str) -> Answer | None:
        given = header.removeprefix("Bearer ").strip()
        if given == self.key and given not in self.revoked:
            return None
        masked = given[:8] + "*" * 12 + given[-4:] if len(given) > 12 else "***"
        word = "Expired" if given in self.revoked else "Invalid"
        return _error(401, f"{word} API Key provided: {masked}")

    def _listing(self, name: str, params: dict[str, list[str]]) -> list[dict[str, Any]] | Answer:
        items = list(self.objects.get(name, {}).values())
        status = params.get("status", [""])[0]
        if name == "subscriptions" and status != "all":
            keep = (lambda s: s.get("status") == status) if status else (lambda s: s.get("status") != "canceled")
            items = [s for s in items if keep(s)]
        return _created(items, params)

    def _events(self, params: dict[str, list[str]]) -> list[dict[str, Any]] | Answer:
        types = params.get("types[]", [])
        if len(types) > 20:
            return _error(400, "You may only specify up to 20 types.", param="types")
        kept = [e for e in self.events if e["created"] >= time.time() - WINDOW]
        if types:
            kept = [e for e in kept if e["type"] in types]
        if "type" in params:
            kept = [e for e in kept if fnmatchcase(e["type"], params["type"][0])]
        return _created(kept, params)


def _created(items: Iterable[dict[str, Any]], params: dict[str, list[str]]) -> list[dict[str, Any]] | Answer:
    tests = {"gte": int.__ge__, "gt": int.__gt__, "lte": int.__le__, "lt": int.__lt__}
    out = list(items)
    for op, test in tests.items():
        for value in params.get(f"created[{op}]", []):
            if not value.isdigit():
                return _error(400, f"Invalid integer: {value}", param=f"created[{op}]")
            out = [o for o in out if test(o["created"], int(value))]
    return out


def _page(path: str, items: list[dict[str, Any]], params: dict[str, list[str]], order: dict[str, int]) -> Answer:
    limit = params.get("limit", ["10"])[0]
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        return _error(400, "Invalid limit: must be between 1 and 100", param="limit")
    items.sort(key=lambda o: (o["created"], order[o["id"]]), reverse=True)
    start = 0
    if "starting_after" in params:
        after = params["starting_after"][0]
        if after not in order:
            return _error(400, f"No such object: '{after}'", param="starting_after", code="resource_missing")
        mark = (next((o["created"] for o in items if o["id"] == after), None), order[after])
        start = next((i for i, o in enumerate(items) if (o["created"], order[o["id"]]) < mark), len(items)) \
            if mark[0] is not None else len(items)  # fmt: skip
    data = items[start : start + int(limit)]
    return 200, {}, {"object": "list", "url": path, "has_more": start + int(limit) < len(items), "data": data}


def _error(status: int, message: str, **extra: str) -> Answer:
    kind = "invalid_request_error" if status < 500 else "api_error"
    return status, {}, {"error": {"type": kind, "message": message, **extra}}


def start_stripe(store: StripeStore | None = None) -> tuple[FakeApi, StripeStore]:
    store = store or StripeStore()
    return FakeApi(store.route).start(), store
