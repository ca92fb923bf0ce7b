"""The oracle: what the warehouse must hold after each sync, from the source as psycopg reads it.

Per method (README "Sync methods and their guarantees"):
  full_table   the warehouse multiset equals the source's at the sync;
  incremental  one row per primary key, equal to the source row as of the last sync that read it;
               keys deleted in the source keep their last synced values;
  append_only  every row present at some sync, once: at each sync the rows read (key >= cursor)
               minus those the previous sync saw. Identical rows are told apart only by count, so
               a copy deleted and an identical copy inserted between two syncs cancel out.
A read takes the whole table (first load, full refresh, or while no cursor exists) and otherwise
starts at the cursor, moved back by an incremental table's lookback (from the first row when that
reaches below year 1); keys no cursor holds (NULL, +-infinity, years outside 1..9999) are read by
whole-table loads only, and counted in a warning, like values stored as NULL. Array columns are
decided at each whole-table load: array<...> unless some value is multi-dimensional or has another
lower bound, then text until the next whole-table load; an irregular array read later into an
array<...> column is a SchemaDriftError. Expected refusals: columns differing only by case, and
NULL or duplicate values of a primary key given only in YAML among the rows read; a refused sync
commits nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tests.reliability.differential_source import SourceRow
from tests.reliability.differential_support import TableSpec
from tests.reliability.differential_values import (
    STORED_DAYS,
    STORED_US,
    conform,
    expected_type,
    expected_value,
    multiset_diff,
    warehouse_rows,
)
from warehouse_sources.errors import SchemaDriftError, SyncFatalError

Row = tuple[Any, ...]
FROM_START = "from the start"  # a lookback reaching below year 1 (or the smallest bigint) reads every row


@dataclass(frozen=True)
class ExpectedError:
    kind: type[Exception]
    names: tuple[str, ...]
    why: str

    def matches(self, exc: BaseException) -> bool:
        return isinstance(exc, self.kind) and _names(str(exc), self.names)


def _names(text: str, names: tuple[str, ...]) -> bool:
    """Every name appears in `text`, as it is or as Python's repr shows it."""
    return all(n in text or repr(n)[1:-1] in text for n in names)


@dataclass
class Expectation:
    errors: list[ExpectedError]
    whole: bool = False
    read: list[SourceRow] = field(default_factory=list)
    as_text: dict[str, bool] = field(default_factory=dict)
    nulled: Counter[str] = field(default_factory=Counter)  # values stored as NULL, per column (counted warning)
    unreadable_keys: int = 0  # rows no cursor reads (counted warning)

    def missing_warnings(self, key: str | None, warnings: list[str]) -> list[str]:
        """The counted warnings the README promises that no logged warning carries."""
        wanted = [(f"{n} values stored as NULL in column", c, n) for c, n in self.nulled.items() if n]
        if key is not None and self.unreadable_keys:
            wanted.append(("rows whose replication key no cursor holds", key, self.unreadable_keys))
        return [
            f"{what} {name!r}: {n}"
            for what, name, n in wanted
            if not any(_names(w, (name,)) and re.search(rf"\b{n}\b", w) for w in warnings)
        ]


@dataclass
class Model:
    spec: TableSpec
    created: bool = False
    cursor: int | None = None
    as_text: dict[str, bool] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # arrow type per column, as last written
    multiset: Counter[Row] = field(default_factory=Counter)  # full_table, append_only
    by_key: dict[Row, Row] = field(default_factory=dict)  # incremental
    previous: Counter[Row] = field(default_factory=Counter)  # append_only: the rows at the last sync
    deletes: str = "none"  # incremental: none, hard (keys gone from the source leave) or soft (marked)
    marked: set[Row] = field(default_factory=set)  # deletes: soft: keys the table holds with _ws_deleted_at set

    def expect(self, rows: list[SourceRow], full_refresh: bool = False) -> Expectation:
        spec = self.spec
        if spec.case_twins:
            return Expectation([ExpectedError(SyncFatalError, tuple(spec.case_twins), "columns differ only by case")])
        whole = spec.method == "full_table" or full_refresh or not self.created or self.cursor is None
        lower = None if whole else self._lower()
        if whole or lower == FROM_START:
            read = rows
        else:
            read = [r for r in rows if r.key is not None and r.key >= lower]
        arrays = [(i, c.name) for i, c in enumerate(spec.columns) if c.pg.storage == "array"]
        as_text = {n: any(not r.plain[i] for r in rows) for i, n in arrays} if whole else self.as_text
        errors = [
            ExpectedError(SchemaDriftError, (n,), "an irregular array read into a column stored as array<...>")
            for i, n in arrays
            if not whole and not as_text.get(n) and any(not r.plain[i] for r in read)
        ]
        if spec.method == "incremental" and not spec.pk_constraint:
            keys = [self._pk(self._canon(r, as_text)) for r in read]
            if any(v is None for k in keys for v in k) or len(set(keys)) < len(keys):
                errors.append(ExpectedError(SyncFatalError, spec.pk, "NULL or duplicate YAML primary key"))
        nulled: Counter[str] = Counter()
        for row in read:
            for c, raw, text in zip(spec.columns, row.raws, row.texts, strict=True):
                if raw is not None and c.pg.storage in ("date", "timestamp", "decimal"):
                    nulled[c.name] += expected_value(c.pg, raw, False, text) is None
        unreadable = sum(r.key is None for r in rows) if spec.key else 0
        return Expectation(errors, whole, read, as_text, nulled, unreadable)

    def apply(self, exp: Expectation, rows: list[SourceRow]) -> None:
        """The state after a sync that succeeded as `exp` describes."""
        spec = self.spec
        self.created = True
        if exp.whole:
            self.as_text = exp.as_text
        keys = [r.key for r in exp.read if r.key is not None]
        if exp.whole or keys:
            self.cursor = max(keys + ([] if exp.whole or self.cursor is None else [self.cursor]), default=None)
        # The writer runs, and applies a widening, whenever rows were read; an append-only table with a
        # cursor also when none were (it records rows gone from the cursor value), and an incremental
        # one with deletes on when keys left the source (their tombstones ride in a MERGE): it widens then too.
        canon = [self._canon(r, self.as_text) for r in rows]
        deleting = self._finds_deletions(exp, canon)
        if exp.whole or keys or deleting or (spec.method == "append_only" and self.cursor is not None):
            self.types = {c.name: expected_type(c.pg, self.as_text.get(c.name, False)) for c in spec.columns}
        read = [self._canon(r, self.as_text) for r in exp.read]
        if spec.method == "full_table" or (exp.whole and spec.method == "append_only"):
            self.multiset = Counter(canon)
        elif spec.method == "append_only":
            types = [self.types.get(c.name, "") for c in spec.columns]
            seen = Counter(conform(r, types) for r in self.previous.elements())
            self.multiset += Counter(conform(r, types) for r in read) - seen
        else:
            self.by_key = {} if exp.whole else self.by_key
            self.by_key.update((self._pk(r), r) for r in read)
            self._deletions(exp, canon, read)
        self.previous = Counter(canon)

    def _finds_deletions(self, exp: Expectation, canon: list[Row]) -> bool:
        """Whether this sync finds live keys gone from the source (deletes on, after the first sync)."""
        if self.deletes == "none" or exp.whole or self.spec.method != "incremental":
            return False
        return bool(set(self.by_key) - {self._pk(r) for r in canon} - self.marked)

    def _deletions(self, exp: Expectation, canon: list[Row], read: list[Row]) -> None:
        """deletes: every sync after the first compares key sets: keys the source no longer has leave
        (hard) or are marked (soft); a key read again is live."""
        if exp.whole:
            self.marked = set()
        if self.deletes == "none" or exp.whole:
            return
        gone = set(self.by_key) - {self._pk(r) for r in canon}
        if self.deletes == "hard":
            for key in gone:
                del self.by_key[key]
        else:
            self.marked = (self.marked | gone) - {self._pk(r) for r in read}

    def check(self, uri: str, types_too: bool) -> str:
        """What differs between the warehouse and the model ('' when nothing)."""
        from deltalake import DeltaTable

        if not self.created:
            return "the synced table exists although no sync succeeded" if DeltaTable.is_deltatable(uri) else ""
        names = [c.name for c in self.spec.columns]
        found, rows = warehouse_rows(uri, names)
        problems = []
        data = sorted(n for n in found if not n.startswith("_ws_"))
        if data != sorted(names) or "_ws_synced_at" not in found:
            problems.append(f"columns {sorted(found)}, expected {sorted(names)} + _ws_synced_at")
        wrong = {n: (found.get(n), t) for n, t in self.types.items() if found.get(n) != t}
        if types_too and wrong:
            problems.append("column types (stored, expected): " + repr(wrong))
        types = [found.get(n) or "" for n in names]
        got = Counter(conform(r, types) for r in rows)
        expected = Counter(conform(r, types) for r in self._expected_rows())
        if got != expected:
            problems.append(self._describe(expected, got))
        if self.deletes == "soft":
            problems += self._check_marks(uri)
        return "\n".join(problems)

    def _check_marks(self, uri: str) -> list[str]:
        """deletes: soft: `_ws_deleted_at` is set on exactly the keys that left the source."""
        pk = list(self.spec.pk)
        found, rows = warehouse_rows(uri, [*pk, "_ws_deleted_at"])
        types = [found.get(n) or "" for n in pk]
        got = {conform(r[:-1], types) for r in rows if r[-1] is not None}
        want = {conform(k, types) for k in self.marked}
        if got == want:
            return []
        return [f"_ws_deleted_at set on keys {sorted(got - want, key=repr)[:6]} (not deleted) and missing on "
                f"{sorted(want - got, key=repr)[:6]} (deleted)"]  # fmt: skip

    def _expected_rows(self) -> list[Row]:
        return list(self.by_key.values()) if self.spec.method == "incremental" else list(self.multiset.elements())

    def _describe(self, expected: Counter[Row], got: Counter[Row]) -> str:
        names = [c.name for c in self.spec.columns]
        if self.spec.method != "incremental":
            return f"rows differ (columns {names}):\n{multiset_diff(expected, got)}"
        by_key: dict[Row, list[Row]] = {}
        for row in got.elements():
            by_key.setdefault(self._pk(row), []).append(row)
        lines = [f"rows differ by primary key {list(self.spec.pk)}:"]
        for key in sorted(set(by_key) | {self._pk(r) for r in expected}, key=repr):
            want = [r for r in expected if self._pk(r) == key]
            have = by_key.get(key, [])
            if len(want) == len(have) == 1 and want[0] != have[0]:
                diff = {n: (h, w) for n, h, w in zip(names, have[0], want[0], strict=True) if h != w}
                lines.append(f"  key {key!r}: (warehouse, expected) {diff!r}")
            elif want != have:
                lines.append(f"  key {key!r}: warehouse has {have!r}, expected {want!r}")
        return "\n".join(lines[:12])

    def _lower(self) -> int | str:
        """Where a cursor read starts: the cursor moved back by the lookback (whole days for a date
        key), or FROM_START when that falls below the first key a cursor holds (every row is read)."""
        cursor, lookback, kind = self.cursor, self.spec.lookback, self.spec.key_kind
        assert cursor is not None
        if not lookback:
            return cursor
        if isinstance(lookback, int):
            return FROM_START if cursor - lookback < -(2**63) else cursor - lookback
        if kind == "date":
            lower = cursor - max(1, -(-lookback // timedelta(days=1)))
            return FROM_START if lower < STORED_DAYS[0] else lower
        lower = cursor - lookback // timedelta(microseconds=1)
        return FROM_START if lower < STORED_US[0] else lower

    def _canon(self, row: SourceRow, as_text: dict[str, bool]) -> Row:
        return tuple(
            expected_value(c.pg, raw, as_text.get(c.name, False), text, plain)
            for c, raw, text, plain in zip(self.spec.columns, row.raws, row.texts, row.plain, strict=True)
        )

    def _pk(self, row: Row) -> Row:
        return tuple(row[self.spec.index(n)] for n in self.spec.pk)
