"""Product-analytics events for the demo: a month of batch-export files for the demo's people.

    python include/demo/events.py URI OUT_DIR [--end 2026-12-04] [--days 30] [--seed 7] [--format jsonl]

URI is a libpq URI of the server holding the demo's `billing` and `crm` databases (seed.py; its
database part is ignored). OUT_DIR gets one folder per day, `date=2026-12-01/events.jsonl` (or
`.parquet`), in the shape analytics tools' batch exports have: one row per event with `uuid`,
`event`, `distinct_id`, `timestamp`, `properties` (JSON text), `person_id`, `person_properties`
(JSON text). `distinct_id` is the person's email, so events join to `billing_customers.email` and
`crm_contacts.email`; `person_properties` carries `customer_id` (billing) or `crm_contact_id`.

Who does what: billing customers sign up on their `created_at`, then use the product on some
days (pageviews, feature use), more often on paid plans; some upgrade (to the plan of their
latest successful charge) and some cancel, after which they go quiet. A share of the CRM's leads
sign up for the free plan and try the product too.

The days are the `--days` full days before `--end` (default: today, UTC, so today's partial day
is never written). A day's events depend only on the seed, the day and the databases' rows, so
running the generator again the next day writes the same files for the days before and one new
day; a file whose content is unchanged is not rewritten (an append-only sync then loads only the
new day).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

PAGES = ("/", "/dashboards", "/sql", "/sources", "/settings/billing", "/docs/getting-started", "/exports", "/alerts")
FEATURES = ("sql_editor", "dashboards", "exports", "alerts", "api")
BROWSERS = ("Chrome", "Chrome", "Chrome", "Safari", "Firefox", "Edge")
OSES = ("Mac OS X", "Windows", "Windows", "Linux", "iOS", "Android")
SIGNUP_SOURCES = ("organic", "organic", "ads", "referral", "sales")
CANCEL_REASONS = ("too_expensive", "missing_feature", "switched_tool", "project_ended")
PLAN_ORDER = ("free", "starter", "team", "business", "enterprise")
ENGAGEMENT = {"free": 0.6, "starter": 0.8, "team": 1.0, "business": 1.2, "enterprise": 1.4}  # bigger plans, more use
PERSON_NAMESPACE = uuid.UUID("6f1e1d9c-2c55-4b53-9d3e-5e1c0d5a7a11")
COLUMNS = ("uuid", "event", "distinct_id", "timestamp", "properties", "person_id", "person_properties")


@dataclass(frozen=True)
class Person:
    """Someone who may use the product: a billing customer, or a CRM lead who signs up."""

    email: str
    name: str
    signed_up: datetime
    plan: str
    customer_id: int | None = None
    crm_contact_id: int | None = None

    def properties(self) -> dict[str, Any]:
        ids = {"customer_id": self.customer_id} if self.customer_id else {"crm_contact_id": self.crm_contact_id}
        return {"email": self.email, "name": self.name, **ids, "plan": self.plan}


def draw(seed: int, *parts: object) -> random.Random:
    """A generator seeded by `parts` alone (stable across runs and Python versions)."""
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass(frozen=True)
class Fate:
    """What happens to a person, fixed by the seed: how active, when they upgrade and cancel."""

    engagement: float
    upgrade_on: date | None
    cancel_on: date | None

    @classmethod
    def of(cls, seed: int, person: Person) -> Fate:
        rng = draw(seed, "fate", person.email)
        paid = person.plan != "free"
        engagement = min(1.0, rng.betavariate(2, 3) * ENGAGEMENT.get(person.plan, 1.0))
        start = person.signed_up.date()
        upgrade = start + timedelta(days=rng.randint(7, 200)) if paid and rng.random() < 0.25 else None
        cancel = start + timedelta(days=rng.randint(20, 420)) if rng.random() < 0.12 else None
        return cls(engagement, upgrade, cancel)


def event(rng: random.Random, person: Person, name: str, at: datetime, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event": name,
        "distinct_id": person.email,
        "timestamp": at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "properties": json.dumps(props, sort_keys=True),
        "person_id": str(uuid.uuid5(PERSON_NAMESPACE, person.email)),
        "person_properties": json.dumps(person.properties(), sort_keys=True),
    }


def day_events(seed: int, day: date, person: Person, fate: Fate) -> list[dict[str, Any]]:
    """One person's events on `day`, from the seed, the day and the person alone."""
    if day < person.signed_up.date() or (fate.cancel_on is not None and day > fate.cancel_on):
        return []
    rng = draw(seed, day.isoformat(), person.email)
    plan = person.plan if fate.upgrade_on is None or day >= fate.upgrade_on else _previous(person.plan)
    events = []
    if day == person.signed_up.date():
        props = {"source": rng.choice(SIGNUP_SOURCES), "plan": "free"}  # everyone starts on the free plan
        events.append(event(rng, person, "signed_up", person.signed_up, props))
    if day == fate.upgrade_on:
        at = _moment(rng, day)
        events.append(event(rng, person, "plan_upgraded", at, {"from_plan": _previous(plan), "to_plan": plan}))
    if day == fate.cancel_on:
        props = {"plan": plan, "reason": rng.choice(CANCEL_REASONS)}
        events.append(event(rng, person, "subscription_cancelled", _moment(rng, day), props))
    if rng.random() < fate.engagement * (0.35 if day.weekday() >= 5 else 0.8):
        events += _session(rng, person, day, plan)
    return sorted(events, key=lambda e: e["timestamp"])


def _session(rng: random.Random, person: Person, day: date, plan: str) -> list[dict[str, Any]]:
    """A working session: pageviews and feature use within an hour or so."""
    start = _moment(rng, day)
    session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    client = {"$browser": rng.choice(BROWSERS), "$os": rng.choice(OSES), "$session_id": session, "plan": plan}
    events = []
    at = start
    for _ in range(rng.randint(1, 8)):
        page = rng.choice(PAGES)
        events.append(event(rng, person, "$pageview", at, {**client, "$current_url": f"https://app.example.com{page}"}))
        at += timedelta(seconds=rng.randint(5, 600))
        if rng.random() < 0.45:
            events.append(event(rng, person, "feature_used", at, {**client, "feature": rng.choice(FEATURES)}))
            at += timedelta(seconds=rng.randint(5, 300))
    return [e for e in events if e["timestamp"] < _iso(datetime.combine(day + timedelta(days=1), time(), UTC))]


def _moment(rng: random.Random, day: date) -> datetime:
    """A time of `day`, mostly in working hours (UTC)."""
    hour = min(23, max(0, int(rng.gauss(14, 3.5))))
    return datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999_999)), UTC)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _previous(plan: str) -> str:
    index = PLAN_ORDER.index(plan) if plan in PLAN_ORDER else 1
    return PLAN_ORDER[max(0, index - 1)]


def generate(seed: int, people: list[Person], end: date, days: int) -> Iterator[tuple[date, list[dict[str, Any]]]]:
    """(day, its events sorted by time) for the `days` days before `end`."""
    fates = [Fate.of(seed, person) for person in people]
    for offset in range(days, 0, -1):
        day = end - timedelta(days=offset)
        found = [e for person, fate in zip(people, fates, strict=True) for e in day_events(seed, day, person, fate)]
        yield day, sorted(found, key=lambda e: (e["timestamp"], e["uuid"]))


def write_day(out: Path, day: date, events: list[dict[str, Any]], fmt: str) -> bool:
    """Write the day's file unless an identical one is there; True when written."""
    path = out / f"date={day.isoformat()}" / f"events.{fmt}"
    data = _jsonl(events) if fmt == "jsonl" else _parquet(events)
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_bytes(data)
    temp.replace(path)
    return True


def _jsonl(events: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(e) + "\n" for e in events).encode()


def _parquet(events: list[dict[str, Any]]) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: [e[name] for e in events] for name in COLUMNS}
    times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in columns["timestamp"]]
    table = pa.table({**columns, "timestamp": pa.array(times, pa.timestamp("us", "UTC"))})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def load_people(uri: str, billing_db: str, crm_db: str, seed: int) -> list[Person]:
    """Billing customers (plan: their latest successful charge's) and the CRM leads who sign up."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(make_conninfo(uri, dbname=billing_db)) as conn:
        customers = conn.execute(CUSTOMERS_SQL).fetchall()
    with psycopg.connect(make_conninfo(uri, dbname=crm_db)) as conn:
        contacts = conn.execute(CONTACTS_SQL).fetchall()
    people = [
        Person(email, name, created.astimezone(UTC), plan or "free", customer_id=cid)
        for cid, email, name, created, plan in customers
    ]
    for contact_id, email, name, created in contacts:
        rng = draw(seed, "lead", email)
        if rng.random() < 0.2:
            signed_up = created + timedelta(days=rng.randint(0, 20), seconds=rng.randint(0, 86_399))
            people.append(Person(email, name, signed_up.astimezone(UTC), "free", crm_contact_id=contact_id))
    return people


CUSTOMERS_SQL = """
SELECT c.id, c.email, c.name, c.created_at,
       (SELECT p.code FROM charges ch JOIN plans p ON p.id = (ch.metadata->>'plan')::int
        WHERE ch.customer_id = c.id AND ch.status = 'succeeded' ORDER BY ch.created_at DESC, ch.id DESC LIMIT 1)
FROM customers c ORDER BY c.id
"""
CONTACTS_SQL = """
SELECT id, email, first_name || ' ' || last_name, created_at FROM contacts
WHERE lifecycle_stage IN ('lead', 'opportunity') ORDER BY id
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("uri", help="libpq URI of the server with the billing and crm databases")
    parser.add_argument("out", type=Path, help="folder for the date=YYYY-MM-DD/ folders")
    parser.add_argument(
        "--end", type=date.fromisoformat, default=datetime.now(UTC).date(), help="first day not written"
    )
    parser.add_argument("--days", type=int, default=30, help="days before --end to write (30)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl")
    parser.add_argument("--billing-db", default="billing")
    parser.add_argument("--crm-db", default="crm")
    args = parser.parse_args(argv)
    people = load_people(args.uri, args.billing_db, args.crm_db, args.seed)
    total = written = 0
    for day, events in generate(args.seed, people, args.end, args.days):
        written += write_day(args.out, day, events, args.format)
        total += len(events)
    print(
        f"events: {total} events over {args.days} days for {len(people)} people in {args.out} ({written} files written)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
