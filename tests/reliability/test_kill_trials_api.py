"""SIGKILL a Stripe and a HubSpot sync at random points, per method, over their local fake servers
(real HTTP, tests/integration/api_fakes/): the same runner, kills and checks as the databases'
(kill_trials.py), with each trial creating, changing and deleting (HubSpot: archiving) objects.

What a method promises of an API object (`api_compare`): incremental, the live objects with their
latest values, and a deleted one only kept marked deleted; append_only, every live object exactly
once (with the values its read saw) and nothing that never existed; full_table, exactly the live
objects. One fake server per method, started once; WS_KILL_SEED=<seed> replays a run.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api_fakes.http_base import FakeApi
from tests.integration.api_fakes.hubspot_fake import HubSpotStore, start_hubspot
from tests.integration.api_fakes.stripe_fake import StripeStore, start_stripe
from tests.reliability.kill_support import SEED, worker_env
from tests.reliability.kill_trials import TrialKind, Trials, run_and_report

pytestmark = pytest.mark.integration

INITIAL = 300
COUNTS = (7, 5, 8)  # kills by rows read, before the commit, at a random time: 20 per method
COLUMNS = ("id", "name", "_ws_deleted_at")  # "name": Stripe's name, HubSpot's firstname (as read)
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)  # inside Stripe's 30 days of events


def api_compare(method: str, synced: list[tuple[Any, ...]], source: list[tuple[Any, ...]], deleted: set[Any]) -> dict:
    """Rows (id, name, deleted at) lost, duplicated, stale (old values, or a live object marked
    deleted) and extra (an id no method may keep: incremental keeps deleted ones marked, append_only
    the deleted ones a read saw, full_table none)."""
    counts = Counter(row[0] for row in synced)
    by_id = {row[0]: row for row in synced}
    want = {row[0]: row for row in source}
    marked = {i for i, row in by_id.items() if row[2] is not None}
    stale = [i for i, row in want.items() if i in by_id and (by_id[i][1] != row[1] or i in marked)]
    allowed = {"incremental": marked & deleted, "append_only": deleted}.get(method.split(",")[0], set())
    return {
        "lost": sum(1 for i in want if i not in by_id),
        "duplicated": sum(n - 1 for n in counts.values() if n > 1),
        "stale": 0 if method == "append_only" else len(stale),  # append_only keeps what the read saw
        "extra": len(set(by_id) - set(want) - allowed),
    }


@dataclass
class ApiSource:
    """An API's objects behind its fake server, and what the trials did to them (one seeded generator)."""

    method: str
    rng: random.Random
    uri: str = ""
    deleted: set[Any] = field(default_factory=set)
    clock: datetime = START
    api: FakeApi | None = None

    def __enter__(self) -> ApiSource:
        self.start()
        for _ in range(INITIAL):
            self.create()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.api is not None:
            self.api.stop()

    def change(self, cursor: Any) -> int:
        """Creations, changes and deletions a second or so apart (several in one second at times);
        how many objects a normal run reads at least (the new ones still live)."""
        new = [self.create()]
        for _ in range(self.rng.randrange(20, 400)):
            self.clock += timedelta(seconds=self.rng.choice((0, 0, 1)))
            live, roll = self.live(), self.rng.random()
            if roll < 0.6 or len(live) < 2:
                new.append(self.create())
            elif roll < 0.9:
                self.update(self.rng.choice(live))
            else:
                gone = self.rng.choice(live)
                self.delete(gone)
                self.deleted.add(gone)
        return max(1, len(set(new) - self.deleted))

    def rows(self) -> list[tuple[Any, ...]]:
        return [(i, name, None) for i, name in self.names().items()]

    def live(self) -> list[str]:
        return list(self.names())

    def start(self) -> None:  # the API's own: start its fake server and set uri
        raise NotImplementedError

    def create(self) -> str:
        raise NotImplementedError

    def update(self, oid: str) -> None:
        raise NotImplementedError

    def delete(self, oid: str) -> None:
        raise NotImplementedError

    def names(self) -> dict[str, str]:  # live id -> name
        raise NotImplementedError


@dataclass
class StripeSource(ApiSource):
    store: StripeStore = field(default_factory=StripeStore)

    def start(self) -> None:
        self.api, _ = start_stripe(self.store)
        self.uri = self.api.url

    def create(self) -> str:
        return str(self.store.create("customers", int(self.clock.timestamp()), name=f"n{self.clock}", email=None)["id"])

    def update(self, oid: str) -> None:
        self.store.update("customers", oid, int(self.clock.timestamp()), name=f"u{self.clock} {self.rng.random():.6f}")

    def delete(self, oid: str) -> None:
        self.store.delete("customers", oid, int(self.clock.timestamp()))

    def names(self) -> dict[str, str]:
        return {i: o["name"] for i, o in self.store.objects.get("customers", {}).items()}


@dataclass
class HubSpotSource(ApiSource):
    store: HubSpotStore = field(default_factory=HubSpotStore)

    def start(self) -> None:
        self.api, _ = start_hubspot(self.store)
        self.uri = self.api.url

    def create(self) -> str:
        return str(self.store.create("contacts", self.clock, email=f"c{self.clock}@example.com",
                                     firstname=f"n{self.clock}")["id"])  # fmt: skip

    def update(self, oid: str) -> None:
        self.store.update("contacts", oid, self.clock, firstname=f"u{self.clock} {self.rng.random():.6f}")

    def delete(self, oid: str) -> None:
        self.store.archive("contacts", oid, self.clock)

    def names(self) -> dict[str, str]:
        records = self.store.records["contacts"].items()
        return {i: r["properties"]["firstname"] for i, r in records if not r["archived"]}


def stripe_reader(key: str) -> Callable[[str], AbstractContextManager[Any]]:
    @contextmanager
    def open_reader(url: str) -> Iterator[Any]:
        from warehouse_sources.sources.stripe import open_stripe

        with open_stripe(url, key, source="kill", budget=10) as reader:
            yield reader

    return open_reader


def hubspot_reader(key: str) -> Callable[[str], AbstractContextManager[Any]]:
    @contextmanager
    def open_reader(url: str) -> Iterator[Any]:
        from warehouse_sources.sources.hubspot import open_hubspot

        with open_hubspot(url, key, source="kill", budget=10) as reader:
            yield reader

    return open_reader


def stripe_kind() -> TrialKind:
    key = StripeStore().key
    keys: dict[str, str | None] = {"incremental": "changed_at", "append_only": "created", "full_table": None}
    return TrialKind("stripe", "", COUNTS, INITIAL, stripe_reader(key), table="customers", keys=keys,
                     columns=COLUMNS, compare=api_compare, worker={"key": key})  # fmt: skip


def hubspot_kind() -> TrialKind:
    key = HubSpotStore().token
    keys: dict[str, str | None] = {"incremental": "lastmodifieddate", "append_only": "createdate", "full_table": None}
    return TrialKind("hubspot", "", COUNTS, INITIAL, hubspot_reader(key), table="contacts", keys=keys,
                     columns=("id", "firstname", "_ws_deleted_at"), compare=api_compare,
                     worker={"key": key})  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return worker_env(tmp_path_factory.mktemp("pycache"))


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_stripe_sigkill_at_random_points_never_loses_or_duplicates_objects(
    method: str, warehouse: str, tmp_path: Path, env: dict[str, str], reliability: Any
) -> None:
    print(f"stripe kill trials {method}: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with StripeSource(method, random.Random(f"{SEED}-stripe-{method}")) as source:
        run_and_report(Trials(stripe_kind(), source, warehouse, tmp_path, env), reliability)


@pytest.mark.parametrize("method", ["incremental", "append_only", "full_table"])
def test_hubspot_sigkill_at_random_points_never_loses_or_duplicates_records(
    method: str, warehouse: str, tmp_path: Path, env: dict[str, str], reliability: Any
) -> None:
    print(f"hubspot kill trials {method}: seed {SEED} (replay with WS_KILL_SEED={SEED})")
    with HubSpotSource(method, random.Random(f"{SEED}-hubspot-{method}")) as source:
        run_and_report(Trials(hubspot_kind(), source, warehouse, tmp_path, env), reliability)
