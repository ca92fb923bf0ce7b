"""Sync state: the cursor and what sits at its boundary. Pure data, no I/O.

The state travels inside the Delta commit that carries the data (DESIGN §4.5), so a crash
leaves data and cursor together at the previous version or together at the new one. It lives
with the warehouse, the lowest layer, because the commit is where it is kept: the engine writes
it, the web reads it, and sources use its cursor value types, all without importing each other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

STATE_KEY = "warehouse_sources"
STATE_VERSION = 2  # 2: boundary rows are read back from the table, no longer listed in the state

KeyKind = Literal["int", "decimal", "date", "timestamp"]  # decimal: Snowflake's NUMBER(p, s) keys
CursorValue = int | Decimal | date | datetime


@dataclass(frozen=True)
class SyncState:
    """What a commit records about the sync that made it."""

    method: str
    replication_key: str | None = None
    key_kind: KeyKind | None = None
    cursor: CursorValue | None = None
    identity_columns: tuple[str, ...] = ()  # append only: what tells boundary rows apart
    # append only: identities (and how many) the table holds at the cursor value that the source
    # no longer had at the last read; they are not skipped again (see engine/boundary.py)
    boundary_deleted: dict[str, int] = field(default_factory=dict)
    null_keys: int = 0
    synced_at: str = ""
    run_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # The first merge key: the table's data files are kept sorted and bounded by it (warehouse/layout.py).
    sort_key: str | None = None
    # What the source counted in the read's snapshot, for the sync's self-check (engine/verify.py).
    source_counts: dict[str, Any] = field(default_factory=dict)


def encode_cursor(value: CursorValue | None) -> Any:
    """JSON form: ints as numbers, decimals as exact strings, dates and UTC timestamps as ISO strings."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return value.isoformat()


def decode_cursor(kind: KeyKind | None, value: Any) -> CursorValue | None:
    if value is None or kind is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return Decimal(value)
    if kind == "date":
        return date.fromisoformat(value)
    return as_utc(datetime.fromisoformat(value))


def as_utc(value: datetime) -> datetime:
    """Naive timestamps are taken as UTC wall clock (the documented choice)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dump_state(state: SyncState) -> str:
    data = asdict(state)
    data["cursor"] = encode_cursor(state.cursor)
    data["identity_columns"] = list(state.identity_columns)
    return json.dumps({"v": STATE_VERSION, **data}, separators=(",", ":"), sort_keys=True)


def load_state(text: str) -> SyncState:
    data = json.loads(text)
    data.pop("v", None)
    data["identity_columns"] = tuple(data.get("identity_columns") or ())
    data["cursor"] = decode_cursor(data.get("key_kind"), data.get("cursor"))
    known = SyncState.__dataclass_fields__
    return SyncState(**{k: v for k, v in data.items() if k in known})


MIN_INT_KEY = -(2**63)


def lower_bound(cursor: CursorValue, lookback: timedelta | int | None) -> CursorValue:
    """The cursor moved back by the lookback window; the read is inclusive from here.

    OverflowError when the window reaches below the smallest key the type can hold.
    """
    if not lookback:
        return cursor
    if isinstance(cursor, (int, Decimal)):
        if not isinstance(lookback, int):
            what = "an integer" if isinstance(cursor, int) else "a number"
            raise ValueError(f"lookback {lookback} is a duration but the replication key is {what}")
        if isinstance(cursor, int) and cursor - lookback < MIN_INT_KEY:
            raise OverflowError(f"{cursor} - {lookback} is below the smallest bigint")
        return cursor - lookback
    if isinstance(lookback, int):
        raise ValueError(f"lookback {lookback} is a number but the replication key is a date or timestamp")
    if isinstance(cursor, datetime):
        return cursor - lookback
    return cursor - timedelta(days=max(1, -(-lookback // timedelta(days=1))))


def row_identity(values: list[Any]) -> str:
    """Stable short hash of a row's key (or whole-row) values, for matching boundary rows.

    Both sides of a match are in the synced table's column types, so equal values hash equally.
    """
    text = json.dumps(values, default=_json_default, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return encode_cursor(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
